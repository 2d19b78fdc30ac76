package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// The owner's control endpoint: loopback only, no authentication.
//
//	GET  /status          → Status
//	POST /pause|/resume|/clear|/abort → Status, or 409 {"error","code":"conflict"}
//	GET  /v1/health, GET /metrics (see metrics.go)

type controlServer struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

func startControl(w *Worker, addr string) (*controlServer, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("worker: owner controls on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(rw http.ResponseWriter, r *http.Request) {
		s, err := w.Status(r.Context())
		reply(rw, s, err)
	})
	mux.Handle("GET /v1/health", healthHandler(w))
	mux.Handle("GET /metrics", metricsHandler(w))
	for _, cmd := range []string{CmdPause, CmdResume, CmdClear, CmdAbort} {
		mux.HandleFunc("POST /"+cmd, func(rw http.ResponseWriter, r *http.Request) {
			s, err := w.Command(r.Context(), cmd)
			reply(rw, s, err)
		})
	}
	c := &controlServer{ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: loopbackOnly(mux), ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		defer close(c.done)
		_ = c.srv.Serve(ln)
	}()
	return c, nil
}

// loopbackOnly refuses requests from anything but a loopback address (a
// second line of defence behind the loopback bind).
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			writeErr(rw, http.StatusForbidden, "forbidden", "owner controls answer only on loopback")
			return
		}
		h.ServeHTTP(rw, r)
	})
}

func (c *controlServer) Addr() string { return c.ln.Addr().String() }

func (c *controlServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
	<-c.done
}

func reply(rw http.ResponseWriter, s Status, err error) {
	if err != nil {
		code, status := "internal", http.StatusInternalServerError
		if errors.Is(err, ErrOwner) {
			code, status = "conflict", http.StatusConflict
		}
		writeErr(rw, status, code, err.Error())
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(s)
}

func writeErr(rw http.ResponseWriter, status int, code, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]string{"error": msg, "code": code})
}

// ErrControl is returned by Control when the worker cannot be reached or
// refuses the command.
var ErrControl = errors.New("worker: owner control")

// Control sends an owner command ("status", CmdPause, CmdResume, CmdClear,
// CmdAbort) to the worker's loopback endpoint at addr and returns its
// status. A command that does not apply now wraps ErrOwner.
func Control(ctx context.Context, addr, cmd string) (Status, error) {
	var s Status
	if err := CheckLoopback(addr); err != nil {
		return s, err
	}
	method, path := http.MethodPost, "/"+cmd
	if cmd == "status" {
		method = http.MethodGet
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, nil)
	if err != nil {
		return s, fmt.Errorf("%w: %w", ErrControl, err)
	}
	hc := &http.Client{Transport: &http.Transport{Proxy: nil}}
	resp, err := hc.Do(req)
	if err != nil {
		return s, fmt.Errorf("%w: no worker answers on %s (is it running with --control %s?): %w", ErrControl, addr, addr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error, Code string }
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		if resp.StatusCode == http.StatusConflict {
			return s, fmt.Errorf("%w: %s", ErrOwner, strings.TrimPrefix(e.Error, ErrOwner.Error()+": "))
		}
		return s, fmt.Errorf("%w: %s: %s", ErrControl, resp.Status, e.Error)
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return s, fmt.Errorf("%w: bad answer: %w", ErrControl, err)
	}
	return s, nil
}
