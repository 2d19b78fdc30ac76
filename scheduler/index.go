package scheduler

import (
	"math"
	"slices"
	"strings"

	"github.com/fabgrid/fabgrid/hours"
)

// The printer index groups printers into classes of interchangeable
// machines: same loaded material and colour, nozzle, bed shape, owner's
// limits, speed and neighbourhood. Feasibility except exclusions is decided
// per class, never per printer, and each class keeps its idle members
// sorted best first, so finding the best printer for a job costs a walk
// over the few classes that carry its material, not over all printers.

// classKey is what makes printers interchangeable for feasibility.
type classKey struct {
	material, colour string // normalised
	nozzle           float64
	long, short      float64 // bed footprint, long side first
	height           float64
	maxJob           float64
	hasHours         bool
	hours            hours.Window // Normal
	speed            float64
	hood             string
}

// class is one set of interchangeable printers.
type class struct {
	key   classKey
	group int32
	// capSecs is the longest job (seconds on this class) the owners'
	// maximum length and hours allow if started now; 0 when closed.
	capSecs float64
	// mult is the static score multiplier: size penalty / speed. A
	// printer's score for a job is ref seconds · mult / reliability.
	mult float64
	// lb is the best score multiplier any idle member can have (the best
	// member's), used to stop the walk early.
	lb float64
	// idle members (printer indices), best first; next is the first one
	// that may still be free.
	idle []int32
	next int
	// State counts at the start of the round, for reasons.
	online, idleN, busy, bedClear, paused int
	firstFree                             int64 // earliest BusyUntil of a busy member, 0 = unknown
}

func (c *class) window() *hours.Window {
	if !c.key.hasHours {
		return nil
	}
	w := c.key.hours
	return &w
}

// matColour keys the groups of jobs that want one colour.
type matColour struct{ material, colour string }

// groupKey is what jobs are matched on before time: filament, nozzle, bed.
type groupKey struct {
	material, colour string
	nozzle           float64
	long, short      float64
	height           float64
}

// group is the set of classes sharing a groupKey. It holds the walk list
// for placement and the summaries the explainer reads.
type group struct {
	key groupKey
	// walk: classes with idle members, best lower bound first; start
	// skips exhausted classes at the front.
	walk  []int32
	start int
	// byCap: every class, largest capRef first, with running totals,
	// so the printers able to take a job of ref seconds are a prefix.
	byCap  []int32
	capRef []float64 // capSecs·speed, in byCap order
	cum    []counts  // cum[k]: totals over byCap[:k+1]
	// byMax: every class by the owners' maximum length in reference
	// seconds, largest first, with running online counts.
	byMax     []int32
	maxRef    []float64
	maxCum    []int
	online    int
	maxSpeed  float64
	maxJobCap float64 // largest owner's limit in seconds (Inf = none)
}

// counts are printer totals by state, for reasons.
type counts struct {
	online, idle, busy, bedClear, paused int
	firstFree                            int64
}

func (c *counts) add(o counts) {
	c.online += o.online
	c.idle += o.idle
	c.busy += o.busy
	c.bedClear += o.bedClear
	c.paused += o.paused
	if o.firstFree > 0 && (c.firstFree == 0 || o.firstFree < c.firstFree) {
		c.firstFree = o.firstFree
	}
}

// shape is a distinct online bed.
type shape struct{ long, short, height float64 }

type index struct {
	seed    int64
	classes []class
	// Per printer (snapshot index).
	class []int32 // -1: offline, unknown state or duplicate ID
	rel   []float64
	tie   []uint64
	taken []bool
	byID  map[string]int32

	groups       []group
	groupsMat    map[string][]int32    // every group with a material
	groupsColour map[matColour][]int32 // … and colour
	offlineMat   map[string]int
	shapes       []shape
	online       int
	idleLeft     int
	names        map[string]string
}

