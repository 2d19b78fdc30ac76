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

// TestRemoteCommandsAgainstCluster runs the commands against a real
// one-node coordinator: what the fake cannot show is that the real
// answers decode and print.
func TestRemoteCommandsAgainstCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a coordinator")
	}
	cl := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true})
	t.Setenv(envAddr, cl.Nodes[0].URL())
	t.Setenv(envToken, cl.AdminToken)
	model := filepath.Join(t.TempDir(), "cube.stl")
	if err := os.WriteFile(model, coordinatortest.CubeSTL(20, 20, 10), 0o644); err != nil {
		t.Fatal(err)
	}
	runOK := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	var cc api.CommunityCreated
	if err := json.Unmarshal([]byte(runOK("community", "create", "makers", "--json")), &cc); err != nil || !strings.HasPrefix(cc.Token, api.CommunityTokenPrefix) {
		t.Fatalf("community create: %+v, %v", cc, err)
	}
	var o api.Order
	if err := json.Unmarshal([]byte(runOK("order", "submit", model, "--qty", "2", "--material", "petg", "--token", cc.Token, "--json")), &o); err != nil || o.ID == "" {
		t.Fatalf("order submit: %+v, %v", o, err)
	}
	if out := runOK("order", "status", o.ID, "--token", cc.Token, "--consistent"); !strings.Contains(out, o.ID+"-2  pending") || !strings.Contains(out, "waiting: ") {
		t.Errorf("order status:\n%s", out)
	}
	if out := runOK("order", "list", "--token", cc.Token); !strings.Contains(out, o.ID+"  makers     cube.stl  0/2   PETG") {
		t.Errorf("order list:\n%s", out)
	}
	if out := runOK("order", "cancel", o.ID, "--token", cc.Token); !strings.Contains(out, "cancelled (2 jobs cancelled") {
		t.Errorf("order cancel:\n%s", out)
	}
	if out := runOK("community", "list"); !strings.Contains(out, "makers  1       1") {
		t.Errorf("community list:\n%s", out)
	}
	if out := runOK("cluster", "status"); !strings.Contains(out, "leader c1") {
		t.Errorf("cluster status:\n%s", out)
	}
	reg := api.RegisterRequest{ID: "w-1", Name: "ender", BuildMM: [3]float64{220, 220, 250}, Material: "PLA"}
	if code, b, err := coordinatortest.DefaultClient.Do("POST", cl.Nodes[0].URL()+"/v1/workers/register", cl.WorkerToken, reg, nil); code != 200 {
		t.Fatalf("register: %d %s %v", code, b, err)
	}
	if out := runOK("workers", "release", "w-1"); !strings.Contains(out, "worker w-1 released") {
		t.Errorf("workers release:\n%s", out)
	}
	var errb bytes.Buffer
	if code := run([]string{"workers", "--token", "fgC_wrong"}, &bytes.Buffer{}, &errb); code != 1 ||
		!strings.Contains(errb.String(), "refused the token: 401 unauthorized — check --token or FABGRID_TOKEN") {
		t.Errorf("wrong token: exit %d, %s", code, errb.String())
	}
}
