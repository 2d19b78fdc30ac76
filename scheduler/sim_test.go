package scheduler

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/fabgrid/fabgrid/hours"
	"github.com/fabgrid/fabgrid/profile"
)

// A pure discrete-event simulation of a fleet, in virtual time: printers
// with profiles, failure rates and owner's hours; communities with
// weights; a seeded workload. A planner (Place or a baseline) is asked for
// a plan whenever something changed; the simulation applies it as the
// coordinator would (the printer must still be idle), runs the prints,
// fails some of them (the job returns with that printer excluded), and lets
// owners clear beds after a delay. A printer may refuse a placement for
// a passing reason (refuseRate): it stays idle and is not offered that
// job again for refusalBackoff. Communities are charged as the
// coordinator charges them: nothing for a refused placement, the
// planner's estimate while a print runs, the time it really took (a
// failed print's share included) when it ends.

// planner is what the simulation schedules with.
type planner func(*Snapshot) Plan

// simPrinter is one printer and its hidden truth.
type simPrinter struct {
	Printer
	failRate   float64
	refuseRate float64
	job        int   // running job, -1 when none
	endAt      int64 // when the running print ends
	fails      bool  // the running print will fail at endAt
	clearAt    int64 // when the owner clears the bed
	busySecs   float64
	ranSecs    float64 // how long the running print really takes
}

// refusalBackoff is how long a refused job is kept off the refusing
// printer (the coordinator's DefaultRefusalBackoff is a minute; the
// simulation's clock moves in quarter hours).
const refusalBackoff = 15 * 60

// simJob is one job and its hidden truth.
type simJob struct {
	Job
	trueRef  float64 // real print time on the reference printer
	release  int64   // when it is submitted
	done     int64   // completion, 0 = not yet
	running  bool
	received float64 // printer-seconds received inside the contention window
}

// workload is a simulation's input.
type workload struct {
	name        string
	start       int64
	printers    []simPrinter
	jobs        []simJob
	communities []Community
	clearDelay  int64
	seed        uint64
}

// simResult are the figures one run reports.
type simResult struct {
	makespan    float64 // seconds from start to the last completion
	utilisation float64 // printing seconds / (printers · makespan)
	jain        float64 // Jain's index of weighted printer time while all communities wait
	contention  float64 // length of that window, seconds
	misses      int     // jobs finished after their deadline
	withDL      int     // jobs with a deadline
	failures    int     // failed attempts
	refusals    int     // refused placements
	rounds      int
	unfinished  int
	last        simJob // the job that finished last
	missed      []simJob
}

// lowerBound is the larger of total work over total capacity (speed ×
// fraction of the day the owner allows) and the longest job's best time.
func (w *workload) lowerBound() float64 {
	work, capacity, longest := 0.0, 0.0, 0.0
	for i := range w.printers {
		p := &w.printers[i]
		frac := 1.0
		if p.Hours != nil {
			frac = windowLength(p.Hours) / secondsPerDay
		}
		capacity += speed(&p.Printer) * frac
	}
	for i := range w.jobs {
		j := &w.jobs[i]
		work += j.trueRef
		best := math.Inf(1)
		for k := range w.printers {
			p := &w.printers[k].Printer
			if fitsBuild(j.SizeMM, p.BuildMM) && sameName(j.Material, p.Material) && colourMatches(j.Colour, p.Colour) {
				best = math.Min(best, j.trueRef/speed(p))
			}
		}
		longest = math.Max(longest, best)
	}
	return math.Max(work/capacity, longest)
}

// restrictedBound is a stronger valid lower bound than lowerBound: jobs
// that only a subset S of the printers can print (by material, colour and
// size) need at least their work over S's capacity; it is the largest such
// figure over the distinct subsets.
func (w *workload) restrictedBound() float64 {
	capOf := func(p *simPrinter) float64 {
		frac := 1.0
		if p.Hours != nil {
			frac = windowLength(p.Hours) / secondsPerDay
		}
		return speed(&p.Printer) * frac
	}
	sets := map[string][]bool{}
	work := map[string]float64{}
	for i := range w.jobs {
		j := &w.jobs[i]
		key := make([]byte, len(w.printers))
		can := make([]bool, len(w.printers))
		for k := range w.printers {
			p := &w.printers[k].Printer
			key[k] = '0'
			if fitsBuild(j.SizeMM, p.BuildMM) && sameName(j.Material, p.Material) && colourMatches(j.Colour, p.Colour) {
				key[k], can[k] = '1', true
			}
		}
		sets[string(key)] = can
		work[string(key)] += j.trueRef
	}
	best := w.lowerBound()
	for _, can := range sets {
		// Every job whose set lies inside s can only run on s.
		total := 0.0
		for s2, can2 := range sets {
			inside := true
			for k := range can2 {
				if can2[k] && !can[k] {
					inside = false
					break
				}
			}
			if inside {
				total += work[s2]
			}
		}
		capacity := 0.0
		for k := range w.printers {
			if can[k] {
				capacity += capOf(&w.printers[k])
			}
		}
		if capacity > 0 {
			best = max(best, total/capacity)
		}
	}
	return best
}

