package coordinator_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/pki"
	"github.com/hashicorp/raft"
)

// attackerLayer is a raft stream layer that dials with any TLS settings
// and accepts no server certificate check: the attacker's side.
type attackerLayer struct {
	net.Listener
	conf *tls.Config // nil: plain TCP
}

func (a *attackerLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if a.conf == nil {
		return d.Dial("tcp", string(addr))
	}
	return tls.DialWithDialer(d, "tcp", string(addr), a.conf)
}

func attackerTransport(t *testing.T, conf *tls.Config) *raft.NetworkTransport {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := raft.NewNetworkTransport(&attackerLayer{Listener: ln, conf: conf}, 1, 3*time.Second, io.Discard)
	t.Cleanup(func() { tr.Close() })
	return tr
}

// attackerTLS presents cert (if any) and trusts whatever the server shows.
func attackerTLS(cert *tls.Certificate) *tls.Config {
	c := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

// raftView is what an attack on raft must leave as it was.
type raftView struct {
	leader string
	terms  []uint64
	last   []uint64
}

// viewRaft waits until every node has the leader's whole log, then
// reads the leader, terms and last indexes.
func viewRaft(t *testing.T, c *coordinatortest.Cluster) raftView {
	t.Helper()
	l := c.WaitLeader(5 * time.Second)
	coordinatortest.WaitFor(t, 5*time.Second, "every node to have the leader's log", func() bool {
		for _, n := range c.Nodes {
			if n.Raft().LastIndex() != l.Raft().LastIndex() {
				return false
			}
		}
		return true
	})
	v := raftView{leader: l.ID()}
	for _, n := range c.Nodes {
		v.terms = append(v.terms, n.Raft().CurrentTerm())
		v.last = append(v.last, n.Raft().LastIndex())
	}
	return v
}

// takeOver sends node the AppendEntries of an attacker who read its term
// and last index (from /v1/health and /metrics): a higher term, which
// deposes a leader, and an entry planting an admin token.
func takeOver(tr *raft.NetworkTransport, node *coordinator.Node) (raft.AppendEntriesResponse, error) {
	term, last := node.Raft().CurrentTerm(), node.Raft().LastIndex()
	req := &raft.AppendEntriesRequest{
		RPCHeader:         raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("c9"), Addr: []byte(tr.LocalAddr())},
		Term:              term + 1,
		PrevLogEntry:      last,
		PrevLogTerm:       term,
		Entries:           []*raft.Log{{Index: last + 1, Term: term + 1, Type: raft.LogCommand, Data: []byte(`{"v":1,"type":"add_admin_token"}`)}},
		LeaderCommitIndex: last + 1,
	}
	var resp raft.AppendEntriesResponse
	err := tr.AppendEntries(raft.ServerID(node.ID()), raft.ServerAddress(node.RaftAddr()), req, &resp)
	return resp, err
}

// TestRaftTakeOverWorksInTheClear shows the attack of the next test is
// real: sent over plain TCP to a node without TLS, it is heard and the
// leader is deposed.
func TestRaftTakeOverWorksInTheClear(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Plaintext: true})
	n := c.WaitLeader(5 * time.Second)
	term := n.Raft().CurrentTerm()
	if _, err := takeOver(attackerTransport(t, nil), n); err != nil {
		t.Fatalf("the attack failed on a plaintext node: %v", err)
	}
	if n.Raft().CurrentTerm() <= term {
		t.Fatalf("term %d, was %d: the attack was not heard", n.Raft().CurrentTerm(), term)
	}
}

