package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/fabgrid/fabgrid/printerdrv"
)

func init() {
	register(command{name: "print", summary: "stream a G-code file to a printer on a serial port", run: runPrint})
}

const printHelp = `Streams FILE.gcode to a Marlin printer on a serial port (or to
'fabgrid vprinter'): every command once, in order, numbered and checksummed,
resending what the line corrupts. Shows a progress bar on a terminal
(percent, layer, temperatures, ETA) and plain progress lines otherwise.
The file is refused before a byte is sent if it asks for a temperature above
the profile's limits. Ctrl-C cancels safely (heaters off, fan off, lift Z,
motors off). Exit status: 0 done, 1 failed, 2 bad command line, 3 refused,
130 cancelled.`

func runPrint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := newFlags("print", "print --port PATH [--baud N] [--profile NAME | --profile-file FILE] [--json] FILE.gcode", printHelp, stderr)
	port := fl.String("port", "", "serial port or virtual printer link, e.g. /dev/ttyUSB0 or /tmp/ttyFAB0")
	baud := fl.Int("baud", 0, "baud rate (default: the profile's)")
	prof := addPrinterFlags(fl, "ender3", "printer profile ("+joinIDs()+")")
	asJSON := fl.Bool("json", false, "print the final summary as JSON on stdout (progress goes to stderr)")
	ackTimeout := fl.Duration("ack-timeout", 3*time.Second, "silence before polling the printer with M105")
	wait := fl.Duration("wait-port", 15*time.Second, "how long to wait for the port to appear")
	verbose := fl.Bool("v", false, "log protocol events to stderr")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *port == "" || fl.NArg() != 1 {
		fl.Usage()
		return &exitError{2, errors.New("need --port and one G-code file")}
	}
	p, err := prof.resolve()
	if err != nil {
		return err
	}
	if *baud <= 0 {
		*baud = p.Baud
	}
	file := fl.Arg(0)
	f, err := os.Open(file)
	if err != nil {
		return &exitError{2, err}
	}
	job, err := printerdrv.ReadJob(filepath.Base(file), f, p)
	f.Close()
	if err != nil {
		return &exitError{2, err}
	}
	prep, err := printerdrv.Prepare(job)
	if err != nil { // refused before the port is even opened
		return &exitError{3, err}
	}

	rw, err := openWhenPresent(ctx, *port, *baud, *wait, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	if *verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	conn, err := printerdrv.Connect(ctx, rw, printerdrv.Options{Printer: p, HostConfig: printerdrv.HostConfig{AckTimeout: *ackTimeout}, Logger: logger})
	if err != nil {
		rw.Close()
		return err
	}
	defer conn.Close()

	progOut := stdout
	if *asJSON {
		progOut = stderr
	}
	show, finish := progressView(progOut, job.Name, len(prep.Commands))
	sum, perr := conn.Print(ctx, job, show)
	finish(perr == nil)

	if *asJSON {
		out := struct {
			printerdrv.Summary
			Seconds float64 `json:"duration_s"`
		}{sum, sum.Duration.Seconds()}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%s: %s — %d/%d commands in %s, %d lines sent, %d resend requests, %d lines resent, %d polls after silence\n",
			job.Name, sum.Outcome, sum.Acked, sum.Commands, sum.Duration.Round(time.Millisecond), sum.Sent, sum.Resends, sum.Resent, sum.Pokes)
	}
	switch {
	case perr == nil:
		return nil
	case errors.Is(perr, printerdrv.ErrCancelled):
		return &exitError{130, perr}
	default:
		return &exitError{1, perr}
	}
}

// openWhenPresent opens the port, waiting a while for it to appear (a
// virtual printer started in the background may not have linked it yet).
func openWhenPresent(ctx context.Context, path string, baud int, wait time.Duration, stderr io.Writer) (io.ReadWriteCloser, error) {
	deadline := time.Now().Add(wait)
	said := false
	for {
		if _, err := os.Stat(path); err == nil || time.Now().After(deadline) {
			return printerdrv.Open(ctx, path, baud)
		}
		if !said {
			fmt.Fprintf(stderr, "waiting for %s to appear…\n", path)
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// progressView returns a progress callback: an mpb bar on a terminal, plain
// lines (at most every 2 s) otherwise; finish ends the display.
func progressView(w io.Writer, name string, total int) (func(printerdrv.Progress), func(ok bool)) {
	if f, isFile := w.(*os.File); isFile && term.IsTerminal(int(f.Fd())) && termWidth(f) >= 60 {
		var last atomic.Pointer[printerdrv.Progress]
		last.Store(&printerdrv.Progress{})
		p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(150*time.Millisecond))
		bar := p.New(int64(total), mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name(name+" "), decor.Percentage(decor.WCSyncSpace)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return statusText(*last.Load()) })))
		return func(pr printerdrv.Progress) {
				last.Store(&pr)
				bar.SetCurrent(int64(pr.Acked))
			}, func(ok bool) {
				if ok {
					bar.SetTotal(-1, true)
				} else {
					bar.Abort(false)
				}
				p.Wait()
			}
	}
	var lastLine time.Time
	return func(pr printerdrv.Progress) {
		if time.Since(lastLine) < 2*time.Second && pr.Acked != pr.Total {
			return
		}
		lastLine = time.Now()
		fmt.Fprintf(w, "progress %5.1f%% %d/%d %s\n", pr.Percent, pr.Acked, pr.Total, statusText(pr))
	}, func(bool) {}
}

func statusText(pr printerdrv.Progress) string {
	s := fmt.Sprintf("layer %d/%d", pr.Layer, pr.Layers)
	if pr.Temps.HasHotend {
		s += fmt.Sprintf(" hotend %.0f/%.0f°C", pr.Temps.Hotend, pr.Temps.HotendTarget)
	}
	if pr.Temps.HasBed {
		s += fmt.Sprintf(" bed %.0f/%.0f°C", pr.Temps.Bed, pr.Temps.BedTarget)
	}
	s += " elapsed " + pr.Elapsed.Round(time.Second).String()
	if pr.ETA > 0 {
		s += " ETA " + pr.ETA.Round(time.Second).String()
	}
	if pr.Paused {
		s += " (paused)"
	}
	return s
}

func termWidth(f *os.File) int {
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}
