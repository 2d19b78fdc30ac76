package scheduler

import (
	"os"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/hours"
)

// TestMain runs the package's tests with the process's zone far from UTC
// and from every owner's zone under test: the scheduler must never read
// time.Local.
func TestMain(m *testing.M) {
	loc, err := hours.LoadZone("Pacific/Chatham") // +12:45 / +13:45
	if err != nil {
		panic(err)
	}
	time.Local = loc
	os.Exit(m.Run())
}

func zoneWindow(t *testing.T, s, zone string) *hours.Window {
	t.Helper()
	loc, err := hours.LoadZone(zone)
	if err != nil {
		t.Fatal(err)
	}
	w, err := hours.Parse(s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return &w
}

// TestHoursInOwnersZone: an owner's 08:00-22:00 is 08:00-22:00 on the
// owner's clock, and the reason gives the next chance on that clock and in
// UTC.
func TestHoursInOwnersZone(t *testing.T) {
	for _, tc := range []struct {
		zone string
		// open is 08:00 local on 2026-01-15, in UTC.
		open   time.Time
		reason string // at 07:00 local
	}{
		{"America/Bogota", time.Date(2026, 1, 15, 13, 0, 0, 0, time.UTC),
			"next chance at 08:00 America/Bogota (13:00 UTC)"},
		{"Asia/Kolkata", time.Date(2026, 1, 15, 2, 30, 0, 0, time.UTC),
			"next chance at 08:00 Asia/Kolkata (02:30 UTC)"},
		{"Pacific/Tongatapu", time.Date(2026, 1, 14, 19, 0, 0, 0, time.UTC),
			"next chance at 08:00 Pacific/Tongatapu (19:00 UTC)"},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			p := withP("w", func(p *Printer) { p.Hours = zoneWindow(t, "08:00-22:00", tc.zone) })
			j := smallJob("j") // one hour
			for _, c := range []struct {
				name string
				at   time.Time
				want string
			}{
				{"07:00 local", tc.open.Add(-time.Hour), CodeOutsideHours},
				{"08:00 local", tc.open, ""},
				{"21:00 local", tc.open.Add(13 * time.Hour), ""},
				{"21:01 local", tc.open.Add(13*time.Hour + time.Minute), CodeOutsideHours},
				{"22:00 local", tc.open.Add(14 * time.Hour), CodeOutsideHours},
			} {
				if got := Feasible(&j, &p, c.at.Unix()); got != c.want {
					t.Errorf("%s: Feasible = %q, want %q", c.name, got, c.want)
				}
				plan := Place(&Snapshot{Now: c.at.Unix(), Jobs: []Job{j}, Printers: []Printer{p}})
				if placed := len(plan.Placements) == 1; placed != (c.want == "") {
					t.Errorf("%s: plan %+v", c.name, plan)
				}
			}
			plan := Place(&Snapshot{Now: tc.open.Add(-time.Hour).Unix(), Jobs: []Job{j}, Printers: []Printer{p}})
			if len(plan.Unplaced) != 1 || plan.Unplaced[0].Code != CodeOutsideHours {
				t.Fatalf("plan %+v", plan)
			}
			want := "estimated 1h 00m; no printer that can print it is within its owner's hours for that long now; " + tc.reason
			if got := plan.Unplaced[0].Reason; got != want {
				t.Errorf("reason\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestHoursAcrossDST: Madrid's 2026-03-29 change moves the window in UTC
// and shortens that night to seven hours.
func TestHoursAcrossDST(t *testing.T) {
	day := withP("day", func(p *Printer) { p.Hours = zoneWindow(t, "08:00-22:00", "Europe/Madrid") })
	night := withP("night", func(p *Printer) { p.Hours = zoneWindow(t, "22:00-06:00", "Europe/Madrid") })
	utc := func(d, hh, mm int) int64 { return time.Date(2026, 3, d, hh, mm, 0, 0, time.UTC).Unix() }
	j := smallJob("j")
	long := smallJob("long")
	long.EstSeconds = 7.5 * 3600
	for _, tc := range []struct {
		name string
		j    *Job
		p    *Printer
		now  int64
		want string
	}{
		{"06:30 UTC before the change is 07:30 CET", &j, &day, utc(28, 6, 30), CodeOutsideHours},
		{"06:30 UTC after the change is 08:30 CEST", &j, &day, utc(29, 6, 30), ""},
		{"20:30 UTC before the change is 21:30 CET", &j, &day, utc(28, 20, 30), CodeOutsideHours},
		{"19:30 UTC after the change is 21:30 CEST", &j, &day, utc(29, 19, 30), CodeOutsideHours},
		{"19:00 UTC after the change is 21:00 CEST", &j, &day, utc(29, 19, 0), ""},
		{"7.5 h on the seven-hour night", &long, &night, utc(28, 21, 0), CodeOutsideHours},
		{"7.5 h on the next night", &long, &night, utc(29, 20, 0), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Feasible(tc.j, tc.p, tc.now); got != tc.want {
				t.Errorf("Feasible = %q, want %q", got, tc.want)
			}
		})
	}
	plan := Place(&Snapshot{Now: utc(28, 21, 0), Jobs: []Job{long}, Printers: []Printer{night}})
	want := "estimated 7h 30m; no printer that can print it is within its owner's hours for that long now; next chance at Mar 29 22:00 Europe/Madrid (Mar 29 20:00 UTC)"
	if len(plan.Unplaced) != 1 || plan.Unplaced[0].Reason != want {
		t.Fatalf("plan %+v\nwant reason %q", plan, want)
	}
}
