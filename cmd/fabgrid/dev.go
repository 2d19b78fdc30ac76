//go:build !slicer

package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/gossip"
	"github.com/fabgrid/fabgrid/localgrid"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/worker"
)

func init() {
	register(command{name: "dev", summary: "run a whole grid in one process: a coordinator, three virtual printers and a sample order", run: runDev})
}

// devPrinters are the virtual printers fabgrid dev starts: one of each
// built-in profile, all loaded with PLA.
var devPrinters = []struct{ name, profile string }{
	{"dev-ender3", "ender3"},
	{"dev-mk3s", "mk3s"},
	{"dev-cr10s5", "cr10s5"},
}

const devSampleModel = "testdata/models/cube20.stl"

type devOptions struct {
	dataDir      string
	httpAddr     string
	speed        float64
	model        string
	qty          int
	exitWhenDone bool
	asJSON       bool
	verbose      bool
	timeout      time.Duration
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dev", "dev [--data-dir DIR] [--http ADDR] [--speed N] [--qty N] [--exit-when-done] [--json]",
		"Runs a whole fabgrid grid in one process, for trying it out and for development: a one-node\n"+
			"coordinator, three workers with virtual printers (Ender-3, MK3S, CR-10 S5) on real\n"+
			"pseudo-terminals at accelerated time, and a sample order (4 copies of a 20 mm cube from\n"+
			"testdata) that prints to completion while a progress line per job shows how far it is.\n"+
			"It then prints the API address and the tokens to submit more orders, and keeps running\n"+
			"until Ctrl-C (or exits once the sample order is done with --exit-when-done).", stderr)
	var o devOptions
	fs.StringVar(&o.dataDir, "data-dir", "", "keep the coordinator's data here (default: a temporary directory, removed at exit)")
	fs.StringVar(&o.httpAddr, "http", "127.0.0.1:8740", "coordinator API address (port 0 picks a free one)")
	fs.Float64Var(&o.speed, "speed", 300, "virtual printers' time-scale factor (300 = 300× faster than real time)")
	fs.StringVar(&o.model, "model", devSampleModel, "STL of the sample order (a built-in 20 mm cube when the default file is not found)")
	fs.IntVar(&o.qty, "qty", 4, "copies in the sample order (0: no sample order)")
	fs.BoolVar(&o.exitWhenDone, "exit-when-done", false, "exit once the sample order is done (for scripts and tests)")
	fs.BoolVar(&o.asJSON, "json", false, "print a JSON summary at the end instead of the human text; no progress lines")
	fs.BoolVar(&o.verbose, "v", false, "show the components' logs")
	fs.DurationVar(&o.timeout, "timeout", 0, "with --exit-when-done: give up after this long (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if o.speed <= 0 {
		return &exitError{2, errors.New("--speed must be positive")}
	}
	return devRun(ctx, o, stdout, stderr)
}

// devSummary is what --json prints at the end.
type devSummary struct {
	API         string         `json:"api"`
	CA          string         `json:"ca"`
	AdminToken  string         `json:"admin_token"`
	WorkerToken string         `json:"worker_token"`
	Community   string         `json:"community"`
	CommToken   string         `json:"community_token"`
	Printers    []string       `json:"printers"`
	Order       *api.Order     `json:"order,omitempty"`
	Seconds     float64        `json:"seconds"`
	Prints      map[string]int `json:"commands_executed_per_printer"`
}

