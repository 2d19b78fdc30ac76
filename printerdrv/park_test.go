package printerdrv

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/motion"
)

// state replays commands on a fresh machine and returns where it ends.
type state struct {
	x, y, z, e   float64
	relXYZ, relE bool
	feed         float64
}

func replay(t testing.TB, cmds []string) state {
	t.Helper()
	m := motion.NewMachine(motion.Limits{})
	for _, c := range cmds {
		_, _ = m.Exec(c)
	}
	var s state
	s.x, s.y, s.z, s.e = m.Pos()
	s.relXYZ, s.relE, s.feed = m.Modes()
	return s
}

func (s state) near(o state) bool {
	eq := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	return eq(s.x, o.x) && eq(s.y, o.y) && eq(s.z, o.z) && eq(s.e, o.e) && s.relXYZ == o.relXYZ && s.relE == o.relE && eq(s.feed, o.feed)
}

// Pausing anywhere and resuming leaves the printer exactly where the job
// alone would have: same position, extruder, modes and feedrate.
func TestParkAndResumeRestoreTheJob(t *testing.T) {
	p := printer(t, "ender3")
	cmds := mustPrepare(t, calibration(t, p)).Commands
	// A job in relative E and relative XYZ modes as well.
	rel := append([]string{"G28", "G1 Z0.3 F600", "M83", "G1 X10 Y10 E1 F1500", "G91", "G1 X5 E0.5", "G1 Y5 E0.5 F900"}, "G90", "G1 X50 Y50", "M82")
	for _, job := range [][]string{cmds, rel} {
		want := replay(t, job)
		parkedSomewhere := false
		for cut := 0; cut <= len(job); cut += max(1, len(job)/97) {
			k := newParker(p)
			seq := k.park(job, cut)
			if seq == nil {
				if resume := k.unpark(); resume != nil {
					t.Fatalf("cut %d: not parked, yet unpark gives %v", cut, resume)
				}
				continue
			}
			parkedSomewhere = true
			at := replay(t, append(slices.Clone(job[:cut]), seq...))
			if at.x != ParkInsetMM || at.y != p.BuildVolume.Y-ParkInsetMM {
				t.Fatalf("cut %d: parked at %.3f,%.3f", cut, at.x, at.y)
			}
			if stop := replay(t, job[:cut]); at.z < stop.z+parkMinLiftedMM && stop.z+parkMinLiftedMM <= p.BuildVolume.Z || at.e != stop.e-ParkRetractMM {
				t.Fatalf("cut %d: parked at z %.3f e %.3f, stopped at z %.3f e %.3f", cut, at.z, at.e, stop.z, stop.e)
			}
			all := append(append(append(slices.Clone(job[:cut]), seq...), k.unpark()...), job[cut:]...)
			if got := replay(t, all); !got.near(want) {
				t.Fatalf("cut %d: job with a pause ends at %+v, without at %+v", cut, got, want)
			}
		}
		if !parkedSomewhere {
			t.Fatal("the job was never parked")
		}
	}
}

func TestParkStaysBeforeHomingAndPrinting(t *testing.T) {
	p := printer(t, "ender3")
	for _, job := range [][]string{
		{"M104 S200", "G1 X10 Y10 Z5"}, // not homed: position unknown
		{"G28", "G1 X10 Y10"},          // homed, still at z=0
	} {
		if seq := newParker(p).park(job, len(job)); seq != nil {
			t.Errorf("%v: parked with %v", job, seq)
		}
	}
	// Near the top of the volume the lift shrinks to what is left.
	k := newParker(p)
	job := []string{"G28", "G1 Z" + mm(p.BuildVolume.Z-3) + " F600"}
	if seq := k.park(job, len(job)); !slices.ContainsFunc(seq, func(c string) bool { return strings.HasPrefix(c, "G1 Z3 ") }) {
		t.Fatalf("park near the top: %v", seq)
	}
}
