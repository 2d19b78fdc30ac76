//go:build !slicer

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

func TestClusterSnapshotSaveInspectRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts coordinators")
	}
	a := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true})
	b := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true})
	run1 := func(want int, args ...string) (string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != want {
			t.Fatalf("%v: exit %d, want %d: %s%s", args, code, want, out.String(), errb.String())
		}
		return out.String(), errb.String()
	}
	t.Setenv(envToken, a.AdminToken)
	t.Setenv(envAddr, a.Nodes[0].URL())
	run1(0, "community", "create", "makers")
	dir := t.TempDir()
	model := filepath.Join(dir, "cube.stl")
	if err := os.WriteFile(model, coordinatortest.CubeSTL(20, 20, 10), 0o644); err != nil {
		t.Fatal(err)
	}
	var o api.Order
	out, _ := run1(0, "order", "submit", model, "--community", "makers", "--material", "PLA", "--qty", "2", "--json")
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}

	file := filepath.Join(dir, "grid.snap")
	if out, _ := run1(0, "cluster", "snapshot", "save", file); !strings.Contains(out, "saved "+file+": index ") || !strings.Contains(out, "1 orders, 2 jobs, 1 models") {
		t.Fatalf("save:\n%s", out)
	}
	if out, _ := run1(0, "cluster", "snapshot", "inspect", file); !strings.Contains(out, "orders               1") || !strings.Contains(out, "snapshot version 2") {
		t.Fatalf("inspect:\n%s", out)
	}
	var info api.BackupInfo
	out, _ = run1(0, "cluster", "snapshot", "inspect", file, "--json")
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.Snapshot.Orders != 1 || info.Snapshot.Models != 1 || info.Index == 0 {
		t.Fatalf("inspect --json: %+v %v", info, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("save left %v", ents)
	}

	// A damaged file: inspect and restore refuse it.
	raw, _ := os.ReadFile(file)
	bad := filepath.Join(dir, "bad.snap")
	if err := os.WriteFile(bad, raw[:len(raw)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs := run1(1, "cluster", "snapshot", "inspect", bad); !strings.Contains(errs, "cut short") {
		t.Fatalf("inspect of a cut file: %s", errs)
	}
	t.Setenv(envToken, b.AdminToken)
	t.Setenv(envAddr, b.Nodes[0].URL())
	if _, errs := run1(1, "cluster", "snapshot", "restore", bad); !strings.Contains(errs, "nothing was restored") {
		t.Fatalf("restore of a cut file: %s", errs)
	}
	if out, _ := run1(0, "cluster", "snapshot", "restore", file); !strings.Contains(out, "restored "+file) {
		t.Fatalf("restore:\n%s", out)
	}
	if out, _ := run1(0, "order", "list", "--consistent"); !strings.Contains(out, o.ID) {
		t.Fatalf("order list after restore:\n%s", out)
	}
	run1(2, "cluster", "snapshot", "save")
	run1(2, "cluster", "snapshot", "inspect", filepath.Join(dir, "missing.snap"))
}
