package hours

import (
	"errors"
	"os"
	"testing"
	"time"
)

// The tests run with the process's own zone far from UTC and from every
// zone under test, so that a reading in time.Local instead of the
// window's zone shows.
func TestMain(m *testing.M) {
	loc, err := LoadZone("Pacific/Chatham") // +12:45 / +13:45
	if err != nil {
		panic(err)
	}
	time.Local = loc
	os.Exit(m.Run())
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Window
		wantErr bool
	}{
		{"", Window{}, false},
		{"08:00-22:00", Window{StartMin: 480, EndMin: 1320}, false},
		{"22:30-06:00", Window{StartMin: 1350, EndMin: 360}, false},
		{" 00:00-24:00 ", Window{StartMin: 0, EndMin: 1440}, false},
		{"08:00", Window{}, true},
		{"8-22", Window{}, true},
		{"08:00-08:00", Window{}, true},
		{"25:00-26:00", Window{}, true},
		{"08:60-09:00", Window{}, true},
		{"24:30-09:00", Window{}, true},
		{"8:5-09:00", Window{}, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			h, err := Parse(tc.in, nil)
			if tc.wantErr != (err != nil) || h != tc.want {
				t.Fatalf("got %+v, %v", h, err)
			}
			if err != nil && !errors.Is(err, ErrWindow) {
				t.Fatalf("err %v is not ErrWindow", err)
			}
		})
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, s := range []string{"08:00-22:00", "22:30-06:00", "00:05-23:55", "08:00-24:00"} {
		w, err := Parse(s, nil)
		if err != nil || w.String() != s {
			t.Fatalf("Parse(%q).String() = %q, %v", s, w.String(), err)
		}
	}
	if w, _ := Parse("00:00-24:00", nil); !w.Always() || w.String() != "" {
		t.Fatalf("00:00-24:00 = %+v, %q; want always", w, w.String())
	}
}

func TestLeftUTC(t *testing.T) {
	at := func(hh, mm int) time.Time { return time.Date(2026, 1, 1, hh, mm, 0, 0, time.UTC) }
	day := Window{StartMin: 480, EndMin: 1320}
	night := Window{StartMin: 1320, EndMin: 360}
	late := Window{StartMin: 480, EndMin: 1440}
	for _, tc := range []struct {
		name string
		w    Window
		t    time.Time
		want time.Duration
	}{
		{"day inside", day, at(21, 0), time.Hour},
		{"day start", day, at(8, 0), 14 * time.Hour},
		{"day end is outside", day, at(22, 0), 0},
		{"day before", day, at(7, 59), 0},
		{"night evening", night, at(23, 0), 7 * time.Hour},
		{"night morning", night, at(5, 0), time.Hour},
		{"night noon", night, at(12, 0), 0},
		{"until midnight", late, at(23, 0), time.Hour},
		{"until midnight, early", late, at(1, 0), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.w.Left(tc.t); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if tc.w.Open(tc.t) != (tc.want > 0) {
				t.Fatalf("Open disagrees with Left")
			}
		})
	}
	if (Window{}).Left(at(3, 0)) != Forever {
		t.Fatal("always is not forever")
	}
}

// TestZones: an owner's 08:00-22:00 is read on the owner's clock, wherever
// the owner is, whatever the process's own zone.
func TestZones(t *testing.T) {
	for _, tc := range []struct {
		zone string
		// utcOpen and utcClose are 08:00 and 22:00 local on 2026-01-15,
		// in UTC.
		utcOpen, utcClose time.Time
	}{
		{"America/Bogota", time.Date(2026, 1, 15, 13, 0, 0, 0, time.UTC), time.Date(2026, 1, 16, 3, 0, 0, 0, time.UTC)},    // −05:00
		{"Asia/Kolkata", time.Date(2026, 1, 15, 2, 30, 0, 0, time.UTC), time.Date(2026, 1, 15, 16, 30, 0, 0, time.UTC)},    // +05:30
		{"Pacific/Tongatapu", time.Date(2026, 1, 14, 19, 0, 0, 0, time.UTC), time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)}, // +13:00
	} {
		t.Run(tc.zone, func(t *testing.T) {
			w, err := Parse("08:00-22:00", mustZone(t, tc.zone))
			if err != nil {
				t.Fatal(err)
			}
			if w.ZoneName() != tc.zone {
				t.Fatalf("zone %q", w.ZoneName())
			}
			if w.Open(tc.utcOpen.Add(-time.Second)) {
				t.Errorf("open a second before 08:00 local")
			}
			if got := w.Left(tc.utcOpen); got != 14*time.Hour {
				t.Errorf("at 08:00 local: %v left, want 14h", got)
			}
			if got := w.Left(tc.utcClose.Add(-time.Minute)); got != time.Minute {
				t.Errorf("at 21:59 local: %v left, want 1m", got)
			}
			if w.Open(tc.utcClose) {
				t.Errorf("open at 22:00 local")
			}
			next, length := w.NextStart(tc.utcClose)
			if want := tc.utcOpen.Add(24 * time.Hour); !next.Equal(want) || length != 14*time.Hour {
				t.Errorf("next start after closing: %v for %v, want %v for 14h", next.UTC(), length, want)
			}
			next, _ = w.NextStart(tc.utcOpen.Add(-time.Hour))
			if !next.Equal(tc.utcOpen) {
				t.Errorf("next start an hour before opening: %v, want %v", next.UTC(), tc.utcOpen)
			}
		})
	}
}

