package slicer

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// BenchmarkLex100k measures the analyser's lexing steps, as written in
// Analyze (comment, line number and checksum cut, bytes.Fields, upper-cased
// code, gwords), on the 100k-line file every parser's benchmark reads.
func BenchmarkLex100k(b *testing.B) {
	src, err := os.ReadFile("../gcode/testdata/calibration.gcode")
	if err != nil {
		b.Fatal(err)
	}
	one := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	var lines [][]byte
	for len(lines) < 100_000 {
		for _, l := range one[:min(len(one), 100_000-len(lines))] {
			lines = append(lines, []byte(l))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, ln := range lines {
			if j := bytes.IndexByte(ln, ';'); j >= 0 {
				ln = ln[:j]
			}
			ln = bytes.TrimSpace(ln)
			if len(ln) == 0 {
				continue
			}
			if ln[0] == 'N' || ln[0] == 'n' {
				if k := bytes.IndexByte(ln, ' '); k > 0 {
					ln = bytes.TrimSpace(ln[k+1:])
				}
			}
			if k := bytes.IndexByte(ln, '*'); k >= 0 {
				ln = bytes.TrimSpace(ln[:k])
			}
			fields := bytes.Fields(ln)
			_ = string(bytes.ToUpper(fields[0]))
			w, bad := gwords(fields[1:])
			if bad {
				b.Fatal("bad")
			}
			n += len(w)
		}
		if n == 0 {
			b.Fatal("no words")
		}
	}
}
