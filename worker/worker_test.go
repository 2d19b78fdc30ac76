package worker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

var stl = []byte("solid cube\nendsolid cube\n")

func fakeAssignment(id, sha string) api.Assignment {
	return api.Assignment{JobID: id, OrderID: "o-1", Epoch: 3, ModelSHA256: sha, ModelSize: int64(len(stl)),
		Material: "PLA", LayerHeight: 0.2, Infill: 20, LeaseMS: 60000}
}

var smallPart = SliceInfo{SizeMM: [3]float64{20, 20, 10}, EstSeconds: 120, Layers: 4, FilamentMM: 300}

func TestWorkerPrintsAJobEndToEnd(t *testing.T) {
	fc := newFakeCoord(t)
	pr := newFakePrinter()
	r := startWorker(t, testConfig(t, t.TempDir()), fc.client(), pr, fakeSlicer{info: smallPart})
	id := r.w.ID()
	fc.waitFor("registration", func() bool { return len(fc.regs) > 0 })
	fc.mu.Lock()
	reg := fc.regs[0]
	fc.mu.Unlock()
	if reg.ID != id || reg.Profile != "ender3" || reg.Material != "PLA" || reg.Colour != "black" ||
		reg.BuildMM != [3]float64{220, 220, 250} || reg.NozzleMM != 0.4 || reg.State != api.WorkerIdle || reg.Name != "test-ender" {
		t.Fatalf("registration %+v", reg)
	}

	fc.assign <- fakeAssignment("o-1-1", fc.addModel(stl))
	if got := <-pr.started; got != "o-1-1" {
		t.Fatalf("printing %q", got)
	}
	fc.waitFor("estimate and progress reports", func() bool {
		var est, pct bool
		for _, p := range fc.prog {
			est = est || (p.EstSeconds == 120 && p.Epoch == 3 && p.WorkerID == id)
			pct = pct || (p.Percent == 50 && p.Layer == 2 && p.HotendC == 200 && p.State == api.JobPrinting)
		}
		return est && pct
	})
	fc.waitFor("busy heartbeat", func() bool { return len(fc.beats) > 0 && fc.beats[len(fc.beats)-1] == api.WorkerBusy })
	st, err := Control(context.Background(), r.control(t), "status")
	if err != nil || st.Phase != PhasePrinting || st.Job == nil || st.Job.ID != "o-1-1" || st.Job.Percent != 50 {
		t.Fatalf("status %+v, %v", st, err)
	}
	// Health and metrics answer on the same loopback endpoint.
	var h Health
	if err := json.Unmarshal(get(t, "http://"+r.control(t)+"/v1/health"), &h); err != nil ||
		h.Status != "ok" || h.WorkerID != id || h.Phase != PhasePrinting || !h.Registered {
		t.Fatalf("health %+v, %v", h, err)
	}
	metrics := string(get(t, "http://"+r.control(t)+"/metrics"))
	for _, want := range []string{
		"fabgrid_worker_registered 1", `fabgrid_worker_phase{phase="printing"} 1`, `fabgrid_worker_phase{phase="idle"} 0`,
		"fabgrid_worker_job_percent 50", `fabgrid_worker_temperature_celsius{heater="hotend"} 200`, "go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Fatalf("metrics lack %q:\n%s", want, metrics)
		}
	}

	pr.finish <- nil
	fc.waitFor("done result", func() bool { return fc.res["o-1-1"].Outcome == api.OutcomeDone })
	fc.waitFor("awaiting bed clear", func() bool {
		return len(fc.beats) > 0 && fc.beats[len(fc.beats)-1] == api.WorkerAwaitingBedClear
	})
	if _, err := Control(context.Background(), r.control(t), CmdResume); !errors.Is(err, ErrOwner) {
		t.Fatalf("resume when not paused: %v", err)
	}
	st, err = Control(context.Background(), r.control(t), CmdClear)
	if err != nil || st.Phase != PhaseIdle {
		t.Fatalf("clear: %+v, %v", st, err)
	}
	fc.waitFor("bed-clear", func() bool { return fc.clears == 1 })

	// It takes the next job.
	fc.assign <- fakeAssignment("o-1-2", fc.addModel(stl))
	if got := <-pr.started; got != "o-1-2" {
		t.Fatalf("printing %q", got)
	}
	pr.finish <- nil
	fc.waitFor("second done", func() bool { return fc.res["o-1-2"].Outcome == api.OutcomeDone })
	fc.waitFor("state file: delivered, bed dirty", func() bool {
		p, err := r.w.store.Load()
		return err == nil && p.InFlight == nil && p.AwaitingBedClear
	})
}

