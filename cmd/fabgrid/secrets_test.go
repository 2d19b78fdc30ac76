//go:build !slicer

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCoordinatorTokenFiles(t *testing.T) {
	t.Setenv("FABGRID_ADMIN_TOKEN", "")
	dir := t.TempDir()
	adminFile, workerFile, metricsFile := filepath.Join(dir, "admin"), filepath.Join(dir, "worker"), filepath.Join(dir, "metrics")
	if err := os.WriteFile(metricsFile, []byte("scrape-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	httpAddr, raftAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runCoordinator(ctx, []string{"--node-id", "c1", "--data-dir", filepath.Join(dir, "c1"), "--http", httpAddr, "--raft", raftAddr,
			"--bootstrap", "--json", "--admin-token-file", adminFile, "--worker-token-file", workerFile, "--metrics-token-file", metricsFile}, out, &syncBuffer{})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("coordinator: %v", err)
		}
	})
	get := func(path, tok string) int {
		req, _ := http.NewRequest("GET", "http://"+httpAddr+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitUntil(t, "the coordinator to answer", func() bool { return get("/v1/health", "") == 200 })

	// The generated tokens went to the missing files, 0600, as printed.
	var toks map[string]string
	if err := json.Unmarshal([]byte(out.String()), &toks); err != nil {
		t.Fatalf("tokens %q: %v", out.String(), err)
	}
	for kind, path := range map[string]string{"admin_token": adminFile, "worker_token": workerFile} {
		b, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(b)) != toks[kind] {
			t.Fatalf("%s holds %q (%v), printed %q", path, b, err, toks[kind])
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", path, st.Mode().Perm())
		}
	}
	waitUntil(t, "the admin token to work", func() bool { return get("/v1/cluster", toks["admin_token"]) == 200 })
	if code := get("/metrics", ""); code != 401 {
		t.Errorf("/metrics without a token: %d, want 401", code)
	}
	if code := get("/metrics", "scrape-token"); code != 200 {
		t.Errorf("/metrics with the metrics token: %d, want 200", code)
	}
}

func TestCoordinatorTokenFileErrors(t *testing.T) {
	t.Setenv("FABGRID_ADMIN_TOKEN", "")
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"both admin token forms", []string{"--bootstrap", "--admin-token", "fgA_x", "--admin-token-file", empty}, "exclude each other"},
		{"empty file", []string{"--bootstrap", "--admin-token-file", empty}, "must hold one token"},
		{"missing file to join with", []string{"--join", "127.0.0.1:1", "--admin-token-file", filepath.Join(dir, "nope")}, "no such file"},
		{"empty metrics file", []string{"--bootstrap", "--metrics-token-file", empty}, "must hold one token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--node-id", "c1", "--data-dir", filepath.Join(dir, "d")}, tc.args...)
			err := runCoordinator(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			var ee *exitError
			if tc.name != "missing file to join with" && (!errors.As(err, &ee) || ee.code != 2) {
				t.Fatalf("exit code: %v", err)
			}
		})
	}
}
