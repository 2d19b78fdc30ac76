package scheduler

import (
	"math"
	"testing"

	"github.com/fabgrid/fabgrid/hours"
)

// day0 is a midnight UTC (2023-11-14 00:00:00).
const day0 = 1_699_920_000

func at(h, m int) int64 { return day0 + int64(h*3600+m*60) }

func TestFitsBuild(t *testing.T) {
	bed := [3]float64{250, 210, 210}
	tests := []struct {
		name string
		part [3]float64
		want bool
	}{
		{"small", [3]float64{20, 20, 20}, true},
		{"exact", [3]float64{250, 210, 210}, true},
		{"turned 90 degrees", [3]float64{210, 250, 100}, true},
		{"too tall", [3]float64{20, 20, 211}, false},
		{"too long", [3]float64{251, 20, 20}, false},
		{"too wide both ways", [3]float64{230, 230, 20}, false},
		{"zero size", [3]float64{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fitsBuild(tc.part, bed); got != tc.want {
				t.Fatalf("fitsBuild(%v, %v) = %v, want %v", tc.part, bed, got, tc.want)
			}
		})
	}
}

func TestNameChecks(t *testing.T) {
	tests := []struct {
		name       string
		want, have string
		material   bool // sameName
		colour     bool // colourMatches
	}{
		{"equal", "PLA", "PLA", true, true},
		{"case and space", " petg", "PETG ", true, true},
		{"different", "PLA", "ABS", false, false},
		{"any colour", "", "red", false, true},
		{"empty both", "", "", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameName(tc.want, tc.have); got != tc.material {
				t.Errorf("sameName = %v, want %v", got, tc.material)
			}
			if got := colourMatches(tc.want, tc.have); got != tc.colour {
				t.Errorf("colourMatches = %v, want %v", got, tc.colour)
			}
		})
	}
}

func TestNozzleMatches(t *testing.T) {
	tests := []struct {
		want, have float64
		ok         bool
	}{
		{0, 0.4, true}, {0.4, 0.4, true}, {0.4, 0.40001, true}, {0.6, 0.4, false}, {0.4, 0, false},
	}
	for _, tc := range tests {
		if got := nozzleMatches(tc.want, tc.have); got != tc.ok {
			t.Errorf("nozzleMatches(%v, %v) = %v, want %v", tc.want, tc.have, got, tc.ok)
		}
	}
}

func TestExcludedAndMaxLength(t *testing.T) {
	if !excluded([]string{"a", "b"}, "b") || excluded([]string{"a"}, "b") || excluded(nil, "a") {
		t.Fatal("excluded is wrong")
	}
	tests := []struct {
		limit, secs float64
		ok          bool
	}{{0, 1e9, true}, {3600, 3600, true}, {3600, 3601, false}, {-1, 5, true}}
	for _, tc := range tests {
		if got := withinMaxLength(tc.limit, tc.secs); got != tc.ok {
			t.Errorf("withinMaxLength(%v, %v) = %v, want %v", tc.limit, tc.secs, got, tc.ok)
		}
	}
}

func TestWindow(t *testing.T) {
	day := &hours.Window{StartMin: 8 * 60, EndMin: 20 * 60}   // 08:00–20:00
	night := &hours.Window{StartMin: 22 * 60, EndMin: 6 * 60} // 22:00–06:00
	always := &hours.Window{StartMin: 300, EndMin: 300}
	tests := []struct {
		name string
		w    *hours.Window
		now  int64
		secs float64
		fits bool
		left float64
		next int64 // next opening strictly after now
	}{
		{"nil window", nil, at(3, 0), 1e6, true, math.Inf(1), 0},
		{"inside, room", day, at(10, 0), 3600, true, 10 * 3600, at(8, 0) + secondsPerDay},
		{"inside, exactly to the end", day, at(19, 0), 3600, true, 3600, at(8, 0) + secondsPerDay},
		{"inside, too long", day, at(19, 0), 3601, false, 3600, at(8, 0) + secondsPerDay},
		{"before opening", day, at(7, 59), 60, false, 0, at(8, 0)},
		{"at opening", day, at(8, 0), 60, true, 12 * 3600, at(8, 0) + secondsPerDay},
		{"after closing", day, at(20, 0), 60, false, 0, at(8, 0) + secondsPerDay},
		{"wrapping, evening", night, at(23, 0), 7 * 3600, true, 7 * 3600, at(22, 0) + secondsPerDay},
		{"wrapping, morning", night, at(5, 0), 3600, true, 3600, at(22, 0)},
		{"wrapping, closed", night, at(12, 0), 60, false, 0, at(22, 0)},
		{"start equals end is always open", always, at(12, 0), 1e6, true, math.Inf(1), at(5, 0) + secondsPerDay},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := windowFits(tc.w, tc.now, tc.secs); got != tc.fits {
				t.Errorf("windowFits = %v, want %v", got, tc.fits)
			}
			if tc.w == nil {
				return
			}
			if got := windowLeft(tc.w, tc.now); got != tc.left {
				t.Errorf("windowLeft = %v, want %v", got, tc.left)
			}
			if got, _ := nextStart(tc.w, tc.now, 0); got != tc.next {
				t.Errorf("nextStart = %v, want %v", got, tc.next)
			}
		})
	}
}

