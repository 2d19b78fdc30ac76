package worker

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/hours"
)

// TestMain runs the worker's tests in a process zone that is neither UTC
// nor any owner's zone under test.
func TestMain(m *testing.M) {
	loc, err := hours.LoadZone("Asia/Kathmandu") // +05:45
	if err != nil {
		panic(err)
	}
	time.Local = loc
	os.Exit(m.Run())
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := hours.LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestRegisterSendsHoursZone: the window goes to the coordinators with the
// IANA zone it is read in: the configured Location, the process's local
// zone by default, or the window's own zone.
func TestRegisterSendsHoursZone(t *testing.T) {
	day := func(loc *time.Location) hours.Window {
		w, err := hours.Parse("08:00-22:00", loc)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	for _, tc := range []struct {
		name      string
		hours     hours.Window
		location  *time.Location
		wantHours string
		wantZone  string
	}{
		{"owner's location", day(nil), zone(t, "America/Bogota"), "08:00-22:00", "America/Bogota"},
		{"local zone by default", day(nil), nil, "08:00-22:00", "Asia/Kathmandu"},
		{"the window's own zone", day(zone(t, "Pacific/Tongatapu")), time.UTC, "08:00-22:00", "Pacific/Tongatapu"},
		{"UTC", day(nil), time.UTC, "08:00-22:00", "UTC"},
		{"any time: no zone", hours.Window{}, zone(t, "Asia/Kolkata"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			cfg.Hours, cfg.Location = tc.hours, tc.location
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
			s := &session{w: &Worker{cfg: cfg, id: "w-1"}}
			r := s.registerRequest()
			if r.Hours != tc.wantHours || r.Timezone != tc.wantZone {
				t.Fatalf("registered hours %q zone %q, want %q %q", r.Hours, r.Timezone, tc.wantHours, tc.wantZone)
			}
		})
	}
}

// TestPolicyInOwnersZone: the worker refuses by the owner's clock.
func TestPolicyInOwnersZone(t *testing.T) {
	a := api.Assignment{Material: "PLA"}
	for _, tc := range []struct {
		zone string
		open time.Time // 08:00 local on 2026-01-15
	}{
		{"America/Bogota", time.Date(2026, 1, 15, 13, 0, 0, 0, time.UTC)},    // −05:00
		{"Asia/Kolkata", time.Date(2026, 1, 15, 2, 30, 0, 0, time.UTC)},      // +05:30
		{"Pacific/Tongatapu", time.Date(2026, 1, 14, 19, 0, 0, 0, time.UTC)}, // +13:00
	} {
		t.Run(tc.zone, func(t *testing.T) {
			w, _ := hours.Parse("08:00-22:00", zone(t, tc.zone))
			p := Policy{Material: "PLA", BuildMM: [3]float64{220, 220, 250}, Hours: w}
			want := "outside the owner's printing hours 08:00-22:00 " + tc.zone
			if got := p.CheckAssignment(a, tc.open.Add(-time.Minute)); got != want {
				t.Errorf("at 07:59 local: %q, want %q", got, want)
			}
			if got := p.CheckAssignment(a, tc.open); got != "" {
				t.Errorf("at 08:00 local: %q", got)
			}
			size := [3]float64{10, 10, 10}
			if got := p.CheckSliced(size, 14*time.Hour, tc.open); got != "" {
				t.Errorf("14 h from 08:00 local: %q", got)
			}
			if got := p.CheckSliced(size, 14*time.Hour+time.Minute, tc.open); !strings.Contains(got, "run past the end") {
				t.Errorf("14h01 from 08:00 local: %q", got)
			}
		})
	}
}

// TestPolicyAcrossDST: Madrid's night window is seven hours on the night
// the clocks go forward (2026-03-29) and eight the night after.
func TestPolicyAcrossDST(t *testing.T) {
	w, _ := hours.Parse("22:00-06:00", zone(t, "Europe/Madrid"))
	p := Policy{Material: "PLA", BuildMM: [3]float64{220, 220, 250}, Hours: w}
	size := [3]float64{10, 10, 10}
	est := 7*time.Hour + 30*time.Minute
	if got := p.CheckSliced(size, est, time.Date(2026, 3, 28, 21, 0, 0, 0, time.UTC)); !strings.Contains(got, "run past the end") {
		t.Errorf("7.5 h on the short night: %q", got)
	}
	if got := p.CheckSliced(size, est, time.Date(2026, 3, 29, 20, 0, 0, 0, time.UTC)); got != "" {
		t.Errorf("7.5 h on the next night: %q", got)
	}
}

// TestZoneTheCoordinatorsCannotLoad: a window in a zone without an IANA
// name (a fixed offset) is refused at start, not sent to be read as UTC.
func TestZoneTheCoordinatorsCannotLoad(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Hours, _ = hours.Parse("08:00-22:00", time.FixedZone("UTC+3", 3*3600))
	err := cfg.validate()
	if !errors.Is(err, ErrConfig) || !errors.Is(err, hours.ErrZone) {
		t.Fatalf("validate = %v, want ErrConfig and hours.ErrZone", err)
	}
}
