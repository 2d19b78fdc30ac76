package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// TestWorkerCalls checks each worker-facing call's method, path and body,
// and that the answer is decoded.
func TestWorkerCalls(t *testing.T) {
	type seen struct {
		method, path string
		body         map[string]any
	}
	var got seen
	answer := any(nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{method: r.Method, path: r.URL.Path}
		_ = json.Unmarshal(b, &got.body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	ctx := context.Background()
	tests := []struct {
		name     string
		answer   any
		call     func() (any, error)
		want     any
		method   string
		path     string
		bodyKeys map[string]any
	}{
		{"register", api.RegisterResponse{WorkerID: "w-1", HeartbeatIntervalMS: 5000, LostAfterMS: 60000, Leader: "c1"},
			func() (any, error) {
				return c.Register(ctx, api.RegisterRequest{ID: "w-1", Name: "alice", Profile: "ender3", Material: "PLA", State: api.WorkerIdle})
			},
			&api.RegisterResponse{WorkerID: "w-1", HeartbeatIntervalMS: 5000, LostAfterMS: 60000, Leader: "c1"},
			"POST", "/v1/workers/register", map[string]any{"id": "w-1", "profile": "ender3"}},
		{"progress", api.ProgressResponse{Action: api.ActionCancel},
			func() (any, error) {
				return c.ReportProgress(ctx, "o-1-1", api.ProgressRequest{Epoch: 7, WorkerID: "w-1", State: api.JobPrinting, Percent: 42.5})
			},
			&api.ProgressResponse{Action: api.ActionCancel},
			"POST", "/v1/jobs/o-1-1/progress", map[string]any{"epoch": 7.0, "worker_id": "w-1", "percent": 42.5}},
		{"result", api.OK{OK: true, Duplicate: true},
			func() (any, error) {
				return c.ReportResult(ctx, "o-1-1", api.ResultRequest{Epoch: 7, WorkerID: "w-1", Outcome: api.OutcomeFailed, Reason: "thermal runaway"})
			},
			&api.OK{OK: true, Duplicate: true},
			"POST", "/v1/jobs/o-1-1/result", map[string]any{"outcome": "failed", "reason": "thermal runaway"}},
		{"bed clear", api.OK{OK: true},
			func() (any, error) { return nil, c.BedClear(ctx, "w-1") },
			nil, "POST", "/v1/workers/w-1/bed-clear", map[string]any{}},
		{"heartbeat", api.OK{OK: true},
			func() (any, error) { return nil, c.Heartbeat(ctx, "w/odd", api.WorkerPaused) },
			nil, "POST", "/v1/workers/w/odd/heartbeat", map[string]any{"state": "paused"}},
		{"join", api.Cluster{Leader: "c1"},
			func() (any, error) {
				return c.JoinCluster(ctx, api.JoinRequest{ID: "c4", RaftAddr: "127.0.0.1:1", HTTPAddr: "127.0.0.1:2"})
			},
			&api.Cluster{Leader: "c1"}, "POST", "/v1/cluster/join", map[string]any{"id": "c4", "raft_addr": "127.0.0.1:1"}},
		{"worker token", api.WorkerTokenCreated{Token: "fgW_x"},
			func() (any, error) { return c.CreateWorkerToken(ctx, "bob") },
			"fgW_x", "POST", "/v1/worker-tokens", map[string]any{"name": "bob"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer = tc.answer
			out, err := tc.call()
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && !reflect.DeepEqual(out, tc.want) {
				t.Errorf("answer %#v, want %#v", out, tc.want)
			}
			if got.method != tc.method || got.path != tc.path {
				t.Errorf("sent %s %s, want %s %s", got.method, got.path, tc.method, tc.path)
			}
			for k, v := range tc.bodyKeys {
				if !reflect.DeepEqual(got.body[k], v) {
					t.Errorf("body %s = %#v, want %#v (body %v)", k, got.body[k], v, got.body)
				}
			}
		})
	}
}

func TestStaleEpochIsTyped(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusConflict, api.CodeStaleEpoch, "epoch 6 is stale; this assignment is no longer yours, stop it")
	}))
	defer srv.Close()
	_, err := newTestClient(t, srv.URL).ReportProgress(context.Background(), "o-1-1", api.ProgressRequest{Epoch: 6})
	if !IsCode(err, api.CodeStaleEpoch) || StatusOf(err) != http.StatusConflict {
		t.Fatalf("err %v, want 409 stale_epoch", err)
	}
}
