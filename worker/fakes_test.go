package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/profile"
)

// fakeCoord is a hand-written coordinator: it records what workers send
// and hands out assignments pushed by the test.
type fakeCoord struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	models map[string][]byte
	known  map[string]bool
	regs   []api.RegisterRequest
	beats  []string
	prog   []api.ProgressRequest
	res    map[string]api.ResultRequest
	clears int
	// action answers progress reports; "" = continue.
	action string
	// forgetNext makes the next heartbeat answer 404 unknown_worker.
	forgetNext bool
	// refuseReg, if set, is the message of a 403 worker_token_mismatch
	// answer to every registration.
	refuseReg string
	assign    chan api.Assignment
	changed   chan struct{}
}

func newFakeCoord(t *testing.T) *fakeCoord {
	f := &fakeCoord{t: t, models: map[string][]byte{}, known: map[string]bool{}, res: map[string]api.ResultRequest{},
		assign: make(chan api.Assignment, 8), changed: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/workers/register", func(w http.ResponseWriter, r *http.Request) {
		var req api.RegisterRequest
		if !f.decode(w, r, &req) {
			return
		}
		f.mu.Lock()
		refuse := f.refuseReg
		f.mu.Unlock()
		if refuse != "" {
			writeJSON(w, 403, api.Error{Error: refuse, Code: api.CodeWorkerTokenMismatch})
			return
		}
		f.update(func() { f.regs = append(f.regs, req); f.known[req.ID] = true })
		writeJSON(w, 200, api.RegisterResponse{WorkerID: req.ID, HeartbeatIntervalMS: 200, LostAfterMS: 5000, Leader: "c1"})
	})
	mux.HandleFunc("POST /v1/workers/{id}/heartbeat", func(w http.ResponseWriter, r *http.Request) {
		var req api.HeartbeatRequest
		if !f.decode(w, r, &req) {
			return
		}
		id := r.PathValue("id")
		f.mu.Lock()
		known := f.known[id] && !f.forgetNext
		if f.forgetNext {
			f.forgetNext, f.known[id] = false, false
		}
		if known {
			f.beats = append(f.beats, req.State)
		}
		f.mu.Unlock()
		f.notify()
		if !known {
			writeJSON(w, 404, api.Error{Error: "unknown worker", Code: api.CodeUnknownWorker})
			return
		}
		writeJSON(w, 200, api.OK{OK: true})
	})
	mux.HandleFunc("GET /v1/workers/{id}/assignment", func(w http.ResponseWriter, r *http.Request) {
		wait, _ := time.ParseDuration(r.URL.Query().Get(api.WaitParam))
		select {
		case a := <-f.assign:
			writeJSON(w, 200, a)
		case <-time.After(wait):
			w.WriteHeader(204)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /v1/jobs/{id}/progress", func(w http.ResponseWriter, r *http.Request) {
		var req api.ProgressRequest
		if !f.decode(w, r, &req) {
			return
		}
		f.mu.Lock()
		f.prog = append(f.prog, req)
		action := f.action
		f.mu.Unlock()
		f.notify()
		if action == "" {
			action = api.ActionContinue
		}
		writeJSON(w, 200, api.ProgressResponse{Action: action})
	})
	mux.HandleFunc("POST /v1/jobs/{id}/result", func(w http.ResponseWriter, r *http.Request) {
		var req api.ResultRequest
		if !f.decode(w, r, &req) {
			return
		}
		f.update(func() { f.res[r.PathValue("id")] = req })
		writeJSON(w, 200, api.OK{OK: true})
	})
	mux.HandleFunc("POST /v1/workers/{id}/bed-clear", func(w http.ResponseWriter, r *http.Request) {
		f.update(func() { f.clears++ })
		writeJSON(w, 200, api.OK{OK: true})
	})
	mux.HandleFunc("GET /v1/models/{sha}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		b, ok := f.models[r.PathValue("sha")]
		f.mu.Unlock()
		if !ok {
			writeJSON(w, 404, api.Error{Error: "no such model", Code: api.CodeNotFound})
			return
		}
		w.Write(b)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCoord) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, 400, api.Error{Error: err.Error(), Code: api.CodeBadRequest})
		return false
	}
	return true
}