// norm interns the normalised (trimmed, lower-case) form of a name.
func (x *index) norm(s string) string {
	if n, ok := x.names[s]; ok {
		return n
	}
	n := strings.ToLower(strings.TrimSpace(s))
	x.names[s] = n
	return n
}

// Score weights. They are documented in the README's scheduler section.
const (
	// priorSuccesses/priorRuns: a printer without history is taken to
	// succeed 9 times in 10; its own history outweighs that after ~10 jobs.
	priorSuccesses = 9
	priorRuns      = 10
	// sizePenaltyPerDoubling: a bed twice the reference printer's volume
	// scores 10 % worse, so big printers stay free for big parts unless
	// they are clearly faster.
	sizePenaltyPerDoubling = 0.1
	// localBonus multiplies the score of a printer in the job's
	// neighbourhood.
	localBonus   = 0.9
	refBedVolume = 220 * 220 * 250.0
)

func reliability(p *Printer) float64 {
	s, f := max(p.Successes, 0), max(p.Failures, 0)
	return (float64(s) + priorSuccesses) / (float64(s+f) + priorRuns)
}

func sizePenalty(long, short, height float64) float64 {
	v := long * short * height
	if !(v > refBedVolume) {
		return 1
	}
	return 1 + sizePenaltyPerDoubling*math.Log2(v/refBedVolume)
}

func online(st PrinterState) bool {
	switch st {
	case StateIdle, StateBusy, StateAwaitingBedClear, StatePaused:
		return true
	}
	return false
}

func newIndex(s *Snapshot) *index {
	n := len(s.Printers)
	x := &index{
		seed:         s.Seed,
		class:        make([]int32, n),
		rel:          make([]float64, n),
		tie:          make([]uint64, n),
		taken:        make([]bool, n),
		byID:         make(map[string]int32, n),
		groupsMat:    map[string][]int32{},
		groupsColour: map[matColour][]int32{},
		offlineMat:   map[string]int{},
		names:        map[string]string{},
	}
	order := make([]int32, n)
	for i := range s.Printers {
		order[i] = int32(i)
		x.tie[i] = tieHash(s.Seed, s.Printers[i].WorkerID)
		x.rel[i] = reliability(&s.Printers[i])
	}
	// Visit printers in a seeded order independent of the input order.
	slices.SortFunc(order, func(a, b int32) int {
		if x.tie[a] != x.tie[b] {
			return cmpU64(x.tie[a], x.tie[b])
		}
		if c := strings.Compare(s.Printers[a].WorkerID, s.Printers[b].WorkerID); c != 0 {
			return c
		}
		return int(a - b)
	})
	keys := map[classKey]int32{}
	gkeys := map[groupKey]int32{}
	shapes := map[shape]bool{}
	for _, i := range order {
		p := &s.Printers[i]
		x.class[i] = -1
		if _, dup := x.byID[p.WorkerID]; dup {
			continue
		}
		x.byID[p.WorkerID] = i
		if !online(p.State) {
			x.offlineMat[x.norm(p.Material)]++
			continue
		}
		k := x.keyOf(p)
		ci, ok := keys[k]
		if !ok {
			ci = int32(len(x.classes))
			keys[k] = ci
			gk := groupKey{k.material, k.colour, k.nozzle, k.long, k.short, k.height}
			gi, ok := gkeys[gk]
			if !ok {
				gi = int32(len(x.groups))
				gkeys[gk] = gi
				x.groups = append(x.groups, group{key: gk})
				x.groupsMat[gk.material] = append(x.groupsMat[gk.material], gi)
				mc := matColour{gk.material, gk.colour}
				x.groupsColour[mc] = append(x.groupsColour[mc], gi)
			}
			cl := class{key: k, group: gi, mult: sizePenalty(k.long, k.short, k.height) / k.speed}
			cl.capSecs = math.Inf(1)
			if k.maxJob > 0 {
				cl.capSecs = k.maxJob
			}
			if w := cl.window(); w != nil {
				cl.capSecs = math.Min(cl.capSecs, windowLeft(w, s.Now))
			}
			x.classes = append(x.classes, cl)
		}
		x.class[i] = ci
		c := &x.classes[ci]
		c.online++
		x.online++
		shapes[shape{k.long, k.short, k.height}] = true
		switch p.State {
		case StateIdle:
			c.idleN++
			c.idle = append(c.idle, i)
		case StateBusy:
			c.busy++
			if p.BusyUntil > 0 && (c.firstFree == 0 || p.BusyUntil < c.firstFree) {
				c.firstFree = p.BusyUntil
			}
		case StateAwaitingBedClear:
			c.bedClear++
		case StatePaused:
			c.paused++
		}
	}
	for sh := range shapes {
		x.shapes = append(x.shapes, sh)
	}
	slices.SortFunc(x.shapes, func(a, b shape) int {
		if c := cmpF(a.long*a.short*a.height, b.long*b.short*b.height); c != 0 {
			return c
		}
		if c := cmpF(a.long, b.long); c != 0 {
			return c
		}
		if c := cmpF(a.short, b.short); c != 0 {
			return c
		}
		return cmpF(a.height, b.height)
	})
	for ci := range x.classes {
		c := &x.classes[ci]
		g := &x.groups[c.group]
		g.byCap = append(g.byCap, int32(ci))
		g.byMax = append(g.byMax, int32(ci))
		g.online += c.online
		g.maxSpeed = math.Max(g.maxSpeed, c.key.speed)
		if c.key.maxJob == 0 {
			g.maxJobCap = math.Inf(1)
		} else {
			g.maxJobCap = math.Max(g.maxJobCap, c.key.maxJob)
		}
		if len(c.idle) == 0 {
			continue
		}
		slices.SortFunc(c.idle, func(a, b int32) int {
			if x.rel[a] != x.rel[b] {
				return cmpF(x.rel[b], x.rel[a])
			}
			if x.tie[a] != x.tie[b] {
				return cmpU64(x.tie[a], x.tie[b])
			}
			return strings.Compare(s.Printers[a].WorkerID, s.Printers[b].WorkerID)
		})
		c.lb = c.mult / x.rel[c.idle[0]]
		x.idleLeft += len(c.idle)
		g.walk = append(g.walk, int32(ci))
	}
	for gi := range x.groups {
		x.groups[gi].summarise(x.classes)
	}
	return x
}

