//go:build !slicer

package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/slicer"
)

// TestDevPrintsTheSampleOrder runs the whole grid of fabgrid dev — a real
// coordinator, three workers, three virtual printers on ptys — and checks
// the sample order completes with every copy printed once.
func TestDevPrintsTheSampleOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-grid run; skipped with -short")
	}
	var out, errb bytes.Buffer
	code := run([]string{"dev", "--http", "127.0.0.1:0", "--exit-when-done", "--json", "--timeout", "150s", "--qty", "4"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errb.String())
	}
	var sum devSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", out.String(), err)
	}
	if sum.Order == nil || sum.Order.State != api.OrderDone || sum.Order.JobsDone != 4 || len(sum.Order.Jobs) != 4 {
		t.Fatalf("order not done: %+v", sum.Order)
	}
	perPrinter := map[string]int{}
	for _, j := range sum.Order.Jobs {
		if j.State != api.JobDone || j.Attempts != 1 {
			t.Errorf("job %s: state %s after %d attempts", j.ID, j.State, j.Attempts)
		}
		perPrinter[j.Pickup]++
	}
	// A printer that printed k copies of the same sliced part executed
	// k times as many commands as a printer of the same profile family
	// that printed one; at least: a printer with copies executed commands,
	// one without executed none.
	for name, n := range sum.Prints {
		if (perPrinter[name] > 0) != (n > 0) {
			t.Errorf("printer %s executed %d commands for %d copies", name, n, perPrinter[name])
		}
	}
	if sum.CommToken == "" || sum.API == "" {
		t.Errorf("summary lacks the API address or community token: %+v", sum)
	}
	// The grid ran over TLS, with a CA of its own that the CLI is told of.
	if !strings.HasPrefix(sum.API, "https://") || !strings.HasSuffix(sum.CA, "fabgrid-ca.pem") {
		t.Errorf("API %q, CA %q: want https and the dev CA", sum.API, sum.CA)
	}
}

func TestDevTellsHowToTrustItsCA(t *testing.T) {
	if testing.Short() {
		t.Skip("whole-grid run; skipped with -short")
	}
	var out, errb bytes.Buffer
	if code := run([]string{"dev", "--http", "127.0.0.1:0", "--exit-when-done", "--qty", "0"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errb.String())
	}
	for _, want := range []string{"FABGRID_ADDR=https://127.0.0.1:", "FABGRID_CA=", "fabgrid-ca.pem", "--cacert"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dev output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCubeSTLIsAValidSolid(t *testing.T) {
	_, rep, err := slicer.ParseSTL(cubeSTL(20), slicer.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Watertight || rep.FlippedNormals != 0 || math.Abs(rep.VolumeMM3-8000) > 1e-6 {
		t.Fatalf("built-in cube: %+v", rep)
	}
}
