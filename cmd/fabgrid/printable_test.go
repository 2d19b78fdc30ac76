//go:build !slicer

package main

import (
	"strings"
	"testing"
)

func TestPrintableEscapesWhatWouldNotPrint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"w-1", "w-1"},
		{"Jürgen's Ender 3", "Jürgen's Ender 3"},
		{"w\x1b]0;pwned\x07", `"w\x1b]0;pwned\a"`},
		{"a\tb", `"a\tb"`},
		{"line\nbreak", `"line\nbreak"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"c1\u0085", `"c1\u0085"`},
	} {
		if got := printable(tc.in); got != tc.want {
			t.Errorf("printable(%q) = %s; want %s", tc.in, got, tc.want)
		}
	}
}

func TestWorkersTableEscapesNames(t *testing.T) {
	var buf strings.Builder
	tb := newTable(&buf, "ID", "NAME")
	tb.row("w-1", "evil\x1b[2Jname")
	if err := tb.flush(); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(buf.String(), 0x1b) || !strings.Contains(buf.String(), `"evil\x1b[2Jname"`) {
		t.Errorf("table printed %q; want the name quoted and no raw escape", buf.String())
	}
}
