package printerdrv_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/gcode"
	"github.com/fabgrid/fabgrid/motion"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"
)

func printer(t testing.TB, id string) profile.Printer {
	t.Helper()
	p, err := profile.LookupPrinter(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func calibration(t testing.TB, p profile.Printer) printerdrv.Job {
	t.Helper()
	f, err := os.Open("testdata/calibration.gcode")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j, err := printerdrv.ReadJob("calibration.gcode", f, p)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// startPTY serves a virtual printer on a pty for the test's lifetime.
func startPTY(t testing.TB, cfg vprinter.VirtualConfig) (*vprinter.Virtual, string) {
	t.Helper()
	v := vprinter.NewVirtual(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	path, err := v.ServePTY(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		v.Wait()
	})
	return v, path
}

// dial opens the pty as a serial port and connects.
func dial(t testing.TB, path string, opts printerdrv.Options) *printerdrv.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	port, err := printerdrv.Open(ctx, path, 115200)
	if err != nil {
		t.Fatal(err)
	}
	if opts.StartWait == 0 {
		opts.StartWait = 500 * time.Millisecond
	}
	c, err := printerdrv.Connect(ctx, port, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// jobPart drops the commands the host adds itself from a record.
func jobPart(cmds []string) []string {
	var out []string
	for _, c := range cmds {
		switch gcode.Lex(c).Code {
		case gcode.M(110), gcode.M(115), gcode.M(155), gcode.M(105):
			continue
		}
		out = append(out, c)
	}
	return out
}

// flavourCase is one firmware flavour the pty suite runs against: a bundled
// profile of that flavour, whose firmware field the virtual printer
// emulates and the host starts from.
type flavourCase struct {
	flavour printerdrv.Flavour
	printer string
}

// flavourCases has one bundled profile for each flavour.
var flavourCases = []flavourCase{
	{printerdrv.FlavourMarlin, "ender3"},
	{printerdrv.FlavourPrusa, "mk3s"},
	{printerdrv.FlavourKlipper, "voron24"},
	{printerdrv.FlavourRepRap, "duet"},
}

// startFlavour serves a virtual printer of the case's flavour and connects
// to it, checking the host chose that flavour.
func startFlavour(t testing.TB, fc flavourCase, cfg vprinter.VirtualConfig, opts printerdrv.Options) (*vprinter.Virtual, *printerdrv.Conn) {
	t.Helper()
	p := printer(t, fc.printer)
	if p.Firmware != fc.flavour.String() {
		t.Fatalf("profile %s is %q, not %s", p.ID, p.Firmware, fc.flavour)
	}
	cfg.Printer, cfg.Firmware = p, p.Firmware
	opts.Printer = p
	if fc.flavour == printerdrv.FlavourRepRap && opts.StartWait == 0 {
		// A Duet prints nothing when its USB port opens: the host probes
		// after half the start wait.
		opts.StartWait = 100 * time.Millisecond
	}
	v, path := startPTY(t, cfg)
	c := dial(t, path, opts)
	if got := c.Firmware().Flavour; got != fc.flavour {
		t.Fatalf("host speaks %s to %q, want %s", got, c.Firmware().Name, fc.flavour)
	}
	return v, c
}

// withoutPolls drops the M105s a host polls with from a record.
func withoutPolls(cmds []string) []string {
	var out []string
	for _, c := range cmds {
		if c != "M105" {
			out = append(out, c)
		}
	}
	return out
}

func mustPrepare(t testing.TB, j printerdrv.Job) printerdrv.Prepared {
	t.Helper()
	p, err := printerdrv.Prepare(j)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPTYExactlyOnceInOrder(t *testing.T) {
	tests := []struct {
		name    string
		printer string
		corrupt float64
	}{
		// Clean, 1 % and 5 % on Marlin are in TestPTYExactlyOnceEveryFlavour.
		{"5% corrupted ping-pong", "cr10s5", 0.05},
		{"5% corrupted, Marlin flushes its buffer on errors", "ender3", 0.05},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := printer(t, tc.printer)
			v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Faults: vprinter.Faults{Corrupt: tc.corrupt}, Seed: 7,
				FlushOnError: strings.Contains(tc.name, "flushes")})
			c := dial(t, path, printerdrv.Options{Printer: p})
			job := calibration(t, p)
			sum, err := c.Print(context.Background(), job, nil)
			if err != nil {
				t.Fatalf("print: %v (%+v)", err, sum)
			}
			rec := v.Record()
			want := mustPrepare(t, job).Commands
			if got := jobPart(rec.Commands); !slices.Equal(got, want) {
				t.Fatalf("executed %d commands, file has %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
			if rec.OverflowBytes != 0 {
				t.Fatalf("RX buffer overflowed by %d bytes", rec.OverflowBytes)
			}
			if tc.corrupt > 0 && (rec.Corrupted == 0 || sum.Resends == 0) {
				t.Fatalf("no corruption exercised: %+v %+v", rec.Corrupted, sum)
			}
			if sum.Outcome != "done" || sum.Acked != len(want) {
				t.Fatalf("summary %+v", sum)
			}
		})
	}
}

// TestPTYExactlyOnceEveryFlavour runs the exactly-once suite against each
// flavour's emulation. Klipper's pseudo-terminal cannot garble a line and
// Klipper has no checksum to notice if it did: there the corruption fault
// does not apply, and the test checks that nothing was corrupted or resent.
func TestPTYExactlyOnceEveryFlavour(t *testing.T) {
	for _, fc := range flavourCases {
		for _, corrupt := range []float64{0, 0.01, 0.05} {
			t.Run(fc.flavour.String()+"/"+strconv.FormatFloat(corrupt*100, 'f', -1, 64)+"% corrupted", func(t *testing.T) {
				t.Parallel() // each flavour has its own pty; most of the time is waiting
				v, c := startFlavour(t, fc, vprinter.VirtualConfig{Faults: vprinter.Faults{Corrupt: corrupt}, Seed: 7}, printerdrv.Options{})
				job := calibration(t, printer(t, fc.printer))
				sum, err := c.Print(context.Background(), job, nil)
				if err != nil {
					t.Fatalf("print: %v (%+v)", err, sum)
				}
				rec := v.Record()
				want := mustPrepare(t, job).Commands
				if got := jobPart(rec.Commands); !slices.Equal(got, want) {
					t.Fatalf("executed %d commands, file has %d; first difference at %d", len(got), len(want), firstDiff(got, want))
				}
				if rec.OverflowBytes != 0 {
					t.Fatalf("RX buffer overflowed by %d bytes", rec.OverflowBytes)
				}
				checksummed := fc.flavour.Numbered()
				switch {
				case corrupt > 0 && checksummed && (rec.Corrupted == 0 || sum.Resends == 0):
					t.Fatalf("no corruption exercised: %d corrupted, %+v", rec.Corrupted, sum)
				case !checksummed && (rec.Corrupted != 0 || sum.Resends != 0):
					t.Fatalf("%d lines corrupted on a pseudo-terminal, %d resends", rec.Corrupted, sum.Resends)
				}
				if sum.Outcome != "done" || sum.Acked != len(want) {
					t.Fatalf("summary %+v", sum)
				}
			})
		}
	}
}

// TestPTYFlavourFromM115: the firmware's M115 answer beats the profile's
// firmware field, whichever way they differ (a Klipper machine behind a
// Marlin profile; Marlin boards behind Klipper and RepRapFirmware ones,
// where the host must start numbering lines, or stop sending one at a time).
func TestPTYFlavourFromM115(t *testing.T) {
	tests := []struct {
		profile, firmware string
		want              printerdrv.Flavour
		name              string
	}{
		{"ender3", "klipper", printerdrv.FlavourKlipper, "FIRMWARE_NAME:Klipper"},
		{"voron24", "marlin", printerdrv.FlavourMarlin, "FIRMWARE_NAME:Marlin"},
		{"duet", "prusa", printerdrv.FlavourPrusa, "FIRMWARE_NAME:Prusa-Firmware"},
	}
	for _, tc := range tests {
		t.Run(tc.profile+" on "+tc.firmware, func(t *testing.T) {
			t.Parallel()
			p := printer(t, tc.profile)
			v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Firmware: tc.firmware})
			c := dial(t, path, printerdrv.Options{Printer: p, StartWait: 100 * time.Millisecond})
			if f := c.Firmware().Flavour; f != tc.want || !strings.HasPrefix(c.Firmware().Name, tc.name) {
				t.Fatalf("flavour %s from %q", f, c.Firmware().Name)
			}
			job := calibration(t, p)
			if sum, err := c.Print(context.Background(), job, nil); err != nil {
				t.Fatalf("%v (%+v)", err, sum)
			}
			r := v.Record()
			if got, want := jobPart(r.Commands), mustPrepare(t, job).Commands; !slices.Equal(got, want) || r.Rejected != 0 {
				t.Fatalf("executed %d commands of %d, %d lines rejected", len(got), len(want), r.Rejected)
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestPTYDroppedOKRecovered(t *testing.T) {
	for _, fc := range flavourCases {
		t.Run(fc.flavour.String(), func(t *testing.T) {
			t.Parallel() // each flavour has its own pty; most of the time is waiting
			v, c := startFlavour(t, fc, vprinter.VirtualConfig{Faults: vprinter.Faults{DropOK: 0.01}, Seed: 3},
				// Ten unanswered pokes, not three, end the job: the flavours run
				// at once, and a loaded machine can stall a run past 3 × 200 ms.
				printerdrv.Options{HostConfig: printerdrv.HostConfig{AckTimeout: 200 * time.Millisecond, MaxPokes: 10}})
			job := calibration(t, printer(t, fc.printer))
			sum, err := c.Print(context.Background(), job, nil)
			if err != nil {
				t.Fatalf("print: %v", err)
			}
			rec := v.Record()
			if rec.DroppedOKs == 0 {
				t.Fatal("no ok was dropped: the test proves nothing")
			}
			if got, want := jobPart(rec.Commands), mustPrepare(t, job).Commands; !slices.Equal(got, want) {
				t.Fatalf("executed %d commands, want %d", len(got), len(want))
			}
			if sum.Acked != sum.Commands || rec.OverflowBytes != 0 {
				t.Fatalf("summary %+v overflow %d", sum, rec.OverflowBytes)
			}
		})
	}
}

func TestPTYFaultsEndJob(t *testing.T) {
	// A Duet restarting drops off the USB bus: its reset is a disconnect.
	resetErr := func(f printerdrv.Flavour) error {
		if f == printerdrv.FlavourRepRap {
			return printerdrv.ErrDisconnected
		}
		return printerdrv.ErrReset
	}
	tests := []struct {
		name   string
		faults vprinter.Faults
		want   func(printerdrv.Flavour) error
	}{
		{"reset", vprinter.Faults{ResetAt: 200}, resetErr},
		{"disconnect", vprinter.Faults{DisconnectAt: 200}, func(printerdrv.Flavour) error { return printerdrv.ErrDisconnected }},
		{"thermal runaway", vprinter.Faults{ThermalRunawayAt: 200}, func(printerdrv.Flavour) error { return printerdrv.ErrThermalRunaway }},
	}
	for _, fc := range flavourCases {
		for _, tc := range tests {
			t.Run(fc.flavour.String()+"/"+tc.name, func(t *testing.T) {
				t.Parallel() // each flavour has its own pty; most of the time is waiting
				v, c := startFlavour(t, fc, vprinter.VirtualConfig{Faults: tc.faults}, printerdrv.Options{})
				faultEndsJob(t, v, c, printer(t, fc.printer), tc.want(fc.flavour))
			})
		}
	}
}

func faultEndsJob(t *testing.T, v *vprinter.Virtual, c *printerdrv.Conn, p profile.Printer, want error) {
	t.Helper()
	start := time.Now()
	sum, err := c.Print(context.Background(), calibration(t, p), nil)
	if !errors.Is(err, want) {
		t.Fatalf("err %v, want %v", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("job ended after %s", d)
	}
	if sum.Outcome != "failed" || sum.Acked >= sum.Commands {
		t.Fatalf("summary %+v", sum)
	}
	// Nothing was executed twice or out of order before the fault.
	got := jobPart(v.Record().Commands)
	wantCmds := mustPrepare(t, calibration(t, p)).Commands
	if !slices.Equal(got, wantCmds[:len(got)]) {
		t.Fatalf("executed commands are not a prefix of the file")
	}
	t.Logf("%v", err)
}

func TestPTYOverLimitRefusedBeforeAnyByte(t *testing.T) {
	p := printer(t, "ender3")
	v, path := startPTY(t, vprinter.VirtualConfig{Printer: p})
	c := dial(t, path, printerdrv.Options{Printer: p})
	before := v.Record()
	job := printerdrv.Job{Name: "hot", Printer: p, Lines: []string{"G28", "G1 X10", "M104 S280 ; too hot for an Ender-3"}}
	_, err := c.Print(context.Background(), job, nil)
	if !errors.Is(err, printerdrv.ErrOverLimit) {
		t.Fatalf("err %v, want printerdrv.ErrOverLimit", err)
	}
	// A later, valid job still works, and proves the refused one sent nothing.
	if _, err := c.Print(context.Background(), printerdrv.Job{Name: "ok", Printer: p, Lines: []string{"G1 X1"}}, nil); err != nil {
		t.Fatal(err)
	}
	after := v.Record()
	if got := after.Commands[len(before.Commands):]; !slices.Equal(jobPart(got), []string{"G1 X1"}) {
		t.Fatalf("printer received %q", got)
	}
	if after.LinesReceived != before.LinesReceived+1 {
		t.Fatalf("printer received %d lines", after.LinesReceived-before.LinesReceived)
	}
}

func TestPTYCancelSendsSafeSequence(t *testing.T) {
	for _, fc := range flavourCases {
		t.Run(fc.flavour.String(), func(t *testing.T) {
			t.Parallel() // each flavour has its own pty; most of the time is waiting
			v, c := startFlavour(t, fc, vprinter.VirtualConfig{Speed: 200}, printerdrv.Options{})
			cancelSendsSafeSequence(t, v, c, printer(t, fc.printer))
		})
	}
}

func cancelSendsSafeSequence(t *testing.T, v *vprinter.Virtual, c *printerdrv.Conn, p profile.Printer) {
	t.Helper()
	var cancelled atomic.Bool
	sum, err := c.Print(context.Background(), calibration(t, p), func(pr printerdrv.Progress) {
		if pr.Acked > 60 && !cancelled.Swap(true) {
			c.Cancel()
		}
	})
	if !errors.Is(err, printerdrv.ErrCancelled) || sum.Outcome != "cancelled" {
		t.Fatalf("err %v summary %+v", err, sum)
	}
	// Flavours without auto-report poll M105 between commands, the safe
	// sequence too.
	rec := withoutPolls(v.Record().Commands)
	tail := rec[len(rec)-len(printerdrv.CancelSequence):]
	if !slices.Equal(tail, printerdrv.CancelSequence) {
		t.Fatalf("last commands %q, want the safe sequence %q", tail, printerdrv.CancelSequence)
	}
	if n := len(jobPart(rec)) - len(printerdrv.CancelSequence); n >= sum.Commands || n < 60 {
		t.Fatalf("%d job commands ran before the cancel", n)
	}
}

func TestPTYEmergencyStop(t *testing.T) {
	p := printer(t, "ender3")
	v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Speed: 100})
	c := dial(t, path, printerdrv.Options{Printer: p})
	var once atomic.Bool
	_, err := c.Print(context.Background(), calibration(t, p), func(pr printerdrv.Progress) {
		if pr.Acked > 20 && !once.Swap(true) {
			c.EmergencyStop()
		}
	})
	if !errors.Is(err, printerdrv.ErrHalted) {
		t.Fatalf("err %v, want printerdrv.ErrHalted", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !v.Record().Halted {
		if time.Now().After(deadline) {
			t.Fatal("the printer did not halt")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPTYPauseResume(t *testing.T) {
	p := printer(t, "ender3")
	v, path := startPTY(t, vprinter.VirtualConfig{Printer: p})
	c := dial(t, path, printerdrv.Options{Printer: p, ProgressEvery: time.Millisecond})
	job := printerdrv.Job{Name: "short", Printer: p}
	for i := range 400 {
		job.Lines = append(job.Lines, "G1 X"+strings.Repeat("1", 1+i%3))
	}
	// The callback runs on Print's goroutine: plain variables will do.
	var paused, resumed bool
	lastAcked, stable, heldAcked, executedAtHold := -1, 0, 0, 0
	sum, err := c.Print(context.Background(), job, func(pr printerdrv.Progress) {
		switch {
		case !paused && pr.Acked > 50:
			paused = true
			c.Pause()
		case pr.Paused && !resumed:
			if pr.Acked != lastAcked {
				lastAcked, stable = pr.Acked, 0
				return
			}
			if stable++; stable < 20 {
				return
			}
			// Nothing acknowledged for 20 progress ticks: the job is held.
			heldAcked = pr.Acked
			executedAtHold = len(jobPart(v.Record().Commands))
			resumed = true
			c.Resume()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !resumed || heldAcked >= 400 || heldAcked <= 50 {
		t.Fatalf("resumed %v, held at %d", resumed, heldAcked)
	}
	if executedAtHold != heldAcked {
		t.Fatalf("while paused the printer had executed %d commands, %d acknowledged", executedAtHold, heldAcked)
	}
	if got := jobPart(v.Record().Commands); len(got) != 400 || sum.Acked != 400 {
		t.Fatalf("executed %d, acked %d", len(got), sum.Acked)
	}
}

func TestPipeHeatingAndMotionModel(t *testing.T) {
	p := printer(t, "ender3")
	v := vprinter.NewVirtual(vprinter.VirtualConfig{Printer: p})
	hostEnd, printerEnd := vprinter.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- v.Serve(ctx, printerEnd) }()
	defer func() { cancel(); <-done }()
	c, err := printerdrv.Connect(ctx, hostEnd, printerdrv.Options{Printer: p, StartWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.Firmware().Caps["AUTOREPORT_TEMP"] || !strings.Contains(c.Firmware().Name, "Marlin") {
		t.Fatalf("firmware %+v", c.Firmware())
	}
	job := calibration(t, p)
	var last printerdrv.Progress
	if _, err := c.Print(ctx, job, func(pr printerdrv.Progress) { last = pr }); err != nil {
		t.Fatal(err)
	}
	if last.Percent != 100 || last.Layer != 9 || last.Layers != 9 {
		t.Fatalf("last progress %+v", last)
	}
	rec := v.Record()
	m := motion.NewMachine(motion.LimitsFor(p))
	want := 0.0
	for _, cmd := range mustPrepare(t, job).Commands {
		d, err := m.Exec(cmd)
		if err != nil {
			t.Fatal(err)
		}
		want += d
	}
	if rec.MotionSeconds != want || want == 0 {
		t.Fatalf("motion %.3fs, model says %.3fs", rec.MotionSeconds, want)
	}
	// Bed 22→60 °C and hotend 22→200 °C with the first-order model.
	if rec.HeatingSeconds < 30 || rec.HeatingSeconds > 300 {
		t.Fatalf("heating %.1fs", rec.HeatingSeconds)
	}
}

// TestPTYContextCancelIsSafe: ending the context (Ctrl-C) cancels like Cancel.
func TestPTYContextCancelIsSafe(t *testing.T) {
	p := printer(t, "ender3")
	v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Speed: 200})
	c := dial(t, path, printerdrv.Options{Printer: p})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := c.Print(ctx, calibration(t, p), func(pr printerdrv.Progress) {
		if pr.Acked > 30 {
			cancel()
		}
	})
	if !errors.Is(err, printerdrv.ErrCancelled) {
		t.Fatalf("err %v", err)
	}
	rec := v.Record().Commands
	if tail := rec[len(rec)-len(printerdrv.CancelSequence):]; !slices.Equal(tail, printerdrv.CancelSequence) {
		t.Fatalf("last commands %q", tail)
	}
}

// TestPTYPollsWithoutAutoReport: without AUTOREPORT_TEMP the host polls M105
// between commands and reports the temperatures.
func TestPTYPollsWithoutAutoReport(t *testing.T) {
	p := printer(t, "ender3")
	v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Speed: 200, NoAutoReport: true})
	c := dial(t, path, printerdrv.Options{Printer: p, HostConfig: printerdrv.HostConfig{PollInterval: 50 * time.Millisecond}})
	if c.Firmware().Caps["AUTOREPORT_TEMP"] {
		t.Fatal("capability advertised")
	}
	var sawHeating atomic.Bool
	_, err := c.Print(context.Background(), calibration(t, p), func(pr printerdrv.Progress) {
		if pr.Temps.HotendTarget == 200 && pr.Temps.Hotend > 22 && pr.Temps.Hotend < 199 {
			sawHeating.Store(true)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	polls := 0
	for _, cmd := range v.Record().Commands {
		if cmd == "M105" {
			polls++
		}
		if strings.HasPrefix(cmd, "M155") {
			t.Fatal("M155 sent to firmware without auto-report")
		}
	}
	if polls < 5 || !sawHeating.Load() {
		t.Fatalf("%d polls, saw heating %v", polls, sawHeating.Load())
	}
}

// TestPTYHaltedPrinterHandshakeTimesOut: a printer that halted answers
// nothing; connecting again fails with printerdrv.ErrTimeout, not a hang.
func TestPTYHaltedPrinterHandshakeTimesOut(t *testing.T) {
	p := printer(t, "ender3")
	_, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Faults: vprinter.Faults{ThermalRunawayAt: 5}})
	c := dial(t, path, printerdrv.Options{Printer: p})
	if _, err := c.Print(context.Background(), calibration(t, p), nil); !errors.Is(err, printerdrv.ErrThermalRunaway) {
		t.Fatalf("err %v", err)
	}
	if _, err := c.Print(context.Background(), calibration(t, p), nil); !errors.Is(err, printerdrv.ErrThermalRunaway) {
		t.Fatalf("second job on a failed connection: %v", err)
	}
	c.Close()
	ctx := context.Background()
	port, err := printerdrv.Open(ctx, path, 115200)
	if err != nil {
		t.Fatal(err)
	}
	_, err = printerdrv.Connect(ctx, port, printerdrv.Options{Printer: p, StartWait: -1, HandshakeTimeout: 300 * time.Millisecond})
	if !errors.Is(err, printerdrv.ErrTimeout) {
		t.Fatalf("err %v, want printerdrv.ErrTimeout", err)
	}
}

// TestPTYLongCommandsKeptAliveByBusy: heating, homing and a dwell take far
// longer than the ack and long-command timeouts here; the firmware's busy
// reports keep them alive without a single poke.
func TestPTYLongCommandsKeptAliveByBusy(t *testing.T) {
	p := printer(t, "ender3")
	v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Speed: 100})
	c := dial(t, path, printerdrv.Options{Printer: p, HostConfig: printerdrv.HostConfig{AckTimeout: 100 * time.Millisecond, LongTimeout: 150 * time.Millisecond, MaxPokes: 1}})
	job := printerdrv.Job{Name: "long", Printer: p, Lines: []string{"M190 S60", "M109 S200", "G28", "G4 S30", "G1 X10 F600", "M400"}}
	start := time.Now()
	sum, err := c.Print(context.Background(), job, nil)
	if err != nil {
		t.Fatalf("%v (%+v)", err, sum)
	}
	if sum.Pokes != 0 {
		t.Fatalf("%d pokes", sum.Pokes)
	}
	rec := v.Record()
	modelled := time.Duration((rec.HeatingSeconds + rec.MotionSeconds) / 100 * float64(time.Second))
	if took := time.Since(start); took < modelled/2 || modelled < 500*time.Millisecond {
		t.Fatalf("took %s, modelled %s at 100×: the long commands did not wait", took, modelled)
	}
}

// TestPTYCancelDuringHeating: a cancel while the firmware waits in M109
// ends the wait at once (M108 through the emergency parser) instead of
// heating on to the target before the heaters-off command runs.
func TestPTYCancelDuringHeating(t *testing.T) {
	p := printer(t, "ender3")
	v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Speed: 4})
	c := dial(t, path, printerdrv.Options{Printer: p, ProgressEvery: time.Millisecond})
	job := printerdrv.Job{Name: "heat", Printer: p, Lines: []string{"M104 S200", "M109 S200", "G28", "G1 X10"}}
	var once atomic.Bool
	start := time.Now()
	_, err := c.Print(context.Background(), job, func(pr printerdrv.Progress) {
		if pr.Acked >= 1 && pr.Temps.Hotend > 25 && !once.Swap(true) {
			c.Cancel()
		}
	})
	if !errors.Is(err, printerdrv.ErrCancelled) {
		t.Fatalf("err %v", err)
	}
	// Heating 22→200 °C takes about a minute of model time, 14 s at 4×;
	// the commands already sent (G28, G1) still run, about 1 s.
	if took := time.Since(start); took > 8*time.Second {
		t.Fatalf("cancel took %s: the heating wait was not broken", took)
	}
	rec := v.Record().Commands
	if tail := rec[len(rec)-len(printerdrv.CancelSequence):]; !slices.Equal(tail, printerdrv.CancelSequence) {
		t.Fatalf("last commands %q", tail)
	}
}

// Cancel abandons the moves the firmware has planned (M410 through the
// emergency parser) instead of waiting for them; without an emergency
// parser nothing is sent out of band and the planned moves run out.
func TestPTYCancelQuickstopsPlannedMoves(t *testing.T) {
	p := printer(t, "ender3")
	job := printerdrv.Job{Name: "long moves", Printer: p, Lines: []string{"G28", "G1 Z1 F600"}}
	for i := range 200 {
		job.Lines = append(job.Lines, "G1 X"+strconv.Itoa(10+180*(i%2))+" F6000")
	}
	for _, noEP := range []bool{false, true} {
		v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Speed: 20, NoEmergencyParser: noEP})
		c := dial(t, path, printerdrv.Options{Printer: p, ProgressEvery: time.Millisecond})
		var once bool
		_, err := c.Print(context.Background(), job, func(pr printerdrv.Progress) {
			if pr.Acked > 10 && !once {
				once = true
				c.Cancel()
			}
		})
		if !errors.Is(err, printerdrv.ErrCancelled) {
			t.Fatalf("emergency parser %v: err %v", !noEP, err)
		}
		r := v.Record()
		sentM410 := slices.Contains(r.Commands, "M410")
		switch {
		case !noEP && (r.QuickStops != 1 || r.AbandonedMoves == 0 || !sentM410):
			t.Fatalf("with an emergency parser: %d quickstops, %d moves abandoned, M410 executed %v", r.QuickStops, r.AbandonedMoves, sentM410)
		case noEP && (r.QuickStops != 0 || sentM410):
			t.Fatalf("without an emergency parser: %d quickstops, M410 executed %v", r.QuickStops, sentM410)
		}
	}
}
