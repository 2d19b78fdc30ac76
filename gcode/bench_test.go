package gcode

import (
	"os"
	"strings"
	"testing"
)

// Lines100k returns the calibration job repeated to 100,000 lines: the
// same input for every parser's BenchmarkLex100k (see docs/benchmarks.md).
func lines100k(b *testing.B) []string {
	src, err := os.ReadFile("testdata/calibration.gcode")
	if err != nil {
		b.Fatal(err)
	}
	one := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	lines := make([]string, 0, 100_000)
	for len(lines) < 100_000 {
		lines = append(lines, one[:min(len(one), 100_000-len(lines))]...)
	}
	return lines
}

// BenchmarkLex100k strips, lexes and parses the words of every line of a
// 100k-line file, and checks its temperatures.
func BenchmarkLex100k(b *testing.B) {
	lines := lines100k(b)
	lim := Limits{HotendC: 260, BedC: 110}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, l := range lines {
			c := Lex(Strip(l))
			if c.Word == "" {
				continue
			}
			w, err := ParseWords(c.Args)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.CheckTemps(lim); err != nil {
				b.Fatal(err)
			}
			n += w.Len()
		}
		if n == 0 {
			b.Fatal("no words")
		}
	}
}