func idlePrinter(id string) Printer {
	return Printer{WorkerID: id, Profile: "ender3", BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4,
		Material: "PLA", Colour: "black", State: StateIdle}
}

func smallJob(id string) Job {
	return Job{ID: id, Community: "c", Material: "PLA", SizeMM: [3]float64{20, 20, 20}, EstSeconds: 3600}
}

// TestFeasible checks that each rule, alone, produces its code.
func TestFeasible(t *testing.T) {
	tests := []struct {
		name string
		job  func(*Job)
		prn  func(*Printer)
		now  int64
		want string
	}{
		{"feasible", nil, nil, at(12, 0), ""},
		{"too large", func(j *Job) { j.SizeMM[2] = 300 }, nil, at(12, 0), CodeTooLarge},
		{"material", func(j *Job) { j.Material = "PETG" }, nil, at(12, 0), CodeNoMaterial},
		{"colour", func(j *Job) { j.Colour = "red" }, nil, at(12, 0), CodeNoColour},
		{"colour matches ignoring case", func(j *Job) { j.Colour = "Black" }, nil, at(12, 0), ""},
		{"nozzle", func(j *Job) { j.NozzleMM = 0.6 }, nil, at(12, 0), CodeNoNozzle},
		{"excluded", func(j *Job) { j.Excluded = []string{"x", "p"} }, nil, at(12, 0), CodeExcluded},
		{"too long", nil, func(p *Printer) { p.MaxJobSeconds = 1800 }, at(12, 0), CodeTooLong},
		{"slow printer too long", nil, func(p *Printer) { p.MaxJobSeconds = 5000; p.SpeedFactor = 0.5 }, at(12, 0), CodeTooLong},
		{"outside hours", nil, func(p *Printer) { p.Hours = &hours.Window{StartMin: 18 * 60, EndMin: 23 * 60} }, at(12, 0), CodeOutsideHours},
		{"inside hours", nil, func(p *Printer) { p.Hours = &hours.Window{StartMin: 18 * 60, EndMin: 23 * 60} }, at(19, 0), ""},
		{"busy", nil, func(p *Printer) { p.State = StateBusy }, at(12, 0), CodeWaiting},
		{"bed not clear", nil, func(p *Printer) { p.State = StateAwaitingBedClear }, at(12, 0), CodeWaiting},
		{"paused", nil, func(p *Printer) { p.State = StatePaused }, at(12, 0), CodeWaiting},
		{"offline", nil, func(p *Printer) { p.State = StateOffline }, at(12, 0), CodeWaiting},
		{"no material", func(j *Job) { j.Material = " " }, nil, at(12, 0), CodeInvalid},
		{"NaN size", func(j *Job) { j.SizeMM[0] = math.NaN() }, nil, at(12, 0), CodeInvalid},
		{"estimated from the mesh", func(j *Job) { j.EstSeconds = 0; j.VolumeMM3 = 8000; j.SurfaceMM2 = 2400 }, func(p *Printer) { p.MaxJobSeconds = 600 }, at(12, 0), CodeTooLong},
	}
	j, p := smallJob("j"), idlePrinter("p")
	if Feasible(nil, &p, 0) != CodeInvalid || Feasible(&j, nil, 0) != CodeNoPrinter {
		t.Error("nil job or printer not refused")
	}
	if plan := Place(nil); len(plan.Placements)+len(plan.Unplaced) != 0 {
		t.Error("Place(nil) planned something")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, p := smallJob("j"), idlePrinter("p")
			if tc.job != nil {
				tc.job(&j)
			}
			if tc.prn != nil {
				tc.prn(&p)
			}
			if got := Feasible(&j, &p, tc.now); got != tc.want {
				t.Fatalf("Feasible = %q, want %q", got, tc.want)
			}
		})
	}
}
