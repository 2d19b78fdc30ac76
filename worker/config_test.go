package worker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8750", true},
		{"127.0.0.2:0", true},
		{"[::1]:8750", true},
		{"localhost:8750", true},
		{"0.0.0.0:8750", false},
		{":8750", false},
		{"192.168.1.5:8750", false},
		{"example.com:8750", false},
		{"127.0.0.1", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			if err := CheckLoopback(tc.addr); (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestStoreAtomicAndStable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Load()
	if err != nil || !strings.HasPrefix(p.WorkerID, "w-") || len(p.WorkerID) != 18 {
		t.Fatalf("fresh state %+v, %v", p, err)
	}
	again, err := st.Load()
	if err != nil || again.WorkerID != p.WorkerID {
		t.Fatalf("id not stable: %q then %q", p.WorkerID, again.WorkerID)
	}
	p.InFlight = &InFlight{JobID: "j-1", Epoch: 9, Printing: true}
	if err := st.Save(p); err != nil {
		t.Fatal(err)
	}
	back, err := st.Load()
	if err != nil || back.InFlight == nil || *back.InFlight != *p.InFlight {
		t.Fatalf("round trip %+v, %v", back, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	if err := os.WriteFile(st.Path(), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(); !errors.Is(err, ErrState) {
		t.Fatalf("corrupt file: %v", err)
	}
}
