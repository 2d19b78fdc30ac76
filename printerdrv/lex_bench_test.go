package printerdrv

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkLex100k measures the host's lexing (StripComment, code,
// checkLimit, and every word parsed as param parses one) on the 100k-line
// file every parser's benchmark reads.
func BenchmarkLex100k(b *testing.B) {
	src, err := os.ReadFile("../gcode/testdata/calibration.gcode")
	if err != nil {
		b.Fatal(err)
	}
	one := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	var lines []string
	for len(lines) < 100_000 {
		lines = append(lines, one[:min(len(one), 100_000-len(lines))]...)
	}
	p := printer(b, "ender3")
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, l := range lines {
			cmd := StripComment(l)
			if cmd == "" {
				continue
			}
			_ = code(cmd)
			if err := checkLimit(cmd, p); err != nil {
				b.Fatal(err)
			}
			f := strings.Fields(cmd)
			for _, w := range f[1:] {
				if len(w) > 1 {
					if _, err := strconv.ParseFloat(w[1:], 64); err == nil {
						n++
					}
				}
			}
		}
		if n == 0 {
			b.Fatal("no words")
		}
	}
}