func TestWorkerRefusesMaterialMismatch(t *testing.T) {
	fc := newFakeCoord(t)
	pr := newFakePrinter()
	startWorker(t, testConfig(t, t.TempDir()), fc.client(), pr, fakeSlicer{info: smallPart})
	a := fakeAssignment("o-1-1", fc.addModel(stl))
	a.Material = "PETG"
	fc.assign <- a
	fc.waitFor("refusal", func() bool {
		r := fc.res["o-1-1"]
		return r.Outcome == api.OutcomeRefused && r.Reason == "material mismatch: job needs PETG, printer has PLA loaded"
	})
	if len(pr.started) != 0 {
		t.Fatal("printed a refused job")
	}
}

func TestWorkerChecksModelChecksum(t *testing.T) {
	fc := newFakeCoord(t)
	startWorker(t, testConfig(t, t.TempDir()), fc.client(), newFakePrinter(), fakeSlicer{info: smallPart})
	sha := fc.addModel(stl)
	fc.mu.Lock()
	fc.models[sha] = []byte("solid tampered\n")
	fc.mu.Unlock()
	fc.assign <- fakeAssignment("o-1-1", sha)
	// A permanent refusal for this printer (issue 13, item 2); it was a
	// failed attempt before.
	fc.waitFor("refusal", func() bool {
		r := fc.res["o-1-1"]
		return r.Outcome == api.OutcomeRefused && r.Refusal == api.RefusalPermanent && len(r.Reason) > 0
	})
}

func TestWorkerObeysCancelFromProgressAnswer(t *testing.T) {
	fc := newFakeCoord(t)
	pr := newFakePrinter()
	startWorker(t, testConfig(t, t.TempDir()), fc.client(), pr, fakeSlicer{info: smallPart})
	fc.assign <- fakeAssignment("o-1-1", fc.addModel(stl))
	<-pr.started
	fc.update(func() { fc.action = api.ActionCancel })
	fc.waitFor("cancelled result", func() bool {
		r := fc.res["o-1-1"]
		return r.Outcome == api.OutcomeFailed && r.Reason == ReasonCoordinatorCancel
	})
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.cancels != 1 {
		t.Fatalf("printer cancels %d", pr.cancels)
	}
}

func TestWorkerReportsInterruptedJobAtStart(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := st.Load()
	p.InFlight = &InFlight{JobID: "o-9-1", OrderID: "o-9", Epoch: 12, Printing: true}
	if err := st.Save(p); err != nil {
		t.Fatal(err)
	}
	fc := newFakeCoord(t)
	cfg := testConfig(t, dir)
	cfg.AutoClear = true
	r := startWorker(t, cfg, fc.client(), newFakePrinter(), fakeSlicer{info: smallPart})
	if r.w.ID() != p.WorkerID {
		t.Fatalf("id changed across restart: %s → %s", p.WorkerID, r.w.ID())
	}
	fc.waitFor("restart failure", func() bool {
		res := fc.res["o-9-1"]
		return res.Outcome == api.OutcomeFailed && res.Reason == ReasonRestarted && res.Epoch == 12 && res.WorkerID == p.WorkerID
	})
	fc.waitFor("state file cleared", func() bool {
		q, err := st.Load()
		return err == nil && q.InFlight == nil
	})
}

func TestWorkerReregistersAfterUnknownWorker(t *testing.T) {
	fc := newFakeCoord(t)
	startWorker(t, testConfig(t, t.TempDir()), fc.client(), newFakePrinter(), fakeSlicer{info: smallPart})
	fc.waitFor("first heartbeat", func() bool { return len(fc.beats) > 0 })
	fc.update(func() { fc.forgetNext = true })
	fc.waitFor("second registration and heartbeats", func() bool { return len(fc.regs) >= 2 && fc.known[fc.regs[0].ID] })
}

