package coordinator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// towers is an STL of k boxes side by side (12k triangles, 84+600k
// bytes): a model as large as needed, different for every k and h.
func towers(k int, h float64) []byte {
	out := make([]byte, 84)
	n := uint32(12 * k)
	out[80], out[81], out[82], out[83] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	for i := range k {
		out = append(out, coordinatortest.CubeSTL(float64(1+i), 10, h)[84:]...)
	}
	return out
}

func TestDiskModels(t *testing.T) {
	dir := t.TempDir()
	// A crash left a temporary file: opening the store removes it.
	if err := os.WriteFile(filepath.Join(dir, ".tmp-0123-45"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := coordinator.OpenDiskModels(dir)
	if err != nil {
		t.Fatal(err)
	}
	model := towers(3, 5)
	sum := hexSum(model)
	for _, tc := range []struct {
		name  string
		sha   string
		bytes []byte
	}{
		{"short", sum, model[:10]},
		{"wrong hash", hexSum([]byte("x")), model},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := fsm.PutModel(d, tc.sha, tc.bytes); err == nil {
				t.Fatal("stored")
			}
			if _, err := d.Open(tc.sha); !errors.Is(err, fsm.ErrNoModel) {
				t.Fatalf("open after a refused write: %v", err)
			}
		})
	}
	w, err := d.Create(sum, int64(len(model)))
	if err != nil {
		t.Fatal(err)
	}
	w.Write(model[:100])
	w.Abort()
	if err := fsm.PutModel(d, sum, model); err != nil {
		t.Fatal(err)
	}
	// Held already: written again without a new file.
	if err := fsm.PutModel(d, sum, model); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != sum {
		t.Fatalf("store dir holds %v, want the one model file", ents)
	}
	f, err := d.Open(sum)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, model) {
		t.Fatal("model read back differs")
	}
	for _, bad := range []string{"../raft.db", sum[:63] + "G", ""} {
		if _, err := d.Open(bad); !errors.Is(err, fsm.ErrNoModel) {
			t.Fatalf("open %q: %v", bad, err)
		}
	}
}

// Models live in the data dir, not in the snapshots; a node that
// catches up from a snapshot gets each model file, and a model is
// served from disk, in parts when asked.
func TestModelsOnDiskAcrossSnapshotAndRestart(t *testing.T) {
	c := coordinatortest.Start(t, 3, coordinatortest.Options{Configure: func(_ int, cfg *coordinator.Config) {
		cfg.SnapshotThreshold, cfg.TrailingLogs = 8, 2
		cfg.ModelChunkSize = 4 << 10 // the larger models travel in chunks
	}})
	li := c.LeaderIndex(5 * time.Second)
	u := c.Nodes[li].URL()
	tok := newCommunity(t, c, u, "makers")
	victim := (li + 1) % 3
	c.Stop(victim)
	models := map[string][]byte{}
	var total int64
	for i := range 6 {
		m := towers(1+i*4, float64(1+i)) // 684 B to 12.7 KiB
		models[hexSum(m)] = m
		total += int64(len(m))
		submit(t, u, tok, m, 1, "PLA")
	}
	leader := c.Nodes[li]
	if err := leader.Raft().Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	// The leader's snapshot holds the state, not the models again.
	small := func(i int) {
		t.Helper()
		snaps, _ := filepath.Glob(filepath.Join(c.Configs[i].DataDir, "snapshots", "*", "state.bin"))
		for _, p := range snaps {
			if st, err := os.Stat(p); err != nil || st.Size() >= total {
				t.Fatalf("snapshot %s: %d bytes for %d bytes of models (%v)", p, st.Size(), total, err)
			}
		}
	}
	small(li)
	n := c.Restart(victim)
	coordinatortest.WaitFor(t, 15*time.Second, "catch-up from the snapshot", func() bool {
		return n.FSM().Index() >= leader.FSM().Index()
	})
	check := func(i int) {
		t.Helper()
		for sha, m := range models {
			b, err := os.ReadFile(filepath.Join(c.Configs[i].DataDir, "models", sha))
			if err != nil || !bytes.Equal(b, m) {
				t.Fatalf("node %d: model file %s: %v", i, sha, err)
			}
		}
	}
	check(victim)
	// A snapshot it was sent, with every model, is kept as this node
	// would have written it: the state and references
	// (TestSnapshotSaveAndRestoreIntoAFreshCluster checks it always).
	small(victim)
	// Restarted, the leader restores its snapshot's references.
	c.Stop(li)
	c.Restart(li)
	check(li)
	lead := c.WaitLeader(10 * time.Second)
	coordinatortest.WaitFor(t, 10*time.Second, "every node to catch up", func() bool {
		for _, x := range c.Nodes {
			if x.FSM().Index() < lead.FSM().Index() {
				return false
			}
		}
		return true
	})
	for _, x := range c.Nodes {
		if !bytes.Equal(x.FSM().SnapshotBytes(), lead.FSM().SnapshotBytes()) {
			t.Fatalf("%s differs from the leader", x.ID())
		}
	}

	// Range requests on the model endpoint.
	var sha string
	for sha = range models {
		break
	}
	m := models[sha]
	for _, tc := range []struct {
		rng    string
		status int
		want   []byte
	}{
		{"", http.StatusOK, m},
		{"bytes=10-19", http.StatusPartialContent, m[10:20]},
		{fmt.Sprintf("bytes=%d-", len(m)-5), http.StatusPartialContent, m[len(m)-5:]},
		{fmt.Sprintf("bytes=%d-", len(m)+5), http.StatusRequestedRangeNotSatisfiable, nil},
	} {
		req, _ := http.NewRequest(http.MethodGet, n.URL()+"/v1/models/"+sha, nil)
		req.Header.Set("Authorization", "Bearer "+c.WorkerToken)
		if tc.rng != "" {
			req.Header.Set("Range", tc.rng)
		}
		resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || tc.want != nil && !bytes.Equal(b, tc.want) {
			t.Errorf("Range %q: %d, %d bytes; want %d, %d bytes", tc.rng, resp.StatusCode, len(b), tc.status, len(tc.want))
		}
	}
}
