package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// fastOpts retries quickly and deterministically.
func fastOpts() Options {
	return Options{Token: "fgC_test", BackoffBase: time.Millisecond, BackoffMax: 2 * time.Millisecond,
		Jitter: func() float64 { return 0 }, Attempts: 5}
}

func newTestClient(t *testing.T, addrs ...string) *Client {
	t.Helper()
	c, err := New(addrs, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.Error{Error: msg, Code: code})
}

// deadAddr returns a loopback URL nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestNewAddresses(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    []string
		wantErr bool
	}{
		{"default", nil, []string{DefaultAddr}, false},
		{"host port", []string{"127.0.0.1:9"}, []string{"http://127.0.0.1:9"}, false},
		{"comma list", []string{"http://127.0.0.1:1/, 127.0.0.1:2"}, []string{"http://127.0.0.1:1", "http://127.0.0.1:2"}, false},
		{"bad scheme", []string{"ftp://x"}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.in, Options{})
			if tc.wantErr {
				if !errors.Is(err, ErrConfig) {
					t.Fatalf("err %v, want ErrConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.Endpoints(), " "); got != strings.Join(tc.want, " ") {
				t.Fatalf("endpoints %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantCode   string
		wantMsg    string
		wantStatus int
	}{
		{"unauthorized", 401, `{"error":"missing token","code":"unauthorized"}`, api.CodeUnauthorized, "missing token", 401},
		{"forbidden", 403, `{"error":"not your order","code":"forbidden"}`, api.CodeForbidden, "not your order", 403},
		{"not found", 404, `{"error":"no order o-1","code":"not_found"}`, api.CodeNotFound, "no order o-1", 404},
		{"too large", 413, `{"error":"model over 64 MiB","code":"too_large"}`, api.CodeTooLarge, "model over 64 MiB", 413},
		{"plain text", 500, "boom\n", "http_500", "boom", 500},
		{"empty", 418, "", "http_418", "", 418},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			_, err := newTestClient(t, srv.URL).GetOrder(context.Background(), "o-1", false)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err %v (%T), want *APIError", err, err)
			}
			if ae.Status != tc.wantStatus || ae.Code != tc.wantCode || ae.Message != tc.wantMsg || ae.Endpoint != srv.URL {
				t.Fatalf("got %+v", ae)
			}
			if !IsCode(err, tc.wantCode) || StatusOf(err) != tc.wantStatus {
				t.Fatalf("IsCode/StatusOf disagree for %v", err)
			}
		})
	}
}

// counter is a handler that answers from a script, one entry per call.
type scripted struct {
	mu    sync.Mutex
	calls int
	steps []func(w http.ResponseWriter, r *http.Request)
	reqs  []*http.Request
	forms []map[string]string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := s.calls
	s.calls++
	s.reqs = append(s.reqs, r)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		form := map[string]string{}
		if mr, err := r.MultipartReader(); err == nil {
			for {
				p, err := mr.NextPart()
				if err != nil {
					break
				}
				b, _ := io.ReadAll(p)
				form[p.FormName()] = string(b)
			}
		}
		s.forms = append(s.forms, form)
	}
	step := s.steps[min(i, len(s.steps)-1)]
	s.mu.Unlock()
	step(w, r)
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func noLeader(w http.ResponseWriter, _ *http.Request) {
	writeErr(w, 503, api.CodeNoLeader, "no leader: election in progress, retry")
}

func okJSON(v any) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
}

