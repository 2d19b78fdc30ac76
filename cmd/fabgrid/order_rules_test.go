//go:build !slicer

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// TestOrderSubmitRefusesWhatTheCoordinatorRefuses: the CLI checks an order
// with the coordinator's own rules (package api) and refuses, with the
// rule's words and before sending anything, what the coordinator would
// refuse. It used to accept a 0.01 mm layer height.
func TestOrderSubmitRefusesWhatTheCoordinatorRefuses(t *testing.T) {
	model := filepath.Join(t.TempDir(), "part.stl")
	if err := os.WriteFile(model, []byte("solid p\nendsolid p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		flag []string
		rule error // the coordinator's refusal of the same value
	}{
		{"layer height 0.01", []string{"--layer-height", "0.01"}, api.CheckLayerHeight(0.01)},
		{"layer height 1.5", []string{"--layer-height", "1.5"}, api.CheckLayerHeight(1.5)},
		{"infill 120", []string{"--infill", "120"}, api.CheckInfill(120)},
		{"colour too long", []string{"--colour", strings.Repeat("c", 33)}, api.CheckColour(strings.Repeat("c", 33))},
		{"pickup note too long", []string{"--pickup-note", strings.Repeat("n", 1025)}, api.CheckPickupNote(strings.Repeat("n", 1025))},
		{"request id with a slash", []string{"--request-id", "a/b"}, api.CheckRequestID("a/b")},
		{"quantity 1001", []string{"--qty", "1001"}, api.CheckQuantity(1001)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, url := startFake(t)
			var oe *api.OrderError
			if !errors.As(tc.rule, &oe) {
				t.Fatalf("the rule accepts the value: %v", tc.rule)
			}
			args := append([]string{"order", "submit", model, "--material", "PLA", "--coordinator=" + url, "--token", testComm}, tc.flag...)
			var out, errb bytes.Buffer
			if code := run(args, &out, &errb); code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", code, errb.String())
			}
			if want := tc.flag[0] + " " + oe.Problem; !strings.Contains(errb.String(), want) {
				t.Fatalf("stderr %q lacks %q", errb.String(), want)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.lastPath != "" {
				t.Fatalf("the CLI sent %s before refusing", f.lastPath)
			}
		})
	}
}
