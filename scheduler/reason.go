package scheduler

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/hours"
)

// The explainer says why a job was not placed, from the printer classes'
// summaries rather than by re-scanning printers. It walks a funnel, each
// stage narrowing the online printers that could print the job, and names
// the first stage that leaves none:
//
//	online → big enough (any material) → material → colour → nozzle →
//	big enough (with that filament) → not failed on before → owner's
//	maximum length → owner's hours → free now (else: waiting)
//
// Reasons for jobs without exclusions depend only on the job's shape, so
// they are computed once per shape.

type explainer struct {
	x    *index
	s    *Snapshot
	memo map[sig][2]string
	// lookups and hits measure the memo's worth.
	lookups, hits int
	// behind caches "waiting behind the fair queue" by (printers, idle).
	behind map[[2]int]string
	gs     []int32 // scratch: surviving groups
	prev   []int32 // scratch: survivors before the last filter
	mark   []int   // per group: stamp when it survives
	stamp  int
	excl   []int32 // scratch: excluded printers in surviving groups
	total  int     // all printers known, online or not
}

func newExplainer(x *index, s *Snapshot) *explainer {
	return &explainer{x: x, s: s, memo: map[sig][2]string{}, behind: map[[2]int]string{}, mark: make([]int, len(x.groups)), total: len(x.byID)}
}

// The memo pays when jobs share shapes (an order of Q copies); when, after
// memoProbe lookups, fewer than one in memoMinHits was a hit, it is
// dropped. Either way the reasons are the same.
const (
	memoProbe   = 1024
	memoMinHits = 8
)

func (e *explainer) explain(j *jobRef, job *Job) (code, reason string) {
	if len(job.Excluded) > 0 || e.memo == nil {
		return e.funnel(j, job)
	}
	k := j.sig()
	e.lookups++
	if r, ok := e.memo[k]; ok {
		e.hits++
		return r[0], r[1]
	}
	code, reason = e.funnel(j, job)
	if e.lookups >= memoProbe && e.hits*memoMinHits < e.lookups {
		e.memo = nil
		return code, reason
	}
	e.memo[k] = [2]string{code, reason}
	return code, reason
}

