package slicer

import (
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
)

func ender3(t testing.TB) profile.Printer {
	p, err := profile.LookupPrinter("ender3")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeFlags(t *testing.T) {
	tests := []struct {
		name, gcode, flag string
	}{
		{"cold extrusion", "G1 X10 Y10 E1\n", "before the hotend"},
		{"outside bed", "M109 S200\n;LAYER:0\nG1 X300 Y10 E1\n", "outside the bed"},
		{"extrusion on G0", "M109 S200\nG0 X10 Y10 E1\n", "G0 travel"},
		{"nan", "G1 XNaN Y1\n", "bad"},
		{"too hot", "M104 S300\n", "above the printer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Analyze(strings.NewReader(tc.gcode), ender3(t))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(a.Flags, "|"), tc.flag) {
				t.Fatalf("flags %q lack %q", a.Flags, tc.flag)
			}
		})
	}
}

func TestAnalyzeCounts(t *testing.T) {
	g := `M109 S200
G92 E0
;LAYER:0
G1 Z0.2 F600
G1 X10 Y0 E1 F1200
G1 X10 Y10 E2
G1 E-3 F1800 ; retract
G0 X20 Y10
G1 E2
;LAYER:1
M83
G1 Z0.4
G1 X30 Y10 E0.5
`
	a, err := Analyze(strings.NewReader(g), ender3(t))
	if err != nil {
		t.Fatal(err)
	}
	if a.Layers != 2 || a.LayerComments != 2 || a.Retractions != 1 {
		t.Fatalf("layers %d markers %d retractions %d", a.Layers, a.LayerComments, a.Retractions)
	}
	if a.FilamentMM != 2.5 || a.ExtrudeMM != 30 || a.TravelMM != 10 {
		t.Fatalf("filament %v extrude %v travel %v", a.FilamentMM, a.ExtrudeMM, a.TravelMM)
	}
	if a.Max.X != 30 || a.Min.X != 0 || len(a.Flags) != 0 {
		t.Fatalf("bounds %v–%v flags %v", a.Min, a.Max, a.Flags)
	}
	if a.Seconds <= 0 {
		t.Fatal("no time")
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add("M109 S200\n;LAYER:0\nG1 X10 Y10 E1 F1200\nG92 E0\nM83\nG1 X20 E0.5\n")
	f.Add("G1 XNaN\nG91\nG1 X-5 E-2\nG28 X\nG4 P100\nN12 G1 X1*34\n")
	f.Add(";LAYER_CHANGE\nM104 S999\nG0 E5 X1\n")
	p, _ := profile.LookupPrinter("ender3")
	f.Fuzz(func(t *testing.T, g string) {
		a, err := Analyze(strings.NewReader(g), p)
		if err != nil {
			return
		}
		if a.Lines < a.Commands || a.Seconds < 0 || a.Retractions < 0 || len(a.Flags) > maxFlags {
			t.Fatalf("inconsistent analysis %+v", a)
		}
	})
}

// TestAnalyzeReadsAsTheFirmware covers what the analyser read differently
// from the firmware before it read G-code through package gcode and took
// the position from the motion model.
func TestAnalyzeReadsAsTheFirmware(t *testing.T) {
	tests := []struct {
		name, gcode string
		check       func(Analysis) bool
	}{
		// G28 puts the head at the origin: the next extrusion starts
		// there, not where the head was before homing.
		{"homing resets the position", "M109 S200\nG1 X100 Y0 F3000\nG28\nG1 X10 Y0 E1\n",
			func(a Analysis) bool { return a.ExtrudeMM == 10 && a.Min.X == 0 }},
		// M109 R sets the target like S (waiting from either side).
		{"M109 R counts", "M109 R300\n",
			func(a Analysis) bool {
				return a.MaxHotendC == 300 && len(a.Flags) == 1 && strings.Contains(a.Flags[0], "above the printer")
			}},
		// Marlin needs no space between the code and its first parameter.
		{"G1X10 is a move", "M109 S200\nG1X10 Y0 E1\n",
			func(a Analysis) bool { return a.ExtrudeMM == 10 && a.FilamentMM == 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Analyze(strings.NewReader(tc.gcode), ender3(t))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(a) {
				t.Fatalf("analysis %+v", a)
			}
		})
	}
}
