package vprinter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/fabgrid/fabgrid/profile"
)

// VirtualConfig describes a virtual printer. The zero value is an instant
// Ender-3 with no faults.
type VirtualConfig struct {
	// Printer gives the RX buffer size, heater limits and motion limits.
	// Default: the built-in "ender3" profile.
	Printer profile.Printer
	// Firmware is the flavour to answer as, named as profiles name it:
	// "marlin" (the default, also for ""), "prusa", "klipper" or
	// "reprapfirmware" (see flavour.go and the package doc for what each
	// emulates). It is not taken from Printer.Firmware, so a profile's
	// flavour is emulated only when asked for.
	Firmware string
	// Speed is the time-scale factor: 1 runs in real time, 100 is 100×
	// faster, 0 is instant (no waiting for motion or heating; the modelled
	// durations are still recorded).
	Speed float64
	// Baud, when positive, limits the link to baud/10 bytes per second in
	// each direction (8N1).
	Baud int
	// AckLatency delays every line the printer sends.
	AckLatency time.Duration
	// Faults to inject, drawn from a source seeded with Seed.
	Faults Faults
	Seed   int64
	// NoAutoReport hides the AUTOREPORT_TEMP capability (the host then
	// polls M105); NoEmergencyParser hides EMERGENCY_PARSER (M112 then waits
	// its turn in the queue).
	NoAutoReport      bool
	NoEmergencyParser bool
	// FlushOnError empties the RX buffer after a line error, as Marlin
	// does: the lines behind the bad one vanish without an answer, and the
	// host must wait before resending. The prusa flavour always flushes.
	FlushOnError bool
	// CommandQueue (Marlin's BUFSIZE, default 4) and PlannerBlocks (default 16).
	CommandQueue  int
	PlannerBlocks int
	// BusyInterval is the modelled time between "busy" reports during long
	// commands (default 2 s).
	BusyInterval time.Duration
	// Ambient temperature in °C (default 22).
	Ambient float64
	// Now is the wall clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Record is what the virtual printer did.
type Record struct {
	// Commands are the executed commands in order, without line number or
	// checksum, including the ones the host adds (M110, M115, M155, M105).
	Commands []string
	// Lines are their line numbers (-1 for unnumbered lines).
	Lines []int
	// MotionSeconds is the modelled time of every executed command by
	// package motion (moves, dwells, homing); HeatingSeconds the modelled
	// time spent waiting in M109/M190.
	MotionSeconds  float64
	HeatingSeconds float64

	LinesReceived int  // non-empty lines read from the RX buffer
	Rejected      int  // lines refused (line number, checksum) with a resend request
	Corrupted     int  // lines corrupted by fault injection
	DroppedOKs    int  // oks withheld by fault injection
	OverflowBytes int  // bytes lost because the RX buffer was full (must stay 0)
	Resets        int  // injected resets
	Disconnects   int  // injected disconnects
	Halted        bool // the firmware killed itself (M112, thermal runaway)
	// QuickStops counts M410s acted on by the emergency parser;
	// AbandonedMoves the planned moves they dropped unfinished.
	QuickStops     int
	AbandonedMoves int
}

type recorder struct {
	mu sync.Mutex
	r  Record
}

func (r *recorder) add(c fwCmd, sec float64) {
	r.mu.Lock()
	r.r.Commands = append(r.r.Commands, c.cmd)
	r.r.Lines = append(r.r.Lines, c.n)
	r.r.MotionSeconds += sec
	r.mu.Unlock()
}

func (r *recorder) count(fn func(*Record)) {
	r.mu.Lock()
	fn(&r.r)
	r.mu.Unlock()
}

// Virtual is a firmware emulator: Marlin, or the flavour VirtualConfig.Firmware names.
type Virtual struct {
	cfg VirtualConfig
	rec recorder
	wg  sync.WaitGroup

	mu  sync.Mutex
	err error
}

// NewVirtual returns a virtual printer.
func NewVirtual(cfg VirtualConfig) *Virtual {
	if cfg.Printer.ID == "" {
		cfg.Printer, _ = profile.LookupPrinter("ender3")
	}
	if cfg.Printer.RXBufferBytes <= 0 {
		cfg.Printer.RXBufferBytes = 128
	}
	if cfg.CommandQueue <= 0 {
		cfg.CommandQueue = 4
	}
	if cfg.PlannerBlocks <= 0 {
		cfg.PlannerBlocks = 16
	}
	if cfg.BusyInterval <= 0 {
		cfg.BusyInterval = 2 * time.Second
	}
	if cfg.Ambient == 0 {
		cfg.Ambient = 22
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Virtual{cfg: cfg}
}

// Record returns a copy of what the printer executed so far.
func (v *Virtual) Record() Record {
	v.rec.mu.Lock()
	defer v.rec.mu.Unlock()
	r := v.rec.r
	r.Commands = append([]string(nil), r.Commands...)
	r.Lines = append([]int(nil), r.Lines...)
	return r
}

// Serve runs the firmware on one link until ctx ends, the link fails or an
// injected disconnect closes it. It closes rw before returning.
func (v *Virtual) Serve(ctx context.Context, rw io.ReadWriteCloser) error {
	ctx, cancel := context.WithCancel(ctx)
	now := v.cfg.Now
	fw := newFirmware(v.cfg, &v.rec, now())
	fw.boot(now())

	in := make(chan chunk, 64)
	readErr := make(chan error, 1)
	w := &linkWriter{w: rw, baud: v.cfg.Baud, wake: make(chan struct{}, 1), now: now}
	var wg sync.WaitGroup
	if v.cfg.Baud > 0 {
		raw := make(chan chunk, 4096)
		wg.Go(func() { readLink(ctx, rw, now, raw, readErr) })
		wg.Go(func() { paceLink(ctx, v.cfg.Baud, now, raw, in) })
	} else {
		wg.Go(func() { readLink(ctx, rw, now, in, readErr) })
	}
	wg.Go(func() { w.run(ctx) })
	defer func() {
		cancel()
		rw.Close()
		wg.Wait()
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// The firmware sees a monotonic time: the emulated arrival time of the
	// bytes it works on (so a late timer wake-up does not delay its
	// answers), or the wall time when nothing arrived.
	var last time.Time
	at := func(t time.Time) time.Time {
		if t.After(last) {
			last = t
		}
		return last
	}
	for {
		t := at(now())
		fw.step(t)
		if len(fw.out) > 0 {
			w.push(fw.out)
			fw.out = nil
		}
		if fw.disconnect {
			v.rec.count(func(r *Record) { r.Disconnects++ })
			v.cfg.Logger.Info("virtual printer: injected disconnect")
			w.flush(ctx)
			return nil
		}
		var tc <-chan time.Time
		if nx := fw.next(); !nx.IsZero() {
			d := nx.Sub(t)
			if d <= 0 {
				continue
			}
			timer.Reset(d)
			tc = timer.C
		}
		select {
		case c := <-in:
			t := at(c.at)
			fw.feed(c.b, t)
			fw.step(t)
		drain:
			for {
				select {
				case c := <-in:
					t := at(c.at)
					fw.feed(c.b, t)
					fw.step(t)
				default:
					break drain
				}
			}
		case err := <-readErr:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("vprinter: virtual printer link: %w", err)
		case <-tc:
		case <-ctx.Done():
			return nil
		}
	}
}

// ServePTY serves the printer on a new pseudo-terminal and returns the path
// of its device (open it with Open as a serial port). Serving stops when ctx
// ends or the link is closed; Wait waits for that.
func (v *Virtual) ServePTY(ctx context.Context) (string, error) {
	master, tty, err := pty.Open()
	if err != nil {
		return "", fmt.Errorf("vprinter: open pty: %w", err)
	}
	// Raw mode: no echo, no line editing, no CR/LF translation.
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		master.Close()
		tty.Close()
		return "", fmt.Errorf("vprinter: pty raw mode: %w", err)
	}
	// A pty master opened by pty.Open blocks in read(2) and a Close does not
	// wake it; a non-blocking duplicate goes through Go's poller instead.
	fd, err := syscall.Dup(int(master.Fd()))
	master.Close()
	if err == nil {
		err = syscall.SetNonblock(fd, true)
	}
	if err != nil {
		tty.Close()
		return "", fmt.Errorf("vprinter: pty: %w", err)
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	path := tty.Name()
	v.wg.Go(func() {
		defer tty.Close()
		err := v.Serve(ctx, master)
		v.mu.Lock()
		v.err = err
		v.mu.Unlock()
	})
	return path, nil
}

// Wait waits for background serving (ServePTY) to stop and returns its error.
func (v *Virtual) Wait() error {
	v.wg.Wait()
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err
}

// Pipe returns the two ends of an in-memory full-duplex link: give one to
// Connect and the other to (*Virtual).Serve.
func Pipe() (host, printer io.ReadWriteCloser) {
	a, b := net.Pipe()
	return a, b
}
