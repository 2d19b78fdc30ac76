//go:build !slicer

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
)

const (
	testAdmin = "fgA_admin"
	testComm  = "fgC_makers"
)

// fakeCoordinator serves the parts of the API the CLI uses, from memory.
type fakeCoordinator struct {
	mu       sync.Mutex
	orders   []api.Order
	forms    []map[string]string
	lastPath string
}

func (f *fakeCoordinator) fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.Error{Error: msg, Code: code})
}

func (f *fakeCoordinator) ok(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeCoordinator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastPath = r.URL.RequestURI()
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok != testAdmin && tok != testComm {
		f.fail(w, 401, api.CodeUnauthorized, "unknown token")
		return
	}
	admin := tok == testAdmin
	needAdmin := func() bool {
		if !admin {
			f.fail(w, 403, api.CodeForbidden, "this needs the admin token")
		}
		return admin
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/v1/communities":
		if !needAdmin() {
			return
		}
		var req api.CommunityRequest
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			f.fail(w, 400, api.CodeUnknownField, err.Error())
			return
		}
		if req.Name == "makers" {
			f.fail(w, 409, api.CodeConflict, "community makers exists")
			return
		}
		f.ok(w, 201, api.CommunityCreated{Name: req.Name, Weight: req.Weight, Token: "fgC_new"})
	case r.Method == "GET" && r.URL.Path == "/v1/communities":
		if needAdmin() {
			f.ok(w, 200, api.Communities{Communities: []api.Community{{Name: "makers", Weight: 1, Orders: 2}, {Name: "school", Weight: 2.5}}})
		}
	case r.Method == "POST" && r.URL.Path == "/v1/orders":
		mr, err := r.MultipartReader()
		if err != nil {
			f.fail(w, 400, api.CodeBadRequest, err.Error())
			return
		}
		form := map[string]string{}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			form[p.FormName()] = string(b)
			if p.FormName() == api.FieldModel {
				form["filename"] = p.FileName()
			}
		}
		f.forms = append(f.forms, form)
		o := api.Order{ID: "o-7", Community: "makers", ModelName: form["filename"], ModelSize: int64(len(form["model"])),
			ModelSHA256: strings.Repeat("ab", 32), Quantity: 3, Material: form["material"], Colour: form["colour"], State: api.OrderOpen}
		f.ok(w, 201, o)
	case r.Method == "GET" && r.URL.Path == "/v1/orders":
		f.ok(w, 200, api.Orders{Orders: f.orders})
	case r.Method == "GET" && r.URL.Path == "/v1/orders/o-1":
		f.ok(w, 200, f.orders[0])
	case r.Method == "DELETE" && r.URL.Path == "/v1/orders/o-1":
		o := f.orders[0]
		o.State = api.OrderCancelled
		o.Jobs = []api.Job{o.Jobs[0], o.Jobs[1], o.Jobs[2]}
		o.Jobs[1].State = api.JobCancelled
		f.ok(w, 200, o)
	case r.URL.Path == "/v1/orders/o-9":
		f.fail(w, 404, api.CodeNotFound, "no order o-9")
	case r.Method == "GET" && r.URL.Path == "/v1/workers":
		f.ok(w, 200, api.Workers{Workers: []api.Worker{{ID: "w-1", Name: "alice-ender", Profile: "ender3", Material: "PETG", Colour: "red",
			NozzleMM: 0.4, BuildMM: [3]float64{220, 220, 250}, State: api.WorkerBusy, Gossip: api.GossipAlive, Job: "o-1-1", Successes: 4, Failures: 1}}})
	case r.Method == "POST" && r.URL.Path == "/v1/workers/w-1/release":
		if needAdmin() {
			f.ok(w, 200, api.OK{OK: true})
		}
	case r.Method == "POST" && r.URL.Path == "/v1/workers/w-9/release":
		if needAdmin() {
			f.fail(w, 404, api.CodeNotFound, "no worker w-9")
		}
	case r.URL.Path == "/v1/cluster" || strings.HasPrefix(r.URL.Path, "/v1/cluster/"):
		if !needAdmin() {
			return
		}
		if r.Method == "POST" {
			var raw map[string]any
			if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
				f.fail(w, 400, api.CodeBadRequest, err.Error())
				return
			}
			f.forms = append(f.forms, map[string]string{"path": r.URL.Path, "id": asString(raw["id"]), "raft_addr": asString(raw["raft_addr"]), "http_addr": asString(raw["http_addr"])})
		}
		f.ok(w, 200, api.Cluster{Leader: "c1", Term: 3, CommitIndex: 120, AppliedIndex: 119, Nodes: []api.ClusterNode{
			{ID: "c1", RaftAddr: "127.0.0.1:8741", HTTPAddr: "127.0.0.1:8740", Suffrage: "voter", Leader: true},
			{ID: "c2", RaftAddr: "127.0.0.1:8751", HTTPAddr: "127.0.0.1:8750", Suffrage: "voter"},
		}})
	default:
		f.fail(w, 404, api.CodeNotFound, "no route "+r.Method+" "+r.URL.Path)
	}
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