func (e *explainer) funnel(j *jobRef, job *Job) (string, string) {
	x := e.x
	mat := strings.TrimSpace(job.Material)
	if x.online == 0 {
		if e.total == 0 {
			return CodeNoPrinter, "no printer has joined the grid yet"
		}
		return CodeNoPrinter, fmt.Sprintf("no printer is online (%s offline)", plural(e.total, "printer"))
	}
	if r := tooLargeForAll(j, x.shapes, "online printer"); r != "" {
		return CodeTooLarge, r
	}

	// Material, colour, nozzle, bed: group-level filters.
	e.gs = append(e.gs[:0], x.groupsMat[j.material]...)
	if len(e.gs) == 0 {
		r := fmt.Sprintf("no online printer has %s loaded", mat)
		if n := x.offlineMat[j.material]; n > 0 {
			r += fmt.Sprintf(" (%s with it %s offline)", plural(n, "printer"), isAre(n))
		}
		return CodeNoMaterial, r
	}
	what := mat
	if j.colour != "" {
		what = strings.TrimSpace(job.Colour) + " " + mat
		e.keep(func(g *group) bool { return g.key.colour == j.colour })
		if len(e.gs) == 0 {
			e.gs = append(e.gs, x.groupsMat[j.material]...)
			colours := e.distinct(func(g *group) string { return g.key.colour })
			return CodeNoColour, fmt.Sprintf("no online printer has %s loaded; %s is loaded in %s", what, mat, listOf(colours, "no named colour"))
		}
	}
	if j.nozzle != 0 {
		e.prev = append(e.prev[:0], e.gs...)
		e.keep(func(g *group) bool { return nozzleMatches(j.nozzle, g.key.nozzle) })
		if len(e.gs) == 0 {
			e.gs = append(e.gs, e.prev...)
			nozzles := e.distinct(func(g *group) string { return mm(g.key.nozzle) + " mm" })
			return CodeNoNozzle, fmt.Sprintf("needs a %s mm nozzle; online printers with %s have %s", mm(j.nozzle), what, listOf(nozzles, "none"))
		}
	}
	var biggest shape
	for _, gi := range e.gs {
		k := &x.groups[gi].key
		if k.long*k.short*k.height > biggest.long*biggest.short*biggest.height {
			biggest = shape{k.long, k.short, k.height}
		}
	}
	e.keep(func(g *group) bool { return g.fits(j) })
	if len(e.gs) == 0 {
		return CodeTooLarge, fmt.Sprintf("part is %s mm; the biggest online printer with %s takes %s mm", box(j.long, j.short, j.height), what, box(biggest.long, biggest.short, biggest.height))
	}

	// Exclusions: printer-level, few per job.
	e.stamp++
	online := 0
	for _, gi := range e.gs {
		e.mark[gi] = e.stamp
		online += x.groups[gi].online
	}
	e.excl = e.excl[:0]
	var failed []string
	for _, id := range job.Excluded {
		p, ok := x.byID[id]
		if !ok || x.class[p] < 0 || e.mark[x.classes[x.class[p]].group] != e.stamp || slices.Contains(e.excl, p) {
			continue
		}
		e.excl = append(e.excl, p)
		failed = append(failed, id)
	}
	if online-len(e.excl) == 0 {
		return CodeExcluded, fmt.Sprintf("it failed before on every online printer that can print it (%s); it needs another printer with %s", listOf(failed, ""), what)
	}

	// Owner's maximum job length.
	withinMax := func(ci int32) bool {
		c := &x.classes[ci]
		return withinMaxLength(c.key.maxJob, j.ref/c.key.speed)
	}
	// Without exclusions one allowing class is enough to know; with them,
	// count the printers and take the excluded ones away.
	fastest, allowed, n := math.Inf(1), 0.0, 0
	for _, gi := range e.gs {
		g := &x.groups[gi]
		fastest = math.Min(fastest, j.ref/g.maxSpeed)
		allowed = math.Max(allowed, g.maxJobCap)
		switch {
		case len(e.excl) == 0 && n > 0:
		case len(e.excl) == 0:
			if withinMax(g.byMax[0]) {
				n = 1
			}
		default:
			if k := prefix(g.maxRef, j.ref, func(i int) bool { return withinMax(g.byMax[i]) }); k > 0 {
				n += g.maxCum[k-1]
			}
		}
	}
	for _, p := range e.excl {
		if withinMax(x.class[p]) {
			n--
		}
	}
	if n == 0 {
		return CodeTooLong, fmt.Sprintf("estimated %s on the fastest printer that can print it; their owners allow at most %s per job", dur(fastest), dur(allowed))
	}

	// Owner's hours (and length) now.
	fitsNow := func(ci int32) bool {
		c := &x.classes[ci]
		return c.fits(j.ref / c.key.speed)
	}
	var tot counts
	for _, gi := range e.gs {
		g := &x.groups[gi]
		if k := prefix(g.capRef, j.ref, func(i int) bool { return fitsNow(g.byCap[i]) }); k > 0 {
			tot.add(g.cum[k-1])
		}
	}
	for _, p := range e.excl {
		if fitsNow(x.class[p]) {
			tot.online--
			switch e.s.Printers[p].State {
			case StateIdle:
				tot.idle--
			case StateBusy:
				tot.busy--
			case StateAwaitingBedClear:
				tot.bedClear--
			case StatePaused:
				tot.paused--
			}
		}
	}
	now := e.s.Now
	if tot.online == 0 {
		return e.hoursReason(j, withinMax, now)
	}

	// Waiting: printers exist that could print it, none free for it.
	if tot.idle > 0 {
		k := [2]int{tot.online, tot.idle}
		r, ok := e.behind[k]
		if !ok {
			r = fmt.Sprintf("%s can print it; this round %s to jobs ahead of it in the fair queue", plural(tot.online, "printer"), itThey(tot.idle))
			e.behind[k] = r
		}
		return CodeWaiting, r
	}
	var parts []string
	if tot.busy > 0 {
		p := fmt.Sprintf("%d printing", tot.busy)
		if tot.firstFree > 0 {
			p += fmt.Sprintf(" (first expected free at %s)", clock(tot.firstFree, now))
		}
		parts = append(parts, p)
	}
	if tot.bedClear > 0 {
		parts = append(parts, fmt.Sprintf("%d waiting for the owner to clear the bed", tot.bedClear))
	}
	if tot.paused > 0 {
		parts = append(parts, fmt.Sprintf("%d paused", tot.paused))
	}
	return CodeWaiting, fmt.Sprintf("%s can print it, none is free: %s", plural(tot.online, "printer"), strings.Join(parts, ", "))
}

