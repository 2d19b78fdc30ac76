package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

// TestClientAgainstCluster drives package client against a real
// coordinator: an order's whole life through the community and worker
// halves of the API, and the error answers the client must type.
func TestClientAgainstCluster(t *testing.T) {
	cl := coordinatortest.Start(t, 3, coordinatortest.Options{Inmem: true, Configure: func(_ int, cfg *coordinator.Config) {
		cfg.MaxModelSize = 4096
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := newClient(t, cl, cl.AdminToken)
	makers, err := admin.CreateCommunity(ctx, "makers", 1)
	if err != nil {
		t.Fatal(err)
	}
	school, err := admin.CreateCommunity(ctx, "school", 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateCommunity(ctx, "makers", 1); !client.IsCode(err, api.CodeConflict) {
		t.Fatalf("second community makers: %v, want conflict", err)
	}
	m := newClient(t, cl, makers.Token)
	cube := coordinatortest.CubeSTL(20, 20, 10)
	sum := sha256.Sum256(cube)

	var progress []int64
	o, err := m.SubmitOrder(ctx, client.BytesModel("cube.stl", cube), client.OrderRequest{
		Quantity: 1, Material: "PLA", Colour: "black", Deadline: "2026-12-24",
		Progress: func(sent, _ int64) { progress = append(progress, sent) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.ModelSHA256 != hex.EncodeToString(sum[:]) || o.Community != "makers" || o.Quantity != 1 || o.ModelSize != int64(len(cube)) {
		t.Fatalf("order %+v", o)
	}
	if len(progress) == 0 || progress[len(progress)-1] != int64(len(cube)) {
		t.Fatalf("progress %v", progress)
	}

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name   string
			call   func() error
			status int
			code   string
		}{
			{"wrong token", func() error {
				_, err := newClient(t, cl, "fgC_nobody").ListOrders(ctx, false)
				return err
			}, http.StatusUnauthorized, api.CodeUnauthorized},
			{"other community's order", func() error {
				_, err := newClient(t, cl, school.Token).GetOrder(ctx, o.ID, false)
				return err
			}, http.StatusForbidden, api.CodeForbidden},
			{"community token on cluster", func() error { _, err := m.Cluster(ctx, false); return err }, http.StatusForbidden, api.CodeForbidden},
			{"unknown order", func() error { _, err := m.GetOrder(ctx, "o-nope", true); return err }, http.StatusNotFound, api.CodeNotFound},
			{"model over the limit", func() error {
				_, err := m.SubmitOrder(ctx, client.BytesModel("big.stl", bytes.Repeat([]byte{1}, 8192)), client.OrderRequest{Quantity: 1, Material: "PLA"})
				return err
			}, http.StatusRequestEntityTooLarge, api.CodeTooLarge},
			{"not an STL", func() error {
				_, err := m.SubmitOrder(ctx, client.BytesModel("x.stl", []byte("hello")), client.OrderRequest{Quantity: 1, Material: "PLA"})
				return err
			}, http.StatusBadRequest, api.CodeInvalidSTL},
			{"bad material", func() error {
				_, err := m.SubmitOrder(ctx, client.BytesModel("c.stl", cube), client.OrderRequest{Quantity: 1, Material: "WOOD"})
				return err
			}, http.StatusBadRequest, api.CodeBadRequest},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				if client.StatusOf(err) != tc.status || !client.IsCode(err, tc.code) {
					t.Fatalf("err %v, want %d %s", err, tc.status, tc.code)
				}
			})
		}
		list, err := m.ListOrders(ctx, true)
		if err != nil || len(list) != 1 {
			t.Fatalf("after the refused calls: %d orders, err %v; want the one order", len(list), err)
		}
	})

	t.Run("worker half", func(t *testing.T) {
		w := newClient(t, cl, cl.WorkerToken)
		reg, err := w.Register(ctx, api.RegisterRequest{ID: "w-test", Name: "bench ender", Profile: "ender3",
			BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4, Material: "PLA", Colour: "black", State: api.WorkerIdle})
		if err != nil || reg.WorkerID != "w-test" {
			t.Fatalf("register: %+v, %v", reg, err)
		}
		var a *api.Assignment
		deadline := time.Now().Add(20 * time.Second)
		for a == nil && time.Now().Before(deadline) {
			if a, err = w.GetAssignment(ctx, "w-test", 2*time.Second); err != nil {
				t.Fatal(err)
			}
		}
		if a == nil || a.OrderID != o.ID || a.ModelSHA256 != o.ModelSHA256 {
			t.Fatalf("assignment %+v", a)
		}
		var buf bytes.Buffer
		if _, err := w.DownloadModel(ctx, a.ModelSHA256, &buf); err != nil || !bytes.Equal(buf.Bytes(), cube) {
			t.Fatalf("model download: %v", err)
		}
		pr, err := w.ReportProgress(ctx, a.JobID, api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-test", State: api.JobPrinting, Percent: 50, Layer: 25, Layers: 50})
		if err != nil || pr.Action != api.ActionContinue {
			t.Fatalf("progress: %+v, %v", pr, err)
		}
		if _, err := w.ReportProgress(ctx, a.JobID, api.ProgressRequest{Epoch: a.Epoch - 1, WorkerID: "w-test", State: api.JobPrinting}); !client.IsCode(err, api.CodeStaleEpoch) {
			t.Fatalf("stale progress: %v, want stale_epoch", err)
		}
		st, err := m.GetOrder(ctx, o.ID, true)
		if err != nil || st.Jobs[0].State != api.JobPrinting || st.Jobs[0].Printer != "w-test" || st.Jobs[0].Progress == nil || st.Jobs[0].Progress.Percent != 50 {
			t.Fatalf("status while printing: %+v, %v", st, err)
		}
		if _, err := w.ReportResult(ctx, a.JobID, api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-test", Outcome: api.OutcomeDone}); err != nil {
			t.Fatal(err)
		}
		// A repeated result (a retry after a lost answer) is harmless.
		if ok, err := w.ReportResult(ctx, a.JobID, api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-test", Outcome: api.OutcomeDone}); err != nil || !ok.OK {
			t.Fatalf("repeated result: %+v, %v", ok, err)
		}
		st, err = m.GetOrder(ctx, o.ID, true)
		if err != nil || st.State != api.OrderDone || st.JobsDone != 1 {
			t.Fatalf("status after done: %+v, %v", st, err)
		}
		if err := w.BedClear(ctx, "w-test"); err != nil {
			t.Fatal(err)
		}
		if err := w.Heartbeat(ctx, "w-unknown", api.WorkerIdle); !client.IsCode(err, api.CodeUnknownWorker) {
			t.Fatalf("heartbeat of an unknown worker: %v, want unknown_worker", err)
		}
		ws, err := m.Workers(ctx)
		if err != nil || len(ws) != 1 || ws[0].Successes != 1 {
			t.Fatalf("workers %+v, %v", ws, err)
		}
	})
}
