//go:build !slicer

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
	"sort"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/gossip"
	"github.com/fabgrid/fabgrid/hours"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/worker"
)

func init() {
	register(command{name: "worker", summary: "contribute a printer: run its worker, or control a running one (status, pause, resume, clear)", run: runWorker})
}

const defaultControl = "127.0.0.1:8750"

// Owner subcommands of a running worker.
var workerControls = map[string]string{
	"status": "show what the printer is doing",
	"pause":  "hold the print in progress and take no new jobs",
	"resume": "undo pause",
	"clear":  "confirm the finished part was removed from the bed",
	"abort":  "stop the job in progress (safe cancel) and report it failed",
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		if _, ok := workerControls[args[0]]; ok {
			return runWorkerControl(ctx, args[0], args[1:], stdout, stderr)
		}
	}
	fs := newFlags("worker", "worker --coordinator URL[,URL…] --port /dev/ttyUSB0 --profile ender3 --material PLA --name NAME --token T [flags]\n"+
		"       fabgrid worker --detect --port /dev/ttyUSB0 [--baud N] [--profile-file FILE] [--json]\n"+
		"       fabgrid worker status|pause|resume|clear|abort [--control ADDR] [--json]",
		"Runs the worker of one printer: it registers with the coordinators, takes jobs that fit the\n"+
			"printer and the owner's rules, slices each model locally, prints it over the serial port and\n"+
			"reports progress. Every connection is made by the worker, so it works from behind a home\n"+
			"router. After a successful print the printer waits until you remove the part and run\n"+
			"'fabgrid worker clear' (or use --auto-clear for printers that eject parts). Ctrl-C stops the\n"+
			"worker; a print in progress is cancelled safely (heaters off, nozzle lifted) and reported.", stderr)
	coords := fs.String("coordinator", workerEnv("FABGRID_COORDINATOR", client.DefaultAddr), "coordinator URL(s), comma-separated; any one will do (default $FABGRID_COORDINATOR)")
	token := fs.String("token", os.Getenv("FABGRID_WORKER_TOKEN"), "worker token from the coordinators' operator (default $FABGRID_WORKER_TOKEN)")
	var caFile string
	addCAFlag(fs, &caFile)
	tokenFile := fs.String("token-file", os.Getenv("FABGRID_WORKER_TOKEN_FILE"), "read the worker token from FILE instead (default $FABGRID_WORKER_TOKEN_FILE)")
	join := fs.String("join", "", "gossip address(es) HOST:PORT of coordinators to join, comma-separated (optional: without it the worker still works)")
	gossipBind := fs.String("gossip-bind", "127.0.0.1:0", "gossip listen address (port 0 picks a free one)")
	gossipKey := fs.String("gossip-key", os.Getenv("FABGRID_GOSSIP_KEY"), "shared gossip key, base64 of 16/24/32 bytes (default $FABGRID_GOSSIP_KEY)")
	port := fs.String("port", "", "the printer's serial port, e.g. /dev/ttyUSB0 (required)")
	baud := fs.Int("baud", 0, "serial speed (default: the profile's)")
	prof := addPrinterFlags(fs, "", "printer profile: "+strings.Join(profile.PrinterIDs(), ", ")+" (required, or --profile-file)")
	material := addMaterialFlags(fs, "", "loaded filament: "+strings.Join(profile.MaterialIDs(), ", ")+" (required, or --material-file)")
	detect := fs.Bool("detect", false, "probe --port: read the firmware's M115 answer, suggest the matching profile, and exit")
	colour := fs.String("colour", "", "loaded filament colour, e.g. black (jobs asking for another colour are refused)")
	name := fs.String("name", "", "this printer's name, shown to the communities (required)")
	hoursFlag := fs.String("hours", "", "print only inside this daily window, in --timezone, e.g. 08:00-22:00 (default: any time)")
	timezone := fs.String("timezone", "", "IANA time zone of --hours, e.g. Europe/Madrid (default: this machine's zone)")
	maxHours := fs.Float64("max-job-hours", 0, "refuse jobs estimated longer than this many hours (0: no limit)")
	stateDir := fs.String("state-dir", "", "where the worker keeps its id and in-flight job (default ~/.fabgrid/worker-NAME)")
	autoClear := fs.Bool("auto-clear", false, "do not wait for 'fabgrid worker clear' after a print (printers that eject parts, virtual printers)")
	control := fs.String("control", defaultControl, "loopback address of the owner controls (status, pause, resume, clear); empty: none")
	neighbourhood := fs.String("neighbourhood", "", "where the printer is, for placing jobs near their community (optional)")
	progressEvery := fs.Duration("progress-every", 3*time.Second, "how often progress is reported")
	stallAfter := fs.Duration("stall-after", worker.DefaultStallAfter, "report the print stalled when the printer has acknowledged no command for this long (a stalled print's lease is not renewed; negative: never)")
	jsonLogs := fs.Bool("json", false, "JSON logs (with --detect: the result as JSON)")
	verbose := fs.Bool("v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *detect {
		if *port == "" {
			return &exitError{2, errors.New("--detect needs --port")}
		}
		return runDetect(ctx, *port, *baud, *prof.file, *jsonLogs, stdout)
	}
	if *tokenFile != "" {
		tok, err := readTokenFile("--token-file", *tokenFile)
		if err != nil {
			return &exitError{2, err}
		}
		*token = tok
	}
	var missing []string
	for flag, v := range map[string]bool{"--port": *port != "", "--profile": prof.given(), "--material": material.given(), "--name": *name != "", "--token": *token != ""} {
		if !v {
			missing = append(missing, flag)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return &exitError{2, fmt.Errorf("missing %s (see fabgrid worker --help)", strings.Join(missing, ", "))}
	}
	printer, err := prof.resolve()
	if err != nil {
		return err
	}
	mat, err := material.resolve()
	if err != nil {
		return err
	}
	if err := profile.Compatible(printer, mat); err != nil {
		return &exitError{2, err}
	}
	zone := time.Local
	if *timezone != "" {
		if zone, err = hours.LoadZone(*timezone); err != nil {
			return &exitError{2, fmt.Errorf("--timezone: %w", err)}
		}
	}
	win, err := hours.Parse(*hoursFlag, zone)
	if err != nil {
		return &exitError{2, fmt.Errorf("--hours: %w", err)}
	}
	if !win.Always() {
		if win.Zone, err = worker.ZoneOf(win.Zone); err != nil {
			return &exitError{2, err}
		}
	}
	var key []byte
	if *gossipKey != "" {
		if key, err = gossip.ParseKey(*gossipKey); err != nil {
			return &exitError{2, err}
		}
	}
	if *control != "" {
		if err := worker.CheckLoopback(*control); err != nil {
			return &exitError{2, err}
		}
	}
	if *stateDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return &exitError{2, errors.New("no home directory: pass --state-dir")}
		}
		*stateDir = filepath.Join(home, ".fabgrid", "worker-"+workerSafeName(*name))
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if *jsonLogs {
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(handler)

	tlsConf, err := clientTLS(caFile)
	if err != nil {
		return err
	}
	cl, err := client.New([]string{*coords}, client.Options{Token: *token, Logger: log.With("component", "client"), TLS: tlsConf})
	if err != nil {
		return &exitError{2, err}
	}
	pr := worker.NewMarlinPrinter(*port, *baud, printer, printerdrv.Options{}, log.With("component", "printer"))
	defer pr.Close()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = pr.Connect(cctx)
	cancel()
	if err != nil {
		return fmt.Errorf("%w (check --port and --baud, and that no other program holds the port)", err)
	}
	cfg := worker.Config{
		Name: *name, Printer: printer, Material: mat, Colour: *colour, Hours: win, MaxJobHours: *maxHours,
		StateDir: *stateDir, AutoClear: *autoClear, Control: *control, GossipBind: *gossipBind, GossipKey: key,
		Join: workerSplit(*join), Neighbourhood: *neighbourhood, ProgressEvery: *progressEvery, StallAfter: *stallAfter, Logger: log,
	}
	w, err := worker.New(cfg, cl, pr, worker.LocalSlicer{})
	if err != nil {
		if errors.Is(err, worker.ErrConfig) {
			return &exitError{2, err}
		}
		return err
	}
	log.Info("fabgrid worker", "id", w.ID(), "state_dir", *stateDir, "coordinators", strings.Join(cl.Endpoints(), ","))
	return w.Run(ctx)
}