// run simulates the workload under planner plan until every job is done
// or a horizon passes.
func (w workload) run(plan planner) simResult {
	r := rand.New(rand.NewPCG(w.seed, 7))
	ps := slices.Clone(w.printers)
	js := slices.Clone(w.jobs)
	for i := range js {
		js[i].Excluded = slices.Clone(js[i].Excluded)
	}
	jobByID := make(map[string]int, len(js))
	for i := range js {
		jobByID[js[i].ID] = i
	}
	prByID := make(map[string]int, len(ps))
	for i := range ps {
		prByID[ps[i].WorkerID] = i
		ps[i].job = -1
	}
	used := map[string]float64{}
	charged := make([]float64, len(js))        // what the running print of each job has charged
	skips := make([]map[string]int64, len(js)) // printers refusing a job, until when
	const tick = 15 * 60
	horizon := w.start + 30*secondsPerDay
	now := w.start
	var res simResult
	// Contention: from when every community has submitted until the first
	// one has nothing left waiting.
	contentionStart := int64(0)
	for _, c := range w.communities {
		first := int64(math.MaxInt64)
		for i := range js {
			if js[i].Community == c.Name {
				first = min(first, js[i].release)
			}
		}
		contentionStart = max(contentionStart, first)
	}
	contentionEnd := int64(0)
	var snap Snapshot
	for {
		// Events due now: print ends, bed clears.
		for i := range ps {
			p := &ps[i]
			if p.State == StateBusy && p.endAt <= now {
				j := &js[p.job]
				j.running = false
				used[j.Community] += p.ranSecs - charged[p.job]
				charged[p.job] = 0
				if p.fails {
					p.Failures++
					res.failures++
					j.Attempts++
					j.Excluded = append(j.Excluded, p.WorkerID)
				} else {
					p.Successes++
					j.done = p.endAt
				}
				p.State, p.job, p.clearAt = StateAwaitingBedClear, -1, p.endAt+w.clearDelay
			}
			if p.State == StateAwaitingBedClear && p.clearAt <= now {
				p.State = StateIdle
			}
		}
		// Who is still waiting, and has contention ended?
		pendingByComm := map[string]int{}
		snap = Snapshot{Now: now, Seed: int64(w.seed), Communities: slices.Clone(w.communities)}
		allDone := true
		for i := range js {
			j := &js[i]
			if j.done == 0 {
				allDone = false
			}
			if j.done == 0 && !j.running && j.release <= now {
				sj := j.Job
				for id, until := range skips[i] {
					if until > now {
						sj.Excluded = append(slices.Clip(sj.Excluded), id)
					}
				}
				snap.Jobs = append(snap.Jobs, sj)
				pendingByComm[j.Community]++
			}
		}
		if contentionEnd == 0 && now >= contentionStart {
			for _, c := range w.communities {
				if pendingByComm[c.Name] == 0 {
					contentionEnd = now
					break
				}
			}
		}
		if allDone || now >= horizon {
			break
		}
		for k := range snap.Communities {
			snap.Communities[k].UsedPrinterSeconds = used[snap.Communities[k].Name]
		}
		idle := false
		for i := range ps {
			snap.Printers = append(snap.Printers, ps[i].Printer)
			idle = idle || ps[i].State == StateIdle
		}
		if idle && len(snap.Jobs) > 0 {
			res.rounds++
			for _, pl := range plan(&snap).Placements {
				pi, ji := prByID[pl.WorkerID], jobByID[pl.JobID]
				p, j := &ps[pi], &js[ji]
				// The coordinator's re-check: still idle, job still pending.
				if p.State != StateIdle || j.running || j.done != 0 {
					continue
				}
				if code := Feasible(&j.Job, &p.Printer, now); code != "" {
					panic(fmt.Sprintf("planner placed %s on %s: %s", j.ID, p.WorkerID, code))
				}
				if until := skips[ji][p.WorkerID]; until > now {
					panic(fmt.Sprintf("planner placed %s on %s, which refused it until %d", j.ID, p.WorkerID, until))
				}
				if p.refuseRate > 0 && r.Float64() < p.refuseRate {
					// Refused: no attempt, no charge; skipped for a while.
					if skips[ji] == nil {
						skips[ji] = map[string]int64{}
					}
					skips[ji][p.WorkerID] = now + refusalBackoff
					res.refusals++
					continue
				}
				secs := j.trueRef / speed(&p.Printer)
				p.fails = r.Float64() < p.failRate
				if p.fails {
					secs *= 0.1 + 0.8*r.Float64()
				}
				p.State, p.job, p.endAt, p.BusyUntil = StateBusy, ji, now+int64(math.Ceil(secs)), now+int64(pl.EstSeconds)
				p.busySecs += math.Ceil(secs)
				p.ranSecs = secs
				j.running = true
				// The estimate while it runs; the real time at its end.
				charged[ji] = pl.EstSeconds
				used[j.Community] += charged[ji]
				// Printer time received while everyone waits.
				if contentionEnd == 0 && now >= contentionStart {
					j.received += secs
				}
			}
		}
		// Next event: an end, a clear, a release, or the next tick (owners'
		// windows open on the clock).
		next := (now/tick + 1) * tick
		for i := range ps {
			switch ps[i].State {
			case StateBusy:
				next = min(next, ps[i].endAt)
			case StateAwaitingBedClear:
				next = min(next, ps[i].clearAt)
			}
		}
		for i := range js {
			if js[i].release > now {
				next = min(next, js[i].release)
			}
		}
		now = max(next, now+1)
	}
	lastJob := -1
	last := w.start
	for i := range js {
		if js[i].done > last {
			lastJob = i
		}
		j := &js[i]
		if j.done == 0 {
			res.unfinished++
			continue
		}
		last = max(last, j.done)
		if j.Deadline > 0 {
			res.withDL++
			if j.done > j.Deadline {
				res.misses++
				res.missed = append(res.missed, *j)
			}
		}
	}
	for i := range js {
		if js[i].done == 0 && js[i].Deadline > 0 {
			res.withDL++
			res.misses++
		}
	}
	res.makespan = float64(last - w.start)
	if lastJob >= 0 {
		res.last = js[lastJob]
	}
	busy := 0.0
	for i := range ps {
		busy += ps[i].busySecs
	}
	res.utilisation = busy / (float64(len(ps)) * res.makespan)
	if contentionEnd == 0 {
		contentionEnd = last
	}
	res.contention = float64(contentionEnd - contentionStart)
	res.jain = jainIndex(js, w.communities, contentionEnd)
	return res
}

