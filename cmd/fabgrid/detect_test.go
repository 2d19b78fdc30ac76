//go:build !slicer

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

	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"
)

// virtualPTY serves a virtual printer of profile p on a pseudo-terminal
// until the test ends. Its M115 answer names the machine by p.Name. (The
// one place these tests make a virtual printer themselves.)
func virtualPTY(t *testing.T, p profile.Printer) string {
	t.Helper()
	v := vprinter.NewVirtual(vprinter.VirtualConfig{Printer: p})
	ctx, cancel := context.WithCancel(context.Background())
	path, err := v.ServePTY(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); v.Wait() })
	return path
}

func TestWorkerDetect(t *testing.T) {
	mk4, _ := profile.LookupPrinter("mk4")
	odd, _ := profile.LookupPrinter("ender3")
	odd.ID, odd.Name = "franken", "Frankenprinter 3000"
	own := filepath.Join(t.TempDir(), "own.json")
	var b bytes.Buffer
	if err := (profile.File{Printers: []profile.Printer{odd}}).Encode(&b); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(own, b.Bytes(), 0o644)

	tests := []struct {
		name    string
		printer profile.Printer
		args    []string
		code    int
		want    []string
	}{
		{"bundled", mk4, nil, 0, []string{"machine   Prusa MK4", "profile   mk4 — Prusa MK4 (bundled)",
			"run       fabgrid worker --port PORT --profile mk4 --material PLA"}},
		{"own profile file", odd, []string{"--profile-file", own}, 0, []string{"profile   franken — Frankenprinter 3000 (" + own + ")",
			"--profile-file " + own + " --material PLA"}},
		{"no match", odd, nil, 3, []string{`no profile matches "Frankenprinter 3000"`, "fabgrid profile import MY-PRINTER.ini"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			port := virtualPTY(t, tc.printer)
			var out bytes.Buffer
			err := runWorker(context.Background(), append([]string{"--detect", "--port", port}, tc.args...), &out, &bytes.Buffer{})
			var ee *exitError
			if tc.code == 0 && err != nil || tc.code != 0 && (!errors.As(err, &ee) || ee.code != tc.code) {
				t.Fatalf("err %v, want exit %d\n%s", err, tc.code, out.String())
			}
			text := strings.ReplaceAll(out.String(), port, "PORT")
			if !strings.Contains(text, "firmware  Marlin 2.1.2 (fabgrid virtual printer) (marlin)") {
				t.Errorf("no firmware line:\n%s", text)
			}
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
		})
	}

	port := virtualPTY(t, mk4)
	var out bytes.Buffer
	if err := runWorker(context.Background(), []string{"--detect", "--port", port, "--json"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var res detectResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Firmware != profile.FirmwareMarlin || res.MachineType != "Prusa MK4" ||
		len(res.Matches) != 1 || res.Matches[0] != "mk4" || !res.Caps["AUTOREPORT_TEMP"] || res.Baud != 115200 {
		t.Fatalf("--detect --json %s: %+v, %v", out.String(), res, err)
	}

	err := runWorker(context.Background(), []string{"--detect"}, &out, &bytes.Buffer{})
	if ee := (*exitError)(nil); !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), "--detect needs --port") {
		t.Fatalf("--detect without --port: %v", err)
	}
}