// hoursReason explains a job that only owners' hours keep out: it walks
// the surviving classes (a rare path) for the longest window and the next
// time one opens that is long enough.
func (e *explainer) hoursReason(j *jobRef, withinMax func(int32) bool, now int64) (string, string) {
	x := e.x
	fastest, longest, next := math.Inf(1), 0.0, int64(math.MaxInt64)
	var nextWin *hours.Window
	for _, gi := range e.gs {
		for _, ci := range x.groups[gi].byCap {
			c := &x.classes[ci]
			if !withinMax(ci) || c.online == e.excludedIn(ci) {
				continue
			}
			w := c.window()
			secs := j.ref / c.key.speed
			fastest = math.Min(fastest, secs)
			longest = math.Max(longest, windowLength(w))
			if w == nil {
				continue
			}
			if t, ok := nextStart(w, now, secs); ok && t < next {
				next, nextWin = t, w
			}
		}
	}
	if next == math.MaxInt64 {
		return CodeOutsideHours, fmt.Sprintf("estimated %s, longer than the daily printing hours of every printer that can print it (longest %s)", dur(fastest), dur(longest))
	}
	return CodeOutsideHours, fmt.Sprintf("estimated %s; no printer that can print it is within its owner's hours for that long now; next chance at %s", dur(fastest), clockIn(next, now, nextWin.Zone))
}

func (e *explainer) excludedIn(ci int32) int {
	n := 0
	for _, p := range e.excl {
		if e.x.class[p] == ci {
			n++
		}
	}
	return n
}

// prefix counts the leading entries of vals (sorted largest first) that
// are at least ref, then settles the boundary with the exact predicate ok
// so that rounding in vals never disagrees with the placement checks.
func prefix(vals []float64, ref float64, ok func(int) bool) int {
	k := sort.Search(len(vals), func(i int) bool { return vals[i] < ref })
	for k < len(vals) && ok(k) {
		k++
	}
	for k > 0 && !ok(k-1) {
		k--
	}
	return k
}

// keep filters the surviving groups.
func (e *explainer) keep(ok func(*group) bool) {
	out := e.gs[:0]
	for _, gi := range e.gs {
		if ok(&e.x.groups[gi]) {
			out = append(out, gi)
		}
	}
	e.gs = out
}

