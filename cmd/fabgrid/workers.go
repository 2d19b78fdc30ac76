//go:build !slicer

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

func init() {
	register(command{name: "workers", summary: "list the printers of the grid and what they do; release a worker id (admin)", run: runWorkers})
}

func runWorkers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("workers", "workers [flags] | workers release ID [flags]",
		"Lists the printers (workers) known to the coordinators: profile, loaded material,\n"+
			"state, what gossip says of them, current job, history and last heartbeat.\n"+
			"Any valid token will do.\n\n"+
			"A worker id belongs to the worker token that registered it first. 'workers release ID'\n"+
			"(admin token) frees it, so that its next registration binds it to the token that makes\n"+
			"it: for an owner whose token changed, or a printer that changed hands.", stderr)
	rf := addRemoteFlags(fs)
	pf := addPageFlags(fs, "workers", []string{api.WorkerIdle, api.WorkerBusy, api.WorkerAwaitingBedClear, api.WorkerPaused, api.WorkerOffline})
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 && pos[0] == "release" {
		if len(pos) != 2 {
			return usageError("release: want exactly one worker ID")
		}
		return releaseWorker(ctx, rf, pos[1], stdout)
	}
	if len(pos) != 0 {
		return usageError("unexpected argument %q", pos[0])
	}
	opts, err := pf.options(false)
	if err != nil {
		return err
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	var page api.Workers
	if *pf.all {
		page.Workers, err = c.AllWorkers(ctx, opts)
	} else {
		var p *api.Workers
		if p, err = c.WorkersPage(ctx, opts); err == nil {
			page = *p
		}
	}
	if err != nil {
		return rf.explain(err)
	}
	if rf.json {
		if page.Workers == nil {
			page.Workers = []api.Worker{}
		}
		return printJSON(stdout, page)
	}
	if err := printWorkers(stdout, page.Workers, time.Now()); err != nil {
		return err
	}
	return pf.more(stdout, "workers", page.NextCursor)
}

func releaseWorker(ctx context.Context, rf *remoteFlags, id string, stdout io.Writer) error {
	c, err := rf.client()
	if err != nil {
		return err
	}
	if err := c.ReleaseWorker(ctx, id); err != nil {
		return rf.explain(err)
	}
	if rf.json {
		return printJSON(stdout, api.OK{OK: true})
	}
	_, err = fmt.Fprintf(stdout, "worker %s released: its next registration binds it to the worker token that makes it\n", id)
	return err
}

func printWorkers(w io.Writer, list []api.Worker, now time.Time) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no printers have registered yet (start one with 'fabgrid worker')")
		return err
	}
	t := newTable(w, "ID", "NAME", "PROFILE", "MATERIAL", "NOZZLE", "BUILD", "STATE", "GOSSIP", "JOB", "OK/FAILED", "HEARTBEAT")
	for _, wk := range list {
		mat := wk.Material
		if wk.Colour != "" {
			mat += " " + wk.Colour
		}
		t.row(wk.ID, wk.Name, wk.Profile, mat, fmt.Sprintf("%g mm", wk.NozzleMM),
			fmt.Sprintf("%gx%gx%g", wk.BuildMM[0], wk.BuildMM[1], wk.BuildMM[2]), wk.State, wk.Gossip, wk.Job,
			strconv.Itoa(wk.Successes)+"/"+strconv.Itoa(wk.Failures), ago(wk.LastHeartbeat, now))
	}
	return t.flush()
}
