package slicer

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
)

func TestSettingsVariants(t *testing.T) {
	mat, _ := profile.LookupMaterial("PETG")
	mesh, _ := loadModel(t, "torus")
	base := DefaultSettings(ender3(t), mat)
	tests := []struct {
		name  string
		edit  func(s *Settings)
		check func(t *testing.T, g string, a Analysis)
	}{
		{"z-hop", func(s *Settings) { s.ZHop = 0.4 }, func(t *testing.T, g string, a Analysis) {
			if n := zOnlyG1(g); n < a.Retractions/2 {
				t.Fatalf("%d lifts for %d retractions", n, a.Retractions)
			}
		}},
		{"no z-hop", func(s *Settings) {}, func(t *testing.T, g string, a Analysis) {
			// From the first layer to the last feature: no start or end G-code.
			if n := zOnlyG1(g[strings.Index(g, ";LAYER:0"):strings.LastIndex(g, ";TYPE:")]); n != 0 {
				t.Fatalf("%d lifts without z-hop", n)
			}
		}},
		{"no infill", func(s *Settings) { s.InfillPercent = 0 }, func(t *testing.T, g string, a Analysis) {
			if strings.Contains(g, ";TYPE:FILL") {
				t.Fatal("sparse infill at 0 %")
			}
		}},
		{"solid", func(s *Settings) { s.InfillPercent = 100 }, nil},
		{"grid", func(s *Settings) { s.InfillPattern = PatternGrid }, nil},
		{"no skins", func(s *Settings) { s.TopLayers, s.BottomLayers = 0, 0 }, nil},
		{"no walls", func(s *Settings) { s.Perimeters = 0 }, func(t *testing.T, g string, a Analysis) {
			if strings.Contains(g, ";TYPE:WALL") {
				t.Fatal("walls with 0 perimeters")
			}
		}},
		{"thick first layer", func(s *Settings) { s.FirstLayerHeight, s.FirstLayerWidth = 0.3, 0.5 }, func(t *testing.T, g string, a Analysis) {
			if a.Layers != 50 || !strings.Contains(g, ";Z:0.300") {
				t.Fatalf("%d layers", a.Layers)
			}
		}},
		{"fan and temperatures", func(s *Settings) {}, func(t *testing.T, g string, a Analysis) {
			for _, want := range []string{"M107", "M106 S102", "M104 S235", "M109 S240"} {
				if !strings.Contains(g, want) {
					t.Fatalf("no %q", want)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			tc.edit(&s)
			r, err := Slice(context.Background(), mesh, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Analyze(bytes.NewReader(r.GCode), s.Printer)
			if err != nil || len(a.Flags) > 0 {
				t.Fatalf("%v %q", err, a.Flags)
			}
			if tc.check != nil {
				tc.check(t, string(r.GCode), a)
			}
		})
	}
}

func TestBadSettings(t *testing.T) {
	mat, _ := profile.LookupMaterial("PLA")
	mesh, _ := loadModel(t, "cube20")
	for name, edit := range map[string]func(s *Settings){
		"layer thicker than nozzle": func(s *Settings) { s.LayerHeight = 0.6 },
		"infill over 100":           func(s *Settings) { s.InfillPercent = 150 },
		"unknown pattern":           func(s *Settings) { s.InfillPattern = "gyroid" },
		"negative perimeters":       func(s *Settings) { s.Perimeters = -1 },
		"no printer":                func(s *Settings) { s.Printer = profile.Printer{} },
	} {
		t.Run(name, func(t *testing.T) {
			s := DefaultSettings(ender3(t), mat)
			edit(&s)
			if _, err := Slice(context.Background(), mesh, s, nil); !errors.Is(err, ErrBadSettings) {
				t.Fatalf("got %v", err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Slice(ctx, mesh, DefaultSettings(ender3(t), mat), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestProgress(t *testing.T) {
	mat, _ := profile.LookupMaterial("PLA")
	mesh, _ := loadModel(t, "sphere")
	last, calls := 0, 0
	r, err := Slice(context.Background(), mesh, DefaultSettings(ender3(t), mat), func(done, total int) {
		if done != last+1 || done > total {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
		calls++
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2*r.Layers {
		t.Fatalf("%d progress calls for %d layers", calls, r.Layers)
	}
}

// zOnlyG1 counts G1 moves with a Z word and no X, Y or E (z-hop lifts).
func zOnlyG1(g string) int {
	n := 0
	for _, ln := range strings.Split(g, "\n") {
		f := strings.Fields(ln)
		if len(f) == 0 || f[0] != "G1" || !strings.Contains(ln, " Z") {
			continue
		}
		if !strings.Contains(ln, " X") && !strings.Contains(ln, " Y") && !strings.Contains(ln, " E") {
			n++
		}
	}
	return n
}
