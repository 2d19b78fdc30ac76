package vprinter

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/gcode"
)

func testFirmware() *firmware { return testFirmwareOf("") }

// testFirmwareOf is an instant Ender-3 answering as the named flavour.
func testFirmwareOf(flavour string) *firmware {
	v := NewVirtual(VirtualConfig{Firmware: flavour})
	return newFirmware(v.cfg, &recorder{}, time.Unix(0, 0))
}

func TestFirmwareCheck(t *testing.T) {
	tests := []struct {
		name, line string
		lastN      int
		wantN      int
		wantCmd    string
		wantErr    string
	}{
		{"numbered", "N1 G28*18", 0, 1, "G28", ""},
		{"bad checksum", "N1 G28*19", 0, -1, "", "checksum mismatch"},
		{"wrong number", "N3 G28*16", 0, -1, "", "Line Number is not Last Line Number+1"},
		{"no checksum", "N1 G28", 0, -1, "", "No Checksum with line number"},
		{"checksum without number", "G28*18", 0, -1, "", "No Line Number with checksum"},
		{"unnumbered", "M105", 5, -1, "M105", ""},
		{"M110 resets", "N0 M110 N0*125", 57, 0, "M110 N0", ""},
		{"printcore's M110", gcode.FormatLine(-1, "M110")[:len(gcode.FormatLine(-1, "M110"))-1], 57, -1, "M110", ""},
		{"comment", "N1 G28*18 ; home", 0, 1, "G28", ""},
		// M1100 is not M110: before the firmware read codes through
		// package gcode, any command starting with M110 reset the numbering.
		{"M1100 is not M110", strings.TrimSuffix(gcode.FormatLine(9, "M1100"), "\n"), 0, -1, "", "Line Number is not Last Line Number+1"},
		{"M110 without a space", strings.TrimSuffix(gcode.FormatLine(0, "M110N5"), "\n"), 57, 5, "M110N5", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := testFirmware()
			f.lastN = tc.lastN
			n, cmd, errMsg := f.check(tc.line)
			if n != tc.wantN || cmd != tc.wantCmd || errMsg != tc.wantErr {
				t.Fatalf("check(%q) = %d %q %q", tc.line, n, cmd, errMsg)
			}
		})
	}
}

// TestFirmwareReadsCodesAsMarlin: Marlin needs no space between a code and
// its first parameter, and reads G01 as G1. Before the firmware read
// commands through package gcode, M104S200 was an unknown command and the
// hotend stayed cold.
func TestFirmwareReadsCodesAsMarlin(t *testing.T) {
	for _, cmd := range []string{"M104S200", "M0104 S200", "m104 s200"} {
		f := testFirmware()
		f.exec(fwCmd{n: 1, cmd: cmd}, time.Unix(0, 0))
		if f.hot.target != 200 {
			t.Errorf("%q: hotend target %v, want 200", cmd, f.hot.target)
		}
		for _, o := range f.out {
			if strings.Contains(string(o.data), "Unknown command") {
				t.Errorf("%q: %s", cmd, o.data)
			}
		}
	}
}

// TestFirmwareRXOverflowDetected proves the overflow counter works, so the
// tests that assert it stays zero can fail.
func TestFirmwareRXOverflowDetected(t *testing.T) {
	f := testFirmware()
	f.cfg.Printer.RXBufferBytes = 16
	f.feed([]byte(strings.Repeat("G1 X1\n", 5)), time.Unix(0, 0))
	if f.rec.r.OverflowBytes != 30-16 {
		t.Fatalf("overflow %d bytes", f.rec.r.OverflowBytes)
	}
}

// FuzzFirmwareLine feeds arbitrary lines to each flavour's line reader: it
// must not panic, never hold more than its RX buffer, and accept a correctly
// numbered and checksummed version of any plain command.
func FuzzFirmwareLine(f *testing.F) {
	for _, s := range []string{"N1 G28*18", "N1 G28*19", "G28*18", "M105", "N-1 M110*15", "N0 M110 N0*125",
		"N", "N*", "N1*", "N99999999999999999999 G1*1", "M112", ";", "N1 M110 N-5*0", "G1 X1 ; c",
		"N5 M112*0", "STATUS", "N3 G1 X1*0", "*", "N1 *5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, name := range []string{"", "prusa", "klipper", "reprapfirmware"} {
			now := time.Unix(0, 0)
			fw := testFirmwareOf(name)
			fw.feed([]byte(s+"\n"), now)
			fw.step(now)
			if len(fw.rx) > fw.cfg.Printer.RXBufferBytes {
				t.Fatalf("%s: rx holds %d bytes", name, len(fw.rx))
			}
			cmd := strings.TrimSpace(s)
			if strings.ContainsAny(cmd, "*;\n\r") || cmd == "" || strings.Contains(strings.ToUpper(cmd), "M110") ||
				strings.Contains(strings.ToUpper(cmd), "M112") || len(cmd) > 80 {
				continue
			}
			fw = testFirmwareOf(name)
			line := strings.TrimSuffix(gcode.FormatLine(1, cmd), "\n")
			var (
				n      int
				got    string
				errMsg string
			)
			switch fw.flavour {
			case flavourKlipper:
				n, got = fw.acceptKlipper(line)
			case flavourRepRap:
				var rs int
				if n, got, rs = fw.checkRepRap(line); rs >= 0 {
					errMsg = "rs " + strconv.Itoa(rs)
				}
			default:
				n, got, errMsg = fw.check(line)
			}
			if errMsg != "" || n != 1 || got != cmd {
				t.Fatalf("%s: valid line for %q: n=%d cmd=%q err=%q", name, cmd, n, got, errMsg)
			}
		}
	})
}

// TestKlipperRestartRefusesLines: while Klipper restarts (an injected
// reset) it runs nothing it is sent, answering "not ready", until it says
// it is ready again; without that a host that had not yet read
// "Disconnect" would have lines run out of order.
func TestKlipperRestartRefusesLines(t *testing.T) {
	v := NewVirtual(VirtualConfig{Firmware: "klipper", Faults: Faults{ResetAt: 2}})
	rec := &recorder{}
	now := time.Unix(0, 0)
	fw := newFirmware(v.cfg, rec, now)
	var out []string
	send := func(line string, at time.Time) {
		fw.feed([]byte(line+"\n"), at)
		fw.step(at)
		for _, o := range fw.out {
			out = append(out, strings.Split(strings.TrimSuffix(string(o.data), "\n"), "\n")...)
		}
		fw.out = nil
	}
	send("G1 X1", now)
	send("G1 X2", now) // line 2: the reset
	send("G1 X3", now)
	if !strings.Contains(strings.Join(out, "|"), "ok|// Klipper state: Disconnect|") || !slices.Contains(out, "!! Printer is not ready") {
		t.Fatalf("answers %q", out)
	}
	later := now.Add(klipperStartupWall)
	if next := fw.next(); next.IsZero() || next.After(later) {
		t.Fatalf("ready at %v", next)
	}
	out = nil
	send("G1 X4", later)
	if len(out) < 2 || out[0] != "// Klipper state: Ready" || out[len(out)-1] != "ok" {
		t.Fatalf("after the restart: %q", out)
	}
	if got := rec.r.Commands; !slices.Equal(got, []string{"G1 X1", "G1 X4"}) || rec.r.Resets != 1 {
		t.Fatalf("executed %q, %d resets", got, rec.r.Resets)
	}
}
