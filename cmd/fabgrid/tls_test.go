//go:build !slicer

package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/pki"
)

func TestTLSCreateCommands(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := runCmd("tls", "ca", "create", "--dir", dir); code != 0 || !strings.Contains(out, "fabgrid-ca.pem") {
		t.Fatalf("ca create: exit %d, %q %q", code, out, errs)
	}
	if code, _, errs := runCmd("tls", "ca", "create", "--dir", dir); code != 1 || !strings.Contains(errs, "remove it first") {
		t.Fatalf("second ca create: exit %d, %q", code, errs)
	}
	code, out, errs := runCmd("tls", "cert", "create", "--dir", dir, "--node", "c1", "--dns", "coord1.lan", "--ip", "192.0.2.10,192.0.2.11", "--json")
	if code != 0 {
		t.Fatalf("cert create: exit %d, %q", code, errs)
	}
	var made tlsCreated
	if err := json.Unmarshal([]byte(out), &made); err != nil || made.Cert != filepath.Join(dir, "c1.pem") || made.Key != filepath.Join(dir, "c1-key.pem") {
		t.Fatalf("cert create printed %q: %v", out, err)
	}
	for _, p := range []string{filepath.Join(dir, "fabgrid-ca-key.pem"), made.Key} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", p, err, st.Mode().Perm())
		}
	}
	ca, err := pki.ReadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(made.Cert)
	cert, err := pki.ParseCert(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"coord1.lan", "192.0.2.10", "192.0.2.11", "localhost", "127.0.0.1"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: host}); err != nil {
			t.Errorf("c1.pem for %s: %v", host, err)
		}
	}
	if !pki.HasRole(cert, pki.RoleCoordinator) {
		t.Error("c1.pem lacks the coordinator role")
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no node", []string{"--dir", dir}, 2, "--node is required"},
		{"bad ip", []string{"--dir", dir, "--node", "c2", "--ip", "nope"}, 2, "not an IP address"},
		{"node as a path", []string{"--dir", dir, "--node", "../c2"}, 2, "not a path"},
		{"no CA", []string{"--dir", t.TempDir(), "--node", "c2"}, 1, "fabgrid tls ca create"},
		{"existing", []string{"--dir", dir, "--node", "c1"}, 1, "remove it first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCmd(append([]string{"tls", "cert", "create"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.want)
			}
		})
	}
}

func TestCoordinatorTLSFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"LAN address in the clear", []string{"--http", "192.0.2.10:8740"}, "not a loopback address"},
		{"LAN raft address in the clear", []string{"--raft", "192.0.2.10:8741"}, "not a loopback address"},
		{"TLS half given", []string{"--tls-ca", "ca.pem"}, "all three of --tls-ca"},
		{"TLS and insecure", []string{"--tls-ca", "a", "--tls-cert", "b", "--tls-key", "c", "--insecure"}, "exclude each other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FABGRID_ADMIN_TOKEN", "")
			args := append([]string{"--node-id", "c1", "--data-dir", dir, "--bootstrap"}, tc.args...)
			err := runCoordinator(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
			var ee *exitError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ee) || ee.code != 2 {
				t.Fatalf("err %v, want exit 2 with %q", err, tc.want)
			}
		})
	}
}

// TestCoordinatorOverTLSWithTheCLI makes a CA and a certificate with the
// tls commands, runs a coordinator with them, and talks to it with the
// CLI: with --ca it works; without, or over http://, it says what to do.
func TestCoordinatorOverTLSWithTheCLI(t *testing.T) {
	t.Setenv("FABGRID_ADMIN_TOKEN", "")
	t.Setenv(envCA, "")
	certs := t.TempDir()
	if code, _, errs := runCmd("tls", "ca", "create", "--dir", certs); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runCmd("tls", "cert", "create", "--dir", certs, "--node", "c1"); code != 0 {
		t.Fatal(errs)
	}
	caFile := filepath.Join(certs, "fabgrid-ca.pem")
	httpAddr, raftAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runCoordinator(ctx, []string{"--node-id", "c1", "--data-dir", t.TempDir(), "--http", httpAddr, "--raft", raftAddr,
			"--bootstrap", "--json", "--tls-ca", caFile, "--tls-cert", filepath.Join(certs, "c1.pem"), "--tls-key", filepath.Join(certs, "c1-key.pem")},
			out, &syncBuffer{})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("coordinator: %v", err)
		}
	})
	cliTLS, err := client.CAConfig(caFile)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: cliTLS}}
	waitUntil(t, "the coordinator to lead over https", func() bool {
		resp, err := hc.Get("https://" + httpAddr + "/v1/health")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h struct{ Role, Warning string }
		_ = json.NewDecoder(resp.Body).Decode(&h)
		return h.Role == "leader" && h.Warning == ""
	})
	var toks map[string]string
	waitUntil(t, "the tokens", func() bool { return json.Unmarshal([]byte(out.String()), &toks) == nil })
	admin := toks["admin_token"]
	waitUntil(t, "the admin token to be stored", func() bool {
		code, _, _ := runCmd("cluster", "status", "--coordinator", "https://"+httpAddr, "--ca", caFile, "--token", admin)
		return code == 0
	})

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no CA", []string{"--coordinator", "https://" + httpAddr}, "--ca or $FABGRID_CA"},
		{"plain http", []string{"--coordinator", "http://" + httpAddr, "--ca", caFile}, "use https://"},
		{"another CA", []string{"--coordinator", "https://" + httpAddr, "--ca", otherCA(t)}, "not signed by the CA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCmd(append([]string{"community", "create", "x", "--token", admin}, tc.args...)...)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errs, tc.want)
			}
		})
	}
	// None of them created anything.
	code, list, errs := runCmd("community", "list", "--json", "--coordinator", httpAddr, "--ca", caFile, "--token", admin)
	if code != 0 || strings.Contains(list, `"x"`) {
		t.Fatalf("community list: exit %d %s %s", code, list, errs)
	}
}

func otherCA(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.NewCA("other", time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := pki.WriteCA(dir, ca)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
