package coordinator_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// copyDir copies the tree at src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStartsOnTheDataDirOfFormat1 starts a coordinator on a data dir the
// code of snapshot format 1 wrote (testdata/datadir-v1/README.md) and
// finds every order and model in it, the model bytes served whole.
func TestStartsOnTheDataDirOfFormat1(t *testing.T) {
	var want struct {
		AdminToken string            `json:"admin_token"`
		Orders     map[string]string `json:"orders"`
		Models     map[string]int64  `json:"models"`
	}
	b, err := os.ReadFile("testdata/datadir-v1/want.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyDir(t, "testdata/datadir-v1/data", dir)
	cfg := coordinator.Config{NodeID: "c1", DataDir: dir, HTTPAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0"}
	coordinatortest.FastTimings(&cfg)
	n, err := coordinator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { n.Close() }()
	coordinatortest.WaitFor(t, 10*time.Second, "the node to lead and apply its log", func() bool {
		found := 0
		n.FSM().View(func(s *fsm.State) { found = len(s.Orders) })
		return n.IsLeader() && found == len(want.Orders)
	})
	n.FSM().View(func(s *fsm.State) {
		for id, sha := range want.Orders {
			if o := s.Orders[id]; o == nil || o.ModelSHA256 != sha {
				t.Errorf("order %s: %+v, want model %s", id, o, sha)
			}
		}
		if len(s.Models) != len(want.Models) {
			t.Errorf("%d models, want %d", len(s.Models), len(want.Models))
		}
	})
	// The log moved from raft.db into the WAL; the models went to the
	// model store. A second start finds it all again.
	if _, err := os.Stat(filepath.Join(dir, "wal")); err != nil {
		t.Fatalf("no wal after the first start: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err = coordinator.New(cfg); err != nil {
		t.Fatal(err)
	}
	coordinatortest.WaitFor(t, 10*time.Second, "the restarted node to lead and apply its log", func() bool {
		found := 0
		n.FSM().View(func(s *fsm.State) { found = len(s.Orders) })
		return n.IsLeader() && found == len(want.Orders)
	})
	for sha := range want.Models {
		if _, err := os.Stat(filepath.Join(dir, "models", sha)); err != nil {
			t.Errorf("model %s not in the model store: %v", sha, err)
		}
	}
	for sha, size := range want.Models {
		req, _ := http.NewRequest(http.MethodGet, n.URL()+"/v1/models/"+sha, nil)
		req.Header.Set("Authorization", "Bearer "+want.AdminToken)
		resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha256.Sum256(body)
		if resp.StatusCode != http.StatusOK || int64(len(body)) != size || hex.EncodeToString(sum[:]) != sha {
			t.Errorf("model %s: status %d, %d bytes, want %d bytes of that hash", sha, resp.StatusCode, len(body), size)
		}
	}
}
