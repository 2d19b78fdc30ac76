package coordinator

import (
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

func TestLeaseDecisionGraceAndContact(t *testing.T) {
	f := base(t)
	mustApply(t, f, placeCmd("o-1-1", "w-a")) // command time 99 s
	ct := newContactTimes()
	start := time.Unix(100, 0)
	ct.reset(start) // new leader at 100 s
	decide := func(now time.Time) leaseDecision {
		var d leaseDecision
		f.View(func(s *fsm.State) { d = ct.decide(s, now, 60*time.Second, 3) })
		return d
	}
	if d := decide(start.Add(59 * time.Second)); len(d.expire) != 0 {
		t.Fatal("lease expired within the new leader's grace")
	}
	// Heartbeats and long-polls do not renew a lease (item 6: before,
	// any contact did, so a hung print kept its copy for ever)...
	ct.seen("w-a", start.Add(30*time.Second))
	if d := decide(start.Add(61 * time.Second)); len(d.expire) != 1 {
		t.Fatalf("lease renewed by mere contact: %+v", d.expire)
	}
	// ...the holder's progress report for the job does.
	p := progressCmd("o-1-1", "w-a", 1, "printing")
	p.Time = start.Add(30 * time.Second).UnixNano()
	applyAt(t, f, p)
	if d := decide(start.Add(61 * time.Second)); len(d.expire) != 0 {
		t.Fatal("lease expired although its holder reported progress")
	}
	d := decide(start.Add(91 * time.Second))
	if len(d.expire) != 1 || d.expire[0].JobID != "o-1-1" || d.expire[0].Epoch != 1 {
		t.Fatalf("expiry %+v", d.expire)
	}
	// Idle printers silent as long go offline.
	if len(d.offline) != 2 {
		t.Fatalf("offline %v", d.offline)
	}
}
