package scheduler

import (
	"math"
	"slices"
	"strings"
)

// The fair queue decides the order in which jobs are offered printers.
// Between communities it is weighted fair queuing on printer time: each
// community has a virtual time, the printer-seconds it has used divided by
// its weight, and the community with the smallest virtual time offers its
// next job; a placement advances the community's virtual time by the job's
// printer-seconds over its weight. A community that ordered 1,000 parts
// therefore cannot starve one that ordered 3: the small one is never more
// than one job (plus fairSlack, below) behind its share. Deadlines come
// first among what is fair: a community within fairSlack of the least
// served one goes first when its next job is due earlier. Within a community, jobs go earliest
// deadline first (jobs without a deadline after those with one), then by
// submission time moved earlier by the job's own length (a job that takes
// an hour longer counts as submitted an hour earlier): among jobs
// submitted around the same time the longest go first, so long prints do
// not end up alone at the end of the run, while a short job is never
// overtaken by a job submitted more than its length difference later.
// Remaining ties fall by a seeded hash.

// jobRef is a job reduced to what the placement loop compares.
type jobRef struct {
	idx                    int32 // snapshot index
	comm                   int32
	deadline               int64   // math.MaxInt64 when none
	order                  float64 // submitted − ref: see the fair queue
	ref                    float64 // seconds on the reference printer
	tie                    uint64
	material, colour, hood string // normalised
	nozzle                 float64
	long, short, height    float64
	scarce                 bool
}

// sig is what makes two jobs without exclusions equally feasible.
type sig struct {
	material, colour    string
	nozzle, ref         float64
	long, short, height float64
}

func (j *jobRef) sig() sig {
	return sig{j.material, j.colour, j.nozzle, j.ref, j.long, j.short, j.height}
}

func cmpJobs(a, b *jobRef) int {
	switch {
	case a.deadline != b.deadline:
		return cmpI64(a.deadline, b.deadline)
	case a.order != b.order:
		return cmpF(a.order, b.order)
	case a.tie != b.tie:
		return cmpU64(a.tie, b.tie)
	}
	return int(a.idx - b.idx)
}

// community is one flow of the fair queue.
type community struct {
	name   string
	weight float64
	vtime  float64 // used printer-seconds / weight
	tie    uint64
	jobs   []int32 // indices into fairQueue.refs, in offer order
	next   int
}

// Earliest deadline first among what is fair: a community may run up to
// fairSlack printer-seconds (per unit of weight) ahead of the least served
// one when its next job's deadline is earlier. Scanning for that costs a
// pass over the waiting communities per job, so it is done only when there
// are at most edfScanLimit of them.
const (
	fairSlack    = 4 * 3600
	edfScanLimit = 64
)

// fairQueue is a min-heap of communities with jobs left, by virtual time.
type fairQueue struct {
	refs  []jobRef // by snapshot index
	comms []community
	heap  []int32
	cur   int // heap position of the community peek chose
}

func (q *fairQueue) less(a, b int32) bool {
	ca, cb := &q.comms[a], &q.comms[b]
	if ca.vtime != cb.vtime {
		return ca.vtime < cb.vtime
	}
	if ca.tie != cb.tie {
		return ca.tie < cb.tie
	}
	return strings.Compare(ca.name, cb.name) < 0
}

// init sorts each community's jobs and builds the heap.
func (q *fairQueue) init() {
	q.heap = q.heap[:0]
	for i := range q.comms {
		c := &q.comms[i]
		slices.SortFunc(c.jobs, func(a, b int32) int { return cmpJobs(&q.refs[a], &q.refs[b]) })
		if len(c.jobs) > 0 {
			q.heap = append(q.heap, int32(i))
		}
	}
	for i := len(q.heap)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

// peek returns the next job to offer, or nil when every job was offered:
// among the communities whose virtual time is within fairSlack of the
// smallest, the one whose next job has the earliest deadline (then the
// smallest virtual time). With more than edfScanLimit communities waiting
// it is plain weighted fair queuing, to keep a round's cost bounded.
func (q *fairQueue) peek() (*community, *jobRef) {
	if len(q.heap) == 0 {
		return nil, nil
	}
	q.cur = 0
	if len(q.heap) <= edfScanLimit {
		c0 := &q.comms[q.heap[0]]
		limit := c0.vtime + fairSlack/c0.weight
		bestDL := q.refs[c0.jobs[c0.next]].deadline
		for i := 1; i < len(q.heap); i++ {
			c := &q.comms[q.heap[i]]
			if c.vtime > limit {
				continue
			}
			dl := q.refs[c.jobs[c.next]].deadline
			if dl < bestDL || dl == bestDL && q.less(q.heap[i], q.heap[q.cur]) {
				q.cur, bestDL = i, dl
			}
		}
	}
	c := &q.comms[q.heap[q.cur]]
	return c, &q.refs[c.jobs[c.next]]
}

// advance moves past the job peek returned, charging its community
// printer-seconds of work (0 when it was not placed).
func (q *fairQueue) advance(charge float64) {
	i := q.cur
	c := &q.comms[q.heap[i]]
	c.next++
	c.vtime += charge / c.weight
	if c.next >= len(c.jobs) {
		last := len(q.heap) - 1
		q.heap[i] = q.heap[last]
		q.heap = q.heap[:last]
		if i == last {
			return
		}
	}
	q.up(i)
	q.down(i)
}

func (q *fairQueue) up(i int) {
	h := q.heap
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *fairQueue) down(i int) {
	h := q.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && q.less(h[r], h[l]) {
			m = r
		}
		if !q.less(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func weightOf(w float64) float64 {
	if w > 0 && !math.IsInf(w, 0) {
		return w
	}
	return 1
}

func cmpI64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