// summarise sorts a group's classes for the walk and the explainer.
func (g *group) summarise(classes []class) {
	slices.SortFunc(g.walk, func(a, b int32) int {
		if c := cmpF(classes[a].lb, classes[b].lb); c != 0 {
			return c
		}
		return int(a - b)
	})
	capRef := func(ci int32) float64 { return classes[ci].capSecs * classes[ci].key.speed }
	slices.SortFunc(g.byCap, func(a, b int32) int {
		if c := cmpF(capRef(b), capRef(a)); c != 0 {
			return c
		}
		return int(a - b)
	})
	var run counts
	for _, ci := range g.byCap {
		c := &classes[ci]
		g.capRef = append(g.capRef, capRef(ci))
		run.add(counts{online: c.online, idle: c.idleN, busy: c.busy, bedClear: c.bedClear, paused: c.paused, firstFree: c.firstFree})
		g.cum = append(g.cum, run)
	}
	maxRef := func(ci int32) float64 {
		if classes[ci].key.maxJob == 0 {
			return math.Inf(1)
		}
		return classes[ci].key.maxJob * classes[ci].key.speed
	}
	slices.SortFunc(g.byMax, func(a, b int32) int {
		if c := cmpF(maxRef(b), maxRef(a)); c != 0 {
			return c
		}
		return int(a - b)
	})
	n := 0
	for _, ci := range g.byMax {
		n += classes[ci].online
		g.maxRef = append(g.maxRef, maxRef(ci))
		g.maxCum = append(g.maxCum, n)
	}
}

