package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

func readModel(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "models", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLocalSlicer(t *testing.T) {
	pr, _ := profile.LookupPrinter("ender3")
	mat, _ := profile.LookupMaterial("PLA")
	s, err := LocalSlicer{Workers: 1}.Slice(context.Background(), readModel(t, "cube20.stl"), pr, mat, 0.2, 20)
	if err != nil {
		t.Fatal(err)
	}
	if s.Info.SizeMM != [3]float64{20, 20, 20} || s.Info.Layers < 90 || s.Info.EstSeconds <= 0 || s.Info.FilamentMM <= 0 {
		t.Fatalf("info %+v", s.Info)
	}
	if len(s.GCode) < 100 || strings.Contains(strings.Join(s.GCode[:10], "\n"), "\r") {
		t.Fatalf("%d G-code lines", len(s.GCode))
	}
	// A bed too small is a refusal, not a failure.
	tiny := pr
	tiny.BuildVolume = profile.Vec3{X: 10, Y: 10, Z: 10}
	_, err = LocalSlicer{Workers: 1}.Slice(context.Background(), readModel(t, "cube20.stl"), tiny, mat, 0.2, 20)
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err = %v, want ErrRefused", err)
	}
	if _, err := (LocalSlicer{}).Slice(context.Background(), []byte("garbage"), pr, mat, 0.2, 20); err == nil || errors.Is(err, ErrRefused) {
		t.Fatalf("garbage: %v", err)
	}
}

func TestMachineSlicerRefusal(t *testing.T) {
	m := testMachine(false)
	m.Assign(assignment("j-1"), t0)
	m.Fetched("j-1", nil, t0)
	r := find[ActReportResult](t, m.Sliced("j-1", SliceInfo{}, errors.Join(ErrRefused), t0))
	if r.Req.Outcome != "refused" {
		t.Fatalf("%+v", r.Req)
	}
}

// A part that fits only turned 90° keeps its mesh report, footprint turned.
func TestTurn90KeepsReport(t *testing.T) {
	m := &slicer.Mesh{
		Verts:  []slicer.Vec3{{X: 0, Y: 0, Z: 0}, {X: 30, Y: 0, Z: 0}, {X: 0, Y: 10, Z: 5}},
		Tris:   [][3]int32{{0, 1, 2}},
		Report: slicer.MeshReport{Triangles: 1, Watertight: false, OpenEdges: 3, Size: slicer.Vec3{X: 30, Y: 10, Z: 5}},
	}
	out := turn90(m)
	if out.Report.Triangles != 1 || out.Report.OpenEdges != 3 || out.Report.Size != (slicer.Vec3{X: 10, Y: 30, Z: 5}) {
		t.Fatalf("report after the turn: %+v", out.Report)
	}
	if out.Verts[1] != (slicer.Vec3{X: 0, Y: 30, Z: 0}) || m.Verts[1] != (slicer.Vec3{X: 30, Y: 0, Z: 0}) {
		t.Fatalf("vertex 1 turned to %+v (original now %+v)", out.Verts[1], m.Verts[1])
	}
}

// TestLocalSlicer3MF: the worker tells a 3MF package from an STL by its
// content and slices the same part to the same G-code either way; a
// malformed package fails the job rather than refusing it.
func TestLocalSlicer3MF(t *testing.T) {
	pr, _ := profile.LookupPrinter("ender3")
	mat, _ := profile.LookupMaterial("PLA")
	part := testmesh.Box(0, 0, 0, 20, 15, 4)
	fromSTL, err := LocalSlicer{Workers: 1}.Slice(context.Background(), testmesh.WriteSTL("part", part), pr, mat, 0.2, 20)
	if err != nil {
		t.Fatal(err)
	}
	from3MF, err := LocalSlicer{Workers: 1}.Slice(context.Background(), testmesh.Write3MF(part), pr, mat, 0.2, 20)
	if err != nil {
		t.Fatal(err)
	}
	if from3MF.Info != fromSTL.Info || !slices.Equal(from3MF.GCode, fromSTL.GCode) {
		t.Fatalf("3MF sliced to %d lines (%+v), the STL to %d (%+v)", len(from3MF.GCode), from3MF.Info, len(fromSTL.GCode), fromSTL.Info)
	}
	bad := testmesh.Package3MF(map[string]string{"3D/3dmodel.model": "<model><resources><object"})
	if _, err := (LocalSlicer{}).Slice(context.Background(), bad, pr, mat, 0.2, 20); !errors.Is(err, slicer.Err3MF) || errors.Is(err, ErrRefused) {
		t.Fatalf("bad 3MF: %v", err)
	}
}
