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

// order list and workers show one page, say how to get the next, and
// --all pages through.
func TestListCommandsPageThrough(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a coordinator")
	}
	cl := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true})
	t.Setenv(envAddr, cl.Nodes[0].URL())
	t.Setenv(envToken, cl.AdminToken)
	runOK := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	runOK("community", "create", "makers")
	dir := t.TempDir()
	var ids []string
	for i := range 5 {
		model := filepath.Join(dir, "m.stl")
		if err := os.WriteFile(model, coordinatortest.CubeSTL(10, 10, float64(1+i)), 0o644); err != nil {
			t.Fatal(err)
		}
		var o api.Order
		if err := json.Unmarshal([]byte(runOK("order", "submit", model, "--community", "makers", "--material", "PLA", "--json")), &o); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	out := runOK("order", "list", "--limit", "2")
	if n := strings.Count(out, "makers"); n != 2 || !strings.Contains(out, "more: fabgrid order list --cursor ") {
		t.Fatalf("one page of 2:\n%s", out)
	}
	var page api.Orders
	if err := json.Unmarshal([]byte(runOK("order", "list", "--limit", "2", "--json")), &page); err != nil || len(page.Orders) != 2 || page.NextCursor == "" {
		t.Fatalf("page %+v, %v", page, err)
	}
	if err := json.Unmarshal([]byte(runOK("order", "list", "--limit", "2", "--cursor", page.NextCursor, "--json")), &page); err != nil || len(page.Orders) != 2 {
		t.Fatalf("second page %+v, %v", page, err)
	}
	out = runOK("order", "list", "--limit", "2", "--all")
	for _, id := range ids {
		if !strings.Contains(out, id) {
			t.Errorf("--all misses %s:\n%s", id, out)
		}
	}
	if strings.Contains(out, "more:") {
		t.Errorf("--all says there is more:\n%s", out)
	}
	if out := runOK("order", "list", "--state", "done"); !strings.Contains(out, "no orders on this page") {
		t.Errorf("--state done:\n%s", out)
	}
	var errb bytes.Buffer
	if code := run([]string{"order", "list", "--limit", "0"}, &bytes.Buffer{}, &errb); code != 2 || !strings.Contains(errb.String(), "--limit 0: want 1 to 1000") {
		t.Errorf("--limit 0: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"workers", "--state", "lost"}, &bytes.Buffer{}, &errb); code != 1 || !strings.Contains(errb.String(), `state "lost": want one of idle`) {
		t.Errorf("--state lost: exit %d: %s", code, errb.String())
	}
}
