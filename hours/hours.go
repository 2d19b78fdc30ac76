// Package hours owns the printer owner's daily printing window: its text
// form ("08:00-22:00"), its parser, and the one reading of it, in the
// owner's IANA time zone. The worker parses --hours and --timezone with it
// and checks assignments against it, the coordinator reads the window a
// worker registered with it, and the scheduler evaluates it at the time it
// is given. The package is pure: it reads no clock (every question takes
// the time it is about), and its only outside data is the time zone
// database, through time.LoadLocation: the system's, else the copy
// embedded with time/tzdata, so a machine without one still knows every
// zone.
//
// A window is read in its zone's wall clock on each day: "08:00-22:00" in
// Europe/Madrid opens at 08:00 Madrid time on every day, summer or winter,
// so in UTC it moves by an hour at each DST change, and a night window on
// the night of a change is an hour shorter or longer.
package hours

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "time/tzdata" // every zone, on machines without a zone database
)

// Errors of Parse and LoadZone.
var (
	// ErrWindow is a daily window that is not HH:MM-HH:MM.
	ErrWindow = errors.New("hours: bad daily window")
	// ErrZone is a time zone name the zone database does not know.
	ErrZone = errors.New("hours: unknown time zone")
)

const minutesPerDay = 24 * 60

// Forever is what Left answers for a window that is always open.
const Forever = time.Duration(math.MaxInt64)

// Window is a daily window [StartMin, EndMin) in minutes after midnight of
// Zone's wall clock. EndMin < StartMin wraps past midnight ("22:00-06:00");
// EndMin may be 24:00 (1440). A window whose start and end are the same
// time of day (the zero value, "00:00-24:00") is always open.
type Window struct {
	StartMin, EndMin int
	// Zone is where the clock times are read; nil means UTC.
	Zone *time.Location
}

// Parse reads "HH:MM-HH:MM" (24:00 allowed as an end) in zone (nil =
// UTC); "" is the always-open window. A window that starts and ends at the
// same written time ("08:00-08:00") is refused as empty: leave the hours
// out to print at any time. Errors wrap ErrWindow.
func Parse(s string, zone *time.Location) (Window, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Window{Zone: zone}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("%w: %q: want HH:MM-HH:MM", ErrWindow, s)
	}
	start, err := parseClock(a)
	if err != nil {
		return Window{}, fmt.Errorf("%w: %q: %v, want HH:MM-HH:MM", ErrWindow, s, err)
	}
	end, err := parseClock(b)
	if err != nil {
		return Window{}, fmt.Errorf("%w: %q: %v, want HH:MM-HH:MM", ErrWindow, s, err)
	}
	if start == end {
		return Window{}, fmt.Errorf("%w: %q: empty window (leave the hours out to print at any time)", ErrWindow, s)
	}
	return Window{StartMin: start, EndMin: end, Zone: zone}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

var zones sync.Map // name → *time.Location

// LoadZone finds an IANA time zone by name ("Europe/Madrid"); "" and "UTC"
// are UTC. Zones are loaded once and kept. Errors wrap ErrZone and say
// what to give instead.
func LoadZone(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	if name == "Local" {
		return nil, fmt.Errorf("%w: %q is not a zone name; give an IANA name such as Europe/Madrid", ErrZone, name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: give an IANA name such as Europe/Madrid or America/New_York", ErrZone, name)
	}
	zones.Store(name, loc)
	return loc, nil
}

// Normal is w with its minutes in [0, 1440) and its zone set (UTC for
// nil): two windows that read the same are equal once normal.
func (w Window) Normal() Window {
	return Window{StartMin: norm(w.StartMin), EndMin: norm(w.EndMin), Zone: w.loc()}
}

// Always reports whether the window is open at every time of day.
func (w Window) Always() bool { return norm(w.StartMin) == norm(w.EndMin) }

// String is the window as Parse reads it ("08:00-22:00"), "" when always
// open. The zone is not part of it: see ZoneName.
func (w Window) String() string {
	if w.Always() {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.StartMin/60, w.StartMin%60, w.EndMin/60, w.EndMin%60)
}

// ZoneName is the IANA name of the window's zone ("UTC" for nil).
func (w Window) ZoneName() string { return w.loc().String() }

func (w Window) loc() *time.Location {
	if w.Zone == nil {
		return time.UTC
	}
	return w.Zone
}

// Left is how long the window stays open after t: 0 when t is outside it
// (the end itself is outside), Forever when it is always open.
func (w Window) Left(t time.Time) time.Duration {
	if w.Always() {
		return Forever
	}
	start, end := w.around(t)
	if t.Before(start) || !t.Before(end) {
		return 0
	}
	return end.Sub(t)
}

// Open reports whether t is inside the window.
func (w Window) Open(t time.Time) bool { return w.Left(t) > 0 }

// NextStart is the first time after t at which the window opens, with how
// long it then stays open (that day's length, which a DST change makes an
// hour shorter or longer). An always-open window "opens" at its StartMin
// and stays open Forever.
func (w Window) NextStart(t time.Time) (time.Time, time.Duration) {
	lt := t.In(w.loc())
	y, m, d := lt.Date()
	day := -1
	start, end := w.on(y, m, d+day)
	for !start.After(t) { // at most three days on: a window opens every day
		day++
		start, end = w.on(y, m, d+day)
	}
	if w.Always() {
		return start, Forever
	}
	return start, end.Sub(start)
}

// Length is the window's length on a day without a DST change (Forever
// when always open).
func (w Window) Length() time.Duration {
	if w.Always() {
		return Forever
	}
	return time.Duration((norm(w.EndMin)-norm(w.StartMin)+minutesPerDay)%minutesPerDay) * time.Minute
}

// around finds the opening of the window that contains t or, when none
// does, the next or last one: the start and end instants of the window
// that opens on t's local day or on the day before.
func (w Window) around(t time.Time) (start, end time.Time) {
	lt := t.In(w.loc())
	y, m, d := lt.Date()
	// A window that wraps past midnight and opened yesterday may still be
	// open this morning.
	if ps, pe := w.on(y, m, d-1); !t.Before(ps) && t.Before(pe) {
		return ps, pe
	}
	return w.on(y, m, d)
}

// on is the window that opens on local day (y, m, d): its start and end
// instants. time.Date settles wall-clock times that a DST change skips or
// repeats.
func (w Window) on(y int, m time.Month, d int) (start, end time.Time) {
	loc := w.loc()
	s, e := norm(w.StartMin), norm(w.EndMin)
	start = time.Date(y, m, d, 0, s, 0, 0, loc)
	endDay := d
	if e <= s {
		endDay++
	}
	end = time.Date(y, m, endDay, 0, e, 0, 0, loc)
	return start, end
}

func norm(m int) int {
	m %= minutesPerDay
	if m < 0 {
		m += minutesPerDay
	}
	return m
}