func devRun(ctx context.Context, o devOptions, stdout, stderr io.Writer) (err error) {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	// Once shutdown starts, the components' complaints about closed
	// connections are expected and would only alarm: drop them.
	var stopping atomic.Bool
	log := slog.New(quietHandler{slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}), &stopping})
	defer stopping.Store(true)

	dir := o.dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "fabgrid-dev-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	say := func(format string, a ...any) {
		if !o.asJSON {
			fmt.Fprintf(stdout, format, a...)
		}
	}

	// The coordinator: a one-node cluster with known tokens, over TLS
	// with a CA of its own, as a real cluster runs.
	caFile, nodeTLS, err := localgrid.DirTLS(filepath.Join(dir, "tls"), "fabgrid dev CA", "dev")
	if err != nil {
		return err
	}
	cliTLS, err := client.CAConfig(caFile)
	if err != nil {
		return err
	}
	cluster, err := localgrid.Start(ctx, 1, localgrid.Options{
		Configure: func(_ int, cfg *coordinator.Config) {
			cfg.NodeID, cfg.DataDir, cfg.HTTPAddr, cfg.TLS = "dev", filepath.Join(dir, "coordinator"), o.httpAddr, nodeTLS
			cfg.HeartbeatInterval, cfg.LostAfter, cfg.Logger = time.Second, 15*time.Second, log.With("component", "coordinator")
		},
		Gossip: func(int) gossip.Config {
			return gossip.Config{BindAddr: "127.0.0.1:0", Logger: log.With("component", "gossip")}
		},
	})
	if err != nil {
		return fmt.Errorf("start coordinator: %w (is %s already in use? try --http 127.0.0.1:0)", err, o.httpAddr)
	}
	defer cluster.Close()
	adminTok, workerTok, url := cluster.AdminToken, cluster.WorkerToken, cluster.Nodes[0].URL()
	admin, err := client.New([]string{url}, client.Options{Token: adminTok, TLS: cliTLS})
	if err != nil {
		return err
	}
	if err := localgrid.Wait(ctx, 10*time.Second, "the tokens to be committed", func() bool {
		_, err := admin.Communities(ctx)
		return err == nil
	}); err != nil {
		return err
	}
	say("coordinator  %s (data in %s)\n", url, dir)

	// The printers and their workers.
	var virtuals []*localgrid.PTYPrinter
	var workers []*localgrid.Worker
	var links []*worker.MarlinPrinter
	var names []string
	printerNames := map[string]string{}
	defer func() {
		stopping.Store(true)
		for _, w := range workers {
			w.Stop()
		}
		for _, pr := range links {
			pr.Close()
		}
		for _, v := range virtuals {
			v.Close()
		}
	}()
	stopped := make(chan error, len(devPrinters))
	for i, dp := range devPrinters {
		prof, err := profile.LookupPrinter(dp.profile)
		if err != nil {
			return err
		}
		mat, _ := profile.LookupMaterial("PLA")
		v, err := localgrid.StartPTYPrinter(vprinter.VirtualConfig{Printer: prof, Speed: o.speed, Seed: int64(i + 1), Logger: log.With("component", "vprinter", "printer", dp.name)})
		if err != nil {
			return fmt.Errorf("virtual printer %s: %w", dp.name, err)
		}
		virtuals = append(virtuals, v)
		wlog := log.With("component", "worker", "printer", dp.name)
		pr := worker.NewMarlinPrinter(v.Path, 0, prof, printerdrv.Options{}, wlog)
		links = append(links, pr)
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
		err = pr.Connect(cctx)
		ccancel()
		if err != nil {
			return fmt.Errorf("connect to virtual printer %s: %w", dp.name, err)
		}
		cl, err := client.New([]string{url}, client.Options{Token: workerTok, Logger: wlog, TLS: cliTLS})
		if err != nil {
			return err
		}
		w, err := localgrid.StartWorker(ctx, worker.Config{
			Name: dp.name, Printer: prof, Material: mat, StateDir: filepath.Join(dir, "worker-"+dp.name), AutoClear: true,
			GossipBind: "127.0.0.1:0", Join: cluster.GossipAddrs(), ProgressEvery: 500 * time.Millisecond,
			PollWait: 5 * time.Second, HeartbeatEvery: time.Second, Logger: wlog,
		}, cl, pr, worker.LocalSlicer{})
		if err != nil {
			return err
		}
		workers = append(workers, w)
		go func() { <-w.Done(); stopped <- w.Err() }()
		printerNames[w.ID()] = dp.name
		names = append(names, dp.name+" ("+prof.Name+", "+v.Path+")")
		say("printer      %s  %s on %s\n", dp.name, prof.Name, v.Path)
	}

	// A community and the sample order.
	comm, err := admin.CreateCommunity(ctx, "dev", 1)
	if err != nil {
		return fmt.Errorf("create community: %w", err)
	}
	sum := devSummary{API: url, CA: caFile, AdminToken: adminTok, WorkerToken: workerTok, Community: comm.Name, CommToken: comm.Token, Printers: names}
	var order *api.Order
	if o.qty > 0 {
		model, err := devModel(o.model)
		if err != nil {
			return err
		}
		cc, err := client.New([]string{url}, client.Options{Token: comm.Token, TLS: cliTLS})
		if err != nil {
			return err
		}
		order, err = cc.SubmitOrder(ctx, model, client.OrderRequest{Community: comm.Name, Quantity: o.qty, Material: "PLA"})
		if err != nil {
			return fmt.Errorf("submit sample order: %w", err)
		}
		say("order        %s: %d × %s (PLA), submitted\n\n", order.ID, order.Quantity, model.Name)
		wctx := ctx
		if o.exitWhenDone && o.timeout > 0 {
			var wcancel context.CancelFunc
			wctx, wcancel = context.WithTimeout(ctx, o.timeout)
			defer wcancel()
		}
		order, err = devFollow(wctx, cc, order.ID, printerNames, o.asJSON, stdout)
		if err != nil {
			return err
		}
		if order.State != api.OrderDone {
			return fmt.Errorf("sample order ended %s", order.State)
		}
		say("\norder %s done in %s: %d of %d copies printed\n", order.ID, time.Since(start).Round(100*time.Millisecond), order.JobsDone, order.Quantity)
	}
	sum.Order = order
	sum.Prints = map[string]int{}
	for i, v := range virtuals {
		sum.Prints[devPrinters[i].name] = len(v.Record().Commands)
	}

	say("\nThe grid is running, over TLS with its own CA. Submit more orders with:\n\n"+
		"  export FABGRID_ADDR=%s FABGRID_CA=%s FABGRID_TOKEN=%s\n"+
		"  go run ./cmd/fabgrid order submit --community %s --qty 2 --material PLA testdata/models/cylinder.stl\n"+
		"  go run ./cmd/fabgrid order list\n"+
		"  go run ./cmd/fabgrid workers\n\n"+
		"Admin token (cluster, communities): %s\nWorker token (more printers, with --ca %s): %s\nAPI: %s/v1/  metrics: %s/metrics"+
		"  (curl --cacert %s)\n",
		url, caFile, comm.Token, comm.Name, adminTok, caFile, workerTok, url, url, caFile)

	if o.exitWhenDone {
		sum.Seconds = time.Since(start).Seconds()
		if o.asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(sum)
		}
		return nil
	}
	say("\nCtrl-C stops everything.\n")
	select {
	case <-ctx.Done():
	case err := <-stopped:
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("a worker stopped: %w", err)
		}
	}
	return nil
}

