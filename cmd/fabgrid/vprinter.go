package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"
)

func init() {
	register(command{name: "vprinter", summary: "run a virtual Marlin printer on a pseudo-terminal", run: runVPrinter})
}

const vprinterHelp = `Runs the firmware emulator of package printerdrv on a new pseudo-terminal
and links it at --link, so that 'fabgrid print --port LINK' (or any host
program, such as Printrun) can talk to it as to a real printer. It serves
until Ctrl-C, then prints what it executed.

Faults (comma-separated, seeded by --seed):
  corrupt=P        corrupt each received numbered line with probability P
  drop-ok=P        withhold the ok of an executed command with probability P
  reset-at=N       reboot ("start") on receiving line N
  disconnect-at=N  close the link on receiving line N
  runaway-at=N     thermal runaway on receiving line N`

func runVPrinter(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("vprinter", "vprinter --link PATH [--speed 100] [--profile ender3] [--faults LIST] [--seed N]", vprinterHelp, stderr)
	link := fl.String("link", "/tmp/ttyFAB0", "path of the symlink to create to the pseudo-terminal")
	speed := fl.String("speed", "1", "time-scale factor: 1 is real time, 100 is 100× faster, 0 or 'instant' does not wait")
	prof := fl.String("profile", "ender3", "printer profile ("+joinIDs()+")")
	faults := fl.String("faults", "", "faults to inject, e.g. corrupt=0.01,drop-ok=0.001,reset-at=500")
	seed := fl.Int64("seed", 1, "seed of the fault injection")
	baud := fl.Int("baud", 0, "emulate the link's byte rate at this baud (0: unlimited)")
	latency := fl.Duration("latency", 0, "delay before each line the printer sends (ack latency)")
	noAuto := fl.Bool("no-autoreport", false, "hide AUTOREPORT_TEMP (hosts must poll M105)")
	record := fl.String("record", "", "on exit, write the executed commands to this file, one per line")
	flush := fl.Bool("flush-on-error", false, "empty the RX buffer after a line error, as Marlin does (lines behind a bad one vanish)")
	jsonOut := fl.Bool("json", false, "print JSON lines instead of text: one when the printer is ready, one summary when it stops")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return &exitError{2, fmt.Errorf("unexpected arguments %q", fl.Args())}
	}
	sp := 0.0
	if *speed != "instant" {
		v, err := strconv.ParseFloat(*speed, 64)
		if err != nil || v < 0 {
			return &exitError{2, fmt.Errorf("--speed %q: want a factor ≥ 0 or 'instant'", *speed)}
		}
		sp = v
	}
	p, err := profile.LookupPrinter(*prof)
	if err != nil {
		return &exitError{2, err}
	}
	f, err := vprinter.ParseFaults(*faults)
	if err != nil {
		return &exitError{2, err}
	}
	if fi, err := os.Lstat(*link); err == nil {
		if fi.Mode()&fs.ModeSymlink == 0 {
			return &exitError{2, fmt.Errorf("--link %s exists and is not a symlink; not replacing it", *link)}
		}
		os.Remove(*link)
	}
	v := vprinter.NewVirtual(vprinter.VirtualConfig{Printer: p, Speed: sp, Baud: *baud, AckLatency: *latency,
		Faults: f, Seed: *seed, NoAutoReport: *noAuto, FlushOnError: *flush})
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	path, err := v.ServePTY(sctx)
	if err != nil {
		return err
	}
	if err := os.Symlink(path, *link); err != nil {
		cancel()
		v.Wait()
		return fmt.Errorf("link %s: %w", *link, err)
	}
	defer os.Remove(*link)
	mode := "instant"
	if sp > 0 {
		mode = fmt.Sprintf("%g× real time", sp)
	}
	if *jsonOut {
		writeJSONLine(stdout, vprinterReady{Event: "ready", Profile: p.ID, PTY: path, Link: *link, Speed: sp})
	} else {
		fmt.Fprintf(stdout, "virtual printer %s (%s) on %s, linked at %s, %s; Ctrl-C to stop\n", p.ID, p.Name, path, *link, mode)
	}
	done := make(chan error, 1)
	go func() { done <- v.Wait() }()
	select {
	case <-ctx.Done():
		cancel()
		err = <-done
	case err = <-done:
		if err == nil {
			err = errors.New("the link closed (injected disconnect)")
		}
	}
	r := v.Record()
	if *record != "" {
		if werr := os.WriteFile(*record, []byte(strings.Join(r.Commands, "\n")+"\n"), 0o644); werr != nil && err == nil {
			err = fmt.Errorf("record: %w", werr)
		}
	}
	if *jsonOut {
		sum := vprinterSummary{Event: "stopped", Executed: len(r.Commands), LinesReceived: r.LinesReceived,
			Rejected: r.Rejected, Corrupted: r.Corrupted, DroppedOKs: r.DroppedOKs, OverflowBytes: r.OverflowBytes,
			MotionSeconds: r.MotionSeconds, HeatingSeconds: r.HeatingSeconds}
		if err != nil {
			sum.Error = err.Error()
		}
		writeJSONLine(stdout, sum)
		return err
	}
	fmt.Fprintf(stdout, "executed %d commands (%d lines received, %d rejected, %d corrupted, %d oks dropped, %d bytes overflowed); modelled motion %s, heating %s\n",
		len(r.Commands), r.LinesReceived, r.Rejected, r.Corrupted, r.DroppedOKs, r.OverflowBytes,
		(time.Duration(r.MotionSeconds * float64(time.Second))).Round(time.Second),
		(time.Duration(r.HeatingSeconds * float64(time.Second))).Round(time.Second))
	return err
}

func joinIDs() string {
	s := ""
	for i, id := range profile.PrinterIDs() {
		if i > 0 {
			s += ", "
		}
		s += id
	}
	return s
}

// vprinterReady and vprinterSummary are the JSON lines of vprinter --json.
type vprinterReady struct {
	Event   string  `json:"event"` // "ready"
	Profile string  `json:"profile"`
	PTY     string  `json:"pty"`
	Link    string  `json:"link"`
	Speed   float64 `json:"speed"` // 0: instant
}

type vprinterSummary struct {
	Event          string  `json:"event"` // "stopped"
	Executed       int     `json:"executed"`
	LinesReceived  int     `json:"lines_received"`
	Rejected       int     `json:"rejected"`
	Corrupted      int     `json:"corrupted"`
	DroppedOKs     int     `json:"dropped_oks"`
	OverflowBytes  int     `json:"overflow_bytes"`
	MotionSeconds  float64 `json:"motion_seconds"`
	HeatingSeconds float64 `json:"heating_seconds"`
	Error          string  `json:"error,omitempty"`
}

func writeJSONLine(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "%s\n", b)
}