func TestRetries(t *testing.T) {
	order := api.Order{ID: "o-1", State: api.OrderOpen, Quantity: 2}
	tests := []struct {
		name      string
		steps     []func(http.ResponseWriter, *http.Request)
		call      func(c *Client) error
		wantCalls int
		wantErr   string // api code, "" for success
	}{
		{"read retried through elections", []func(http.ResponseWriter, *http.Request){noLeader, noLeader, okJSON(api.Orders{Orders: []api.Order{order}})},
			func(c *Client) error { _, err := c.ListOrders(context.Background(), true); return err }, 3, ""},
		{"read gives up after the budget", []func(http.ResponseWriter, *http.Request){noLeader},
			func(c *Client) error { _, err := c.ListOrders(context.Background(), false); return err }, 5, api.CodeNoLeader},
		{"4xx not retried", []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, _ *http.Request) { writeErr(w, 404, api.CodeNotFound, "no such order") }},
			func(c *Client) error { _, err := c.GetOrder(context.Background(), "o-9", false); return err }, 1, api.CodeNotFound},
		{"community creation not retried on 503", []func(http.ResponseWriter, *http.Request){noLeader, okJSON(api.CommunityCreated{Name: "x"})},
			func(c *Client) error { _, err := c.CreateCommunity(context.Background(), "x", 1); return err }, 1, api.CodeNoLeader},
		{"transfer-leader not retried", []func(http.ResponseWriter, *http.Request){func(w http.ResponseWriter, _ *http.Request) { writeErr(w, 502, "http_502", "") }},
			func(c *Client) error { _, err := c.TransferLeader(context.Background(), ""); return err }, 1, "http_502"},
		{"cancel retried", []func(http.ResponseWriter, *http.Request){noLeader, okJSON(order)},
			func(c *Client) error { _, err := c.CancelOrder(context.Background(), "o-1"); return err }, 2, ""},
		{"heartbeat retried", []func(http.ResponseWriter, *http.Request){noLeader, okJSON(api.OK{OK: true})},
			func(c *Client) error { return c.Heartbeat(context.Background(), "w-1", api.WorkerIdle) }, 2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{steps: tc.steps}
			srv := httptest.NewServer(s)
			defer srv.Close()
			err := tc.call(newTestClient(t, srv.URL))
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err %v", err)
			}
			if tc.wantErr != "" && !IsCode(err, tc.wantErr) {
				t.Fatalf("err %v, want code %s", err, tc.wantErr)
			}
			if s.count() != tc.wantCalls {
				t.Fatalf("%d calls, want %d", s.count(), tc.wantCalls)
			}
		})
	}
}

func TestFailsOverToNextEndpoint(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){okJSON(api.Workers{Workers: []api.Worker{{ID: "w-1"}}})}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	// Not idempotent, but a refused connection never reached anyone: safe.
	c := newTestClient(t, deadAddr(t), srv.URL)
	ws, err := c.Workers(context.Background())
	if err != nil || len(ws) != 1 {
		t.Fatalf("workers %v, err %v", ws, err)
	}
	// The client sticks to the endpoint that worked.
	if _, err := c.Workers(context.Background()); err != nil || s.count() != 2 {
		t.Fatalf("second call: err %v, %d calls", err, s.count())
	}
	if got := c.endpoints[c.cur.Load()]; got != srv.URL {
		t.Fatalf("current endpoint %s, want %s", got, srv.URL)
	}
}

func TestNoCoordinator(t *testing.T) {
	c := newTestClient(t, deadAddr(t), deadAddr(t))
	_, err := c.Cluster(context.Background(), false)
	if !errors.Is(err, ErrNoCoordinator) {
		t.Fatalf("err %v, want ErrNoCoordinator", err)
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	hit := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(hit) })
		noLeader(w, r)
	}))
	defer srv.Close()
	opts := fastOpts()
	opts.BackoffBase, opts.BackoffMax, opts.Attempts = time.Hour, time.Hour, 100
	c, _ := New([]string{srv.URL}, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.ListOrders(ctx, false); done <- err }()
	select {
	case <-hit:
	case <-time.After(5 * time.Second):
		t.Fatal("no request reached the server")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("call did not return after cancel")
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	c, _ := New(nil, Options{BackoffBase: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond, Jitter: func() float64 { return 0.999999 }})
	prev := time.Duration(0)
	for k := 0; k < 8; k++ {
		d := c.backoff(k)
		if d < prev || d > 100*time.Millisecond {
			t.Fatalf("backoff(%d) = %v after %v", k, d, prev)
		}
		prev = d
	}
	c.opts.Jitter = func() float64 { return 0 }
	if d := c.backoff(0); d != 5*time.Millisecond {
		t.Fatalf("jittered floor %v, want 5ms", d)
	}
}