// distinct lists a group attribute's sorted distinct values.
func (e *explainer) distinct(f func(*group) string) []string {
	var out []string
	for _, gi := range e.gs {
		v := f(&e.x.groups[gi])
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// tooLargeForAll explains a part that no bed in shapes takes, or "".
func tooLargeForAll(j *jobRef, shapes []shape, who string) string {
	tallest, best := 0.0, shape{}
	for _, sh := range shapes {
		if sh.takes(j.long, j.short, j.height) {
			return ""
		}
		tallest = math.Max(tallest, sh.height)
		if sh.height >= j.height && sh.long*sh.short > best.long*best.short {
			best = sh
		}
	}
	if j.height > tallest {
		return fmt.Sprintf("part is %s mm tall; the tallest %s takes %s mm", mm(j.height), who, mm(tallest))
	}
	return fmt.Sprintf("part needs a %s mm bed (turning it 90° allowed); the largest %s tall enough takes %s mm", box2(j.long, j.short), who, box2(best.long, best.short))
}

// invalidReason explains a job the scheduler cannot consider at all.
func invalidReason(j *Job, seen map[string]struct{}) Unplaced {
	r := "the job has a duplicate id; only its first copy is scheduled"
	switch {
	case strings.TrimSpace(j.Material) == "":
		r = "the job names no material; resubmit the order with --material"
	case validJob(j) != "":
		r = "the job's size, nozzle or time estimate is not a valid number; resubmit the model"
	}
	return Unplaced{JobID: j.ID, Code: CodeInvalid, Reason: r}
}

func windowLength(w *hours.Window) float64 {
	if w == nil {
		return math.Inf(1)
	}
	return seconds(w.Length())
}

// nextStart is the first time after now at which window w opens for at
// least secs seconds: the next opening, or the one after when a DST change
// makes the next one too short. ok is false when neither is long enough.
func nextStart(w *hours.Window, now int64, secs float64) (t int64, ok bool) {
	at := time.Unix(now, 0)
	for range 2 {
		start, length := w.NextStart(at)
		if seconds(length) >= secs {
			return start.Unix(), true
		}
		at = start
	}
	return 0, false
}

func mm(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func box(a, b, c float64) string { return mm(a) + "×" + mm(b) + "×" + mm(c) }
func box2(a, b float64) string   { return mm(a) + "×" + mm(b) }

// dur formats seconds as "45m" or "5h 20m".
func dur(secs float64) string {
	if math.IsInf(secs, 0) || math.IsNaN(secs) {
		return "unlimited"
	}
	m := int64(math.Ceil(secs / 60))
	if m < 60 {
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%dh %02dm", m/60, m%60)
}

// clock formats a unix time for a person: "18:00 UTC", with the date when
// it is not on now's day.
func clock(t, now int64) string {
	tt := time.Unix(t, 0).UTC()
	if t-secondOfDay(t) == now-secondOfDay(now) {
		return tt.Format("15:04 UTC")
	}
	return tt.Format("Jan 2 15:04 UTC")
}

// clockIn formats a unix time on the clock of zone and in UTC ("19:00
// Europe/Madrid (18:00 UTC)"), each with the date when it is not on now's
// day there; in UTC (or a nil zone) it is clock.
func clockIn(t, now int64, zone *time.Location) string {
	if zone == nil || zone == time.UTC || zone.String() == "UTC" {
		return clock(t, now)
	}
	tt, nn := time.Unix(t, 0).In(zone), time.Unix(now, 0).In(zone)
	layout := "15:04"
	if ty, tm, td := tt.Date(); ty != nn.Year() || tm != nn.Month() || td != nn.Day() {
		layout = "Jan 2 15:04"
	}
	return tt.Format(layout) + " " + zone.String() + " (" + clock(t, now) + ")"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func itThey(idle int) string {
	if idle == 1 {
		return "the idle one went"
	}
	return fmt.Sprintf("the %d idle ones went", idle)
}

// listOf joins up to five values, "a, b and 3 more".
func listOf(vs []string, empty string) string {
	if len(vs) == 0 {
		return empty
	}
	for i, v := range vs {
		if v == "" {
			vs[i] = "no named colour"
		}
	}
	const most = 5
	if len(vs) <= most {
		return strings.Join(vs, ", ")
	}
	return strings.Join(vs[:most], ", ") + fmt.Sprintf(" and %d more", len(vs)-most)
}
