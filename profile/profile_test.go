package profile

import (
	"errors"
	"strings"
	"testing"
)

func TestBuiltinProfiles(t *testing.T) {
	for _, id := range []string{"ender3", "mk3s", "cr10s5"} {
		p, err := LookupPrinter(id)
		if err != nil {
			t.Fatalf("printer %s: %v", id, err)
		}
		for _, tmpl := range []string{p.StartGCode, p.EndGCode} {
			if _, err := FillGCode(tmpl, p, Material{ID: "PLA", HotendC: 200, FirstLayerHotendC: 205, BedC: 60, FirstLayerBedC: 60, DensityGCm3: 1.24}, true); err != nil {
				t.Errorf("printer %s: %v", id, err)
			}
		}
	}
	for _, id := range []string{"PLA", "PETG", "ABS", "TPU"} {
		m, err := LookupMaterial(id)
		if err != nil {
			t.Fatalf("material %s: %v", id, err)
		}
		for _, p := range Printers() {
			if m.FirstLayerHotendC > p.MaxHotendC {
				t.Errorf("material %s exceeds %s hotend limit", id, p.ID)
			}
		}
	}
	if big, _ := LookupPrinter("cr10s5"); big.BuildVolume.X < 400 {
		t.Errorf("large-format printer has a %v mm bed", big.BuildVolume.X)
	}
}

func TestLookupNormalisesNames(t *testing.T) {
	tests := []struct{ in, want string }{{"Ender-3", "ender3"}, {"MK3S", "mk3s"}, {"cr10-s5", "cr10s5"}}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, err := LookupPrinter(tc.in)
			if err != nil || p.ID != tc.want {
				t.Fatalf("LookupPrinter(%q) = %q, %v; want %q", tc.in, p.ID, err, tc.want)
			}
		})
	}
	if _, err := LookupPrinter("nope"); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "ender3") {
		t.Fatalf("unknown printer error = %v", err)
	}
	if _, err := LookupMaterial("wood"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown material error = %v", err)
	}
}

func TestFillGCode(t *testing.T) {
	p, _ := LookupPrinter("ender3")
	m, _ := LookupMaterial("PETG")
	got, err := FillGCode("M104 S{hotend_temp}\nM140 S{bed_temp}\nG1 Y{bed_y}", p, m, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := "M104 S235\nM140 S80\nG1 Y220"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if _, err := FillGCode("M104 S{hotend}", p, m, false); err == nil {
		t.Fatal("unknown placeholder accepted")
	}
	if _, err := FillGCode("M104 S{hotend_temp", p, m, false); err == nil {
		t.Fatal("unclosed placeholder accepted")
	}
}

func TestLoadRejectsBadProfiles(t *testing.T) {
	tests := []struct{ name, json string }{
		{"unknown field", `[{"id":"x","colour":"red"}]`},
		{"zero volume", `[{"id":"x","nozzle_mm":0.4,"filament_mm":1.75}]`},
		{"not json", `{`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := LoadPrinters(strings.NewReader(tc.json)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := LoadMaterials(strings.NewReader(`[{"id":"PLA","hotend_c":0}]`)); err == nil {
		t.Fatal("material with no temperature accepted")
	}
}
