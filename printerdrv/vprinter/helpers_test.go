package vprinter

import (
	"fmt"
	"math/rand"

	"github.com/fabgrid/fabgrid/gcode"
)

// benchLines returns n slicer-like commands (no comments), deterministic.
func benchLines(n int) []string {
	// PrusaSlicer-style: relative extrusion, short E values.
	r := rand.New(rand.NewSource(1))
	lines := make([]string, 0, n)
	for i := range n {
		x, y := 20+r.Float64()*180, 20+r.Float64()*180
		switch {
		case i == 0:
			lines = append(lines, "M83")
		case i%500 == 0:
			lines = append(lines, fmt.Sprintf("G1 Z%.2f F600", 0.2+float64(i/500)*0.2))
		case i%7 == 0:
			lines = append(lines, fmt.Sprintf("G1 X%.3f Y%.3f F7800", x, y))
		default:
			lines = append(lines, fmt.Sprintf("G1 X%.3f Y%.3f E.%05d", x, y, r.Intn(60000)))
		}
	}
	return lines
}

// jobPart drops the commands the host adds itself from a record.
func jobPart(cmds []string) []string {
	var out []string
	for _, c := range cmds {
		switch gcode.Lex(c).Code {
		case gcode.M(110), gcode.M(115), gcode.M(155), gcode.M(105):
			continue
		}
		out = append(out, c)
	}
	return out
}
func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
