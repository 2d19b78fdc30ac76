package fsm

import (
	"fmt"
	"testing"
)

// stateWith returns an FSM holding n one-copy orders of one stored model.
func stateWith(b *testing.B, n int) *Machine {
	b.Helper()
	f := New(Options{})
	lb := &logBuilder{}
	lb.add(communityCmd("makers"))
	lb.add(orderCmd("o-0", "makers", 1, true))
	for i := 1; i < n; i++ {
		lb.add(orderCmd(fmt.Sprintf("o-%d", i), "makers", 1, false))
	}
	for i, c := range lb.cmds {
		if r := f.ApplyCommand(uint64(i+1), c); r.Err != nil {
			b.Fatal(r.Err)
		}
	}
	return f
}

// BenchmarkApplyOrder is the FSM's share of an order: decoding the log
// entry and applying it (every node does this for every order). "binary"
// is the order's log form; "json" the form older logs hold; "batch-64"
// is per order of a batch of 64.
//
//	go test ./coordinator/fsm -run '^$' -bench 'ApplyOrder|SnapshotCut'
func BenchmarkApplyOrder(b *testing.B) {
	for _, form := range []string{"binary", "json", "batch-64"} {
		b.Run(form, func(b *testing.B) {
			f := stateWith(b, 1)
			cmds := make([][]byte, b.N)
			for i := range cmds {
				c := orderCmd(fmt.Sprintf("o-b%d", i), "makers", 1, false)
				c.V, c.Time = CommandVersion, int64(i)
				if form == "json" {
					cmds[i], _ = encodeJSON(c)
				} else {
					cmds[i], _ = EncodeCommand(c)
				}
			}
			if form == "batch-64" {
				var batches [][]byte
				for i := 0; i < len(cmds); i += 64 {
					batches = append(batches, EncodeBatch(cmds[i:min(i+64, len(cmds))]))
				}
				cmds = batches
			}
			b.ResetTimer()
			for i, data := range cmds {
				f.ApplyEntry(uint64(i+10), data)
			}
		})
	}
}

// BenchmarkSnapshotCut is how long Apply waits while a snapshot is cut
// (the state is encoded under the read lock; model bytes are not copied).
func BenchmarkSnapshotCut(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			f := stateWith(b, n)
			b.ResetTimer()
			for range b.N {
				f.Snapshot()
			}
		})
	}
}
