package api

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOrderChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string // "" = accepted
	}{
		{"quantity 1", CheckQuantity(1), ""},
		{"quantity 1000", CheckQuantity(1000), ""},
		{"quantity 0", CheckQuantity(0), "quantity must be 1..1000, got 0"},
		{"quantity 1001", CheckQuantity(1001), "quantity must be 1..1000, got 1001"},
		{"colour", CheckColour("red"), ""},
		{"long colour", CheckColour(strings.Repeat("r", 33)), "colour is over 32 bytes"},
		{"layer 0.2", CheckLayerHeight(0.2), ""},
		{"layer 0.05", CheckLayerHeight(0.05), ""},
		{"layer 1", CheckLayerHeight(1), ""},
		{"layer 0.01", CheckLayerHeight(0.01), "layer_height must be between 0.05 and 1 mm, got 0.01"},
		{"layer 0", CheckLayerHeight(0), "layer_height must be between 0.05 and 1 mm, got 0"},
		{"layer NaN", CheckLayerHeight(math.NaN()), "layer_height must be between 0.05 and 1 mm, got NaN"},
		{"infill 0", CheckInfill(0), ""},
		{"infill 100", CheckInfill(100), ""},
		{"infill 120", CheckInfill(120), "infill must be a percentage from 0 to 100, got 120"},
		{"infill -1", CheckInfill(-1), "infill must be a percentage from 0 to 100, got -1"},
		{"note", CheckPickupNote("porch"), ""},
		{"long note", CheckPickupNote(strings.Repeat("n", 1025)), "pickup_note is over 1024 bytes"},
		{"request id", CheckRequestID("abc_DEF-1"), ""},
		{"empty request id", CheckRequestID(""), "request_id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'"},
		{"long request id", CheckRequestID(strings.Repeat("a", 65)), "request_id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'"},
		{"request id with a space", CheckRequestID("a b"), "request_id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == "" {
				if tc.err != nil {
					t.Fatalf("refused: %v", tc.err)
				}
				return
			}
			if tc.err == nil || tc.err.Error() != tc.want || !errors.Is(tc.err, ErrOrder) {
				t.Fatalf("got %v, want %q (ErrOrder)", tc.err, tc.want)
			}
		})
	}
}

func TestParseOrderFields(t *testing.T) {
	if q, err := ParseQuantity("3"); q != 3 || err != nil {
		t.Errorf("ParseQuantity(3) = %d, %v", q, err)
	}
	if _, err := ParseQuantity("three"); err == nil || err.Error() != `quantity must be a whole number 1..1000, got "three"` {
		t.Errorf("ParseQuantity(three) = %v", err)
	}
	if _, err := ParseQuantity("0"); err == nil || err.Error() != "quantity must be 1..1000, got 0" {
		t.Errorf("ParseQuantity(0) = %v", err)
	}
	if h, err := ParseLayerHeight("0.28"); h != 0.28 || err != nil {
		t.Errorf("ParseLayerHeight(0.28) = %v, %v", h, err)
	}
	if _, err := ParseLayerHeight("0.01"); err == nil || err.Error() != "layer_height must be between 0.05 and 1 mm, got 0.01" {
		t.Errorf("ParseLayerHeight(0.01) = %v", err)
	}
	if _, err := ParseInfill("lots"); err == nil || !strings.HasPrefix(err.Error(), "infill must be a percentage") {
		t.Errorf("ParseInfill(lots) = %v", err)
	}
	if m, err := CheckMaterial(" petg "); m != "PETG" || err != nil {
		t.Errorf("CheckMaterial(petg) = %q, %v", m, err)
	}
	if _, err := CheckMaterial("wood"); err == nil || err.Error() != "material WOOD is not one of PLA, PETG, ABS, TPU" {
		t.Errorf("CheckMaterial(wood) = %v", err)
	}
	if _, err := CheckMaterial(""); err == nil || err.Error() != "material is required (PLA, PETG, ABS, TPU)" {
		t.Errorf("CheckMaterial() = %v", err)
	}
	for in, want := range map[string]int64{"2026-12-24": 1798070400, "2026-12-24T18:00:00+01:00": 1798131600} {
		if got, err := ParseDeadline(in); got != want || err != nil {
			t.Errorf("ParseDeadline(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseDeadline("christmas"); err == nil || err.Error() != `deadline "christmas" is neither YYYY-MM-DD nor RFC 3339` {
		t.Errorf("ParseDeadline(christmas) = %v", err)
	}
}

// TestModelName: a long name is cut at a character boundary, so the
// stored name stays valid UTF-8 (it was cut at byte 128 before).
func TestModelName(t *testing.T) {
	if got := ModelName("benchy.stl"); got != "benchy.stl" {
		t.Errorf("short name changed: %q", got)
	}
	ascii := strings.Repeat("a", 200)
	if got := ModelName(ascii); got != ascii[:128] {
		t.Errorf("ascii name cut to %d bytes", len(got))
	}
	long := strings.Repeat("a", 127) + "é.stl" // é is 2 bytes at 127..128
	got := ModelName(long)
	if !utf8.ValidString(got) || len(got) > MaxModelNameBytes || got != strings.Repeat("a", 127) {
		t.Errorf("cut to %q (%d bytes, valid %v)", got, len(got), utf8.ValidString(got))
	}
}

func FuzzParseOrderFields(f *testing.F) {
	for _, s := range []string{"1", "0.2", "1000", "-1", "NaN", "1e308", "0x10", "2026-12-24", "abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if q, err := ParseQuantity(v); err == nil && (q < MinQuantity || q > MaxQuantity) {
			t.Fatalf("quantity %q accepted as %d", v, q)
		}
		if h, err := ParseLayerHeight(v); err == nil && !(h >= MinLayerHeightMM && h <= MaxLayerHeightMM) {
			t.Fatalf("layer height %q accepted as %v", v, h)
		}
		if p, err := ParseInfill(v); err == nil && !(p >= 0 && p <= 100) {
			t.Fatalf("infill %q accepted as %v", v, p)
		}
		_, _ = ParseDeadline(v)
		if m, err := CheckMaterial(v); err == nil && m != strings.ToUpper(strings.TrimSpace(v)) {
			t.Fatalf("material %q accepted as %q", v, m)
		}
		if n := ModelName(v); len(n) > MaxModelNameBytes || utf8.ValidString(v) && !utf8.ValidString(n) {
			t.Fatalf("model name %q cut to %q", v, n)
		}
	})
}
