package gcode

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// Moved from printerdrv (StripComment).
func TestStrip(t *testing.T) {
	tests := map[string]string{
		"G1 X1 ; move":         "G1 X1",
		"  ; only a comment":   "",
		"":                     "",
		"N12 G28*18":           "G28",
		"M104 S200\t":          "M104 S200",
		";LAYER:3":             "",
		"G1 X5 Y5 E0.3 ;perim": "G1 X5 Y5 E0.3",
		"n7 g1 x1":             "g1 x1",
		"N12":                  "",
		"NOZZLE_CLEAN":         "NOZZLE_CLEAN",
	}
	for in, want := range tests {
		if got := Strip(in); got != want {
			t.Errorf("Strip(%q) = %q, want %q", in, got, want)
		}
	}
}

// Moved from printerdrv (host_test.go).
func TestFormatLine(t *testing.T) {
	// Reference values computed by Marlin's own rule (XOR of the bytes before '*').
	tests := []struct {
		n    int
		cmd  string
		want string
	}{
		{0, "M110 N0", "N0 M110 N0*125\n"},
		{1, "G28", "N1 G28*18\n"},
		{12, "G1 X10.5 Y3 F1500", "N12 G1 X10.5 Y3 F1500*" + strconv.Itoa(int(Checksum("N12 G1 X10.5 Y3 F1500"))) + "\n"},
	}
	for _, tc := range tests {
		if got := FormatLine(tc.n, tc.cmd); got != tc.want {
			t.Errorf("FormatLine(%d, %q) = %q, want %q", tc.n, tc.cmd, got, tc.want)
		}
	}
}

func TestLex(t *testing.T) {
	tests := []struct {
		cmd        string
		word, args string
		code       Code
	}{
		{"G1 X10 Y2", "G1", "X10 Y2", G(1)},
		{"G01 X10", "G01", "X10", G(1)},
		{"g0", "g0", "", G(0)},
		{"G00\tX1", "G00", "X1", G(0)},
		{"M104S300", "M104", "S300", M(104)}, // Marlin needs no space after the code
		{"G1X10 Y2", "G1", "X10 Y2", G(1)},
		{"M862.3 P \"MK3S\"", "M862.3", "P \"MK3S\"", Code{'M', 862, 3}},
		{"T0", "T0", "", Code{'T', 0, 0}},
		{"START_PRINT EXTRUDER=200", "START_PRINT", "EXTRUDER=200", Code{}},
		{"G", "G", "", Code{}},
		{"G1-5", "G1-5", "", Code{}},
		{"  M105  ", "M105", "", M(105)},
		{"", "", "", Code{}},
		{"G99999999999999999999 X1", "G99999999999999999999", "X1", Code{}},
	}
	for _, tc := range tests {
		c := Lex(tc.cmd)
		if c.Word != tc.word || c.Args != tc.args || c.Code != tc.code || c.Text != tc.cmd {
			t.Errorf("Lex(%q) = %+v, want word %q args %q code %+v", tc.cmd, c, tc.word, tc.args, tc.code)
		}
	}
	if s := (Code{'M', 862, 3}).String(); s != "M862.3" {
		t.Errorf("String = %q", s)
	}
	if !G(3).IsMove() || G(4).IsMove() || M(1).IsMove() {
		t.Error("IsMove")
	}
}

func TestLayerMarker(t *testing.T) {
	tests := []struct {
		line          string
		n             int
		numbered, has bool
	}{
		{";LAYER:3", 3, true, true},
		{";LAYER:-2", -2, true, true},
		{";LAYER: 7", 7, true, true},
		{"G1 X1 ;LAYER:4", 4, true, true},
		{";LAYER_CHANGE", 0, false, true},
		{";LAYER:abc", 0, false, true},
		{";LAYER_COUNT:30", 0, false, false},
		{"G1 X1", 0, false, false},
		{"; LAYER:3", 0, false, false},
	}
	for _, tc := range tests {
		n, numbered, ok := LayerMarker(tc.line)
		if n != tc.n || numbered != tc.numbered || ok != tc.has {
			t.Errorf("LayerMarker(%q) = %d,%v,%v; want %d,%v,%v", tc.line, n, numbered, ok, tc.n, tc.numbered, tc.has)
		}
	}
}

func TestCheckTemps(t *testing.T) {
	lim := Limits{Printer: "ender3", HotendC: 260, BedC: 110}
	tests := []struct {
		cmd  string
		over bool
	}{
		{"M104 S260", false},
		{"M104 S261", true},
		{"M109 R261", true},
		{"M190 S120", true},
		{"M140 S110", false},
		{"M303 E0 S300 C8", true},
		{"m104 s300", true},
		{"M0104 S300", true},
		{"M104S300", true},        // was passed: the host read "M104S300" as an unknown command
		{"M104 S300T0", true},     // was passed: "300T0" is no number to the host, 300 °C to Marlin
		{"M104 S", false},         // S without a number is 0
		{"M106 S300", false},      // fan, not a heater
		{"M117 S300 done", false}, // text
		{"G1 X300", false},
	}
	for _, tc := range tests {
		err := Lex(tc.cmd).CheckTemps(lim)
		if got := errors.Is(err, ErrOverLimit); got != tc.over || (err != nil && !got) {
			t.Errorf("%q: err %v, want over limit %v", tc.cmd, err, tc.over)
		}
	}
	if err := Lex("M104 S999").CheckTemps(Limits{}); err != nil {
		t.Errorf("no limits known: %v", err)
	}
}

