package printerdrv

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/gcode"
)

// transcript replays a golden protocol exchange from testdata/host/*.txt.
//
//	config rx=64 pingpong=1 ack=3s long=10m poll=0 settle=50ms resends=12 flavour=klipper
//	job G1 X1          enqueue a job command
//	host M105          enqueue a host command
//	urgent M108        an unnumbered line for the emergency parser
//	raw> M108          the next line written, verbatim
//	> N1 G1 X1         the next line the host must write (checksum checked, not spelled)
//	quiet              the host must have nothing more to write
//	< ok               a line from the firmware
//	tick 3s            advance the clock and call Tick
//	hold on|off        pause / resume the job
//	fatal <sentinel>   the host must have stopped with this error
//	acked N            job commands acknowledged so far
//	inflight L B       lines and bytes in flight
func runTranscript(t *testing.T, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var h *Host
	var pending []string
	tag := 0
	pump := func() {
		out := string(h.Next(now))
		for _, l := range strings.SplitAfter(out, "\n") {
			if l != "" {
				pending = append(pending, l)
			}
		}
	}
	sc := bufio.NewScanner(f)
	ln := 0
	for sc.Scan() {
		ln++
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		verb, arg, _ := strings.Cut(line, " ")
		where := fmt.Sprintf("%s:%d: %s", filepath.Base(path), ln, line)
		if h == nil && verb != "config" {
			h = NewHost(HostConfig{}, 1)
		}
		switch verb {
		case "config":
			cfg := HostConfig{}
			for _, kv := range strings.Fields(arg) {
				k, v, _ := strings.Cut(kv, "=")
				d, _ := time.ParseDuration(v)
				n, _ := strconv.Atoi(v)
				switch k {
				case "rx":
					cfg.RXBuffer = n
				case "pingpong":
					cfg.PingPong = v == "1"
				case "ack":
					cfg.AckTimeout = d
				case "poll":
					cfg.PollInterval = d
				case "settle":
					cfg.ResendSettle = d
				case "resends":
					cfg.MaxResends = n
				case "pokes":
					cfg.MaxPokes = n
				case "long":
					cfg.LongTimeout = d
				case "flavour":
					f, err := ParseFlavour(v)
					if err != nil {
						t.Fatalf("%s: %v", where, err)
					}
					cfg.Flavour = f
				default:
					t.Fatalf("%s: unknown config %q", where, k)
				}
			}
			h = NewHost(cfg, 1)
		case "job":
			h.Enqueue(arg, tag)
			tag++
			pump()
		case "host":
			h.EnqueueHost(arg)
			pump()
		case ">":
			if len(pending) == 0 {
				t.Fatalf("%s: host wrote nothing", where)
			}
			got := pending[0]
			pending = pending[1:]
			body, cs, ok := strings.Cut(strings.TrimSuffix(got, "\n"), "*")
			if !ok || cs != strconv.Itoa(int(gcode.Checksum(body))) {
				t.Fatalf("%s: bad checksum in %q", where, got)
			}
			if body != arg {
				t.Fatalf("%s: host wrote %q", where, got)
			}
		case "urgent":
			h.Urgent(arg)
			pump()
		case "raw>":
			if len(pending) == 0 || pending[0] != arg+"\n" {
				t.Fatalf("%s: host wrote %q", where, pending)
			}
			pending = pending[1:]
		case "quiet":
			if len(pending) > 0 {
				t.Fatalf("%s: host wrote %q", where, pending)
			}
		case "<":
			h.Received(arg, now)
			pump()
		case "tick":
			d, err := time.ParseDuration(arg)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			now = now.Add(d)
			h.Tick(now)
			pump()
		case "hold":
			h.Hold(arg == "on")
			pump()
		case "fatal":
			want := map[string]error{"ErrTimeout": ErrTimeout, "ErrCommStuck": ErrCommStuck,
				"ErrHalted": ErrHalted, "ErrThermalRunaway": ErrThermalRunaway}[arg]
			if want == nil || !errors.Is(h.Err(), want) {
				t.Fatalf("%s: host error %v", where, h.Err())
			}
		case "acked":
			if n, _ := strconv.Atoi(arg); h.Stats().Acked != n {
				t.Fatalf("%s: acked %d", where, h.Stats().Acked)
			}
		case "inflight":
			var wl, wb int
			fmt.Sscan(arg, &wl, &wb)
			if l, b := h.InFlight(); l != wl || b != wb {
				t.Fatalf("%s: in flight %d lines %d bytes", where, l, b)
			}
		case "idle":
			if !h.Idle() {
				t.Fatalf("%s: host not idle", where)
			}
		default:
			t.Fatalf("%s: unknown verb", where)
		}
	}
	if len(pending) > 0 {
		t.Fatalf("%s: unchecked host output %q", filepath.Base(path), pending)
	}
}

func TestHostTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/host/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) { runTranscript(t, f) })
	}
}

