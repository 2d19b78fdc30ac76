package scheduler

import (
	"math"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
)

func TestEstimate(t *testing.T) {
	ender, _ := profile.LookupPrinter("ender3")
	mk3s, _ := profile.LookupPrinter("mk3s")
	cube := func(s float64) (float64, float64, [3]float64) { return s * s * s, 6 * s * s, [3]float64{s, s, s} }

	v, a, sz := cube(20)
	small, smallFil := Estimate(ender, v, a, sz)
	v, a, sz = cube(60)
	large, largeFil := Estimate(ender, v, a, sz)
	fast, _ := Estimate(mk3s, v, a, sz)
	empty, emptyFil := Estimate(ender, 0, 0, [3]float64{})
	tpu, _ := profile.LookupMaterial("TPU")
	pla, _ := profile.LookupMaterial("PLA")
	withTPU, _ := EstimateWith(ender, tpu, v, a, sz)
	withPLA, _ := EstimateWith(ender, pla, v, a, sz)
	nan, _ := Estimate(ender, math.NaN(), math.Inf(1), [3]float64{math.NaN(), -1, 5})

	tests := []struct {
		name string
		ok   bool
	}{
		// The slicer estimates 1349 s and 1266 mm for the 20 mm test cube
		// on an Ender-3 (scheduler/calibrate has the full table).
		{"20 mm cube within 15 % of the slicer's time", math.Abs(small/1349-1) < 0.15},
		{"20 mm cube within 15 % of the slicer's filament", math.Abs(smallFil/1266-1) < 0.15},
		{"bigger part takes longer", large > 10*small && largeFil > 10*smallFil},
		{"faster profile is faster", fast < large},
		{"TPU's flow limit slows a large part", withTPU > 1.1*large},
		{"PLA's flow limit does not bind", withPLA == large},
		{"empty mesh costs only the fixed overhead", empty == defaultEstimator().fixedSeconds && emptyFil == 0},
		{"nonsense numbers give a finite estimate", !math.IsNaN(nan) && !math.IsInf(nan, 0)},
		{"reference profile has speed factor 1", SpeedFactor(ender) == 1},
		{"mk3s is faster than the reference", SpeedFactor(mk3s) > 1},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: small %.0f s %.0f mm, large %.0f s %.0f mm, mk3s %.0f s, empty %.0f s, nan %v", tc.name, small, smallFil, large, largeFil, fast, empty, nan)
		}
	}
}
