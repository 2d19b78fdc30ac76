//go:build !slicer

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
)

// fabgrid cluster snapshot save|inspect|restore: backups of the whole
// cluster state with every model, like nomad operator snapshot.

func runClusterSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatch(ctx, "cluster snapshot", map[string]subcommand{
		"save":    {"save a backup of the cluster (state and models) to FILE", runSnapshotSave},
		"inspect": {"check a backup FILE and show what it holds", runSnapshotInspect},
		"restore": {"replace the cluster's state with a backup FILE", runSnapshotRestore},
	}, args, stdout, stderr)
}

func runSnapshotSave(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rf, pos, err := clusterVerb("snapshot save", "cluster snapshot save FILE [flags]",
		"Saves a backup of the cluster to FILE (admin token): the leader takes a snapshot now\n"+
			"and streams it with every model's bytes. The file is written beside FILE, checked\n"+
			"whole, and only then renamed to FILE.", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return usageError("snapshot save: want exactly one FILE")
	}
	path := pos[0]
	c, err := rf.client()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return fmt.Errorf("snapshot save: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing there
	defer tmp.Close()
	if _, err := c.SaveSnapshot(ctx, tmp); err != nil {
		return rf.explain(err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("snapshot save: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("snapshot save: %w", err)
	}
	info, err := coordinator.InspectBackup(tmp)
	if err != nil {
		return fmt.Errorf("snapshot save: the file received does not check, so %s was not written: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("snapshot save: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("snapshot save: %w", err)
	}
	if rf.json {
		return printJSON(stdout, info)
	}
	_, err = fmt.Fprintf(stdout, "saved %s: %s\n", path, summary(info))
	return err
}

func summary(info api.BackupInfo) string {
	s := info.Snapshot
	return fmt.Sprintf("index %d, term %d, %s; %d orders, %d jobs, %d models (%s), %d workers, %d communities",
		info.Index, info.Term, humanBytes(info.Size), s.Orders, s.Jobs, s.Models, humanBytes(s.ModelBytes), s.Workers, s.Communities)
}

func runSnapshotInspect(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("cluster snapshot inspect", "cluster snapshot inspect FILE [--json]",
		"Reads a backup FILE whole, checks it as a restore would (its structure, every model's\n"+
			"hash, its checksum) and shows the raft index and term it was taken at, its sizes and\n"+
			"what it holds. Needs no coordinator.", stderr)
	jsonOut := fs.Bool("json", false, "machine-readable output")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return usageError("snapshot inspect: want exactly one FILE")
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return usageError("snapshot inspect: %v", err)
	}
	defer f.Close()
	info, err := coordinator.InspectBackup(f)
	if err != nil {
		return fmt.Errorf("snapshot inspect %s: %w", pos[0], err)
	}
	if *jsonOut {
		return printJSON(stdout, info)
	}
	s := info.Snapshot
	t := newTable(stdout, "FIELD", "VALUE")
	t.row("index", fmt.Sprint(info.Index))
	t.row("term", fmt.Sprint(info.Term))
	t.row("servers", strings.Join(info.Servers, ", "))
	t.row("file size", humanBytes(info.Size))
	t.row("format", fmt.Sprintf("snapshot version %d", s.Version))
	t.row("state size", humanBytes(s.StateSize))
	t.row("models", fmt.Sprintf("%d (%s)", s.Models, humanBytes(s.ModelBytes)))
	t.row("uploads in progress", fmt.Sprintf("%d (%s)", s.Uploads, humanBytes(s.UploadBytes)))
	t.row("communities", fmt.Sprint(s.Communities))
	t.row("orders", fmt.Sprint(s.Orders))
	t.row("jobs", fmt.Sprint(s.Jobs))
	t.row("workers", fmt.Sprint(s.Workers))
	t.row("coordinators", fmt.Sprint(s.Nodes))
	return t.flush()
}

func runSnapshotRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rf, pos, err := clusterVerb("snapshot restore", "cluster snapshot restore FILE [flags]",
		"Replaces the state of a running cluster with a backup FILE (admin token): orders,\n"+
			"jobs, workers, communities, tokens and models become the file's. The coordinators\n"+
			"keep their own membership and addresses, and their configured tokens stay valid.\n"+
			"The leader checks the whole file first: a damaged one changes nothing. Into a new\n"+
			"cluster: start it (--bootstrap, then --join), then restore.", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return usageError("snapshot restore: want exactly one FILE")
	}
	path := pos[0]
	if _, err := os.Stat(path); err != nil {
		return usageError("snapshot restore: %v", err)
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	info, err := c.RestoreSnapshot(ctx, func() (io.ReadCloser, int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, st.Size(), nil
	})
	if err != nil {
		return rf.explain(err)
	}
	if rf.json {
		return printJSON(stdout, info)
	}
	_, err = fmt.Fprintf(stdout, "restored %s: %s\n", path, summary(*info))
	return err
}