// TestHostNeverOverflows streams many lines with random-length commands and
// checks the bytes in flight never exceed the buffer.
func TestHostNeverOverflows(t *testing.T) {
	h := NewHost(HostConfig{RXBuffer: 100}, 1)
	now := time.Unix(0, 0)
	for i := 0; i < 500; i++ {
		h.Enqueue("G1 X"+strings.Repeat("1", i%40)+" Y2", i)
	}
	var fifo []int
	for steps := 0; !h.Idle(); steps++ {
		if steps > 10000 {
			t.Fatal("no progress")
		}
		out := h.Next(now)
		for _, l := range strings.SplitAfter(string(out), "\n") {
			if l != "" {
				fifo = append(fifo, len(l))
			}
		}
		sum := 0
		for _, b := range fifo {
			sum += b
		}
		if sum > 100 {
			t.Fatalf("%d bytes in flight, buffer is 100", sum)
		}
		if len(fifo) == 0 {
			t.Fatal("nothing in flight and not idle")
		}
		fifo = fifo[1:]
		h.Received("ok", now)
	}
	if h.Stats().Acked != 500 {
		t.Fatalf("acked %d", h.Stats().Acked)
	}
}

// FuzzHostReceived feeds arbitrary firmware output to a streaming host of
// each flavour: it must not panic, never count more bytes in flight than
// the buffer or fewer than zero, and never send a line twice except as a
// resend.
func FuzzHostReceived(f *testing.F) {
	for _, s := range []string{"ok\nok\nok", "Resend: 2\nok\nResend: 2\nok", "rs 1\nok\nok T:1 /2", "Resend: 999\nok",
		"ok T:20 /0\nok\nstart", "echo:busy: processing\nwait\nok", "Error:checksum mismatch\nResend:1\nok\nok\nok",
		"Error:Printer halted. kill() called!", "ok\n// Klipper state: Shutdown\n!! Move out of range\nok",
		"B:60.0 /60.0 T0:150.0 /200.0\nok B:1 /0 T0:2 /0\nok", "// Klipper state: Shutdown\nok\nok", "rs:3\nok N3\nok",
		"ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0\nok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fl := range Flavours() {
			fuzzHost(t, fl, s)
		}
	})
}

func fuzzHost(t *testing.T, fl Flavour, s string) {
	h := NewHost(HostConfig{RXBuffer: 64, Flavour: fl}, 1)
	for i := range 20 {
		h.Enqueue(fmt.Sprintf("G1 X%d", i), i)
	}
	now := time.Unix(0, 0)
	// Numbered lines are told apart by number; Klipper's bare ones by
	// their text (the job's commands differ; the host's own may repeat).
	sent := map[string]int{}
	check := func() {
		for _, l := range strings.SplitAfter(string(h.Next(now)), "\n") {
			if l == "" {
				continue
			}
			key := strings.TrimSpace(l)
			if fl.Numbered() {
				var n int
				fmt.Sscanf(l, "N%d", &n)
				key = strconv.Itoa(n)
			} else if !strings.HasPrefix(key, "G1") {
				continue
			}
			sent[key]++
		}
		if l, b := h.InFlight(); b < 0 || l < 0 || b > 64 {
			t.Fatalf("%s: in flight %d lines %d bytes", fl, l, b)
		}
	}
	check()
	for _, line := range strings.Split(s, "\n") {
		h.Received(line, now)
		now = now.Add(10 * time.Millisecond)
		h.Tick(now)
		check()
	}
	resent := h.Stats().Resent
	extra := 0
	for _, c := range sent {
		extra += c - 1
	}
	if extra > resent {
		t.Fatalf("%s: %d repeated lines, %d resends", fl, extra, resent)
	}
	if !fl.Numbered() && resent > 0 {
		t.Fatalf("%s: %d lines resent to firmware that never asks", fl, resent)
	}
}

// TestHostSetFlavourFlowControl: RepRapFirmware's one line at a time goes
// with its flavour; a profile's own ping-pong stays whatever the flavour.
func TestHostSetFlavourFlowControl(t *testing.T) {
	tests := []struct {
		name     string
		pingPong bool
		from, to Flavour
		lines    int
	}{
		{"RepRapFirmware profile on Marlin", false, FlavourRepRap, FlavourMarlin, 3},
		{"Marlin profile on RepRapFirmware", false, FlavourMarlin, FlavourRepRap, 1},
		{"ping-pong profile on Marlin", true, FlavourRepRap, FlavourMarlin, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHost(HostConfig{RXBuffer: 128, PingPong: tc.pingPong, Flavour: tc.from}, 1)
			h.SetFlavour(tc.to)
			for i := range 3 {
				h.Enqueue("G1 X1", i)
			}
			if got := strings.Count(string(h.Next(time.Unix(0, 0))), "\n"); got != tc.lines || h.Flavour() != tc.to {
				t.Fatalf("%d lines in flight, flavour %s; want %d", got, h.Flavour(), tc.lines)
			}
		})
	}
}