func (f *fakeCoord) update(fn func()) {
	f.mu.Lock()
	fn()
	f.mu.Unlock()
	f.notify()
}

func (f *fakeCoord) notify() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

// waitFor waits until cond (called under the lock) holds.
func (f *fakeCoord) waitFor(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		f.mu.Lock()
		ok := cond()
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-f.changed:
		case <-tick.C:
		case <-deadline:
			f.t.Fatalf("fake coordinator: not within 10s: %s", what)
		}
	}
}

func (f *fakeCoord) addModel(b []byte) string {
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	f.mu.Lock()
	f.models[sha] = b
	f.mu.Unlock()
	return sha
}

func (f *fakeCoord) client() *client.Client {
	c, err := client.New([]string{f.srv.URL}, client.Options{Token: "fgW_test", Attempts: 2, BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// fakePrinter prints until the test says finish or fail, or Cancel.
type fakePrinter struct {
	mu        sync.Mutex
	started   chan string
	finish    chan error
	cancelled chan struct{}
	cancels   int
	pauses    int
	printed   []string
}

func newFakePrinter() *fakePrinter {
	return &fakePrinter{started: make(chan string, 4), finish: make(chan error, 4), cancelled: make(chan struct{}, 4)}
}

var _ Printer = (*fakePrinter)(nil)

var errFakeCancelled = errors.New("fake printer: cancelled")

func (p *fakePrinter) Print(ctx context.Context, name string, gcode []string, progress func(PrintProgress)) error {
	p.started <- name
	progress(PrintProgress{Percent: 50, Layer: 2, Layers: 4, HotendC: 200, BedC: 60, ETAS: 30})
	select {
	case err := <-p.finish:
		if err == nil {
			p.mu.Lock()
			p.printed = append(p.printed, name)
			p.mu.Unlock()
		}
		return err
	case <-p.cancelled:
		return errFakeCancelled
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *fakePrinter) Pause() error  { p.mu.Lock(); p.pauses++; p.mu.Unlock(); return nil }
func (p *fakePrinter) Resume() error { return nil }
func (p *fakePrinter) Cancel() error {
	p.mu.Lock()
	p.cancels++
	p.mu.Unlock()
	p.cancelled <- struct{}{}
	return nil
}

// fakeSlicer returns a fixed result.
type fakeSlicer struct{ info SliceInfo }

var _ Slicer = fakeSlicer{}

func (s fakeSlicer) Slice(ctx context.Context, model []byte, p profile.Printer, m profile.Material, lh, infill float64) (Sliced, error) {
	if !strings.HasPrefix(string(model), "solid") {
		return Sliced{}, errors.New("fake slicer: not an STL")
	}
	return Sliced{GCode: []string{"G28", "G1 X10 Y10", "M84"}, Info: s.info}, nil
}

func testConfig(t *testing.T, dir string) Config {
	pr, err := profile.LookupPrinter("ender3")
	if err != nil {
		t.Fatal(err)
	}
	mat, _ := profile.LookupMaterial("PLA")
	return Config{
		Name: "test-ender", Printer: pr, Material: mat, Colour: "black", StateDir: dir,
		Control: "127.0.0.1:0", ProgressEvery: 100 * time.Millisecond, PollWait: 500 * time.Millisecond,
		ShutdownGrace: 5 * time.Second, Location: time.UTC,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("WORKER_TEST_LOG") != "" {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// running is a worker under test.
type running struct {
	w    *Worker
	stop context.CancelFunc
	done chan error
	once sync.Once
}

func startWorker(t *testing.T, cfg Config, coord Coordinator, pr Printer, sl Slicer) *running {
	t.Helper()
	w, err := New(cfg, coord, pr, sl)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{w: w, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	t.Cleanup(func() { r.shutdown(t) })
	return r
}

func (r *running) shutdown(t *testing.T) {
	r.once.Do(func() {
		r.stop()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("worker did not stop")
		}
	})
}

// control waits for the owner endpoint and returns its address.
func (r *running) control(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if a := r.w.ControlAddr(); a != "" {
			return a
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
	t.Fatal("owner endpoint not listening")
	return ""
}

var _ io.Writer = testWriter{}
