package slicer

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

// TestSTLAnd3MFSliceAlike: the same triangles as STL and as 3MF load to
// the same mesh and slice to the same G-code, byte for byte.
func TestSTLAnd3MFSliceAlike(t *testing.T) {
	mat, _ := profile.LookupMaterial("PLA")
	s := DefaultSettings(ender3(t), mat)
	for _, tm := range testModels {
		if tm.name == "gapcube" || tm.name == "cylinder" {
			continue // the same code paths as cube20 and sphere
		}
		t.Run(tm.name, func(t *testing.T) {
			ts := tm.tris()
			stlData, tmfData := testmesh.WriteSTL(tm.name, ts), testmesh.Write3MF(ts)
			a, ra, err := LoadModel(bytes.NewReader(stlData), int64(len(stlData)), tm.name+".stl", DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			// Through a plain reader (no ReaderAt), found by its content.
			b, rb, err := LoadModel(struct{ *bytes.Reader }{bytes.NewReader(tmfData)}, -1, "upload", DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if ra.Format != "binary" || rb.Format != "3mf" {
				t.Fatalf("formats %q and %q", ra.Format, rb.Format)
			}
			ra.Format, rb.Format = "", ""
			if ra != rb {
				t.Fatalf("reports differ:\nSTL %+v\n3MF %+v", ra, rb)
			}
			ga, err := Slice(context.Background(), a, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			gb, err := Slice(context.Background(), b, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ga.GCode, gb.GCode) {
				t.Fatalf("G-code differs: %d bytes from STL, %d from 3MF", len(ga.GCode), len(gb.GCode))
			}
		})
	}
}

const coreNS = `xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"`

// cubeObject is a 3MF object: a unit cube with id.
func cubeObject(id string) string {
	m := testmesh.Model3MF(testmesh.Cube(1))
	i, j := strings.Index(m, "<object"), strings.Index(m, "</object>")+len("</object>")
	return strings.Replace(m[i:j], `id="1"`, `id="`+id+`"`, 1)
}

func model(unit, resources, build string) string {
	return `<?xml version="1.0"?><model unit="` + unit + `" ` + coreNS + ` xmlns:p="http://schemas.microsoft.com/3dmanufacturing/production/2015/06" xmlns:m="http://schemas.microsoft.com/3dmanufacturing/material/2015/02">` +
		`<resources>` + resources + `</resources><build>` + build + `</build></model>`
}

func pkg(root string) []byte { return testmesh.Package3MF(map[string]string{"3D/3dmodel.model": root}) }

// TestLoad3MFStructure: units, components, transforms (mirroring ones
// too) and objects in other parts end up where the file says.
func TestLoad3MFStructure(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		volume float64
		box    Box
	}{
		{"one cube", pkg(model("millimeter", cubeObject("1"), `<item objectid="1"/>`)), 1, Box{Vec3{0, 0, 0}, Vec3{1, 1, 1}}},
		{"centimetres", pkg(model("centimeter", cubeObject("1"), `<item objectid="1"/>`)), 1000, Box{Vec3{0, 0, 0}, Vec3{10, 10, 10}}},
		{"inch, scaled and moved", pkg(model("inch", cubeObject("1"), `<item objectid="1" transform="2 0 0 0 1 0 0 0 1 1 0 0"/>`)),
			2 * 25.4 * 25.4 * 25.4, Box{Vec3{25.4, 0, 0}, Vec3{3 * 25.4, 25.4, 25.4}}},
		{"two build items", pkg(model("millimeter", cubeObject("1"), `<item objectid="1"/><item objectid="1" transform="1 0 0 0 1 0 0 0 1 5 0 0"/>`)),
			2, Box{Vec3{0, 0, 0}, Vec3{6, 1, 1}}},
		{"components, nested, with transforms", pkg(model("millimeter", cubeObject("1")+
			`<object id="2"><components><component objectid="1"/><component objectid="1" transform="1 0 0 0 1 0 0 0 1 0 3 0"/></components></object>`+
			`<object id="3"><components><component objectid="2" transform="1 0 0 0 1 0 0 0 3 0 0 2"/></components></object>`,
			`<item objectid="3"/>`)), 6, Box{Vec3{0, 0, 2}, Vec3{1, 4, 5}}},
		{"mirrored", pkg(model("millimeter", cubeObject("1"), `<item objectid="1" transform="-1 0 0 0 1 0 0 0 1 0 0 0"/>`)), 1, Box{Vec3{-1, 0, 0}, Vec3{0, 1, 1}}},
		{"rotated 90° about z", pkg(model("millimeter", cubeObject("1"), `<item objectid="1" transform="0 1 0 -1 0 0 0 0 1 0 0 0"/>`)), 1, Box{Vec3{-1, 0, 0}, Vec3{0, 1, 1}}},
		{"support and other objects are not printed", pkg(model("millimeter", cubeObject("1")+strings.Replace(cubeObject("2"), `type="model"`, `type="support"`, 1)+strings.Replace(cubeObject("3"), `type="model"`, `type="other"`, 1),
			`<item objectid="1"/><item objectid="2"/><item objectid="3"/>`)), 1, Box{Vec3{0, 0, 0}, Vec3{1, 1, 1}}},
		{"extension elements are skipped", pkg(model("millimeter", `<m:basematerials id="9"><m:base name="red" displaycolor="#FF0000"/></m:basematerials>`+cubeObject("1"), `<item objectid="1"/>`)), 1, Box{Vec3{0, 0, 0}, Vec3{1, 1, 1}}},
		{"object in another part (production extension)", testmesh.Package3MF(map[string]string{
			"3D/3dmodel.model":      model("millimeter", `<object id="5"><components><component p:path="/3D/Objects/cube.model" objectid="1" transform="1 0 0 0 1 0 0 0 1 0 0 1"/></components></object>`, `<item objectid="5"/>`),
			"3D/Objects/cube.model": model("millimeter", cubeObject("1"), ""),
		}), 1, Box{Vec3{0, 0, 1}, Vec3{1, 1, 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, rep, err := Parse3MF(tc.data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Watertight || math.Abs(rep.VolumeMM3-tc.volume) > 1e-6*tc.volume {
				t.Fatalf("volume %.6f mm³ (want %.6f), watertight %v", rep.VolumeMM3, tc.volume, rep.Watertight)
			}
			b := Bounds(m)
			for _, d := range []float64{b.Min.X - tc.box.Min.X, b.Min.Y - tc.box.Min.Y, b.Min.Z - tc.box.Min.Z, b.Max.X - tc.box.Max.X, b.Max.Y - tc.box.Max.Y, b.Max.Z - tc.box.Max.Z} {
				if math.Abs(d) > 1e-3 {
					t.Fatalf("box %+v, want %+v", b, tc.box)
				}
			}
		})
	}
}

// bomb is a package whose model part inflates from about 100 KB to 100 MB.
func bomb() []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.Create("3D/3dmodel.model")
	w.Write([]byte(`<model ` + coreNS + `><resources>`))
	pad := bytes.Repeat([]byte(" "), 1<<20)
	for range 100 {
		w.Write(pad)
	}
	w.Write([]byte(`</resources><build/></model>`))
	z.Close()
	return b.Bytes()
}

func TestLoad3MFErrors(t *testing.T) {
	one := `<item objectid="1"/>`
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want error
		text string // in the message
	}{
		{"not a zip", []byte("solid x\nendsolid x\n"), DefaultLimits, Err3MF, "not a zip"},
		{"no model part", testmesh.Package3MF(map[string]string{"3D/other.model": "<model/>"}), DefaultLimits, Err3MF, "missing"},
		{"not XML", pkg("<model " + coreNS + "><resources><object"), DefaultLimits, Err3MF, "line"},
		{"no model element", pkg("<thing/>"), DefaultLimits, Err3MF, "no <model>"},
		{"cut off in an object", pkg("<model " + coreNS + "><resources><object id=\"1\"><mesh>"), DefaultLimits, Err3MF, "ends inside object 1"},
		{"extension element cut off", pkg("<model " + coreNS + ` xmlns:m="x"><resources><m:colorgroup id="2">`), DefaultLimits, Err3MF, "line"},
		{"empty build", pkg(model("millimeter", cubeObject("1"), "")), DefaultLimits, Err3MF, "no items"},
		{"unknown unit", pkg(model("furlong", cubeObject("1"), one)), DefaultLimits, Err3MF, "furlong"},
		{"item refers to a missing object", pkg(model("millimeter", cubeObject("1"), `<item objectid="7"/>`)), DefaultLimits, Err3MF, "object 7"},
		{"component refers to a missing object", pkg(model("millimeter", `<object id="1"><components><component objectid="4"/></components></object>`, one)), DefaultLimits, Err3MF, "object 4"},
		{"missing part", pkg(model("millimeter", `<object id="1"><components><component p:path="/3D/gone.model" objectid="4"/></components></object>`, one)), DefaultLimits, Err3MF, "gone.model"},
		{"vertex index out of range", pkg(model("millimeter", strings.Replace(cubeObject("1"), `v3="2"`, `v3="99"`, 1), one)), DefaultLimits, Err3MF, "vertex 99"},
		{"negative index", pkg(model("millimeter", strings.Replace(cubeObject("1"), `v3="2"`, `v3="-1"`, 1), one)), DefaultLimits, Err3MF, "v3"},
		{"component cycle", pkg(model("millimeter", cubeObject("1")+
			`<object id="2"><components><component objectid="1"/><component objectid="3"/></components></object>`+
			`<object id="3"><components><component objectid="2"/></components></object>`, `<item objectid="3"/>`)), DefaultLimits, Err3MF, "cycle"},
		{"self reference", pkg(model("millimeter", `<object id="2"><components><component objectid="2"/></components></object>`, `<item objectid="2"/>`)), DefaultLimits, Err3MF, "cycle"},
		{"duplicate id", pkg(model("millimeter", cubeObject("1")+cubeObject("1"), one)), DefaultLimits, Err3MF, "twice"},
		{"mesh and components", pkg(model("millimeter", strings.Replace(cubeObject("1"), "</mesh>", `</mesh><components><component objectid="1"/></components>`, 1), one)), DefaultLimits, Err3MF, "both"},
		{"NaN coordinate", pkg(model("millimeter", strings.Replace(cubeObject("1"), `x="1"`, `x="NaN"`, 1), one)), DefaultLimits, ErrBadNumber, "NaN"},
		{"infinite coordinate", pkg(model("millimeter", strings.Replace(cubeObject("1"), `x="1"`, `x="1e999"`, 1), one)), DefaultLimits, ErrBadNumber, "1e999"},
		{"not a number", pkg(model("millimeter", strings.Replace(cubeObject("1"), `x="1"`, `x="one"`, 1), one)), DefaultLimits, ErrBadNumber, "one"},
		{"missing coordinate", pkg(model("millimeter", strings.Replace(cubeObject("1"), `x="1"`, ``, 1), one)), DefaultLimits, Err3MF, "no x"},
		{"short transform", pkg(model("millimeter", cubeObject("1"), `<item objectid="1" transform="1 0 0"/>`)), DefaultLimits, Err3MF, "12"},
		{"NaN transform", pkg(model("millimeter", cubeObject("1"), `<item objectid="1" transform="1 0 0 0 1 0 0 0 NaN 0 0 0"/>`)), DefaultLimits, ErrBadNumber, "transform"},
		{"singular transform", pkg(model("millimeter", cubeObject("1"), `<item objectid="1" transform="1 0 0 0 1 0 0 0 0 0 0 0"/>`)), DefaultLimits, Err3MF, "singular"},
		{"too many triangles", pkg(model("millimeter", cubeObject("1"), one)), Limits{MaxTriangles: 11}, ErrTooLarge, "triangles"},
		{"too many placed", pkg(model("millimeter", cubeObject("1"), one+one)), Limits{MaxTriangles: 20}, ErrTooLarge, "triangles"},
		{"too far out", pkg(model("meter", cubeObject("1"), `<item objectid="1" transform="1 0 0 0 1 0 0 0 1 500 0 0"/>`)), DefaultLimits, ErrTooLarge, "beyond"},
		{"file too big", pkg(model("millimeter", cubeObject("1"), one)), Limits{MaxBytes: 100}, ErrTooLarge, "limit"},
		{"zip bomb", bomb(), Limits{MaxUncompressed: 10 << 20}, ErrTooLarge, "inflate"},
		{"zip bomb is ErrInflated", bomb(), Limits{MaxUncompressed: 10 << 20}, ErrInflated, "inflate"},
		{"part declared over the limit", bomb(), Limits{MaxUncompressed: 1 << 20}, ErrInflated, "inflates to"},
		{"only degenerate triangles", pkg(model("millimeter", `<object id="1"><mesh><vertices><vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/></vertices><triangles><triangle v1="0" v2="1" v3="1"/></triangles></mesh></object>`, one)), DefaultLimits, ErrEmptyMesh, "degenerate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := Parse3MF(tc.data, tc.lim)
			if !errors.Is(err, tc.want) || m != nil {
				t.Fatalf("got %v (mesh %v), want %v", err, m != nil, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error %q does not say %q", err, tc.text)
			}
		})
	}
}

// FuzzLoad3MF: any bytes, as a package or as the model XML of one,
// give a mesh or an error, never a panic.
func FuzzLoad3MF(f *testing.F) {
	f.Add(testmesh.Write3MF(testmesh.Cube(2)))
	f.Add([]byte(testmesh.Model3MF(testmesh.Cube(2))))
	f.Add([]byte(model("inch", cubeObject("1")+`<object id="2"><components><component objectid="1" transform="1 0 0 0 1 0 0 0 1 0 0 1"/></components></object>`, `<item objectid="2"/>`)))
	f.Add([]byte(model("millimeter", `<object id="2"><components><component objectid="2"/></components></object>`, `<item objectid="2"/>`)))
	for _, name := range []string{"tshape-prusaslicer.3mf", "tshape-rot90-scale2-prusaslicer.3mf"} {
		if data, err := os.ReadFile(filepath.Join("testdata", "3mf", name)); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxBytes: 1 << 20, MaxTriangles: 10_000, MaxUncompressed: 4 << 20}
		if !bytes.HasPrefix(data, []byte("PK")) {
			data = pkg(string(data))
		}
		m, rep, err := Parse3MF(data, lim)
		if err != nil {
			if m != nil {
				t.Fatal("mesh with an error")
			}
			return
		}
		if len(m.Tris) == 0 || rep.Triangles > lim.MaxTriangles || rep.Format != "3mf" {
			t.Fatalf("%d triangles, report %+v", len(m.Tris), rep)
		}
		for _, tr := range m.Tris {
			for _, v := range tr {
				if int(v) >= len(m.Verts) {
					t.Fatal("index out of range")
				}
			}
		}
	})
}