// TestRaftRefusesPeersWithoutACoordinatorCertificate sends AppendEntries
// RPCs that would depose the leader (a higher term) and plant an entry,
// to the leader and to a follower, over plain TCP and over TLS with
// certificates the cluster must not accept. Each is refused before raft
// reads it and changes nothing: same leader, terms and last indexes. A
// coordinator certificate of the cluster CA, sending a stale RPC that
// changes nothing either, gets raft's answer: the attack path reaches
// raft when the certificate is right.
func TestRaftRefusesPeersWithoutACoordinatorCertificate(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 3)
	other, err := pki.NewCA("another CA", time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	foreign := coordinatortest.IssueTLS(t, other, "c9")
	// Signed by the cluster CA but without the coordinator role.
	noRolePEM, noRoleKey, err := coordinatortest.CA().Issue(pki.CertRequest{Node: "w1", Roles: []string{"fabgrid:worker"}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	noRole, err := tls.X509KeyPair(noRolePEM, noRoleKey)
	if err != nil {
		t.Fatal(err)
	}
	member := coordinatortest.NodeTLS(t, "c9")

	cases := []struct {
		name string
		conf *tls.Config
	}{
		{"plain TCP", nil},
		{"TLS without a certificate", attackerTLS(nil)},
		{"certificate of another CA", attackerTLS(&foreign.Cert)},
		{"cluster CA certificate without the coordinator role", attackerTLS(&noRole)},
	}
	li := c.LeaderIndex(5 * time.Second)
	for _, target := range []struct {
		name string
		i    int
	}{{"leader", li}, {"follower", (li + 1) % 3}} {
		for _, tc := range cases {
			t.Run(target.name+"/"+tc.name, func(t *testing.T) {
				before := viewRaft(t, c)
				resp, err := takeOver(attackerTransport(t, tc.conf), c.Nodes[target.i])
				if err == nil {
					t.Fatalf("AppendEntries accepted: %+v", resp)
				}
				if resp.Term != 0 {
					t.Fatalf("raft answered (term %d): the RPC was read", resp.Term)
				}
				// Let a real write go through, so anything the attack
				// set in motion would show.
				if err := c.WaitLeader(5 * time.Second).Raft().Barrier(5 * time.Second).Error(); err != nil {
					t.Fatal(err)
				}
				after := viewRaft(t, c)
				if after.leader != before.leader {
					t.Errorf("leader %s, was %s: deposed", after.leader, before.leader)
				}
				for i := range c.Nodes {
					if after.terms[i] != before.terms[i] {
						t.Errorf("%s: term %d, was %d", c.Nodes[i].ID(), after.terms[i], before.terms[i])
					}
					// The barrier adds one entry on every node.
					if after.last[i] > before.last[i]+1 {
						t.Errorf("%s: last index %d, was %d", c.Nodes[i].ID(), after.last[i], before.last[i])
					}
				}
			})
		}
	}

	t.Run("control: a coordinator certificate of the cluster CA is heard", func(t *testing.T) {
		before := viewRaft(t, c)
		node := c.Nodes[li]
		tr := attackerTransport(t, attackerTLS(&member.Cert))
		// A stale term: raft answers and ignores it.
		req := &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("c9"), Addr: []byte(tr.LocalAddr())}, Term: 0}
		var resp raft.AppendEntriesResponse
		if err := tr.AppendEntries(raft.ServerID(node.ID()), raft.ServerAddress(node.RaftAddr()), req, &resp); err != nil {
			t.Fatalf("a cluster member's RPC was refused: %v", err)
		}
		if resp.Term != before.terms[li] || resp.Success {
			t.Fatalf("answer %+v, want term %d and no success", resp, before.terms[li])
		}
		if after := viewRaft(t, c); after.leader != before.leader || after.terms[li] != before.terms[li] {
			t.Fatalf("stale RPC changed the leader or term: %+v → %+v", before, after)
		}
	})
}

// TestAPIOverTLSRefusesPlaintext: plain HTTP to the TLS port gets no API
// answer, and an admin write sent that way creates nothing.
func TestAPIOverTLSRefusesPlaintext(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 1)
	n := c.WaitLeader(5 * time.Second)
	if !strings.HasPrefix(n.URL(), "https://") {
		t.Fatalf("URL %s: want https", n.URL())
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	before := n.FSM().SnapshotBytes()

	resp, err := plain.Get("http://" + n.HTTPAddr() + "/v1/health")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || bytes.Contains(b, []byte(`"role"`)) {
			t.Fatalf("plaintext health answered %d %s", resp.StatusCode, b)
		}
	}
	req, _ := http.NewRequest("POST", "http://"+n.HTTPAddr()+"/v1/communities", strings.NewReader(`{"name":"plain","weight":1}`))
	req.Header.Set("Authorization", "Bearer "+c.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := plain.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			t.Fatal("plaintext admin write accepted")
		}
	}
	if err := n.Raft().Barrier(5 * time.Second).Error(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(n.FSM().SnapshotBytes(), before) {
		t.Fatal("plaintext requests changed the state")
	}
}