func (x *index) keyOf(p *Printer) classKey {
	long, short, height := footprint(p.BuildMM)
	k := classKey{
		material: x.norm(p.Material),
		colour:   x.norm(p.Colour),
		nozzle:   p.NozzleMM,
		long:     long, short: short, height: height,
		maxJob: nonNeg(p.MaxJobSeconds),
		speed:  speed(p),
		hood:   x.norm(p.Neighbourhood),
	}
	if p.Hours != nil {
		k.hasHours = true
		k.hours = p.Hours.Normal()
	}
	return k
}

// fits reports whether a job of secs seconds on this class fits the
// owners' maximum length and hours now (the same rules as Feasible).
func (c *class) fits(secs float64) bool {
	return secs <= c.capSecs && c.capSecs > 0
}

// groupFits reports whether a group's filament, nozzle and bed suit j
// (material and colour are matched by the group lists).
func (g *group) fits(j *jobRef) bool {
	k := &g.key
	return nozzleMatches(j.nozzle, k.nozzle) && shape{k.long, k.short, k.height}.takes(j.long, j.short, j.height)
}

// groupsFor lists the groups carrying the job's material and colour.
func (x *index) groupsFor(j *jobRef) []int32 {
	if j.colour == "" {
		return x.groupsMat[j.material]
	}
	return x.groupsColour[matColour{j.material, j.colour}]
}

// reach counts the online printers that could print j by filament, nozzle
// and bed (fit), and those carrying its material at all.
func (x *index) reach(j *jobRef) (fit, all int) {
	for _, gi := range x.groupsMat[j.material] {
		g := &x.groups[gi]
		all += g.online
		if (j.colour == "" || g.key.colour == j.colour) && g.fits(j) {
			fit += g.online
		}
	}
	return fit, all
}

// best finds the best free printer for job j, or -1. It does not take it.
func (x *index) best(j *jobRef, excl []string) (printer int32, score float64) {
	printer, score = -1, math.Inf(1)
	loc := 1.0
	if j.hood != "" {
		loc = localBonus
	}
	for _, gi := range x.groupsFor(j) {
		g := &x.groups[gi]
		if g.start >= len(g.walk) || !g.fits(j) {
			continue
		}
		for i := g.start; i < len(g.walk); i++ {
			c := &x.classes[g.walk[i]]
			x.skipTaken(c)
			if c.next >= len(c.idle) {
				if i == g.start {
					g.start++
				}
				continue
			}
			if j.ref*c.lb*loc > score {
				break // the walk is sorted by lb: nothing later here can win
			}
			if !c.fits(j.ref / c.key.speed) {
				continue
			}
			p := x.firstAllowed(c, excl)
			if p < 0 {
				continue
			}
			sc := j.ref * c.mult / x.rel[p]
			if j.hood != "" && c.key.hood == j.hood {
				sc *= localBonus
			}
			if printer < 0 || sc < score || sc == score && x.tie[p] < x.tie[printer] {
				printer, score = p, sc
			}
		}
	}
	return printer, score
}

func (x *index) skipTaken(c *class) {
	for c.next < len(c.idle) && x.taken[c.idle[c.next]] {
		c.next++
	}
}

// firstAllowed is the best free member of c not excluded for the job.
func (x *index) firstAllowed(c *class, excl []string) int32 {
	for k := c.next; k < len(c.idle); k++ {
		p := c.idle[k]
		if x.taken[p] {
			continue
		}
		if len(excl) == 0 || !x.isExcluded(p, excl) {
			return p
		}
	}
	return -1
}

func (x *index) isExcluded(p int32, excl []string) bool {
	for _, id := range excl {
		if q, ok := x.byID[id]; ok && q == p {
			return true
		}
	}
	return false
}

func (x *index) take(p int32) {
	x.taken[p] = true
	x.idleLeft--
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
