//go:build !slicer

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/worker"
)

func TestWorkerFlagErrors(t *testing.T) {
	base := []string{"worker", "--port", "/dev/null", "--profile", "ender3", "--material", "PLA", "--name", "n", "--token", "fgW_x", "--state-dir", t.TempDir()}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing", []string{"worker", "--port", "/dev/null"}, "missing --material, --name, --profile, --token"},
		{"profile", append(append([]string{}, base...), "--profile", "nope"), `unknown profile: printer "nope"`},
		{"material", append(append([]string{}, base...), "--material", "wood"), `material "wood"`},
		{"hours", append(append([]string{}, base...), "--hours", "8-22"), "want HH:MM-HH:MM"},
		{"timezone", append(append([]string{}, base...), "--hours", "08:00-22:00", "--timezone", "Mars/Olympus"), `--timezone: hours: unknown time zone: "Mars/Olympus": give an IANA name`},
		{"gossip key", append(append([]string{}, base...), "--gossip-key", "c2hvcnQ="), "5 bytes, want 16, 24 or 32"},
		{"control not loopback", append(append([]string{}, base...), "--control", "0.0.0.0:8750"), "is not loopback"},
		{"extra args", append(append([]string{}, base...), "extra"), "unexpected arguments"},
		{"missing token file", append(append([]string{}, base...), "--token-file", "/nonexistent/token"), "--token-file"},
		{"bad CA file", append(append([]string{}, base...), "--ca", "/dev/null"), "--ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", code, errb.String())
			}
			if !strings.Contains(errb.String(), tc.wantErr) {
				t.Fatalf("stderr %q lacks %q", errb.String(), tc.wantErr)
			}
		})
	}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestWorkerCommandPrintsAnOrder runs `fabgrid worker` against a real
// in-process coordinator with a virtual printer on a pty, submits an order
// of one copy, and checks `fabgrid worker status --json` and a clean stop.
func TestWorkerCommandPrintsAnOrder(t *testing.T) {
	cl := coordinatortest.Start(t, 1, coordinatortest.Options{})
	leader := cl.WaitLeader(10 * time.Second)
	pr, _ := profile.LookupPrinter("ender3")
	v := vprinter.NewVirtual(vprinter.VirtualConfig{Printer: pr})
	vctx, vcancel := context.WithCancel(context.Background())
	path, err := v.ServePTY(vctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vcancel(); v.Wait() })

	control := freeLoopbackAddr(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, coordinatortest.CA().CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var werr bytes.Buffer
	go func() {
		done <- runWorker(ctx, []string{"--coordinator", leader.URL(), "--ca", caFile, "--token", cl.WorkerToken, "--port", path,
			"--profile", "ender3", "--material", "PLA", "--colour", "black", "--name", "cmd-test", "--auto-clear",
			"--state-dir", t.TempDir(), "--control", control, "--progress-every", "200ms"}, &bytes.Buffer{}, &werr)
	}()
	stopped := false
	t.Cleanup(func() {
		cancel()
		if stopped {
			return
		}
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("worker did not stop; its log:\n%s", werr.String())
		}
	})

	hc := coordinatortest.DefaultClient
	var comm api.CommunityCreated
	if code, body, err := hc.Do("POST", leader.URL()+"/v1/communities", cl.AdminToken, api.CommunityRequest{Name: "makers"}, &comm); err != nil || code != 201 {
		t.Fatalf("community: %d %s %v", code, body, err)
	}
	var order api.Order
	if code, body, err := hc.SubmitOrder(leader.URL(), comm.Token, coordinatortest.CubeSTL(10, 10, 1), &order,
		"quantity", "1", "material", "PLA"); err != nil || code != 201 {
		t.Fatalf("order: %d %s %v", code, body, err)
	}
	coordinatortest.WaitFor(t, 30*time.Second, "order done", func() bool {
		var o api.Order
		code, _, err := hc.Do("GET", leader.URL()+"/v1/orders/"+order.ID, comm.Token, nil, &o)
		return err == nil && code == 200 && o.State == api.OrderDone
	})

	var out bytes.Buffer
	if err := runWorkerControl(context.Background(), "status", []string{"--control", control, "--json"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var st worker.Status
	if err := json.Unmarshal(out.Bytes(), &st); err != nil || st.Extra["name"] != "cmd-test" || st.Extra["registered"] != true {
		t.Fatalf("status %s: %v", out.String(), err)
	}
	out.Reset()
	if err := runWorkerControl(context.Background(), "status", []string{"--control", control}, &out, &bytes.Buffer{}); err != nil ||
		!strings.Contains(out.String(), "cmd-test") {
		t.Fatalf("status text %q: %v", out.String(), err)
	}
	if err := runWorkerControl(context.Background(), "clear", []string{"--control", control}, &out, &bytes.Buffer{}); err == nil {
		t.Fatal("clear with an auto-cleared bed accepted")
	} else if ee, ok := err.(*exitError); !ok || ee.code != 3 {
		t.Fatalf("clear: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Fatalf("worker: %v\n%s", err, werr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("worker did not stop")
	}
}
