package motion

import (
	"os"
	"strings"
	"testing"
)

// BenchmarkLex100k measures motion's own lexing (nextWord, parseWords) on
// the 100k-line file every parser's benchmark reads; comments are cut with
// the cheapest possible cut, since Exec takes bare commands.
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
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, l := range lines {
			if i := strings.IndexByte(l, ';'); i >= 0 {
				l = l[:i]
			}
			code, rest := nextWord(l)
			if code == "" {
				continue
			}
			w, err := parseWords(rest)
			if err != nil {
				b.Fatal(err)
			}
			n += w.n
		}
		if n == 0 {
			b.Fatal("no words")
		}
	}
}
