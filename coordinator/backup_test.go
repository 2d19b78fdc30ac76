package coordinator_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

func saveSnapshot(t *testing.T, url, token string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/v1/cluster/snapshot", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("save: %d %v %.200s", resp.StatusCode, err, b)
	}
	return b
}

func restoreSnapshot(url, token string, file []byte) (int, []byte) {
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/cluster/snapshot", bytes.NewReader(file))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// what a backup must carry over: the orders, jobs, communities and
// models, with the models' bytes.
type carried struct {
	Orders      map[string]*fsm.Order
	Jobs        map[string]*fsm.Job
	Communities map[string]*fsm.Community
	Models      map[string]*fsm.Model
}

func carriedOf(n *coordinator.Node) (carried, map[string][]byte) {
	var c carried
	n.FSM().View(func(s *fsm.State) {
		js, _ := json.Marshal(struct {
			Orders      map[string]*fsm.Order     `json:"o"`
			Jobs        map[string]*fsm.Job       `json:"j"`
			Communities map[string]*fsm.Community `json:"c"`
			Models      map[string]*fsm.Model     `json:"m"`
		}{s.Orders, s.Jobs, s.Communities, s.Models})
		var v struct {
			Orders      map[string]*fsm.Order     `json:"o"`
			Jobs        map[string]*fsm.Job       `json:"j"`
			Communities map[string]*fsm.Community `json:"c"`
			Models      map[string]*fsm.Model     `json:"m"`
		}
		_ = json.Unmarshal(js, &v)
		c = carried(v)
	})
	bytesOf := map[string][]byte{}
	for sha := range c.Models {
		bytesOf[sha], _ = n.FSM().Model(sha)
	}
	return c, bytesOf
}

func TestSnapshotSaveAndRestoreIntoAFreshCluster(t *testing.T) {
	small := func(_ int, cfg *coordinator.Config) { cfg.ModelChunkSize = 4 << 10 }
	a := coordinatortest.Start(t, 3, coordinatortest.Options{Configure: small})
	la := a.LeaderIndex(5 * time.Second)
	tok := newCommunity(t, a, a.Nodes[la].URL(), "elm")
	for i := range 5 {
		submit(t, a.Nodes[la].URL(), tok, towers(1+5*i, float64(2+i)), 1+i%2, "PLA")
	}
	mustDo(t, http.StatusOK, "DELETE", a.Nodes[la].URL()+"/v1/orders/"+submit(t, a.Nodes[la].URL(), tok, towers(2, 9), 1, "PETG").ID, tok, nil, nil)
	want, wantBytes := carriedOf(a.Nodes[la])

	// Saved through a follower: the leader takes it.
	file := saveSnapshot(t, a.Nodes[(la+1)%3].URL(), a.AdminToken)
	info, err := coordinator.InspectBackup(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if info.Snapshot.Orders != len(want.Orders) || info.Snapshot.Models != len(want.Models) || info.Snapshot.Referenced != 0 ||
		info.Size != int64(len(file)) || len(info.Servers) != 3 || info.Index == 0 || info.Term == 0 || info.Snapshot.Version != fsm.SnapshotVersion {
		t.Fatalf("inspect: %+v", info)
	}
	a.Close()

	b := coordinatortest.Start(t, 3, coordinatortest.Options{Configure: small})
	lb := b.LeaderIndex(5 * time.Second)
	follower := b.Nodes[(lb+1)%3].URL()
	// A damaged or cut file is refused and changes nothing.
	flipped := bytes.Clone(file)
	flipped[len(flipped)-100] ^= 1
	for name, bad := range map[string][]byte{"flipped": flipped, "cut": file[:len(file)-40], "empty": nil} {
		if code, body := restoreSnapshot(follower, b.AdminToken, bad); code != http.StatusBadRequest || !bytes.Contains(body, []byte("nothing was restored")) {
			t.Fatalf("%s file: %d %s", name, code, body)
		}
	}
	if got, _ := carriedOf(b.Nodes[lb]); len(got.Orders) != 0 {
		t.Fatal("a refused restore changed the state")
	}
	if code, _ := restoreSnapshot(follower, "fgA_wrong", file); code != http.StatusUnauthorized {
		t.Fatalf("restore with a wrong token: %d", code)
	}

	code, body := restoreSnapshot(follower, b.AdminToken, file)
	if code != http.StatusOK {
		t.Fatalf("restore: %d %s", code, body)
	}
	leader := b.WaitLeader(10 * time.Second)
	coordinatortest.WaitFor(t, 20*time.Second, "every node to have the restored state", func() bool {
		for _, n := range b.Nodes {
			if n.FSM().Index() < leader.FSM().Index() {
				return false
			}
		}
		return true
	})
	for _, n := range b.Nodes {
		got, gotBytes := carriedOf(n)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: restored orders, jobs, communities or models differ", n.ID())
		}
		for sha, m := range wantBytes {
			if !bytes.Equal(gotBytes[sha], m) {
				t.Errorf("%s: model %s differs", n.ID(), sha)
			}
		}
	}
	// Each node keeps the snapshot it restored or was sent in its own
	// form: the state, its models referred to in the model store.
	var modelBytes int64
	for _, m := range wantBytes {
		modelBytes += int64(len(m))
	}
	for i := range b.Nodes {
		snaps, _ := filepath.Glob(filepath.Join(b.Configs[i].DataDir, "snapshots", "*", "state.bin"))
		if len(snaps) == 0 {
			t.Fatalf("%s has no snapshot after the restore", b.Nodes[i].ID())
		}
		for _, p := range snaps {
			if st, err := os.Stat(p); err != nil || st.Size() >= modelBytes {
				t.Fatalf("%s: snapshot %s of %d bytes for %d bytes of models (%v)", b.Nodes[i].ID(), p, st.Size(), modelBytes, err)
			}
		}
	}
	// The new cluster keeps its own addresses and tokens: a write
	// through a follower with its admin token reaches the leader.
	newCommunity(t, b, follower, "after-restore")
	// And the backup's community token works there.
	o := submit(t, follower, tok, towers(3, 3), 1, "PLA")
	if o.Community != "elm" {
		t.Fatalf("order after restore: %+v", o)
	}
}

func TestInspectRefusesWhatIsNotABackup(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":     nil,
		"other":     []byte("PK\x03\x04 a zip file"),
		"no meta":   []byte("FGBACKUP1\n\x00\x00\x00\x02{}"),
		"huge meta": []byte("FGBACKUP1\n\xff\xff\xff\xff"),
	} {
		if _, err := coordinator.InspectBackup(bytes.NewReader(b)); !errors.Is(err, coordinator.ErrBadBackup) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzInspectBackup(f *testing.F) {
	f.Add([]byte("FGBACKUP1\n\x00\x00\x00\x02{}"))
	f.Add([]byte("FGBACKUP1\n\x00\x00\x00\x0c{\"Size\":100}FGSNAP2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// Whatever the file, inspect answers without panicking, and what
		// it passes describes the whole file.
		info, err := coordinator.InspectBackup(bytes.NewReader(b))
		if err == nil && info.Size != int64(len(b)) {
			t.Fatalf("passed with size %d of %d", info.Size, len(b))
		}
	})
}
