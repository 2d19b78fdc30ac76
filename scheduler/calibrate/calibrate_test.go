package calibrate

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/scheduler"
	"github.com/fabgrid/fabgrid/slicer"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

// The test models, plus three larger shapes so the calibration spans
// minutes to hours.
var models = []string{"cube20", "cylinder", "sphere", "torus", "islands", "overhang", "thinwall", "gapcube"}

func larger() map[string][]byte {
	return map[string][]byte{
		"cube60":        testmesh.WriteSTL("cube60", testmesh.Cube(60)),
		"cylinder30x80": testmesh.WriteSTL("cylinder30x80", testmesh.Cylinder(30, 80, 96)),
		"plate150x100":  testmesh.WriteSTL("plate150x100", testmesh.Box(0, 0, 0, 150, 100, 20)),
	}
}

// TestEstimateCalibration compares scheduler.EstimateWith with the slicer's
// estimate (default settings) on every test model, for every profile in
// PLA and for the Ender-3 in TPU (whose flow limit slows it down), prints
// the table, and bounds the error: the scheduler only needs the right
// order of magnitude and the right ranking, and the worker's post-slicing
// estimate replaces it.
func TestEstimateCalibration(t *testing.T) {
	pla, err1 := profile.LookupMaterial("PLA")
	tpu, err2 := profile.LookupMaterial("TPU")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	type run struct {
		p profile.Printer
		m profile.Material
	}
	var runs []run
	for _, pn := range profile.PrinterIDs() {
		p, _ := profile.LookupPrinter(pn)
		runs = append(runs, run{p, pla})
	}
	ender, _ := profile.LookupPrinter("ender3")
	runs = append(runs, run{ender, tpu})
	type named struct {
		name string
		data []byte
	}
	var all []named
	for _, n := range models {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "models", n+".stl"))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, named{n, data})
	}
	for _, n := range []string{"cube60", "cylinder30x80", "plate150x100"} {
		all = append(all, named{n, larger()[n]})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| profile | material | model | slicer time | estimate | ratio | slicer filament | estimate | ratio |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	var sumT, sumF, worstT, worstF float64
	n := 0
	for _, r := range runs {
		p, pn := r.p, r.p.ID
		for _, m := range all {
			mesh, _, err := slicer.ParseSTL(m.data, slicer.DefaultLimits)
			if err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			res, err := slicer.Slice(context.Background(), mesh, slicer.DefaultSettings(p, r.m), nil)
			if err != nil {
				t.Fatalf("%s on %s: %v", m.name, pn, err)
			}
			vol, surf, box := slicer.MeshStats(mesh)
			sz := box.Size()
			secs, fil := scheduler.EstimateWith(p, r.m, vol, surf, [3]float64{sz.X, sz.Y, sz.Z})
			rt, rf := secs/res.Estimate.Seconds, fil/res.Estimate.FilamentMM
			fmt.Fprintf(&b, "| %s | %s | %s | %.0f s | %.0f s | %.2f | %.0f mm | %.0f mm | %.2f |\n", pn, r.m.ID, m.name, res.Estimate.Seconds, secs, rt, res.Estimate.FilamentMM, fil, rf)
			lt, lf := math.Log(rt), math.Log(rf)
			sumT += lt * lt
			sumF += lf * lf
			worstT = math.Max(worstT, math.Abs(lt))
			worstF = math.Max(worstF, math.Abs(lf))
			n++
		}
	}
	rmsT, rmsF := math.Sqrt(sumT/float64(n)), math.Sqrt(sumF/float64(n))
	fmt.Fprintf(&b, "\ntime: rms log error %.3f (≈ %.0f %%), worst ×%.2f; filament: rms log error %.3f, worst ×%.2f\n",
		rmsT, 100*(math.Exp(rmsT)-1), math.Exp(worstT), rmsF, math.Exp(worstF))
	t.Log("\n" + b.String())
	if rmsT > 0.15 || math.Exp(worstT) > 1.5 {
		t.Errorf("time estimate error too large: rms log %.3f, worst ×%.2f", rmsT, math.Exp(worstT))
	}
	if rmsF > 0.15 || math.Exp(worstF) > 1.5 {
		t.Errorf("filament estimate error too large: rms log %.3f, worst ×%.2f", rmsF, math.Exp(worstF))
	}
}