// TestPrusaSlicer3MF reads packages PrusaSlicer 2.5 wrote (prusa-slicer
// --export-3mf of genmesh -model tshape; the second with --rotate 90
// --scale 200%, which PrusaSlicer bakes into the vertices and a build
// item translation): the first slices to the same G-code as the T's STL,
// the second is the T turned and doubled.
func TestPrusaSlicer3MF(t *testing.T) {
	read := func(name string) (*Mesh, MeshReport) {
		f, err := os.Open(filepath.Join("testdata", "3mf", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		m, rep, err := LoadModel(f, st.Size(), name, DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		return m, rep
	}
	m, rep := read("tshape-prusaslicer.3mf")
	ref, refRep, err := ParseSTL(testmesh.WriteSTL("t", testmesh.TShape()), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != "3mf" || math.Abs(rep.VolumeMM3-refRep.VolumeMM3) > 1e-6 || rep.Size != refRep.Size {
		t.Fatalf("report %+v, the STL's %+v", rep, refRep)
	}
	s := DefaultSettings(ender3(t), mustPLA())
	a, err := Slice(context.Background(), m, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Slice(context.Background(), ref, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.GCode, b.GCode) {
		t.Fatal("PrusaSlicer's 3MF of the T slices differently from its STL")
	}
	_, rot := read("tshape-rot90-scale2-prusaslicer.3mf")
	if sz := rot.Size; math.Abs(sz.X-20) > 1e-3 || math.Abs(sz.Y-60) > 1e-3 || math.Abs(sz.Z-28) > 1e-3 || math.Abs(rot.VolumeMM3-8*refRep.VolumeMM3) > 1e-3 || !rot.Watertight {
		t.Fatalf("turned and doubled T: %+v", rot)
	}
}