// devFollow polls the order and draws one progress line per job until the
// order is no longer open.
func devFollow(ctx context.Context, c *client.Client, id string, printers map[string]string, quiet bool, stdout io.Writer) (*api.Order, error) {
	tty := isTerminal(stdout)
	last := map[string]string{}
	drawn := 0
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		o, err := c.GetOrder(ctx, id, false)
		if err != nil {
			return nil, fmt.Errorf("follow order %s: %w", id, err)
		}
		if !quiet {
			jobs := append([]api.Job(nil), o.Jobs...)
			sort.Slice(jobs, func(i, j int) bool { return jobs[i].Copy < jobs[j].Copy })
			if tty && drawn > 0 {
				fmt.Fprintf(stdout, "\033[%dA", drawn) // redraw in place
			}
			drawn = 0
			for _, j := range jobs {
				if name, ok := printers[j.Printer]; ok {
					j.Printer = name
				}
				line := devJobLine(j)
				if tty {
					fmt.Fprintf(stdout, "\r\033[K%s\n", line)
					drawn++
				} else if last[j.ID] != devJobState(j) {
					fmt.Fprintln(stdout, line)
				}
				last[j.ID] = devJobState(j)
			}
		}
		if o.State != api.OrderOpen {
			return o, nil
		}
		select {
		case <-ctx.Done():
			return o, fmt.Errorf("order %s still %s: %w", id, o.State, ctx.Err())
		case <-tick.C:
		}
	}
}

