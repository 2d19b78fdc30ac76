//go:build !slicer

package main

import "testing"

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"1000/s", 1000, true},
		{"2.5/s", 2.5, true},
		{"50", 50, true},
		{"0", 0, true},
		{"off", 0, true},
		{"", 0, false},
		{"-1/s", 0, false},
		{"ten/s", 0, false},
		{"NaN", 0, false},
		{"5/m", 0, false},
	} {
		got, err := parseRate(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseRate(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
