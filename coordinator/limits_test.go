package coordinator_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

// dialAPI opens a raw TLS connection to a node's API.
func dialAPI(t *testing.T, n *coordinator.Node) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(n.URL(), "https://"), coordinatortest.ClientTLS())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitClosed reads (and drops) whatever the server sends until it closes
// the connection, failing if it is still open after within.
func waitClosed(t *testing.T, conn net.Conn, within time.Duration) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v", within)
		}
		return // EOF or reset: closed by the server
	}
}

// trickle writes one byte of b on every tick until b is sent, a write
// fails or the test ends: a client sending a byte every so often.
func trickle(t *testing.T, conn net.Conn, b []byte, every time.Duration) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		tk := time.NewTicker(every)
		defer tk.Stop()
		for _, c := range b {
			select {
			case <-done:
				return
			case <-tk.C:
			}
			if _, err := conn.Write([]byte{c}); err != nil {
				return
			}
		}
	}()
}

func startLimited(t *testing.T, configure func(cfg *coordinator.Config)) (*coordinatortest.Cluster, *coordinator.Node) {
	t.Helper()
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Configure: func(_ int, cfg *coordinator.Config) { configure(cfg) }})
	return c, c.WaitLeader(5 * time.Second)
}

func TestSlowHeadersAreCutOff(t *testing.T) {
	_, n := startLimited(t, func(cfg *coordinator.Config) { cfg.ReadHeaderTimeout = 300 * time.Millisecond })
	conn := dialAPI(t, n)
	if _, err := conn.Write([]byte("GET /v1/health HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	trickle(t, conn, []byte(strings.Repeat("X-Slow: 1\r\n", 1000)), 50*time.Millisecond)
	waitClosed(t, conn, 10*time.Second)
}

func TestSlowBodyIsCutOffAndChangesNothing(t *testing.T) {
	c, n := startLimited(t, func(cfg *coordinator.Config) {
		cfg.BodyGrace = 300 * time.Millisecond
		cfg.MinBodyRate = 1024
	})
	makers := newCommunity(t, c, n.URL(), "makers")
	before := n.Raft().LastIndex()
	ct, body := coordinatortest.OrderBody(coordinatortest.CubeSTL(10, 10, 10), "quantity", "1", "material", "PLA")
	conn := dialAPI(t, n)
	head := fmt.Sprintf("POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", makers, ct, len(body))
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	trickle(t, conn, body, 50*time.Millisecond)
	waitClosed(t, conn, 10*time.Second)
	if after := n.Raft().LastIndex(); after != before {
		t.Errorf("raft last index %d -> %d: a cut-off upload changed the log", before, after)
	}
}

func TestIdleKeepAliveIsClosed(t *testing.T) {
	_, n := startLimited(t, func(cfg *coordinator.Config) { cfg.IdleTimeout = 300 * time.Millisecond })
	conn := dialAPI(t, n)
	if _, err := conn.Write([]byte("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %d", resp.StatusCode)
	}
	waitClosed(t, conn, 10*time.Second)
}

func TestConnectionCap(t *testing.T) {
	_, n := startLimited(t, func(cfg *coordinator.Config) { cfg.MaxConns = 2 })
	first, _ := dialAPI(t, n), dialAPI(t, n)
	addr := strings.TrimPrefix(n.URL(), "https://")
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	third := tls.Client(raw, coordinatortest.ClientTLS())
	_ = third.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if err := third.Handshake(); err == nil {
		t.Fatal("a third connection was served while two were open under a cap of 2")
	}
	first.Close()
	coordinatortest.WaitFor(t, 10*time.Second, "a connection once one closed", func() bool {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, coordinatortest.ClientTLS())
		if err != nil {
			return false
		}
		conn.Close()
		return true
	})
}

func TestTooManyUploadsAnswer429AndChangeNothing(t *testing.T) {
	c, n := startLimited(t, func(cfg *coordinator.Config) { cfg.MaxUploads = 1 })
	makers := newCommunity(t, c, n.URL(), "makers")
	model := coordinatortest.CubeSTL(10, 10, 10)
	ct, body := coordinatortest.OrderBody(model, "quantity", "1", "material", "PLA")
	const large = 2 << 20 // over the size from which an upload takes a slot
	// A large upload that holds the one slot: its headers and a little of its body.
	conn := dialAPI(t, n)
	head := fmt.Sprintf("POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", makers, ct, large)
	if _, err := conn.Write(append([]byte(head), body[:len(body)/2]...)); err != nil {
		t.Fatal(err)
	}
	coordinatortest.WaitFor(t, 10*time.Second, "the first upload to take its slot", func() bool { return n.UploadsInFlight() == 1 })
	before := n.Raft().LastIndex()
	for _, chunked := range []bool{false, true} {
		for range 3 {
			var rd io.Reader = bytes.NewReader(make([]byte, large))
			if chunked {
				rd = io.MultiReader(rd) // unknown length: sent chunked
			}
			req, _ := http.NewRequest(http.MethodPost, n.URL()+"/v1/orders", rd)
			req.Header.Set("Authorization", "Bearer "+makers)
			req.Header.Set("Content-Type", ct)
			resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("large upload (chunked %v) beyond the limit: %d, Retry-After %q; want 429 with Retry-After", chunked, resp.StatusCode, resp.Header.Get("Retry-After"))
			}
		}
	}
	if after := n.Raft().LastIndex(); after != before {
		t.Errorf("raft last index %d -> %d: refused uploads changed the log", before, after)
	}
	// A small order needs no slot.
	submit(t, n.URL(), makers, model, 1, "PLA")
	// The large upload gives up; its slot is free again.
	conn.Close()
	coordinatortest.WaitFor(t, 10*time.Second, "the slot to be free", func() bool { return n.UploadsInFlight() == 0 })
}