// devJobState is the coarse state a non-terminal progress log prints on.
func devJobState(j api.Job) string {
	s := j.State + "/" + j.Printer
	if j.Progress != nil {
		s += fmt.Sprintf("/%d", int(j.Progress.Percent/25))
	}
	return s
}

func devJobLine(j api.Job) string {
	pct := 0.0
	if j.State == api.JobDone {
		pct = 100
	} else if j.Progress != nil {
		pct = j.Progress.Percent
	}
	const width = 30
	n := int(math.Round(pct / 100 * width))
	bar := strings.Repeat("█", n) + strings.Repeat("░", width-n)
	line := fmt.Sprintf("copy %-2d %s %5.1f%%  %-9s", j.Copy, bar, pct, j.State)
	if j.Printer != "" {
		line += " on " + j.Printer
	}
	if j.Progress != nil && j.State == api.JobPrinting {
		line += fmt.Sprintf("  layer %d/%d  %3.0f°C/%2.0f°C", j.Progress.Layer, j.Progress.Layers, j.Progress.HotendC, j.Progress.BedC)
	}
	if j.Reason != "" && j.State == api.JobPending {
		line += "  (" + j.Reason + ")"
	}
	return line
}

// quietHandler passes records on until stopping is set.
type quietHandler struct {
	slog.Handler
	stopping *atomic.Bool
}

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !h.stopping.Load() && h.Handler.Enabled(ctx, l)
}

func (h quietHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(a), h.stopping}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name), h.stopping}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// devModel reads the sample model, or builds a 20 mm cube when the
// default file is not there (a binary built outside the source tree).
func devModel(path string) (client.Model, error) {
	m, err := client.FileModel(path)
	if err == nil {
		return m, nil
	}
	if path != devSampleModel || !errors.Is(err, os.ErrNotExist) {
		return client.Model{}, fmt.Errorf("sample model: %w", err)
	}
	return client.BytesModel("cube20.stl", cubeSTL(20)), nil
}

// cubeSTL returns a binary STL of an axis-aligned cube with edge a mm.
func cubeSTL(a float32) []byte {
	v := [8][3]float32{{0, 0, 0}, {a, 0, 0}, {a, a, 0}, {0, a, 0}, {0, 0, a}, {a, 0, a}, {a, a, a}, {0, a, a}}
	faces := [12][3]int{{0, 2, 1}, {0, 3, 2}, {4, 5, 6}, {4, 6, 7}, {0, 1, 5}, {0, 5, 4}, {1, 2, 6}, {1, 6, 5}, {2, 3, 7}, {2, 7, 6}, {3, 0, 4}, {3, 4, 7}}
	b := make([]byte, 84, 84+50*len(faces))
	binary.LittleEndian.PutUint32(b[80:], uint32(len(faces)))
	for _, f := range faces {
		var tri [50]byte // normal left zero: readers recompute it from the winding
		for k, vi := range f {
			for c := 0; c < 3; c++ {
				binary.LittleEndian.PutUint32(tri[12+12*k+4*c:], math.Float32bits(v[vi][c]))
			}
		}
		b = append(b, tri[:]...)
	}
	return b
}