// jainIndex is (Σx)²/(n·Σx²) over communities, x = printer time started
// while all communities were waiting, over the community's weight. Prints
// started in the window count in full.
func jainIndex(js []simJob, comms []Community, _ int64) float64 {
	got := map[string]float64{}
	for i := range js {
		got[js[i].Community] += js[i].received
	}
	sum, sq := 0.0, 0.0
	for _, c := range comms {
		x := got[c.Name] / weightOf(c.Weight)
		sum += x
		sq += x * x
	}
	if sq == 0 {
		return 1
	}
	return sum * sum / (float64(len(comms)) * sq)
}

// fcfsFirstFit is the baseline: jobs in submission order, each on the
// first idle printer (by ID) that passes every check.
func fcfsFirstFit(s *Snapshot) Plan {
	order := make([]int, len(s.Jobs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ja, jb := &s.Jobs[a], &s.Jobs[b]
		return cmp.Or(cmp.Compare(ja.Submitted, jb.Submitted), cmp.Compare(ja.ID, jb.ID))
	})
	pr := make([]int, len(s.Printers))
	for i := range pr {
		pr[i] = i
	}
	slices.SortFunc(pr, func(a, b int) int { return cmp.Compare(s.Printers[a].WorkerID, s.Printers[b].WorkerID) })
	used := make([]bool, len(s.Printers))
	var plan Plan
	free := 0
	for _, p := range s.Printers {
		if p.State == StateIdle {
			free++
		}
	}
	for _, ji := range order {
		if free == 0 {
			break
		}
		j := &s.Jobs[ji]
		for _, pi := range pr {
			p := &s.Printers[pi]
			if used[pi] || Feasible(j, p, s.Now) != "" {
				continue
			}
			used[pi] = true
			free--
			plan.Placements = append(plan.Placements, Placement{JobID: j.ID, WorkerID: p.WorkerID, EstSeconds: j.EstSeconds / speed(p)})
			break
		}
	}
	return plan
}

