package coordinator

import (
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// contactTimes is the leader's memory of when it last heard from each
// worker (and of each worker's last heartbeat and gossip view, for
// display); decide reads it to expire leases. It is not replicated: a
// new leader starts it afresh and gives every lease a full grace period
// from the moment it took over, so a failover never declares the whole
// fleet lost at once.
type contactTimes struct {
	mu       sync.Mutex
	grace    time.Time            // when this node last became leader
	lastSeen map[string]time.Time // worker ID → last contact
	gossip   map[string]string    // worker ID → gossip view
	// beats keeps the last heartbeat per worker across leadership
	// changes, for display only.
	beats map[string]time.Time
}

func newContactTimes() *contactTimes {
	return &contactTimes{lastSeen: map[string]time.Time{}, gossip: map[string]string{}, beats: map[string]time.Time{}}
}

// reset starts a new term of leadership at now.
func (t *contactTimes) reset(now time.Time) {
	t.mu.Lock()
	t.grace = now
	t.lastSeen = map[string]time.Time{}
	t.mu.Unlock()
}

// seen records contact from a worker.
func (t *contactTimes) seen(worker string, now time.Time) {
	t.mu.Lock()
	if now.After(t.lastSeen[worker]) {
		t.lastSeen[worker] = now
	}
	t.mu.Unlock()
}

func (t *contactTimes) setHeartbeat(worker string, now time.Time) {
	t.mu.Lock()
	t.beats[worker] = now
	t.mu.Unlock()
}

func (t *contactTimes) heartbeat(worker string) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.beats[worker]
	return v, ok
}

func (t *contactTimes) setGossip(worker, view string) {
	t.mu.Lock()
	t.gossip[worker] = view
	t.mu.Unlock()
}

func (t *contactTimes) gossipView(worker string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.gossip[worker]; ok {
		return v
	}
	return api.GossipNotJoined
}

// expiry is when a worker heard from last at since (or its registration)
// is silent: lost-after past the latest of its last contact, since and
// the leader's grace.
func (t *contactTimes) expiry(worker string, since time.Time, lostAfter time.Duration) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	base := t.grace
	if ls := t.lastSeen[worker]; ls.After(base) {
		base = ls
	}
	if since.After(base) {
		base = since
	}
	return base.Add(lostAfter)
}

// leaseExpiry is when a lease renewed last at renewed (Job.Updated: its
// placement or its holder's last live progress report for the job, by
// command time) is lost: lost-after past the later of that and the
// leader's grace. Heartbeats, long-polls and reports for other jobs do
// not renew it, so a print that hangs while its worker's heartbeats go on
// is requeued.
func (t *contactTimes) leaseExpiry(renewed time.Time, lostAfter time.Duration) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	base := t.grace
	if renewed.After(base) {
		base = renewed
	}
	return base.Add(lostAfter)
}

// leaseDecision is what the lease check wants committed.
type leaseDecision struct {
	expire  []fsm.LeaseCmd
	offline []string
}

// decide finds expired leases, silent superseded holders and silent idle
// workers in s at now.
func (t *contactTimes) decide(s *fsm.State, now time.Time, lostAfter time.Duration, maxAttempts int) leaseDecision {
	var d leaseDecision
	// Every active job is held by its printer (Worker.Job), so walking
	// the printers finds them without scanning all jobs.
	for _, wid := range fsm.SortedKeys(s.Workers) {
		w := s.Workers[wid]
		j := s.Jobs[w.Job]
		if j == nil {
			continue
		}
		if j.Active() && j.WorkerID == w.ID {
			if now.After(t.leaseExpiry(fsm.CommandTime(j.Updated), lostAfter)) {
				d.expire = append(d.expire, fsm.LeaseCmd{JobID: j.ID, Epoch: j.Epoch, MaxAttempts: maxAttempts,
					Reason: "no progress report from " + j.WorkerID + " for " + lostAfter.String()})
			}
			continue
		}
		// A superseded holder: told to cancel at its next report, it
		// frees its printer by reporting; one gone silent is freed here.
		epoch, ok := openLease(j, w.ID)
		if ok && now.After(t.expiry(w.ID, fsm.CommandTime(j.Updated), lostAfter)) {
			d.expire = append(d.expire, fsm.LeaseCmd{JobID: j.ID, Epoch: epoch, WorkerID: w.ID,
				Reason: "superseded holder " + w.ID + " silent for " + lostAfter.String()})
		}
	}
	for _, id := range fsm.SortedKeys(s.Workers) {
		w := s.Workers[id]
		if w.Job != "" || w.State == api.WorkerOffline {
			continue
		}
		if now.After(t.expiry(w.ID, fsm.CommandTime(w.Registered), lostAfter)) {
			d.offline = append(d.offline, w.ID)
		}
	}
	return d
}

// openLease returns the epoch of worker's latest lease of j whose
// outcome is not recorded.
func openLease(j *fsm.Job, worker string) (uint64, bool) {
	for i := len(j.Assignments) - 1; i >= 0; i-- {
		if a := j.Assignments[i]; a.WorkerID == worker && a.Outcome == "" {
			return a.Epoch, true
		}
	}
	return 0, false
}
