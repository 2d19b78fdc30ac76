package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startVPrinter runs `fabgrid vprinter` until the test ends and returns its link.
func startVPrinter(t *testing.T, args ...string) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "tty")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- runVPrinter(ctx, append([]string{"--link", link}, args...), &out, &out)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(link); err == nil {
			return link
		}
		if time.Now().After(deadline) {
			t.Fatal("vprinter did not create its link")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPrintCommand(t *testing.T) {
	hot := filepath.Join(t.TempDir(), "hot.gcode")
	if err := os.WriteFile(hot, []byte("G28\nM104 S300\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	calib := "../../printerdrv/testdata/calibration.gcode"
	tests := []struct {
		name     string
		vprinter []string // nil: no printer at all
		file     string
		code     int // 0: success
		want     string
	}{
		{name: "done", vprinter: []string{"--speed", "0"}, file: calib, want: `"outcome": "done"`},
		{name: "noisy line", vprinter: []string{"--speed", "0", "--faults", "corrupt=0.05", "--seed", "3"}, file: calib, want: `"outcome": "done"`},
		{name: "over limit refused before opening the port", file: hot, code: 3, want: "limit"},
		{name: "thermal runaway", vprinter: []string{"--speed", "0", "--faults", "runaway-at=100"}, file: calib, code: 1, want: "thermal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			port := filepath.Join(t.TempDir(), "absent")
			if tc.vprinter != nil {
				port = startVPrinter(t, tc.vprinter...)
			}
			var stdout, stderr bytes.Buffer
			err := runPrint(context.Background(), []string{"--port", port, "--json", "--wait-port", "0", tc.file}, &stdout, &stderr)
			var ee *exitError
			switch {
			case tc.code == 0 && err != nil:
				t.Fatalf("err %v; stderr %s", err, stderr.String())
			case tc.code != 0 && (!errors.As(err, &ee) || ee.code != tc.code):
				t.Fatalf("err %v, want exit code %d", err, tc.code)
			}
			text := stdout.String()
			if err != nil {
				text += err.Error()
			}
			if !strings.Contains(strings.ToLower(text), strings.ToLower(tc.want)) {
				t.Fatalf("output %q lacks %q", text, tc.want)
			}
			if tc.code == 0 {
				var sum struct {
					Acked, Commands int
				}
				if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil || sum.Acked != sum.Commands || sum.Commands == 0 {
					t.Fatalf("summary %s (%v)", stdout.String(), err)
				}
			}
		})
	}
}

// vprinter --json prints a ready line, then a summary of what it executed.
func TestVPrinterJSON(t *testing.T) {
	link := filepath.Join(t.TempDir(), "tty")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- runVPrinter(ctx, []string{"--link", link, "--speed", "0", "--json"}, &out, &out) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), `"event":"ready"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no ready line: %q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var stdout, stderr bytes.Buffer
	if err := runPrint(context.Background(), []string{"--port", link, "--wait-port", "0", "../../printerdrv/testdata/calibration.gcode"}, &stdout, &stderr); err != nil {
		t.Fatalf("print: %v\n%s", err, stderr.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("vprinter: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %q", out.String())
	}
	var ready vprinterReady
	var sum vprinterSummary
	if err := json.Unmarshal([]byte(lines[0]), &ready); err != nil || ready.Event != "ready" || ready.Link != link || ready.Profile != "ender3" {
		t.Fatalf("ready line %q: %+v, %v", lines[0], ready, err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &sum); err != nil || sum.Event != "stopped" || sum.Executed == 0 || sum.OverflowBytes != 0 || sum.Error != "" {
		t.Fatalf("summary line %q: %+v, %v", lines[1], sum, err)
	}
}
