package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// The order API as a sequential specification, one partition per order.
// Orders are told apart by a client-chosen tag carried in pickup_note, so
// that an order whose submission had no answer can still be recognised when
// a later read shows it.

const (
	stAbsent    = "absent"
	stOpen      = api.OrderOpen
	stCancelled = api.OrderCancelled
	stDuplicate = "duplicate" // the tag appears twice: never valid
	outUnknown  = "unknown"   // the call failed: it may or may not have happened
)

type opKind int

const (
	opSubmit opKind = iota
	opRead          // a consistent GET /v1/orders/{id}, or one order's part of a consistent list
	opCancel
)

type opInput struct {
	kind opKind
	tag  string
}

// orderModel: state is the order's state string.
var orderModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byTag := map[string][]porcupine.Operation{}
		for _, op := range h {
			in := op.Input.(opInput)
			byTag[in.tag] = append(byTag[in.tag], op)
		}
		tags := make([]string, 0, len(byTag))
		for t := range byTag {
			tags = append(tags, t)
		}
		sort.Strings(tags)
		out := make([][]porcupine.Operation, 0, len(tags))
		for _, t := range tags {
			out = append(out, byTag[t])
		}
		return out
	},
	Init: func() any { return stAbsent },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(string), input.(opInput), output.(string)
		switch in.kind {
		case opSubmit:
			// Each tag is submitted once; an unanswered submission may
			// take effect at any point after its call.
			return st == stAbsent, stOpen
		case opRead:
			return out == st, st
		case opCancel:
			if st == stAbsent {
				return false, st
			}
			return out == outUnknown || out == stCancelled, stCancelled
		}
		return false, st
	},
	DescribeOperation: func(input, output any) string {
		in := input.(opInput)
		return fmt.Sprintf("%s(%s) → %v", []string{"submit", "read", "cancel"}[in.kind], in.tag, output)
	},
}

// history records operations with times relative to its start.
type history struct {
	start time.Time
	mu    sync.Mutex
	ops   []porcupine.Operation
}

// never is the return time of an operation whose outcome is unknown: it
// may be linearised anywhere after its call.
const never = int64(1) << 62

func (h *history) now() int64 { return int64(time.Since(h.start)) }

func (h *history) add(client int, in opInput, call int64, out string, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}

// worker is one concurrent API client of the test.
type worker struct {
	id    int
	c     *client.Client
	h     *history
	rng   *rand.Rand
	model client.Model
	acked map[string]string // tag → order id, submissions that were answered
	seq   int
	stats *opStats
}

type opStats struct {
	acked, failed, reads atomic.Int64
}

func (w *worker) step(ctx context.Context) {
	r := w.rng.IntN(100)
	switch {
	case r < 40 || len(w.acked) == 0:
		w.submit(ctx)
	case r < 60:
		w.list(ctx)
	case r < 80:
		w.get(ctx)
	default:
		w.cancel(ctx)
	}
}

func (w *worker) pick() (tag, id string) {
	tags := make([]string, 0, len(w.acked))
	for t := range w.acked {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	tag = tags[w.rng.IntN(len(tags))]
	return tag, w.acked[tag]
}

func (w *worker) submit(ctx context.Context) {
	w.seq++
	tag := fmt.Sprintf("t%d-%d", w.id, w.seq)
	call := w.h.now()
	o, err := w.c.SubmitOrder(ctx, w.model, client.OrderRequest{Quantity: 1, Material: "PLA", PickupNote: tag})
	if err != nil {
		w.stats.failed.Add(1)
		w.h.add(w.id, opInput{opSubmit, tag}, call, outUnknown, never)
		return
	}
	w.stats.acked.Add(1)
	w.acked[tag] = o.ID
	w.h.add(w.id, opInput{opSubmit, tag}, call, stOpen, w.h.now())
}

func (w *worker) get(ctx context.Context) {
	tag, id := w.pick()
	call := w.h.now()
	o, err := w.c.GetOrder(ctx, id, true)
	ret := w.h.now()
	switch {
	case client.IsCode(err, api.CodeNotFound):
		w.h.add(w.id, opInput{opRead, tag}, call, stAbsent, ret)
	case err != nil:
		// A failed read changed nothing: it is left out of the history.
	default:
		w.stats.reads.Add(1)
		w.h.add(w.id, opInput{opRead, tag}, call, o.State, ret)
	}
}

func (w *worker) list(ctx context.Context) {
	call := w.h.now()
	orders, err := w.c.ListOrders(ctx, true)
	ret := w.h.now()
	if err != nil {
		return
	}
	w.stats.reads.Add(1)
	seen := map[string]string{}
	for _, o := range orders {
		if _, dup := seen[o.PickupNote]; dup {
			seen[o.PickupNote] = stDuplicate
			continue
		}
		seen[o.PickupNote] = o.State
	}
	// One read per tag this list could speak of: every tag whose
	// submission started before the list returned (others it cannot
	// have seen, and they would only grow the history).
	for _, tag := range w.h.tagsCalledBefore(ret) {
		st, ok := seen[tag]
		if !ok {
			st = stAbsent
		}
		w.h.add(w.id, opInput{opRead, tag}, call, st, ret)
	}
}

func (h *history) tagsCalledBefore(t int64) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var tags []string
	for _, op := range h.ops {
		if in := op.Input.(opInput); in.kind == opSubmit && op.Call <= t {
			tags = append(tags, in.tag)
		}
	}
	return tags
}

