package scheduler

import (
	"math"
	"slices"
	"strings"
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
	startMin, endMin int
	speed            float64
	hood             string
}

// class is one group of interchangeable printers.
type class struct {
	key classKey
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

func (c *class) window() *Window {
	if !c.key.hasHours {
		return nil
	}
	return &Window{StartMin: c.key.startMin, EndMin: c.key.endMin}
}

// matColour keys the walk lists of jobs that want one colour.
type matColour struct{ material, colour string }

// walkList is a list of classes with idle members, best lower bound first.
// Exhausted classes at the front are dropped by advancing start.
type walkList struct {
	classes []int32
	start   int
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

	walkMat       map[string]*walkList
	walkMatColour map[matColour]*walkList
	// byMat lists every online class carrying a material, for reasons.
	byMat      map[string][]int32
	offlineMat map[string]int
	shapes     []shape
	online     int
	idleLeft   int
	names      map[string]string
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
	localBonus = 0.9
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
		seed:          s.Seed,
		class:         make([]int32, n),
		rel:           make([]float64, n),
		tie:           make([]uint64, n),
		taken:         make([]bool, n),
		byID:          make(map[string]int32, n),
		walkMat:       map[string]*walkList{},
		walkMatColour: map[matColour]*walkList{},
		byMat:         map[string][]int32{},
		offlineMat:    map[string]int{},
		names:         map[string]string{},
	}
	order := make([]int32, n)
	for i := range s.Printers {
		order[i] = int32(i)
		x.tie[i] = tieHash(s.Seed, s.Printers[i].ID)
		x.rel[i] = reliability(&s.Printers[i])
	}
	// Visit printers in a seeded order independent of the input order.
	slices.SortFunc(order, func(a, b int32) int {
		if x.tie[a] != x.tie[b] {
			return cmpU64(x.tie[a], x.tie[b])
		}
		if c := strings.Compare(s.Printers[a].ID, s.Printers[b].ID); c != 0 {
			return c
		}
		return int(a - b)
	})
	keys := map[classKey]int32{}
	shapes := map[shape]bool{}
	for _, i := range order {
		p := &s.Printers[i]
		x.class[i] = -1
		if _, dup := x.byID[p.ID]; dup {
			continue
		}
		x.byID[p.ID] = i
		if !online(p.State) {
			x.offlineMat[x.norm(p.Material)]++
			continue
		}
		k := x.keyOf(p)
		ci, ok := keys[k]
		if !ok {
			ci = int32(len(x.classes))
			keys[k] = ci
			x.classes = append(x.classes, class{key: k, mult: sizePenalty(k.long, k.short, k.height) / k.speed})
			x.byMat[k.material] = append(x.byMat[k.material], ci)
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
		return cmpF(a.long*a.short*a.height, b.long*b.short*b.height)
	})
	for ci := range x.classes {
		c := &x.classes[ci]
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
			return strings.Compare(s.Printers[a].ID, s.Printers[b].ID)
		})
		c.lb = c.mult / x.rel[c.idle[0]]
		x.idleLeft += len(c.idle)
		wl := x.walkMat[c.key.material]
		if wl == nil {
			wl = &walkList{}
			x.walkMat[c.key.material] = wl
		}
		wl.classes = append(wl.classes, int32(ci))
		mc := matColour{c.key.material, c.key.colour}
		wl = x.walkMatColour[mc]
		if wl == nil {
			wl = &walkList{}
			x.walkMatColour[mc] = wl
		}
		wl.classes = append(wl.classes, int32(ci))
	}
	byLB := func(a, b int32) int {
		if c := cmpF(x.classes[a].lb, x.classes[b].lb); c != 0 {
			return c
		}
		return int(a - b)
	}
	for _, wl := range x.walkMat {
		slices.SortFunc(wl.classes, byLB)
	}
	for _, wl := range x.walkMatColour {
		slices.SortFunc(wl.classes, byLB)
	}
	return x
}

func (x *index) keyOf(p *Printer) classKey {
	long, short, height := footprint(p.BuildMM)
	k := classKey{
		material: x.norm(p.Material),
		colour:   x.norm(p.Colour),
		nozzle:   p.NozzleMM,
		long:     long, short: short, height: height,
		maxJob: max(p.MaxJobSeconds, 0),
		speed:  speed(p),
		hood:   x.norm(p.Neighbourhood),
	}
	if p.Hours != nil {
		k.hasHours = true
		k.startMin, k.endMin = normMinute(p.Hours.StartMin), normMinute(p.Hours.EndMin)
	}
	return k
}

// classFits applies every per-class check for a job of ref reference
// seconds: nozzle, size, the owner's maximum length and hours.
func (c *class) fits(j *jobRef, now int64) bool {
	k := &c.key
	if !nozzleMatches(j.nozzle, k.nozzle) || j.long > k.long || j.short > k.short || j.height > k.height {
		return false
	}
	secs := j.ref / k.speed
	if !withinMaxLength(k.maxJob, secs) {
		return false
	}
	return !k.hasHours || windowFits(&Window{StartMin: k.startMin, EndMin: k.endMin}, now, secs)
}

// best finds the best free printer for job j, or -1. It does not take it.
func (x *index) best(j *jobRef, now int64, excl []string) (printer int32, score float64) {
	var wl *walkList
	if j.colour == "" {
		wl = x.walkMat[j.material]
	} else {
		wl = x.walkMatColour[matColour{j.material, j.colour}]
	}
	if wl == nil {
		return -1, 0
	}
	printer, score = -1, math.Inf(1)
	loc := 1.0
	if j.hood != "" {
		loc = localBonus
	}
	for i := wl.start; i < len(wl.classes); i++ {
		c := &x.classes[wl.classes[i]]
		x.skipTaken(c)
		if c.next >= len(c.idle) {
			if i == wl.start {
				wl.start++
			}
			continue
		}
		if j.ref*c.lb*loc > score {
			break // classes are sorted by lb: nothing later can win
		}
		if !c.fits(j, now) {
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
		if sc < score || sc == score && x.tie[p] < x.tie[printer] {
			printer, score = p, sc
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
