//go:build !slicer

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCoordinatorFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no node id", []string{"--data-dir", dir, "--bootstrap"}, "--node-id and --data-dir are required"},
		{"no state, no mode", []string{"--node-id", "c1", "--data-dir", dir}, "start the first node with --bootstrap"},
		{"both modes", []string{"--node-id", "c1", "--data-dir", dir, "--bootstrap", "--join", "x"}, "exclude each other"},
		{"join without admin token", []string{"--node-id", "c1", "--data-dir", dir, "--join", "127.0.0.1:1"}, "--join needs --admin-token"},
		{"bad size", []string{"--node-id", "c1", "--data-dir", dir, "--bootstrap", "--max-model-size", "big"}, "--max-model-size"},
		// Before, these started, and the token never authenticated.
		{"admin token without its prefix", []string{"--node-id", "c1", "--data-dir", dir, "--bootstrap", "--admin-token", "admin-123"}, "--admin-token: api: token not in the documented format: it must begin with fgA_"},
		{"admin token too short", []string{"--node-id", "c1", "--data-dir", dir, "--bootstrap", "--admin-token", "fgA_abc"}, "base64url"},
		{"worker token of another kind", []string{"--node-id", "c1", "--data-dir", dir, "--bootstrap", "--worker-token", "fgA_" + strings.Repeat("A", 43)}, "--worker-token: api: token not in the documented format: it must begin with fgW_"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FABGRID_ADMIN_TOKEN", "")
			var out, errb bytes.Buffer
			err := runCoordinator(context.Background(), tc.args, &out, &errb)
			var ee *exitError
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if !errors.As(err, &ee) || ee.code != 2 {
				t.Fatalf("exit code: %v", err)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the logger and the test.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCoordinatorBootstrapPrintsTokensOnceAndRestarts(t *testing.T) {
	t.Setenv("FABGRID_ADMIN_TOKEN", "")
	dir := t.TempDir()
	httpAddr, raftAddr := freeAddr(t), freeAddr(t)
	args := []string{"--node-id", "c1", "--data-dir", dir, "--http", httpAddr, "--raft", raftAddr, "--json"}
	start := func(extra ...string) (func() error, *syncBuffer) {
		ctx, cancel := context.WithCancel(context.Background())
		out, errb := &syncBuffer{}, &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- runCoordinator(ctx, append(append([]string{}, args...), extra...), out, errb) }()
		waitUntil(t, "the coordinator to lead", func() bool {
			resp, err := http.Get("http://" + httpAddr + "/v1/health")
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var h struct{ Role string }
			_ = json.NewDecoder(resp.Body).Decode(&h)
			return h.Role == "leader"
		})
		return func() error { cancel(); return <-done }, out
	}
	stop, out := start("--bootstrap")
	var toks map[string]string
	if err := json.Unmarshal([]byte(out.String()), &toks); err != nil || !strings.HasPrefix(toks["admin_token"], "fgA_") || !strings.HasPrefix(toks["worker_token"], "fgW_") {
		t.Fatalf("tokens %q: %v", out.String(), err)
	}
	cluster := func() int {
		req, _ := http.NewRequest("GET", "http://"+httpAddr+"/v1/cluster?consistent=leader", nil)
		req.Header.Set("Authorization", "Bearer "+toks["admin_token"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitUntil(t, "the admin token to be stored", func() bool { return cluster() == 200 })
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	// Restarted from its data dir: no flags needed, no new tokens, same admin.
	stop, out = start()
	if out.String() != "" {
		t.Fatalf("restart printed %q", out.String())
	}
	waitUntil(t, "the old admin token after restart", func() bool { return cluster() == 200 })
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"64MiB": 64 << 20, "512KiB": 512 << 10, "1GiB": 1 << 30, "1000": 1000, "2MB": 2e6} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "x"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}