// TestClientChecksTheCoordinatorCertificate: a client without the
// cluster CA, or with another CA, refuses the coordinator (and sends it
// nothing); with the CA it works.
func TestClientChecksTheCoordinatorCertificate(t *testing.T) {
	c := coordinatortest.StartTestCluster(t, 1)
	n := c.WaitLeader(5 * time.Second)
	other, err := pki.NewCA("another CA", time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		conf *tls.Config
	}{
		{"system roots only", nil},
		{"another CA", &tls.Config{RootCAs: other.Pool()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := n.FSM().SnapshotBytes()
			cl, err := client.New([]string{n.URL()}, client.Options{Token: c.AdminToken, TLS: tc.conf, Attempts: 3})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cl.CreateCommunity(ctx, "untrusting", 1); !errors.Is(err, client.ErrUntrusted) {
				t.Fatalf("err %v, want ErrUntrusted", err)
			}
			if !bytes.Equal(n.FSM().SnapshotBytes(), before) {
				t.Fatal("state changed")
			}
		})
	}
	cl, err := client.New([]string{n.HTTPAddr()}, client.Options{Token: c.AdminToken, TLS: coordinatortest.ClientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	if got := cl.Endpoints()[0]; got != n.URL() {
		t.Errorf("address without scheme became %s, want %s", got, n.URL())
	}
	if _, err := cl.CreateCommunity(ctx, "trusting", 1); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
}

// TestCoordinatorRefusesToListenBeyondLoopbackInTheClear: without TLS a
// non-loopback HTTP or raft address is refused (before anything
// listens) unless Insecure; join URLs must match the node's scheme.
func TestCoordinatorRefusesToListenBeyondLoopbackInTheClear(t *testing.T) {
	tlsConf := coordinatortest.NodeTLS(t, "c1")
	for _, tc := range []struct {
		name string
		cfg  coordinator.Config
		want error // nil: any error but ErrInsecure is fine (it went on to listen)
	}{
		{"LAN HTTP address", coordinator.Config{HTTPAddr: "192.0.2.10:8740", RaftAddr: "127.0.0.1:0"}, coordinator.ErrInsecure},
		{"all interfaces HTTP", coordinator.Config{HTTPAddr: ":8740", RaftAddr: "127.0.0.1:0"}, coordinator.ErrInsecure},
		{"LAN raft address", coordinator.Config{HTTPAddr: "127.0.0.1:0", RaftAddr: "192.0.2.10:8741"}, coordinator.ErrInsecure},
		{"host name", coordinator.Config{HTTPAddr: "coord1.lan:8740", RaftAddr: "127.0.0.1:0"}, coordinator.ErrInsecure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.NodeID = "c1"
			_, err := coordinator.New(cfg)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), "--tls-cert") || !strings.Contains(err.Error(), "--insecure") {
				t.Errorf("error %q does not say what to do", err)
			}
			// With TLS, or with Insecure, the address itself is the
			// only obstacle left (192.0.2.0/24 is not on this machine).
			for _, fix := range []func(*coordinator.Config){
				func(c *coordinator.Config) { c.TLS = tlsConf },
				func(c *coordinator.Config) { c.Insecure = true },
			} {
				cfg := tc.cfg
				cfg.NodeID = "c1"
				fix(&cfg)
				n, err := coordinator.New(cfg)
				if err == nil {
					n.Close()
				}
				if errors.Is(err, coordinator.ErrInsecure) {
					t.Errorf("still refused as insecure: %v", err)
				}
			}
		})
	}
	_, err := coordinator.New(coordinator.Config{NodeID: "c2", HTTPAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", TLS: tlsConf, Join: []string{"http://127.0.0.1:8740"}})
	if err == nil || !strings.Contains(err.Error(), "https://") {
		t.Fatalf("plain join URL on a TLS node: %v", err)
	}
}

// TestHealthSaysNothingOfTLSOnLoopback: a plaintext node on loopback
// has nothing to warn about; the warning is only for exposed ones.
func TestHealthSaysNothingOfTLSOnLoopback(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Plaintext: true})
	n := c.WaitLeader(5 * time.Second)
	if !strings.HasPrefix(n.URL(), "http://") {
		t.Fatalf("URL %s", n.URL())
	}
	var h api.Health
	mustDo(t, 200, "GET", n.URL()+"/v1/health", "", nil, &h)
	if h.Warning != "" {
		t.Fatalf("warning %q on loopback", h.Warning)
	}
}