func (w *worker) cancel(ctx context.Context) {
	tag, id := w.pick()
	call := w.h.now()
	o, err := w.c.CancelOrder(ctx, id)
	if err != nil {
		w.stats.failed.Add(1)
		w.h.add(w.id, opInput{opCancel, tag}, call, outUnknown, never)
		return
	}
	w.h.add(w.id, opInput{opCancel, tag}, call, o.State, w.h.now())
}

// TestOrderAPILinearizable runs concurrent clients against three-node
// clusters while faults happen one after the other — over raft's
// in-memory transport: the leader is cut off (a minority of one) and
// healed, a follower is cut off and healed, the leader is killed; over
// loopback TCP with data dirs: the leader is killed, restarted from its
// data dir, and the next leader killed. The recorded history must be
// linearizable, and every acknowledged order must be on every running
// node (the restarted one included).
//
// FABGRID_SOAK=1 repeats each schedule three times with more clients.
func TestOrderAPILinearizable(t *testing.T) {
	clients, perPhase, rounds := 6, int64(25), 1
	if os.Getenv("FABGRID_SOAK") == "1" {
		clients, perPhase, rounds = 16, 200, 3
		phaseTimeout = 90 * time.Second
	}
	if testing.Short() {
		perPhase = 10
	}
	for round := range rounds {
		t.Run(fmt.Sprintf("partitions/round%d", round), func(t *testing.T) {
			runLinearizability(t, clients, perPhase, uint64(round), false)
		})
		t.Run(fmt.Sprintf("tcp-kill-restart/round%d", round), func(t *testing.T) {
			runLinearizability(t, clients, perPhase, uint64(round), true)
		})
	}
}

// phaseTimeout bounds each phase of the fault schedule.
var phaseTimeout = 30 * time.Second

