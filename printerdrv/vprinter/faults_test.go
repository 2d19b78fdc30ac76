package vprinter

import (
	"strings"
	"testing"
)

func TestParseFaults(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Faults
		err  string // "" = accepted
	}{
		{in: "", want: Faults{}},
		{in: "corrupt=0.01, drop-ok=0.5", want: Faults{Corrupt: 0.01, DropOK: 0.5}},
		{in: "reset-at=500,disconnect-at=7,runaway-at=9", want: Faults{ResetAt: 500, DisconnectAt: 7, ThermalRunawayAt: 9}},
		{in: "thermal-runaway-at=3", want: Faults{ThermalRunawayAt: 3}},
		{in: "corrupt", err: "want name=value"},
		{in: "meteor=1", err: "unknown fault"},
		{in: "corrupt=1.5", err: "outside [0,1]"},
		{in: "corrupt=NaN", err: "outside [0,1]"},
		{in: "drop-ok=-0.1", err: "outside [0,1]"},
		{in: "reset-at=-5", err: "want 1 or more"},
		{in: "disconnect-at=0", err: "want 1 or more"},
		{in: "runaway-at=x", err: "runaway-at"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFaults(tc.in)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one with %q", err, tc.err)
			case tc.err == "" && got != tc.want:
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Whatever the spec, an accepted one has probabilities in [0,1] and line
// numbers that are either unset or at least 1.
func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"", "corrupt=0.01,drop-ok=0.001,reset-at=500", "runaway-at=1", "corrupt=NaN", "reset-at=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFaults(s)
		if err != nil {
			return
		}
		if !(fl.Corrupt >= 0 && fl.Corrupt <= 1) || !(fl.DropOK >= 0 && fl.DropOK <= 1) {
			t.Fatalf("%q: probabilities %v, %v", s, fl.Corrupt, fl.DropOK)
		}
		for _, n := range []int{fl.ResetAt, fl.DisconnectAt, fl.ThermalRunawayAt} {
			if n < 0 {
				t.Fatalf("%q: line number %d", s, n)
			}
		}
	})
}
