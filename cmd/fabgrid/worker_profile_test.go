//go:build !slicer

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/profile"
)

// TestWorkerOnAnImportedProfile: a worker run with --profile-file on a
// profile imported from Cura's Ender-3 definition (a 235 mm bed, where the
// bundled ender3 has 220 mm) registers that profile's id and build volume,
// and the scheduler places on it a part that only the imported bed holds.
func TestWorkerOnAnImportedProfile(t *testing.T) {
	own := importTo(t, t.TempDir(), curaFixtures+"/creality_ender3.def.json")
	f, err := profile.ReadPrinterFile(own)
	if err != nil {
		t.Fatal(err)
	}
	imported := f.Printers[0]

	cl := coordinatortest.Start(t, 1, coordinatortest.Options{})
	leader := cl.WaitLeader(10 * time.Second)
	port := virtualPTY(t, imported)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, coordinatortest.CA().CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var werr syncBuffer
	go func() {
		done <- runWorker(ctx, []string{"--coordinator", leader.URL(), "--ca", caFile, "--token", cl.WorkerToken, "--port", port,
			"--profile-file", own, "--material", "PLA", "--name", "imported", "--auto-clear",
			"--state-dir", t.TempDir(), "--control", "", "--progress-every", "200ms"}, &bytes.Buffer{}, &werr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("worker: %v\n%s", err, werr.String())
			}
		case <-time.After(20 * time.Second):
			t.Errorf("worker did not stop; its log:\n%s", werr.String())
		}
	})

	hc := coordinatortest.DefaultClient
	coordinatortest.WaitFor(t, 15*time.Second, "the worker registered", func() bool {
		var ws api.Workers
		code, _, err := hc.Do("GET", leader.URL()+"/v1/workers", cl.AdminToken, nil, &ws)
		if err != nil || code != 200 || len(ws.Workers) != 1 {
			return false
		}
		w := ws.Workers[0]
		if w.Profile != imported.ID || w.BuildMM != [3]float64{235, 235, 250} || w.NozzleMM != 0.4 {
			t.Fatalf("registered as %+v, want profile %s on a 235 × 235 × 250 mm bed", w, imported.ID)
		}
		return true
	})

	var comm api.CommunityCreated
	if code, body, err := hc.Do("POST", leader.URL()+"/v1/communities", cl.AdminToken, api.CommunityRequest{Name: "makers"}, &comm); err != nil || code != 201 {
		t.Fatalf("community: %d %s %v", code, body, err)
	}
	var order api.Order
	// 225 mm long: too long for the bundled ender3's 220 mm bed.
	if code, body, err := hc.SubmitOrder(leader.URL(), comm.Token, coordinatortest.CubeSTL(225, 10, 0.6), &order,
		"quantity", "1", "material", "PLA"); err != nil || code != 201 {
		t.Fatalf("order: %d %s %v", code, body, err)
	}
	coordinatortest.WaitFor(t, 60*time.Second, "order done", func() bool {
		var o api.Order
		code, _, err := hc.Do("GET", leader.URL()+"/v1/orders/"+order.ID, comm.Token, nil, &o)
		if err == nil && code == 200 && (o.State == api.OrderFailed || o.State == api.OrderCancelled) {
			t.Fatalf("order %s: %+v\nworker log:\n%s", o.State, o, werr.String())
		}
		return err == nil && code == 200 && o.State == api.OrderDone
	})
	if strings.Contains(werr.String(), "level=ERROR") {
		t.Errorf("worker logged errors:\n%s", werr.String())
	}
}

func TestWorkerProfileFlagErrors(t *testing.T) {
	dir := t.TempDir()
	base := []string{"worker", "--port", "/dev/null", "--material", "PLA", "--name", "n", "--token", "fgW_x", "--state-dir", dir}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"missing file", with("--profile-file", dir+"/none.json"), "no such file"},
		{"file not json", with("--profile-file", prusaBundle), "bad profile file"},
		{"material too hot", with("--profile", "ender3", "--material", "PC"), "PC needs a 275 °C hotend; the ender3 profile allows at most 260 °C"},
		{"material file that is not a profile file", with("--profile", "ender3", "--material-file", curaFixtures+"/creality_ender3.def.json"), "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d, stderr %q lacks %q", code, stderr, tc.wantErr)
			}
		})
	}
}
