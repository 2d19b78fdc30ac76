package scheduler

import (
	"testing"

	"github.com/fabgrid/fabgrid/hours"
)

func withP(id string, f func(*Printer)) Printer {
	p := idlePrinter(id)
	if f != nil {
		f(&p)
	}
	return p
}

func TestUnplacedReasons(t *testing.T) {
	big := func(p *Printer) { p.BuildMM = [3]float64{500, 500, 500}; p.Material = "ABS" }
	busy := func(p *Printer) { p.State = StateBusy; p.BusyUntil = at(14, 20) }
	tests := []struct {
		name     string
		job      func(*Job)
		printers []Printer
		code     string
		reason   string
	}{
		{"no printers", nil, nil, CodeNoPrinter, "no printer has joined the grid yet"},
		{"all offline", nil, []Printer{withP("a", func(p *Printer) { p.State = StateOffline })},
			CodeNoPrinter, "no printer is online (1 printer offline)"},
		{"too tall for all", func(j *Job) { j.SizeMM = [3]float64{20, 20, 320} }, []Printer{withP("a", nil)},
			CodeTooLarge, "part is 320 mm tall; the tallest online printer takes 250 mm"},
		{"footprint too big for all", func(j *Job) { j.SizeMM = [3]float64{300, 100, 100} },
			[]Printer{withP("a", nil), withP("b", func(p *Printer) { p.BuildMM = [3]float64{250, 210, 210} })},
			CodeTooLarge, "part needs a 300×100 mm bed (turning it 90° allowed); the largest online printer tall enough takes 250×210 mm"},
		{"no material", func(j *Job) { j.Material = "PETG" }, []Printer{withP("a", nil)},
			CodeNoMaterial, "no online printer has PETG loaded"},
		{"material only offline", func(j *Job) { j.Material = "PETG" },
			[]Printer{withP("a", nil), withP("b", func(p *Printer) { p.Material = "petg"; p.State = StateOffline })},
			CodeNoMaterial, "no online printer has PETG loaded (1 printer with it is offline)"},
		{"no colour", func(j *Job) { j.Colour = "red" },
			[]Printer{withP("a", nil), withP("b", func(p *Printer) { p.Colour = "white" }), withP("c", func(p *Printer) { p.Colour = "" })},
			CodeNoColour, "no online printer has red PLA loaded; PLA is loaded in no named colour, black, white"},
		{"no nozzle", func(j *Job) { j.NozzleMM = 0.6 }, []Printer{withP("a", nil)},
			CodeNoNozzle, "needs a 0.6 mm nozzle; online printers with PLA have 0.4 mm"},
		{"too large for the material", func(j *Job) { j.SizeMM = [3]float64{300, 300, 20} },
			[]Printer{withP("a", nil), withP("big", big)},
			CodeTooLarge, "part is 300×300×20 mm; the biggest online printer with PLA takes 220×220×250 mm"},
		{"excluded everywhere", func(j *Job) { j.Excluded = []string{"a", "b", "gone"} },
			[]Printer{withP("a", nil), withP("b", busy)},
			CodeExcluded, "it failed before on every online printer that can print it (a, b); it needs another printer with PLA"},
		{"too long", func(j *Job) { j.EstSeconds = 30 * 3600 },
			[]Printer{withP("a", func(p *Printer) { p.MaxJobSeconds = 12 * 3600 }), withP("b", func(p *Printer) { p.MaxJobSeconds = 8 * 3600; p.SpeedFactor = 2 })},
			CodeTooLong, "estimated 15h 00m on the fastest printer that can print it; their owners allow at most 12h 00m per job"},
		{"outside hours, later today", nil,
			[]Printer{withP("a", func(p *Printer) { p.Hours = &hours.Window{StartMin: 18 * 60, EndMin: 23 * 60} })},
			CodeOutsideHours, "estimated 1h 00m; no printer that can print it is within its owner's hours for that long now; next chance at 18:00 UTC"},
		{"outside hours, tomorrow", nil,
			[]Printer{withP("a", func(p *Printer) { p.Hours = &hours.Window{StartMin: 8 * 60, EndMin: 9 * 60} })},
			CodeOutsideHours, "estimated 1h 00m; no printer that can print it is within its owner's hours for that long now; next chance at Nov 15 08:00 UTC"},
		{"longer than any window", func(j *Job) { j.EstSeconds = 5 * 3600 },
			[]Printer{withP("a", func(p *Printer) { p.Hours = &hours.Window{StartMin: 18 * 60, EndMin: 22 * 60} })},
			CodeOutsideHours, "estimated 5h 00m, longer than the daily printing hours of every printer that can print it (longest 4h 00m)"},
		{"waiting for busy printers", nil,
			[]Printer{withP("a", busy), withP("b", func(p *Printer) { p.State = StateAwaitingBedClear }), withP("c", func(p *Printer) { p.State = StatePaused })},
			CodeWaiting, "3 printers can print it, none is free: 1 printing (first expected free at 14:20 UTC), 1 waiting for the owner to clear the bed, 1 paused"},
		{"invalid", func(j *Job) { j.Material = "" }, []Printer{withP("a", nil)},
			CodeInvalid, "the job names no material; resubmit the order with --material"},
		{"invalid number", func(j *Job) { j.EstSeconds = -1 }, []Printer{withP("a", nil)},
			CodeInvalid, "the job's size, nozzle or time estimate is not a valid number; resubmit the model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := smallJob("j")
			if tc.job != nil {
				tc.job(&j)
			}
			plan := Place(&Snapshot{Now: at(12, 0), Jobs: []Job{j}, Printers: tc.printers})
			if len(plan.Placements) != 0 || len(plan.Unplaced) != 1 {
				t.Fatalf("plan = %+v, want one unplaced job", plan)
			}
			u := plan.Unplaced[0]
			if u.Code != tc.code || u.Reason != tc.reason {
				t.Fatalf("got %s: %q\nwant %s: %q", u.Code, u.Reason, tc.code, tc.reason)
			}
		})
	}
}

func TestReasonWaitingBehindFairQueue(t *testing.T) {
	s := &Snapshot{Now: at(12, 0), Jobs: []Job{smallJob("j1"), smallJob("j2"), smallJob("j3")},
		Printers: []Printer{withP("a", nil), withP("b", nil)}}
	plan := Place(s)
	if len(plan.Placements) != 2 || len(plan.Unplaced) != 1 {
		t.Fatalf("plan = %+v", plan)
	}
	want := "2 printers can print it; this round the 2 idle ones went to jobs ahead of it in the fair queue"
	if u := plan.Unplaced[0]; u.Code != CodeWaiting || u.Reason != want {
		t.Fatalf("got %s: %q, want %q", u.Code, u.Reason, want)
	}
}

func TestDuplicateJobID(t *testing.T) {
	s := &Snapshot{Now: at(12, 0), Jobs: []Job{smallJob("j"), smallJob("j")},
		Printers: []Printer{withP("a", nil), withP("b", nil)}}
	plan := Place(s)
	if len(plan.Placements) != 1 || len(plan.Unplaced) != 1 || plan.Unplaced[0].Code != CodeInvalid {
		t.Fatalf("plan = %+v, want one placement and one duplicate", plan)
	}
}
