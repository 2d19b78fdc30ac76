package scheduler

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func assignment(plan Plan) map[string]string {
	m := map[string]string{}
	for _, p := range plan.Placements {
		m[p.JobID] = p.WorkerID
	}
	return m
}

func TestPlaceRanking(t *testing.T) {
	tests := []struct {
		name     string
		job      func(*Job)
		comms    []Community
		printers []Printer
		want     string
	}{
		{"fastest printer", nil, nil,
			[]Printer{withP("slow", nil), withP("fast", func(p *Printer) { p.SpeedFactor = 1.5 })}, "fast"},
		{"reliable printer", nil, nil,
			[]Printer{withP("flaky", func(p *Printer) { p.Successes, p.Failures = 5, 5 }), withP("solid", func(p *Printer) { p.Successes = 50 })}, "solid"},
		{"small bed for small part", nil, nil,
			[]Printer{withP("big", func(p *Printer) { p.BuildMM = [3]float64{500, 500, 500} }), withP("small", nil)}, "small"},
		{"big bed when clearly faster", nil, nil,
			[]Printer{withP("big", func(p *Printer) { p.BuildMM = [3]float64{500, 500, 500}; p.SpeedFactor = 2 }), withP("small", nil)}, "big"},
		{"job's neighbourhood", func(j *Job) { j.Neighbourhood = "north" }, nil,
			[]Printer{withP("south", func(p *Printer) { p.Neighbourhood = "south" }), withP("north", func(p *Printer) { p.Neighbourhood = "North" })}, "north"},
		{"community's neighbourhood", nil, []Community{{Name: "c", Neighbourhood: "south"}},
			[]Printer{withP("south", func(p *Printer) { p.Neighbourhood = "south" }), withP("north", func(p *Printer) { p.Neighbourhood = "north" })}, "south"},
		{"locality does not beat much faster", func(j *Job) { j.Neighbourhood = "north" }, nil,
			[]Printer{withP("south", func(p *Printer) { p.Neighbourhood = "south"; p.SpeedFactor = 1.5 }), withP("north", func(p *Printer) { p.Neighbourhood = "north" })}, "south"},
		{"skips excluded best", func(j *Job) { j.Excluded = []string{"fast"} }, nil,
			[]Printer{withP("slow", nil), withP("fast", func(p *Printer) { p.SpeedFactor = 1.5 })}, "slow"},
		{"skips busy", nil, nil,
			[]Printer{withP("busy", func(p *Printer) { p.State = StateBusy; p.SpeedFactor = 3 }), withP("idle", nil)}, "idle"},
		{"any colour", func(j *Job) { j.Colour = "" }, nil,
			[]Printer{withP("petg", func(p *Printer) { p.Material = "PETG" }), withP("white", func(p *Printer) { p.Colour = "white" })}, "white"},
		{"exact colour", func(j *Job) { j.Colour = "white" }, nil,
			[]Printer{withP("black", func(p *Printer) { p.SpeedFactor = 2 }), withP("white", func(p *Printer) { p.Colour = "White" })}, "white"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := smallJob("j")
			if tc.job != nil {
				tc.job(&j)
			}
			plan := Place(&Snapshot{Now: at(12, 0), Jobs: []Job{j}, Printers: tc.printers, Communities: tc.comms})
			if got := assignment(plan)["j"]; got != tc.want {
				t.Fatalf("job went to %q, want %q (plan %+v)", got, tc.want, plan)
			}
		})
	}
}

func jobsFor(comm string, n int, f func(i int, j *Job)) []Job {
	var js []Job
	for i := range n {
		j := smallJob(fmt.Sprintf("%s-%03d", comm, i))
		j.Community = comm
		j.Submitted = int64(i)
		if f != nil {
			f(i, &j)
		}
		js = append(js, j)
	}
	return js
}

func printers(n int) []Printer {
	var ps []Printer
	for i := range n {
		ps = append(ps, idlePrinter(fmt.Sprintf("p%02d", i)))
	}
	return ps
}

func perCommunity(s *Snapshot, plan Plan) map[string]int {
	comm := map[string]string{}
	for _, j := range s.Jobs {
		comm[j.ID] = j.Community
	}
	out := map[string]int{}
	for _, p := range plan.Placements {
		out[comm[p.JobID]]++
	}
	return out
}