func TestTokenSent(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){okJSON(api.Health{Status: "ok"})}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	if _, err := newTestClient(t, srv.URL).Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.reqs[0].Header.Get("Authorization"); got != "Bearer fgC_test" {
		t.Fatalf("Authorization %q", got)
	}
}

func TestGetAssignment(t *testing.T) {
	a := api.Assignment{JobID: "o-1-1", Epoch: 7, ModelSHA256: strings.Repeat("a", 64)}
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){
		func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) },
		okJSON(a),
	}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	got, err := c.GetAssignment(context.Background(), "w-1", 25*time.Second)
	if err != nil || got != nil {
		t.Fatalf("first poll: %v, %v; want nil, nil", got, err)
	}
	if w := s.reqs[0].URL.Query().Get(api.WaitParam); w != "25s" {
		t.Fatalf("wait %q", w)
	}
	got, err = c.GetAssignment(context.Background(), "w-1", time.Second)
	if err != nil || got == nil || *got != a {
		t.Fatalf("second poll: %+v, %v", got, err)
	}
}

func serveModel(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	})
}

func TestDownloadModel(t *testing.T) {
	model := []byte("solid cube\nendsolid cube\n")
	sum := sha256.Sum256(model)
	good := hex.EncodeToString(sum[:])
	srv := httptest.NewServer(serveModel(model))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	dir := t.TempDir()

	var buf bytes.Buffer
	if n, err := c.DownloadModel(context.Background(), good, &buf); err != nil || n != int64(len(model)) || !bytes.Equal(buf.Bytes(), model) {
		t.Fatalf("good download: n %d err %v", n, err)
	}
	if _, err := c.DownloadModelFile(context.Background(), strings.ToUpper(good), filepath.Join(dir, "ok.stl")); err != nil {
		t.Fatalf("file download: %v", err)
	}

	bad := strings.Repeat("0", 64)
	if _, err := c.DownloadModel(context.Background(), bad, io.Discard); !errors.Is(err, ErrChecksum) {
		t.Fatalf("err %v, want ErrChecksum", err)
	}
	path := filepath.Join(dir, "bad.stl")
	if _, err := c.DownloadModelFile(context.Background(), bad, path); !errors.Is(err, ErrChecksum) {
		t.Fatalf("err %v, want ErrChecksum", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "ok.stl" {
		t.Fatalf("left behind: %v", entries)
	}
	if _, err := c.DownloadModel(context.Background(), "../etc", io.Discard); !errors.Is(err, ErrConfig) {
		t.Fatalf("err %v, want ErrConfig", err)
	}
}

// An answer naming the leader (api.LeaderHeader) among the client's
// endpoints sends the next request there; a leader it does not know is
// ignored.
func TestPrefersTheLeaderItIsTold(t *testing.T) {
	var leaderCalls, followerCalls int
	var mu sync.Mutex
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaderCalls++
		mu.Unlock()
		okJSON(api.Workers{})(w, r)
	}))
	defer leader.Close()
	named := leader.URL
	follower := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		followerCalls++
		name := named
		mu.Unlock()
		w.Header().Set(api.LeaderHeader, name) // as a forwarded answer carries it
		okJSON(api.Workers{})(w, r)
	}))
	defer follower.Close()

	c := newTestClient(t, follower.URL, leader.URL)
	for range 3 {
		if _, err := c.Workers(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	if followerCalls != 1 || leaderCalls != 2 {
		t.Fatalf("follower %d calls, leader %d; want 1 and 2", followerCalls, leaderCalls)
	}
	mu.Unlock()

	// A leader outside the client's list does not move it.
	c = newTestClient(t, follower.URL)
	mu.Lock()
	named, followerCalls = "http://127.0.0.1:1", 0
	mu.Unlock()
	for range 2 {
		if _, err := c.Workers(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if followerCalls != 2 {
		t.Fatalf("follower %d calls, want 2", followerCalls)
	}
}