func runWorkerControl(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("worker "+cmd, "worker "+cmd+" [--control ADDR] [--json]", workerControls[cmd]+".", stderr)
	control := fs.String("control", defaultControl, "the worker's owner control address")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	st, err := worker.Control(ctx, *control, cmd)
	if err != nil {
		if errors.Is(err, worker.ErrOwner) {
			return &exitError{3, err}
		}
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printWorkerStatus(stdout, st)
	return nil
}

func printWorkerStatus(w io.Writer, st worker.Status) {
	x := func(k string) any { return st.Extra[k] }
	fmt.Fprintf(w, "printer   %v (%s), %v, %v %v\n", x("name"), st.WorkerID, x("profile"), x("material"), x("colour"))
	state := st.State
	if st.Paused {
		state += ", paused by owner"
	}
	fmt.Fprintf(w, "state     %s (phase %s)\n", state, st.Phase)
	fmt.Fprintf(w, "network   registered=%v gossip=%v\n", x("registered"), x("gossip"))
	if e, _ := x("register_error").(string); e != "" {
		fmt.Fprintf(w, "register  %s\n", e)
	}
	if j := st.Job; j != nil {
		fmt.Fprintf(w, "job       %s (epoch %d)  %.1f%%  layer %d/%d  hotend %.0f°C  bed %.0f°C  ETA %s  estimate %s\n",
			j.ID, j.Epoch, j.Percent, j.Layer, j.Layers, j.HotendC, j.BedC,
			(time.Duration(j.ETAS) * time.Second).Round(time.Second), (time.Duration(j.EstSeconds) * time.Second).Round(time.Second))
		if j.Stopping != "" {
			fmt.Fprintf(w, "stopping  %s\n", j.Stopping)
		}
	}
	if st.AwaitingBedClear {
		fmt.Fprintf(w, "bed       remove the part, then run: fabgrid worker clear\n")
	}
	if u := st.Undelivered; u != nil {
		fmt.Fprintf(w, "pending   result of %s (%s) not yet delivered to the coordinators\n", u.JobID, u.Outcome)
	}
	if st.LastError != "" {
		fmt.Fprintf(w, "last err  %s\n", st.LastError)
	}
}

func workerEnv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func workerSplit(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func workerSafeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