// standardWorkload is the workload the goals are stated on: 40 printers
// (18 Ender-3, 14 MK3S, 8 CR-10 S5; PLA on three in four, PETG on the
// rest; a quarter print only 07:00–23:00 UTC; failure rates 1–6 %), 4
// communities of equal weight ordering 600, 200, 150 and 100 parts within
// the first hour (the biggest first), parts from 20 min to 10 h (3 % only
// fit the large printers), 30 % with a deadline 12–72 h after submission,
// estimates off by up to ±10 %, beds cleared 5 minutes after a print.
func standardWorkload(seed uint64) workload {
	r := rand.New(rand.NewPCG(seed, 3))
	w := workload{name: "standard", start: day0 + 6*3600, clearDelay: 300, seed: seed}
	type pm struct {
		name string
		n    int
	}
	id := 0
	for _, m := range []pm{{"ender3", 16}, {"mk3s", 16}, {"cr10s5", 8}} {
		prof, err := profile.LookupPrinter(m.name)
		if err != nil {
			panic(err)
		}
		sf := SpeedFactor(prof)
		for k := range m.n {
			p := Printer{
				WorkerID: fmt.Sprintf("%s-%02d", m.name, id), Profile: m.name,
				BuildMM:  [3]float64{prof.BuildVolume.X, prof.BuildVolume.Y, prof.BuildVolume.Z},
				NozzleMM: prof.NozzleMM, Material: "PLA", State: StateIdle, SpeedFactor: sf,
			}
			id++
			if k%4 == 1 {
				p.Material = "PETG"
			}
			if k%4 == 2 {
				p.Hours = &hours.Window{StartMin: 7 * 60, EndMin: 23 * 60}
			}
			w.printers = append(w.printers, simPrinter{Printer: p, failRate: 0.01 + 0.05*r.Float64()})
		}
	}
	comms := []struct {
		name  string
		parts int
		from  int64 // submission window start, seconds after start
	}{{"makers", 600, 0}, {"school", 200, 900}, {"repair-cafe", 150, 1800}, {"library", 100, 2700}}
	for _, c := range comms {
		w.communities = append(w.communities, Community{Name: c.name, Weight: 1})
		for k := range c.parts {
			j := simJob{}
			j.ID = fmt.Sprintf("%s-%03d", c.name, k)
			j.Community = c.name
			j.Material = "PLA"
			if k%4 == 3 {
				j.Material = "PETG"
			}
			var hours float64
			switch x := r.Float64(); {
			case x < 0.85:
				side := 20 + 100*r.Float64()
				j.SizeMM = [3]float64{side, side * (0.5 + r.Float64()/2), side * (0.2 + 0.8*r.Float64())}
				hours = 1.0/3 + (3-1.0/3)*r.Float64()
			case x < 0.97:
				side := 120 + 80*r.Float64()
				j.SizeMM = [3]float64{side, side * (0.5 + r.Float64()/2), side * (0.2 + 0.8*r.Float64())}
				hours = 3 + 3*r.Float64()
			default:
				j.SizeMM = [3]float64{260 + 140*r.Float64(), 150 + 100*r.Float64(), 50 + 200*r.Float64()}
				hours = 6 + 4*r.Float64()
			}
			j.trueRef = hours * 3600
			j.EstSeconds = j.trueRef * (0.9 + 0.2*r.Float64())
			j.release = w.start + c.from + int64(k)*900/int64(c.parts)
			j.Submitted = j.release
			if r.Float64() < 0.3 {
				j.Deadline = j.release + int64(12*3600+r.IntN(60*3600))
			}
			w.jobs = append(w.jobs, j)
		}
	}
	return w
}