func TestWrongMethodOnKnownPathIs405(t *testing.T) {
	_, n := startLimited(t, func(*coordinator.Config) {})
	for _, tc := range []struct{ method, path, allow string }{
		{"PUT", "/v1/communities", "GET, POST"},
		{"DELETE", "/v1/health", "GET"},
		{"PATCH", "/v1/orders/o-1", "GET, DELETE"},
		{"GET", "/v1/cluster/join", "POST"},
	} {
		req, _ := http.NewRequest(tc.method, n.URL()+tc.path, nil)
		resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e api.Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != tc.allow || e.Code != api.CodeMethodNotAllowed {
			t.Errorf("%s %s: %d Allow %q code %q; want 405 Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), e.Code, tc.allow)
		}
	}
	code, _, err := cl.Do("GET", n.URL()+"/v1/nothing", "", nil, nil)
	if err != nil || code != http.StatusNotFound {
		t.Errorf("unknown path: %d %v; want 404", code, err)
	}
}

func TestTokenFloodIs429WhileOtherTokensGetThrough(t *testing.T) {
	c, n := startLimited(t, func(cfg *coordinator.Config) {
		cfg.RateLimit = 0.001 // a request every 1000 s after the burst
		cfg.RateBurst = 3
	})
	u := n.URL()
	makers := newCommunity(t, c, u, "makers")
	others := newCommunity(t, c, u, "others")
	model := coordinatortest.CubeSTL(10, 10, 10)
	for range 3 {
		submit(t, u, makers, model, 1, "PLA")
	}
	before := n.Raft().LastIndex()
	ct, body := coordinatortest.OrderBody(model, "quantity", "1", "material", "PLA")
	for range 20 {
		req, _ := http.NewRequest(http.MethodPost, u+"/v1/orders", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+makers)
		req.Header.Set("Content-Type", ct)
		resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e api.Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || e.Code != api.CodeTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("flooding token: %d %q, Retry-After %q; want 429 with Retry-After", resp.StatusCode, e.Code, resp.Header.Get("Retry-After"))
		}
	}
	if after := n.Raft().LastIndex(); after != before {
		t.Errorf("raft last index %d -> %d: refused requests changed the log", before, after)
	}
	submit(t, u, others, model, 1, "PLA") // another token's bucket is its own
}
