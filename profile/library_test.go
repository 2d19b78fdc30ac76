package profile_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer"
)

func loadCube(t *testing.T) *slicer.Mesh {
	t.Helper()
	f, err := os.Open("../testdata/models/cube20.stl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	m, _, err := slicer.LoadSTL(f, st.Size(), slicer.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// sliceAnalyse slices mesh for p and m with default settings and reads
// the G-code back with the slicer's analyser.
func sliceAnalyse(t *testing.T, mesh *slicer.Mesh, p profile.Printer, m profile.Material) (*slicer.Result, slicer.Analysis) {
	t.Helper()
	var b bytes.Buffer
	res, err := slicer.SliceTo(context.Background(), &b, mesh, slicer.DefaultSettings(p, m), nil)
	if err != nil {
		t.Fatalf("%s/%s: slice: %v", p.ID, m.ID, err)
	}
	a, err := slicer.Analyze(&b, p)
	if err != nil {
		t.Fatalf("%s/%s: analyse: %v", p.ID, m.ID, err)
	}
	return res, a
}

// TestLibrarySlicesACube slices the 20 mm cube in PLA on every bundled
// printer and checks the G-code with the analyser: no flags (nothing
// outside the bed, nothing extruded cold, no temperature over the
// profile's limits), 100 layers, the cube's extents, and the same model
// volume as on the reference Ender-3 (every profile has a 0.4 mm nozzle
// and 1.75 mm filament).
func TestLibrarySlicesACube(t *testing.T) {
	mesh := loadCube(t)
	pla, _ := profile.LookupMaterial("PLA")
	ref, _ := profile.LookupPrinter("ender3")
	_, refA := sliceAnalyse(t, mesh, ref, pla)
	if len(profile.Printers()) < 20 {
		t.Fatalf("%d bundled printers, want at least 20", len(profile.Printers()))
	}
	for _, p := range profile.Printers() {
		t.Run(p.ID, func(t *testing.T) {
			res, a := sliceAnalyse(t, mesh, p, pla)
			if len(a.Flags) > 0 {
				t.Errorf("analyser flags: %s", strings.Join(a.Flags, "; "))
			}
			if a.Layers != 100 || res.Layers != 100 {
				t.Errorf("layers: analysed %d, sliced %d; want 100", a.Layers, res.Layers)
			}
			if dz := a.Max.Z - a.Min.Z; dz < 19.5 || dz > 20.01 {
				t.Errorf("extrusions span %.2f mm in Z, want the cube's 20", dz)
			}
			if d := a.ModelFilamentMM3/refA.ModelFilamentMM3 - 1; d > 0.02 || d < -0.02 {
				t.Errorf("model volume %.1f mm³, ender3 %.1f mm³ (%+.1f %%)", a.ModelFilamentMM3, refA.ModelFilamentMM3, 100*d)
			}
			if a.MaxHotendC != pla.FirstLayerHotendC || a.MaxBedC != pla.FirstLayerBedC {
				t.Errorf("heats to %g/%g °C, want PLA's %g/%g", a.MaxHotendC, a.MaxBedC, pla.FirstLayerHotendC, pla.FirstLayerBedC)
			}
			if a.Seconds <= 0 {
				t.Errorf("no print time")
			}
		})
	}
}

// TestLibraryMaterials slices the cube in every bundled material on every
// printer that can take it, and checks that the others are refused by
// Compatible rather than slicing to over-limit temperatures.
func TestLibraryMaterials(t *testing.T) {
	mesh := loadCube(t)
	for _, id := range []string{"PLA", "PETG", "ABS", "ASA", "TPU", "PA", "PC"} {
		m, err := profile.LookupMaterial(id)
		if err != nil {
			t.Fatal(err)
		}
		takers := 0
		for _, p := range profile.Printers() {
			if err := profile.Compatible(p, m); err != nil {
				if !errors.Is(err, profile.ErrIncompatible) {
					t.Fatalf("%s on %s: %v", id, p.ID, err)
				}
				continue
			}
			takers++
			if _, a := sliceAnalyse(t, mesh, p, m); len(a.Flags) > 0 {
				t.Errorf("%s on %s: %s", id, p.ID, strings.Join(a.Flags, "; "))
			}
		}
		if takers == 0 {
			t.Errorf("no bundled printer can print %s", id)
		}
	}
	pc, _ := profile.LookupMaterial("PC")
	ender, _ := profile.LookupPrinter("ender3")
	if err := profile.Compatible(ender, pc); err == nil || !strings.Contains(err.Error(), "275 °C hotend") {
		t.Errorf("PC on an Ender-3: %v", err)
	}
}
