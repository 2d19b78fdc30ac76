package coordinator

import (
	"testing"

	"github.com/hashicorp/raft"
)

func TestExposedInClear(t *testing.T) {
	_, inmem := raft.NewInmemTransport("")
	for _, tc := range []struct {
		name string
		cfg  Config
		want bool
	}{
		{"loopback", Config{HTTPAddr: "127.0.0.1:8740", RaftAddr: "127.0.0.1:8741"}, false},
		{"localhost and ::1", Config{HTTPAddr: "localhost:8740", RaftAddr: "[::1]:8741"}, false},
		{"LAN HTTP", Config{HTTPAddr: "192.168.1.5:8740", RaftAddr: "127.0.0.1:8741", Insecure: true}, true},
		{"LAN raft", Config{HTTPAddr: "127.0.0.1:8740", RaftAddr: "192.168.1.5:8741", Insecure: true}, true},
		{"LAN raft address unused with a transport", Config{HTTPAddr: "127.0.0.1:8740", RaftAddr: "192.168.1.5:8741", Transport: inmem}, false},
		{"LAN with TLS", Config{HTTPAddr: "192.168.1.5:8740", RaftAddr: "192.168.1.5:8741", TLS: &TLS{}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.exposedInClear(); got != tc.want {
				t.Fatalf("exposedInClear = %v, want %v", got, tc.want)
			}
			n := &Node{cfg: tc.cfg}
			if got := n.healthWarning() != ""; got != tc.want {
				t.Fatalf("health warning %q", n.healthWarning())
			}
		})
	}
}
