package gossip

import (
	"errors"
	"strings"
	"testing"
)

func workerMeta() Meta {
	return Meta{
		Role: RoleWorker, ID: "w-3f9a1c2d4e5b6a70", HTTPAddr: "127.0.0.1:8750",
		Profile: "ender3", Material: "PLA", Colour: "black", NozzleMM: 0.4,
		BuildMM: [3]float64{220, 220, 250}, State: "idle",
	}
}

func TestMetaRoundTrip(t *testing.T) {
	long := workerMeta()
	long.ID, long.HTTPAddr, long.Profile, long.Material, long.Colour =
		strings.Repeat("i", maxString), strings.Repeat("h", maxString), strings.Repeat("p", maxString),
		strings.Repeat("m", maxString), strings.Repeat("c", maxString)
	for _, tc := range []struct {
		name string
		m    Meta
	}{
		{"worker", workerMeta()},
		{"coordinator", Meta{Role: RoleCoordinator, ID: "c1", HTTPAddr: "http://127.0.0.1:8740"}},
		{"leaving", func() Meta { m := workerMeta(); m.Leaving = true; m.State = "awaiting-bed-clear"; return m }()},
		{"zero", Meta{}},
		{"all strings at the limit", long},
		{"big printer", func() Meta { m := workerMeta(); m.BuildMM = [3]float64{500, 500, 500}; m.NozzleMM = 0.6; return m }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.m.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) > MaxMetaSize {
				t.Fatalf("%d bytes", len(b))
			}
			got, err := DecodeMeta(b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.m {
				t.Fatalf("got %+v, want %+v", got, tc.m)
			}
		})
	}
}

func TestMetaCompact(t *testing.T) {
	b, err := workerMeta().Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 64 {
		t.Fatalf("a typical worker's metadata takes %d bytes, want ≤ 64", len(b))
	}
}

func TestMetaEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Meta
	}{
		{"unknown state", Meta{State: "printing"}},
		{"unknown role", Meta{Role: 9}},
		{"long string", Meta{ID: strings.Repeat("x", maxString+1)}},
		{"negative size", Meta{NozzleMM: -1}},
		{"huge size", Meta{BuildMM: [3]float64{1e9, 1, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.m.Encode(); !errors.Is(err, ErrMeta) {
				t.Fatalf("err = %v, want ErrMeta", err)
			}
		})
	}
}

func TestDecodeMetaRejects(t *testing.T) {
	good, _ := workerMeta().Encode()
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"short", []byte{1, 2}},
		{"version", append([]byte{2}, good[1:]...)},
		{"role", append([]byte{1, 7}, good[2:]...)},
		{"flags", append([]byte{1, 2, 0x80}, good[3:]...)},
		{"state", append([]byte{1, 2, 0, 99}, good[4:]...)},
		{"truncated", good[:len(good)-3]},
		{"trailing", append(append([]byte(nil), good...), 0)},
		{"string past end", []byte{1, 2, 0, 1, 100, 'a'}},
		{"too big", make([]byte, MaxMetaSize+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeMeta(tc.b); !errors.Is(err, ErrMeta) {
				t.Fatalf("err = %v, want ErrMeta", err)
			}
		})
	}
}

func FuzzDecodeMeta(f *testing.F) {
	good, _ := workerMeta().Encode()
	coord, _ := Meta{Role: RoleCoordinator, ID: "c1"}.Encode()
	f.Add(good)
	f.Add(coord)
	f.Add([]byte{})
	f.Add([]byte{1, 2, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeta(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode and decode to the same value.
		b2, err := m.Encode()
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", m, err)
		}
		m2, err := DecodeMeta(b2)
		if err != nil || m2 != m {
			t.Fatalf("round trip: %+v → %+v, %v", m, m2, err)
		}
	})
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		n    int
	}{
		{"16 bytes", "AAECAwQFBgcICQoLDA0ODw==", 16},
		{"16 bytes unpadded", "AAECAwQFBgcICQoLDA0ODw", 16},
		{"24 bytes", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX", 24},
		{"32 bytes", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 32},
		{"32 bytes url", "__8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0", 32},
		{"spaces trimmed", "  AAECAwQFBgcICQoLDA0ODw==\n", 16},
		{"15 bytes", "AAECAwQFBgcICQoLDA0O", 0},
		{"not base64", "not a key!", 0},
		{"empty", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKey(tc.in)
			if tc.n == 0 {
				if !errors.Is(err, ErrKey) {
					t.Fatalf("err = %v, want ErrKey", err)
				}
				return
			}
			if err != nil || len(k) != tc.n {
				t.Fatalf("got %d bytes, %v; want %d", len(k), err, tc.n)
			}
		})
	}
	s, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if k, err := ParseKey(s); err != nil || len(k) != 32 {
		t.Fatalf("NewKey %q: %d bytes, %v", s, len(k), err)
	}
}