// TestDST: across a change the window stays on the owner's wall clock, so
// it moves in UTC, and the night of the change is an hour shorter.
func TestDST(t *testing.T) {
	madrid := mustZone(t, "Europe/Madrid") // 2026-03-29 02:00 CET → 03:00 CEST
	day, _ := Parse("08:00-22:00", madrid)
	night, _ := Parse("22:00-06:00", madrid)
	utc := func(d, hh, mm int) time.Time { return time.Date(2026, 3, d, hh, mm, 0, 0, time.UTC) }

	// Before: 08:00 CET = 07:00 UTC. After: 08:00 CEST = 06:00 UTC.
	if day.Open(utc(28, 6, 59)) || !day.Open(utc(28, 7, 0)) {
		t.Errorf("on the 28th the window should open at 07:00 UTC")
	}
	if day.Open(utc(29, 5, 59)) || !day.Open(utc(29, 6, 0)) {
		t.Errorf("on the 29th the window should open at 06:00 UTC")
	}
	if got := day.Left(utc(29, 6, 0)); got != 14*time.Hour {
		t.Errorf("the day of the change: %v from opening, want 14h", got)
	}
	// The night of the change is 22:00 CET → 06:00 CEST: 7 hours.
	if got := night.Left(utc(28, 21, 0)); got != 7*time.Hour {
		t.Errorf("the night of the change: %v, want 7h", got)
	}
	if _, length := night.NextStart(utc(28, 12, 0)); length != 7*time.Hour {
		t.Errorf("next night's length %v, want 7h", length)
	}
	if got := night.Left(utc(29, 20, 0)); got != 8*time.Hour {
		t.Errorf("the night after: %v, want 8h", got)
	}
	// Autumn: 2026-10-25 03:00 CEST → 02:00 CET, the night is 9 hours.
	if got := night.Left(time.Date(2026, 10, 24, 20, 0, 0, 0, time.UTC)); got != 9*time.Hour {
		t.Errorf("the autumn night: %v, want 9h", got)
	}
	// New York at 08:00-22:00 across its own change (2026-03-08).
	ny, _ := Parse("08:00-22:00", mustZone(t, "America/New_York"))
	if next, _ := ny.NextStart(time.Date(2026, 3, 8, 3, 0, 0, 0, time.UTC)); !next.Equal(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("New York opens at %v on the day of the change, want 12:00 UTC (08:00 EDT)", next.UTC())
	}
}

func TestLoadZone(t *testing.T) {
	for _, name := range []string{"", "UTC"} {
		if l, err := LoadZone(name); err != nil || l != time.UTC {
			t.Errorf("LoadZone(%q) = %v, %v", name, l, err)
		}
	}
	for _, name := range []string{"Mars/Olympus", "Local", "../../etc/passwd"} {
		if _, err := LoadZone(name); !errors.Is(err, ErrZone) {
			t.Errorf("LoadZone(%q) = %v, want ErrZone", name, err)
		}
	}
	a, _ := LoadZone("Europe/Madrid")
	b, _ := LoadZone("Europe/Madrid")
	if a != b {
		t.Errorf("a zone is loaded twice")
	}
}

func TestLength(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"08:00-22:00", 14 * time.Hour},
		{"22:00-06:00", 8 * time.Hour},
		{"08:00-24:00", 16 * time.Hour},
		{"", Forever},
	} {
		w, _ := Parse(tc.in, nil)
		if got := w.Length(); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"08:00-22:00", "22:30-06:00", "00:00-24:00", "", "8-22", "24:00-24:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := Parse(s, nil)
		if err != nil {
			return
		}
		if w.Always() {
			return
		}
		back, err := Parse(w.String(), nil)
		if err != nil || back != w {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, w, w.String(), back, err)
		}
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		if l := w.Left(now); l < 0 || l > 24*time.Hour {
			t.Fatalf("%q: left %v", s, l)
		}
	})
}