// A refused registration is shown to the owner (status and health) until
// a registration succeeds.
func TestWorkerShowsWhyItIsNotRegistered(t *testing.T) {
	fc := newFakeCoord(t)
	const why = "worker w-1 is registered under another worker token"
	fc.refuseReg = why
	r := startWorker(t, testConfig(t, t.TempDir()), fc.client(), newFakePrinter(), fakeSlicer{info: smallPart})
	control := r.control(t) // the loop runs
	regErr := func() string {
		s, err := r.w.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		e, _ := s.Extra["register_error"].(string)
		return e
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(regErr(), why) {
		if time.Now().After(deadline) {
			t.Fatalf("status never showed the refusal; register_error %q", regErr())
		}
		time.Sleep(10 * time.Millisecond)
	}
	var h Health
	if err := json.Unmarshal(get(t, "http://"+control+"/v1/health"), &h); err != nil || h.Registered || !strings.Contains(h.RegisterError, why) {
		t.Fatalf("health %+v, %v", h, err)
	}
	fc.update(func() { fc.refuseReg = "" })
	fc.waitFor("a registration", func() bool { return len(fc.regs) > 0 })
	for regErr() != "" || !r.w.sess.registered.Load() {
		if time.Now().After(deadline.Add(15 * time.Second)) {
			t.Fatalf("still shows %q after registering", regErr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWorkerShutdownCancelsPrintSafely(t *testing.T) {
	fc := newFakeCoord(t)
	pr := newFakePrinter()
	r := startWorker(t, testConfig(t, t.TempDir()), fc.client(), pr, fakeSlicer{info: smallPart})
	fc.assign <- fakeAssignment("o-1-1", fc.addModel(stl))
	<-pr.started
	r.shutdown(t)
	fc.mu.Lock()
	res := fc.res["o-1-1"]
	fc.mu.Unlock()
	if res.Outcome != api.OutcomeFailed || res.Reason != ReasonShutdown {
		t.Fatalf("result after Ctrl-C: %+v", res)
	}
	if pr.cancels != 1 {
		t.Fatalf("printer cancels %d", pr.cancels)
	}
	p, _ := r.w.store.Load()
	if p.InFlight != nil {
		t.Fatalf("in-flight job left after a clean stop: %+v", p.InFlight)
	}
}

func TestNewRefusesNonLoopbackControl(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Control = "0.0.0.0:8750"
	if _, err := New(cfg, newFakeCoord(t).client(), newFakePrinter(), fakeSlicer{}); !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v", err)
	}
}

func TestWorkerKillReportsNothingAndRestartReportsFailure(t *testing.T) {
	dir := t.TempDir()
	fc := newFakeCoord(t)
	pr := newFakePrinter()
	r := startWorker(t, testConfig(t, dir), fc.client(), pr, fakeSlicer{info: smallPart})
	fc.assign <- fakeAssignment("o-1-1", fc.addModel(stl))
	<-pr.started
	r.w.Kill()
	r.shutdown(t)
	fc.mu.Lock()
	_, reported := fc.res["o-1-1"]
	fc.mu.Unlock()
	if reported {
		t.Fatal("a killed worker reported its job")
	}
	// The next start reports the interrupted job at once.
	startWorker(t, testConfig(t, dir), fc.client(), newFakePrinter(), fakeSlicer{info: smallPart})
	fc.waitFor("restart failure", func() bool {
		res := fc.res["o-1-1"]
		return res.Outcome == api.OutcomeFailed && res.Reason == ReasonRestarted && res.Epoch == 3
	})
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v\n%s", url, resp.Status, err, b)
	}
	return b
}

// A Status call that gives up (its context ended) while the loop has yet
// to run its closure must not read what the closure writes later (run
// with -race).
func TestStatusGivingUpDoesNotRace(t *testing.T) {
	fc := newFakeCoord(t)
	r := startWorker(t, testConfig(t, t.TempDir()), fc.client(), newFakePrinter(), fakeSlicer{info: smallPart})
	fc.waitFor("registration", func() bool { return len(fc.regs) > 0 })
	done, cancel := context.WithCancel(context.Background())
	cancel()
	gaveUp := 0
	for range 500 {
		if s, err := r.w.Status(done); err != nil {
			gaveUp++
			if s.WorkerID != "" || s.Phase != "" {
				t.Fatalf("a failed Status returned %+v", s)
			}
		}
	}
	if gaveUp == 0 {
		t.Log("every call was answered before its context was seen as ended")
	}
	if s, err := r.w.Status(context.Background()); err != nil || s.Phase != PhaseIdle {
		t.Fatalf("status after: %+v, %v", s, err)
	}
}

// Status before Run waits for Run (or the caller's deadline) instead of
// failing on state Run has not set up yet.
func TestStatusBeforeRun(t *testing.T) {
	fc := newFakeCoord(t)
	w, err := New(testConfig(t, t.TempDir()), fc.client(), newFakePrinter(), fakeSlicer{info: smallPart})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := w.Status(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Status before Run: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := w.Status(context.Background())
		got <- err
	}()
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(runCtx) }()
	if err := <-got; err != nil {
		t.Fatalf("Status once Run started: %v", err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
