package sim

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// monitor samples the cluster while a scenario runs: leader changes and
// leaderless gaps (failovers), and, from the leader's state, whether any
// printer holds two active jobs at once.
type monitor struct {
	mu       sync.Mutex
	leader   int
	gapStart time.Time
	changes  int
	gaps     []time.Duration
	doubles  []string
	samples  int
}

func (m *monitor) run(ctx context.Context, s *Sim) {
	m.mu.Lock()
	m.leader = s.Cluster.LeaderIndex()
	m.mu.Unlock()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		li := s.Cluster.LeaderIndex()
		m.mu.Lock()
		switch {
		case li < 0 && m.leader >= 0:
			m.gapStart = time.Now()
			m.leader = -1
		case li >= 0 && m.leader < 0:
			if !m.gapStart.IsZero() {
				m.gaps = append(m.gaps, time.Since(m.gapStart))
			}
			m.changes++
			m.leader = li
		case li >= 0 && li != m.leader:
			m.changes++
			m.leader = li
		}
		m.mu.Unlock()
		if k%5 == 0 && li >= 0 {
			if n := s.Cluster.Node(li); n != nil {
				m.checkDoubles(n)
			}
		}
	}
}

// checkDoubles records printers the leader's state shows with two active
// jobs.
func (m *monitor) checkDoubles(n *coordinator.Node) {
	var bad []string
	idx := n.FSM().Index()
	n.FSM().View(func(st *fsm.State) {
		active := map[string][]string{}
		for _, j := range st.Jobs {
			if j.Active() && j.WorkerID != "" {
				active[j.WorkerID] = append(active[j.WorkerID], j.ID)
			}
		}
		for p, js := range active {
			if len(js) > 1 {
				sort.Strings(js)
				bad = append(bad, fmt.Sprintf("printer %s holds %v at index ~%d", p, js, idx))
			}
		}
	})
	m.mu.Lock()
	m.samples++
	if len(m.doubles) < 20 {
		m.doubles = append(m.doubles, bad...)
	}
	m.mu.Unlock()
}

func (m *monitor) result() (changes int, gaps []time.Duration, doubles []string, samples int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changes, append([]time.Duration(nil), m.gaps...), append([]string(nil), m.doubles...), m.samples
}