func TestParseWords(t *testing.T) {
	w, err := ParseWords("X10.5 y-3 F1200 E Z.2 12")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		k byte
		v float64
	}{{'X', 10.5}, {'Y', -3}, {'F', 1200}, {'E', 0}, {'Z', 0.2}} {
		if got, ok := w.Get(c.k); !ok || got != c.v {
			t.Errorf("%c = %v,%v; want %v", c.k, got, ok, c.v)
		}
	}
	if w.Has('S') || w.Or('S', 7) != 7 || w.Len() != 6 {
		t.Errorf("S given, or Len %d", w.Len())
	}
	if _, ok := w.Get('1'); ok {
		t.Error("a digit is no letter")
	}
	for _, bad := range []string{"Xabc", "XNaN", "Einf", "X10Y10"} {
		if _, err := ParseWords(bad); !errors.Is(err, ErrBadNumber) {
			t.Errorf("%q: err %v", bad, err)
		}
	}
}

func TestLexAllocatesNothing(t *testing.T) {
	lines := []string{"G1 X10.5 Y20 E0.4 F1800 ; perimeter", "N12 g0 x1 y1*55", "M104 S200", "G92 E0"}
	lim := Limits{HotendC: 260, BedC: 110}
	if n := testing.AllocsPerRun(100, func() {
		for _, l := range lines {
			c := Lex(Strip(l))
			if _, err := ParseWords(c.Args); err != nil {
				t.Fatal(err)
			}
			if err := c.CheckTemps(lim); err != nil {
				t.Fatal(err)
			}
		}
	}); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

// FuzzLex checks that lexing never panics, that the command word and its
// parameters are the command without white space between them, and that a
// code reads back as the word.
func FuzzLex(f *testing.F) {
	for _, s := range []string{"G1 X10 Y10 E1 F1200", "N12 G28*18 ; home", "M104S300", "g01 x1", "M862.3 P\"x\"", "START_PRINT", "G1.", "G99999999999999999", ";LAYER:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd := Strip(line)
		if strings.ContainsRune(cmd, ';') {
			t.Fatalf("Strip(%q) = %q keeps a comment", line, cmd)
		}
		c := Lex(cmd)
		if !strings.Contains(cmd, c.Word) || !strings.HasSuffix(cmd, c.Args) || len(c.Word)+len(c.Args) > len(cmd) {
			t.Fatalf("Lex(%q) = %+v", cmd, c)
		}
		if c.Code.Letter != 0 {
			if again := Lex(c.Code.String() + " " + c.Args); again.Code != c.Code {
				t.Fatalf("%q: code %v reads back as %v", cmd, c.Code, again.Code)
			}
		}
		_, _, _ = LayerMarker(line)
		_ = c.CheckTemps(Limits{HotendC: 260, BedC: 110})
	})
}

// FuzzParseWords checks the parser against a plain model of it: split on
// white space, a value per upper-cased first byte, the last word wins.
// (Moved from package motion with the parser.)
func FuzzParseWords(f *testing.F) {
	for _, s := range []string{"X10 Y-3.5 F1200", "x1 e-0.8", "X Y", " \tZ.2  E1e3 ", "*12 X1", "Xabc", "XNaN", "E1 E2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		want := map[byte]float64{}
		wantErr := false
		for _, a := range strings.FieldsFunc(args, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }) {
			k := a[0]
			if k >= 'a' && k <= 'z' {
				k -= 'a' - 'A'
			}
			v := 0.0
			if len(a) > 1 {
				var err error
				if v, err = strconv.ParseFloat(a[1:], 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
					wantErr = true
					break
				}
			}
			if k >= 'A' && k <= 'Z' {
				want[k] = v
			}
		}
		w, err := ParseWords(args)
		if (err != nil) != wantErr {
			t.Fatalf("%q: err %v, want error %v", args, err, wantErr)
		}
		if err != nil {
			return
		}
		for k := byte('A'); k <= 'Z'; k++ {
			got, ok := w.Get(k)
			if wv, wok := want[k]; ok != wok || got != wv {
				t.Fatalf("%q: %c = %v,%v; want %v,%v", args, k, got, ok, wv, wok)
			}
		}
	})
}

func TestParseNumberIsParseFloat(t *testing.T) {
	for _, s := range []string{"0.1", "-0", "+5", "5.", ".5", "1e3", "0.30000000000000004", "123456789012345", "1234567890123456",
		"999999999999999.9", "-12.345", "0x1p-2", ".", "-", "", "1.2.3", "1_0", "NaN", "inf", "1e400"} {
		got, ok := parseNumber(s)
		want, err := strconv.ParseFloat(s, 64)
		wantOK := err == nil && !math.IsNaN(want) && !math.IsInf(want, 0)
		if ok != wantOK || ok && (got != want || math.Signbit(got) != math.Signbit(want)) {
			t.Errorf("parseNumber(%q) = %v,%v; ParseFloat %v,%v", s, got, ok, want, err)
		}
	}
}
