package profile

import (
	"math"
	"testing"
)

func TestFits(t *testing.T) {
	bed := Vec3{X: 220, Y: 200, Z: 250}
	nan := math.NaN()
	for _, tc := range []struct {
		name       string
		part       Vec3
		ok, turned bool
	}{
		{"small", Vec3{10, 10, 10}, true, false},
		{"exactly the bed", Vec3{220, 200, 250}, true, false},
		{"needs the turn", Vec3{190, 215, 10}, true, true},
		{"exactly the bed turned", Vec3{200, 220, 250}, true, true},
		{"too tall", Vec3{10, 10, 251}, false, false},
		{"longer than the long side", Vec3{221, 10, 10}, false, false},
		{"narrow but long, turned", Vec3{10, 215, 10}, true, true},
		{"too wide both ways", Vec3{221, 201, 10}, false, false},
		{"zero size", Vec3{}, true, false},
		{"NaN height", Vec3{10, 10, nan}, false, false},
		{"NaN width", Vec3{nan, 10, 10}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, turned := bed.Fits(tc.part)
			if ok != tc.ok || turned != tc.turned {
				t.Fatalf("Fits(%v) = %v, %v; want %v, %v", tc.part, ok, turned, tc.ok, tc.turned)
			}
		})
	}
}

func TestBoxArray(t *testing.T) {
	a := [3]float64{1, 2, 3}
	if got := Box(a).Array(); got != a {
		t.Fatalf("Box(%v).Array() = %v", a, got)
	}
}
