package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

func created(o api.Order) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(o)
	}
}

func TestSubmitOrderFieldsAndProgress(t *testing.T) {
	model := bytes.Repeat([]byte("facet normal 0 0 1\n"), 50000) // ~950 KB
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){created(api.Order{ID: "o-1", Quantity: 3})}}
	srv := httptest.NewServer(s)
	defer srv.Close()

	var mu sync.Mutex
	var calls []int64
	o, err := newTestClient(t, srv.URL).SubmitOrder(context.Background(), BytesModel("cube.stl", model), OrderRequest{
		Community: "makers", Quantity: 3, Material: "PETG", Colour: "red", LayerHeight: 0.28, Infill: 15,
		Deadline: "2026-12-24", PickupNote: "porch", RequestID: "rid-1",
		Progress: func(sent, total int64) {
			mu.Lock()
			defer mu.Unlock()
			if total != int64(len(model)) {
				t.Errorf("total %d", total)
			}
			calls = append(calls, sent)
		},
	})
	if err != nil || o.ID != "o-1" {
		t.Fatalf("order %+v, err %v", o, err)
	}
	want := map[string]string{
		"community": "makers", "quantity": "3", "material": "PETG", "colour": "red", "layer_height": "0.28",
		"infill": "15", "deadline": "2026-12-24", "pickup_note": "porch", "request_id": "rid-1", "model": string(model),
	}
	got := s.forms[0]
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %.40q, want %.40q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("fields %d, want %d", len(got), len(want))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) < 3 || calls[0] != 0 || calls[len(calls)-1] != int64(len(model)) {
		t.Fatalf("progress calls %v", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i] < calls[i-1] {
			t.Fatalf("progress went back: %v", calls)
		}
	}
}

// gatedReader hands out its first chunk, then waits until the server has
// seen model bytes: a client that buffered the body before sending would
// never get past the gate.
type gatedReader struct {
	first  []byte
	gate   <-chan struct{}
	passed bool
	rest   io.Reader
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if len(g.first) > 0 {
		n := copy(p, g.first)
		g.first = g.first[n:]
		return n, nil
	}
	if !g.passed {
		select {
		case <-g.gate:
			g.passed = true
		case <-time.After(10 * time.Second):
			return 0, errors.New("model not streamed: the server saw nothing of it")
		}
	}
	return g.rest.Read(p)
}

func TestSubmitOrderStreams(t *testing.T) {
	const size = 4 << 20
	seen := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			writeErr(w, 400, api.CodeBadRequest, err.Error())
			return
		}
		var n int64
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FormName() != api.FieldModel {
				continue
			}
			buf := make([]byte, 32<<10)
			for {
				k, err := p.Read(buf)
				if n == 0 && k > 0 {
					close(seen)
				}
				n += int64(k)
				if err != nil {
					break
				}
			}
		}
		if n != size {
			writeErr(w, 400, api.CodeBadRequest, "short model")
			return
		}
		created(api.Order{ID: "o-2", ModelSize: n})(w, r)
	}))
	defer srv.Close()
	m := Model{Name: "big.stl", Size: size, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(&gatedReader{first: make([]byte, 64<<10), gate: seen, rest: io.LimitReader(zeros{}, size-64<<10)}), nil
	}}
	o, err := newTestClient(t, srv.URL).SubmitOrder(context.Background(), m, OrderRequest{Quantity: 1, Material: "PLA"})
	if err != nil || o.ModelSize != size {
		t.Fatalf("order %+v, err %v", o, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestSubmitOrderRetriesWithSameRequestID(t *testing.T) {
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){noLeader, noLeader, created(api.Order{ID: "o-3"})}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	model := []byte("solid x\nendsolid x\n")
	o, err := newTestClient(t, srv.URL).SubmitOrder(context.Background(), BytesModel("x.stl", model), OrderRequest{Quantity: 1, Material: "PLA"})
	if err != nil || o.ID != "o-3" {
		t.Fatalf("order %+v, err %v", o, err)
	}
	if s.count() != 3 {
		t.Fatalf("%d calls, want 3", s.count())
	}
	rid := s.forms[0]["request_id"]
	if len(rid) < 16 {
		t.Fatalf("request_id %q too short", rid)
	}
	for i, f := range s.forms {
		if f["request_id"] != rid || f["model"] != string(model) {
			t.Fatalf("attempt %d sent request_id %q model %q", i, f["request_id"], f["model"])
		}
	}
}

func TestSubmitOrderWithoutRequestIDSupport(t *testing.T) {
	rejectID := func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, 400, api.CodeUnknownField, `unknown form field "request_id"`)
	}
	s := &scripted{steps: []func(http.ResponseWriter, *http.Request){rejectID, created(api.Order{ID: "o-4"}), noLeader, created(api.Order{ID: "o-5"})}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	m := BytesModel("x.stl", []byte("solid x\nendsolid x\n"))
	o, err := c.SubmitOrder(context.Background(), m, OrderRequest{Quantity: 1, Material: "PLA"})
	if err != nil || o.ID != "o-4" {
		t.Fatalf("order %+v, err %v", o, err)
	}
	if _, ok := s.forms[1]["request_id"]; ok {
		t.Fatal("fallback still sent request_id")
	}
	// Without an idempotency key, a 503 is not retried: it may hide a commit.
	if _, err := c.SubmitOrder(context.Background(), m, OrderRequest{Quantity: 1, Material: "PLA"}); !IsCode(err, api.CodeNoLeader) {
		t.Fatalf("err %v, want no_leader", err)
	}
	if s.count() != 3 {
		t.Fatalf("%d calls, want 3", s.count())
	}
}

func TestSubmitOrderRejectedEarly(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, "model over the 1 MiB limit")
	}))
	defer srv.Close()
	const size = 32 << 20
	m := Model{Name: "huge.stl", Size: size, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(zeros{}, size)), nil
	}}
	_, err := newTestClient(t, srv.URL).SubmitOrder(context.Background(), m, OrderRequest{Quantity: 1, Material: "PLA"})
	if !IsCode(err, api.CodeTooLarge) && !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("err %v, want too_large", err)
	}
}