func TestPlaceFairShare(t *testing.T) {
	tests := []struct {
		name     string
		jobs     []Job
		comms    []Community
		printers int
		want     map[string]int
	}{
		{"many cannot starve few", append(jobsFor("many", 1000, nil), jobsFor("few", 3, nil)...), nil, 6,
			map[string]int{"many": 3, "few": 3}},
		{"equal split", append(jobsFor("a", 50, nil), jobsFor("b", 50, nil)...), nil, 10,
			map[string]int{"a": 5, "b": 5}},
		{"weights", append(jobsFor("a", 50, nil), jobsFor("b", 50, nil)...), []Community{{Name: "a", Weight: 3}, {Name: "b", Weight: 1}}, 8,
			map[string]int{"a": 6, "b": 2}},
		{"past usage", append(jobsFor("a", 50, nil), jobsFor("b", 50, nil)...), []Community{{Name: "a", UsedPrinterSeconds: 4 * 3600}}, 6,
			map[string]int{"a": 1, "b": 5}},
		{"printer-hours, not job counts", append(jobsFor("long", 50, func(_ int, j *Job) { j.EstSeconds = 4 * 3600 }), jobsFor("short", 50, nil)...), nil, 10,
			map[string]int{"long": 2, "short": 8}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Snapshot{Now: at(12, 0), Jobs: tc.jobs, Printers: printers(tc.printers), Communities: tc.comms}
			got := perCommunity(s, Place(s))
			for c, n := range tc.want {
				if got[c] != n {
					t.Fatalf("placements per community = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestPlaceEDFWithinCommunity(t *testing.T) {
	jobs := jobsFor("a", 10, func(i int, j *Job) {
		if i >= 7 {
			j.Deadline = at(20, 0) - int64(i)
		}
	})
	s := &Snapshot{Now: at(12, 0), Jobs: jobs, Printers: printers(3)}
	plan := Place(s)
	var got []string
	for _, p := range plan.Placements {
		got = append(got, p.JobID)
	}
	want := []string{"a-009", "a-008", "a-007"}
	if !slices.Equal(got, want) {
		t.Fatalf("placed %v, want the deadline jobs earliest first %v", got, want)
	}
}

func TestPlaceIndependentOfInputOrder(t *testing.T) {
	s := randomSnapshot(rand.New(rand.NewPCG(1, 2)), 400, 60)
	want := Place(s)
	for k := range 5 {
		r := rand.New(rand.NewPCG(uint64(k), 9))
		c := *s
		c.Jobs = slices.Clone(s.Jobs)
		c.Printers = slices.Clone(s.Printers)
		r.Shuffle(len(c.Jobs), func(a, b int) { c.Jobs[a], c.Jobs[b] = c.Jobs[b], c.Jobs[a] })
		r.Shuffle(len(c.Printers), func(a, b int) { c.Printers[a], c.Printers[b] = c.Printers[b], c.Printers[a] })
		got := Place(&c)
		if !slices.Equal(got.Placements, want.Placements) {
			t.Fatalf("shuffle %d changed the placements", k)
		}
	}
	other := *s
	other.Seed++
	if slices.Equal(Place(&other).Placements, want.Placements) {
		t.Log("another seed gave the same plan (possible, ties are rare)")
	}
}

func TestPlaceScarceJobsFirst(t *testing.T) {
	// Small jobs were submitted first, but the one big part can only use
	// the big printer: it gets it, and the small jobs wait for small ones.
	jobs := jobsFor("a", 5, nil)
	big := smallJob("big")
	big.Community, big.Submitted, big.SizeMM = "a", 100, [3]float64{400, 300, 100}
	jobs = append(jobs, big)
	ps := []Printer{
		withP("large", func(p *Printer) { p.BuildMM = [3]float64{500, 500, 500} }),
		withP("small-busy", func(p *Printer) { p.State = StateBusy }),
	}
	ps = append(ps, printers(4)...)
	for i := range ps[2:] {
		ps[2+i].State = StateBusy
	}
	plan := Place(&Snapshot{Now: at(12, 0), Jobs: jobs, Printers: ps})
	if got := assignment(plan); got["big"] != "large" || len(got) != 1 {
		t.Fatalf("placements %v, want only big on large", got)
	}
}

func TestPlaceDeadlineAmongWhatIsFair(t *testing.T) {
	tests := []struct {
		name  string
		usedA float64
		want  string
	}{
		{"due job first when its community is within the slack", 2 * 3600, "a-000"},
		{"fair share first when it is beyond", 6 * 3600, "b-000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			jobs := append(jobsFor("a", 1, func(_ int, j *Job) { j.Deadline = at(18, 0) }), jobsFor("b", 1, nil)...)
			s := &Snapshot{Now: at(12, 0), Jobs: jobs, Printers: printers(1),
				Communities: []Community{{Name: "a", UsedPrinterSeconds: tc.usedA}, {Name: "b"}}}
			plan := Place(s)
			if len(plan.Placements) != 1 || plan.Placements[0].JobID != tc.want {
				t.Fatalf("placements %+v, want %s", plan.Placements, tc.want)
			}
		})
	}
}

func TestPlaceHugeEstimate(t *testing.T) {
	j := smallJob("j")
	j.EstSeconds = 1e308 // absurd, but feasible where no owner limits length
	p := withP("p", func(p *Printer) { p.SpeedFactor = 0.5 })
	plan := Place(&Snapshot{Now: at(12, 0), Jobs: []Job{j}, Printers: []Printer{p}})
	if got := assignment(plan)["j"]; got != "p" {
		t.Fatalf("plan %+v, want j on p", plan)
	}
}