func sampleOrder() api.Order {
	return api.Order{ID: "o-1", Community: "makers", ModelName: "chair-foot.stl", ModelSize: 2048, ModelSHA256: strings.Repeat("cd", 32),
		Quantity: 3, Material: "PETG", Colour: "red", LayerHeight: 0.2, Infill: 20, Deadline: "2026-12-24", State: api.OrderOpen,
		Created: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), JobsDone: 1,
		Jobs: []api.Job{
			{ID: "o-1-1", Copy: 1, State: api.JobPrinting, Printer: "w-1", Attempts: 1, Progress: &api.Progress{Percent: 42.5, Layer: 12, Layers: 80, ETAS: 600}},
			{ID: "o-1-2", Copy: 2, State: api.JobPending, Reason: "no idle printer has PETG red loaded"},
			{ID: "o-1-3", Copy: 3, State: api.JobDone, Printer: "w-2", Attempts: 2, Pickup: "Bob's porch, 12 Elm St",
				Failures: []api.Failure{{Printer: "w-3", Reason: "thermal runaway"}}},
		}}
}

func startFake(t *testing.T) (*fakeCoordinator, string) {
	t.Helper()
	f := &fakeCoordinator{orders: []api.Order{sampleOrder()}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv(envAddr, "")
	t.Setenv(envToken, "")
	return f, srv.URL
}

func TestRemoteCommands(t *testing.T) {
	_, url := startFake(t)
	model := filepath.Join(t.TempDir(), "chair-foot.stl")
	if err := os.WriteFile(model, []byte("solid foot\nendsolid foot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	co := "--coordinator=" + url
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		{"community create", []string{"community", "create", "school", "--weight", "2", co, "--token", testAdmin}, 0,
			[]string{"community school created (weight 2)", "token: fgC_new", "shown only once"}, ""},
		{"community create exists", []string{"community", "create", "makers", co, "--token", testAdmin}, 1, nil, "409 conflict: community makers exists"},
		{"community create as member", []string{"community", "create", "x", co, "--token", testComm}, 1, nil, "403 forbidden"},
		{"community create no name", []string{"community", "create", co}, 2, nil, "want exactly one NAME"},
		{"community create bad weight", []string{"community", "create", "x", "--weight=0", co}, 2, nil, "--weight must be > 0"},
		{"community list", []string{"community", "list", co, "--token", testAdmin}, 0,
			[]string{"NAME    WEIGHT  ORDERS", "makers  1       2", "school  2.5     0"}, ""},
		{"order submit", []string{"order", "submit", model, "--qty", "3", "--material", "petg", "--colour", "red", co, "--token", testComm}, 0,
			[]string{"order o-7 accepted for makers: 3 × chair-foot.stl (PETG, red)", "fabgrid order status o-7"}, ""},
		{"order submit no material", []string{"order", "submit", model, co}, 2, nil, "--material is required"},
		{"order submit bad qty", []string{"order", "submit", model, "--qty", "0", "--material", "PLA", co}, 2, nil, "--qty must be 1..1000"},
		{"order submit bad material", []string{"order", "submit", model, "--material", "wood", co}, 2, nil, "--material WOOD is not one of"},
		{"order submit bad deadline", []string{"order", "submit", model, "--material", "PLA", "--deadline", "christmas", co}, 2, nil, "neither YYYY-MM-DD nor RFC 3339"},
		{"order submit missing file", []string{"order", "submit", "nope.stl", "--material", "PLA", co}, 2, nil, "cannot read the model"},
		{"order submit two files", []string{"order", "submit", model, model, "--material", "PLA", co}, 2, nil, "want exactly one MODEL.stl"},
		{"order list", []string{"order", "list", co, "--token", testComm}, 0,
			[]string{"ID   COMMUNITY  MODEL           DONE  MATERIAL  COLOUR  STATE  DEADLINE    CREATED", "o-1  makers     chair-foot.stl  1/3   PETG      red     open   2026-12-24  2026-11-24 10:00"}, ""},
		{"order status", []string{"order", "status", "o-1", co, "--token", testComm}, 0,
			[]string{"order o-1 (makers): open", "3 × PETG red", "deadline  2026-12-24",
				"JOB    STATE     PRINTER  PROGRESS                     ATTEMPTS  NOTE",
				"o-1-1  printing  w-1      42.5% layer 12/80 eta 10m0s  1         -",
				"o-1-2  pending   -        -                            0         waiting: no idle printer has PETG red loaded",
				"o-1-3  done      w-2      -                            2         pick up: Bob's porch, 12 Elm St"}, ""},
		{"order status unknown", []string{"order", "status", "o-9", co, "--token", testComm}, 1, nil, "404 not_found: no order o-9"},
		{"order status no id", []string{"order", "status", co}, 2, nil, "want exactly one order ID"},
		{"order cancel", []string{"order", "cancel", "o-1", co, "--token", testComm}, 0,
			[]string{"order o-1: cancelled (1 jobs cancelled, 1 stopping at their next report, 1 done)"}, ""},
		{"workers", []string{"workers", co, "--token", testComm}, 0,
			[]string{"ID   NAME         PROFILE  MATERIAL  NOZZLE  BUILD        STATE  GOSSIP  JOB    OK/FAILED  HEARTBEAT",
				"w-1  alice-ender  ender3   PETG red  0.4 mm  220x220x250  busy   alive   o-1-1  4/1        -"}, ""},
		{"workers release", []string{"workers", "release", "w-1", co, "--token", testAdmin}, 0,
			[]string{"worker w-1 released: its next registration binds it"}, ""},
		{"workers release as member", []string{"workers", "release", "w-1", co, "--token", testComm}, 1, nil, "403 forbidden"},
		{"workers release unknown", []string{"workers", "release", "w-9", co, "--token", testAdmin}, 1, nil, "404 not_found: no worker w-9"},
		{"workers release no id", []string{"workers", "release", co}, 2, nil, "want exactly one worker ID"},
		{"workers stray argument", []string{"workers", "w-1", co}, 2, nil, `unexpected argument "w-1"`},
		{"no token", []string{"workers", co}, 1, nil, "wants a token: 401 unauthorized — pass --token or set FABGRID_TOKEN"},
		{"wrong token", []string{"workers", co, "--token", "fgC_wrong"}, 1, nil,
			"coordinator at " + url + " refused the token: 401 unauthorized — check --token or FABGRID_TOKEN"},
		{"cluster status", []string{"cluster", "status", co, "--token", testAdmin}, 0,
			[]string{"leader c1, term 3, commit index 120, applied index 119", "c1  127.0.0.1:8741  127.0.0.1:8740  voter     *"}, ""},
		{"cluster join", []string{"cluster", "join", "--id", "c3", "--raft", "127.0.0.1:8761", "--http", "127.0.0.1:8760", co, "--token", testAdmin}, 0,
			[]string{"leader c1"}, ""},
		{"cluster join missing", []string{"cluster", "join", "--id", "c3", co}, 2, nil, "--id, --raft and --http are all required"},
		{"cluster remove", []string{"cluster", "remove", "c2", co, "--token", testAdmin}, 0, []string{"leader c1"}, ""},
		{"cluster transfer", []string{"cluster", "transfer-leader", co, "--token", testAdmin}, 0, []string{"leader c1"}, ""},
		{"cluster unknown verb", []string{"cluster", "explode", co}, 2, nil, `unknown verb "explode"`},
		{"order help", []string{"order", "submit", "--help"}, 0, nil, "Usage: fabgrid order submit MODEL.stl"},
		{"group help", []string{"cluster", "--help"}, 0, nil, "transfer-leader"},
		{"bad coordinator", []string{"workers", "--coordinator", "ftp://x"}, 2, nil, "--coordinator"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %s; stderr %s", code, tc.wantCode, out.String(), errb.String())
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			if !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, errb.String())
			}
		})
	}
}

