package motion

import (
	"errors"
	"math"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestTrapezoid(t *testing.T) {
	tests := []struct {
		name              string
		dist, v, a, vj, w float64
	}{
		{"cruise reached", 100, 50, 500, 0, 2*50.0/500 + (100-2*2.5)/50},
		{"triangle", 1, 50, 500, 0, 2 * math.Sqrt(500*1.0) / 500},
		{"junction speed", 100, 50, 500, 10, 2*40.0/500 + (100-2*(2500-100)/1000.0)/50},
		{"no accel limit", 10, 5, 0, 0, 2},
		{"zero distance", 0, 50, 500, 0, 0},
		{"junction above speed", 10, 5, 500, 8, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Trapezoid(tc.dist, tc.v, tc.a, tc.vj); !near(got, tc.w) {
				t.Fatalf("Trapezoid = %v, want %v", got, tc.w)
			}
		})
	}
}

func TestMachineMoves(t *testing.T) {
	p, _ := profile.LookupPrinter("ender3")
	m := NewMachine(LimitsFor(p))
	steps := []struct {
		cmd  string
		want float64
	}{
		{"G28", 3 * HomingSettleSecs},
		{"G1 X100 F6000", Trapezoid(100, 100, p.TravelAccel, DefaultJerkXY)},
		{"G1 X100 Y100 E5 F1200", Trapezoid(100, 20, p.PrintAccel, DefaultJerkXY)},
		{"G4 P500", 0.5},
		{"M104 S200", 0},
		{"G91", 0},
		{"G1 Z10 F6000", Trapezoid(10, p.MaxFeedrate.Z, p.TravelAccel, DefaultJerkXY)},
		{"G90", 0},
		{"G1 E3 F2400", Trapezoid(2, 25, p.TravelAccel, DefaultJerkXY)},
	}
	for _, s := range steps {
		got, err := m.Exec(s.cmd)
		if err != nil || !near(got, s.want) {
			t.Fatalf("%s: %v, %v; want %v", s.cmd, got, err, s.want)
		}
	}
	if x, y, z, e := m.Pos(); x != 100 || y != 100 || z != 10 || e != 3 {
		t.Fatalf("position %v %v %v %v", x, y, z, e)
	}
}

func TestMachineRejectsBadNumbers(t *testing.T) {
	m := NewMachine(Limits{})
	for _, cmd := range []string{"G1 Xabc", "G1 XNaN", "G1 F0", "G4 P-5", "G92 Einf"} {
		if _, err := m.Exec(cmd); !errors.Is(err, ErrBadCommand) {
			t.Errorf("%q: err = %v", cmd, err)
		}
	}
	if x, _, _, _ := m.Pos(); x != 0 {
		t.Fatalf("bad command moved the machine to x=%v", x)
	}
}

func FuzzExec(f *testing.F) {
	for _, s := range []string{"G1 X10 Y10 E1 F1200", "G28 X", "G4 S1", "G92 E0", "g1 x1", "G1 X"} {
		f.Add(s)
	}
	p, _ := profile.LookupPrinter("ender3")
	f.Fuzz(func(t *testing.T, cmd string) {
		m := NewMachine(LimitsFor(p))
		secs, err := m.Exec(cmd)
		if err == nil && (math.IsNaN(secs) || secs < 0) {
			t.Fatalf("%q took %v s", cmd, secs)
		}
	})
}

// TestExecReadsCodesAsMarlin: a command word needs no space before its
// first parameter and may carry leading zeros. Before motion read commands
// through package gcode, "G1X100" took no time and left the head where it was.
func TestExecReadsCodesAsMarlin(t *testing.T) {
	p, _ := profile.LookupPrinter("ender3")
	for _, cmd := range []string{"G1X100 F6000", "G01 X100 F6000", "g001 x100 f6000"} {
		m := NewMachine(LimitsFor(p))
		got, err := m.Exec(cmd)
		if want := Trapezoid(100, 100, p.TravelAccel, DefaultJerkXY); err != nil || !near(got, want) {
			t.Errorf("%q: %v, %v; want %v", cmd, got, err, want)
		}
		if x, _, _, _ := m.Pos(); x != 100 {
			t.Errorf("%q: x = %v", cmd, x)
		}
	}
}

func TestExecAllocatesNothing(t *testing.T) {
	p, _ := profile.LookupPrinter("ender3")
	m := NewMachine(LimitsFor(p))
	cmds := []string{"G1 X10.5 Y20 E0.4 F1800", "g0 x1 y1", "G92 E0", "G28 X Y", "G4 P20", "M104 S200", "G91", "G1 E-0.8 F2400", "G90"}
	if n := testing.AllocsPerRun(100, func() {
		for _, c := range cmds {
			if _, err := m.Exec(c); err != nil {
				t.Fatal(err)
			}
		}
	}); n != 0 {
		t.Fatalf("%v allocations per run of %d commands", n, len(cmds))
	}
}