// runLinearizability runs one fault schedule. With tcp, raft runs over
// loopback TCP with data dirs, where partitions are not available: the
// leader is killed, restarted from its data dir (it must catch up), and
// the next leader killed. Without, raft runs over the in-memory transport:
// the leader is cut off and healed, a follower is cut off and healed, and
// the leader is killed.
func runLinearizability(t *testing.T, nClients int, perPhase int64, seed uint64, tcp bool) {
	cl := coordinatortest.Start(t, 3, coordinatortest.Options{Inmem: !tcp})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin := newClient(t, cl, cl.AdminToken)
	cc, err := admin.CreateCommunity(ctx, "lin", 1)
	if err != nil {
		t.Fatal(err)
	}
	model := client.BytesModel("cube.stl", coordinatortest.CubeSTL(20, 20, 10))

	h := &history{start: time.Now()}
	stats := &opStats{}
	var wg sync.WaitGroup
	for i := range nClients {
		w := &worker{id: i, c: newClient(t, cl, cc.Token), h: h, rng: rand.New(rand.NewPCG(seed, uint64(i))),
			model: model, acked: map[string]string{}, stats: stats}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				w.step(ctx)
			}
		}()
	}
	stopClients := func() {
		cancel()
		wg.Wait()
	}
	defer stopClients()

	// progress waits until perPhase more submissions were acknowledged.
	progress := func(what string) {
		t.Helper()
		target := stats.acked.Load() + perPhase
		deadline := time.Now().Add(phaseTimeout)
		for stats.acked.Load() < target {
			if time.Now().After(deadline) {
				var roles []string
				for _, n := range cl.Nodes {
					if n != nil {
						roles = append(roles, fmt.Sprintf("%s:%s", n.ID(), n.Raft().State()))
					}
				}
				t.Fatalf("timed out after %v waiting for %s: %d of %d submissions acknowledged, %d calls without an answer; nodes %v",
					phaseTimeout, what, stats.acked.Load(), target, stats.failed.Load(), roles)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	progress("orders before any fault")
	if tcp {
		l := cl.LeaderIndex(5 * time.Second)
		t.Logf("killing the leader c%d", l+1)
		cl.Kill(l)
		progress("orders after the leader was killed")
		t.Logf("restarting c%d from its data dir", l+1)
		cl.Restart(l)
		progress("orders after the restart")
		l = cl.LeaderIndex(5 * time.Second)
		t.Logf("killing the leader c%d", l+1)
		cl.Kill(l)
		progress("orders after the second leader was killed")
	} else {
		partitionSchedule(t, cl, progress)
	}
	stopClients()
	checkHistory(t, cl, h, stats)
}

// partitionSchedule cuts off the leader, heals, cuts off a follower,
// heals, and kills the leader, letting the clients progress in between.
func partitionSchedule(t *testing.T, cl *coordinatortest.Cluster, progress func(string)) {
	t.Helper()
	l := cl.LeaderIndex(5 * time.Second)
	t.Logf("partitioning the leader c%d away", l+1)
	cl.Partition(l)
	coordinatortest.WaitFor(t, 10*time.Second, "a new leader in the majority", func() bool {
		for i, n := range cl.Nodes {
			if i != l && n != nil && n.IsLeader() {
				return true
			}
		}
		return false
	})
	progress("orders while the old leader is cut off")
	cl.Heal(l)
	progress("orders after healing")

	l = cl.LeaderIndex(5 * time.Second)
	f := (l + 1) % 3
	t.Logf("partitioning follower c%d away", f+1)
	cl.Partition(f)
	progress("orders while a follower is cut off")
	cl.Heal(f)

	l = cl.LeaderIndex(5 * time.Second)
	t.Logf("killing the leader c%d", l+1)
	cl.Kill(l)
	progress("orders after the leader was killed")
}

func checkHistory(t *testing.T, cl *coordinatortest.Cluster, h *history, stats *opStats) {
	t.Helper()
	t.Logf("%d submissions acknowledged, %d calls without an answer, %d reads, %d operations recorded",
		stats.acked.Load(), stats.failed.Load(), stats.reads.Load(), len(h.ops))
	res, info := porcupine.CheckOperationsVerbose(orderModel, h.ops, 30*time.Second)
	if res != porcupine.Ok {
		if path := os.Getenv("FABGRID_PORCUPINE_HTML"); path != "" {
			if f, err := os.Create(path); err == nil {
				_ = porcupine.Visualize(orderModel, info, f)
				f.Close()
			}
		}
		t.Fatalf("order API history is not linearizable: %s (set FABGRID_PORCUPINE_HTML=/tmp/x.html for a picture)", res)
	}

	// Never lost: every acknowledged order is on every surviving node.
	leader := cl.WaitLeader(5 * time.Second)
	cl.WaitApplied(leader.FSM().Index(), 10*time.Second)
	acked := map[string]bool{}
	for _, op := range h.ops {
		if in := op.Input.(opInput); in.kind == opSubmit && op.Output == stOpen {
			acked[in.tag] = true
		}
	}
	for _, n := range cl.Nodes {
		if n == nil {
			continue
		}
		have := map[string]bool{}
		n.FSM().View(func(s *fsm.State) {
			for _, o := range s.Orders {
				have[o.PickupNote] = true
			}
		})
		var missing []string
		for tag := range acked {
			if !have[tag] {
				missing = append(missing, tag)
			}
		}
		if len(missing) > 0 {
			t.Errorf("node %s lost acknowledged orders %s", n.ID(), strings.Join(missing, ", "))
		}
	}
}

// newClient is an API client for every node of the cluster.
func newClient(t testing.TB, cl *coordinatortest.Cluster, token string) *client.Client {
	t.Helper()
	var urls []string
	for _, n := range cl.Nodes {
		if n != nil {
			urls = append(urls, n.URL())
		}
	}
	c, err := client.New(urls, client.Options{Token: token, Timeout: 5 * time.Second, Attempts: 6,
		BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, TLS: coordinatortest.ClientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