func TestOrderSubmitSendsFields(t *testing.T) {
	f, url := startFake(t)
	t.Setenv(envAddr, url) // the environment supplies the address and token
	t.Setenv(envToken, testComm)
	model := filepath.Join(t.TempDir(), "cube.stl")
	body := bytes.Repeat([]byte("x"), 300<<10)
	if err := os.WriteFile(model, body, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := []string{"order", "submit", "--community", "makers", model, "--qty=3", "--material", "PETG", "--colour", "red",
		"--deadline", "2026-12-24", "--layer-height", "0.28", "--infill", "15", "--pickup-note", "porch", "--request-id", "r-1", "--json"}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if errb.Len() != 0 {
		t.Errorf("stderr not a terminal, yet got %q", errb.String())
	}
	want := map[string]string{"community": "makers", "quantity": "3", "material": "PETG", "colour": "red", "deadline": "2026-12-24",
		"layer_height": "0.28", "infill": "15", "pickup_note": "porch", "request_id": "r-1", "filename": "cube.stl", "model": string(body)}
	got := f.forms[0]
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %.30q, want %.30q", k, got[k], v)
		}
	}
	var o api.Order
	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil || o.ID != "o-7" {
		t.Fatalf("json %+v: %v", o, err)
	}
}

// TestJSONOutputs checks that --json prints exactly the API's wire types.
func TestJSONOutputs(t *testing.T) {
	f, url := startFake(t)
	tests := []struct {
		args []string
		into func() any
		path string
	}{
		{[]string{"order", "list", "--consistent"}, func() any { return &api.Orders{} }, "/v1/orders?consistent=leader"},
		{[]string{"order", "status", "o-1"}, func() any { return &api.Order{} }, "/v1/orders/o-1"},
		{[]string{"order", "cancel", "o-1"}, func() any { return &api.Order{} }, "/v1/orders/o-1"},
		{[]string{"workers"}, func() any { return &api.Workers{} }, "/v1/workers"},
		{[]string{"community", "list"}, func() any { return &api.Communities{} }, "/v1/communities"},
		{[]string{"cluster", "status"}, func() any { return &api.Cluster{} }, "/v1/cluster"},
		{[]string{"cluster", "transfer-leader", "c2"}, func() any { return &api.Cluster{} }, "/v1/cluster/transfer-leader"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append(append([]string{}, tc.args...), "--json", "--coordinator", url, "--token", testAdmin)
			if code := run(args, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			dec := json.NewDecoder(&out)
			dec.DisallowUnknownFields()
			if err := dec.Decode(tc.into()); err != nil {
				t.Fatalf("not the wire type: %v\n%s", err, out.String())
			}
			if f.lastPath != tc.path {
				t.Fatalf("path %s, want %s", f.lastPath, tc.path)
			}
		})
	}
	last := f.forms[len(f.forms)-1]
	if last["path"] != "/v1/cluster/transfer-leader" || last["id"] != "c2" {
		t.Fatalf("transfer body %v", last)
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos string
		wantQty int
	}{
		{[]string{"a.stl", "--qty", "2"}, "a.stl", 2},
		{[]string{"--qty", "2", "a.stl"}, "a.stl", 2},
		{[]string{"a.stl", "b.stl", "--qty=4"}, "a.stl b.stl", 4},
		{[]string{"--qty", "3", "--", "--weird.stl"}, "--weird.stl", 3},
		{[]string{}, "", 1},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := newFlags("t", "t", "t", io.Discard)
			qty := fs.Int("qty", 1, "")
			pos, err := parseInterspersed(fs, tc.args)
			if err != nil || strings.Join(pos, " ") != tc.wantPos || *qty != tc.wantQty {
				t.Fatalf("pos %q qty %d err %v", pos, *qty, err)
			}
		})
	}
}

func TestExplainKeepsTheCause(t *testing.T) {
	tests := []struct {
		name  string
		token string
		err   error
		want  string
	}{
		{"no token", "", &client.APIError{Status: 401, Code: api.CodeUnauthorized, Endpoint: "http://127.0.0.1:1"}, "wants a token"},
		{"bad token", "fgC_x", &client.APIError{Status: 401, Code: api.CodeUnauthorized, Endpoint: "http://127.0.0.1:1"}, "refused the token"},
		{"no leader", "fgC_x", &client.APIError{Status: 503, Code: api.CodeNoLeader, Message: "election", Endpoint: "http://127.0.0.1:1"}, "the cluster has no leader (election)"},
		{"conflict", "fgA_x", &client.APIError{Status: 409, Code: api.CodeConflict, Message: "exists", Endpoint: "http://127.0.0.1:1"}, "409 conflict: exists"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rf := &remoteFlags{token: tc.token}
			err := rf.explain(tc.err)
			var ae *client.APIError
			if !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ae) || ae != tc.err {
				t.Fatalf("explain = %q (cause kept: %v), want it to say %q", err, errors.As(err, &ae), tc.want)
			}
		})
	}
}
