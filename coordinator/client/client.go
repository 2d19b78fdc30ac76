package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// DefaultAddr is the coordinator URL used when none is given.
const DefaultAddr = "http://127.0.0.1:8740"

// Options configure a Client. The zero value works.
type Options struct {
	// Token is sent as "Authorization: Bearer <token>" when not empty.
	Token string
	// HTTPClient does the requests; nil means a client with sane transport
	// timeouts and no overall timeout (calls are bounded by their context
	// and by Timeout).
	HTTPClient *http.Client
	// Timeout bounds one attempt of a non-streaming call (default 10 s); a
	// long-poll gets its wait on top. Uploads and downloads are bounded by
	// the caller's context only.
	Timeout time.Duration
	// Attempts is how many tries a retryable call gets in all (default 8).
	Attempts int
	// BackoffBase and BackoffMax shape the exponential backoff between
	// tries (defaults 50 ms and 1 s); each pause is jittered to 50–100 %.
	BackoffBase, BackoffMax time.Duration
	// Jitter returns a number in [0,1) for the backoff jitter (default
	// math/rand/v2.Float64); tests inject a fixed one.
	Jitter func() float64
	// Logger receives one debug line per failed attempt (default: discard).
	Logger *slog.Logger
	// TLS verifies the coordinators' certificates when their URLs are
	// https (RootCAs: the cluster CA, see CAConfig); addresses given
	// without a scheme then default to https. Ignored with HTTPClient.
	TLS *tls.Config
	// Stale makes every read a cheap local read of whichever coordinator
	// answers (?stale=1), which may miss recent writes. By default a read
	// sees every write acknowledged before it began.
	Stale bool
}

// Client talks to a coordinator cluster. It is safe for concurrent use.
type Client struct {
	endpoints []string
	cur       atomic.Int64 // index of the endpoint that last worked
	opts      Options
	hc        *http.Client
	log       *slog.Logger
	// noRequestID is set once a coordinator rejected the request_id field:
	// submissions then go without it and are not retried.
	noRequestID atomic.Bool
}

// New returns a client for the given coordinator URLs ("http://host:port" or
// "host:port"; empty means DefaultAddr).
func New(addrs []string, opts Options) (*Client, error) {
	var eps []string
	for _, a := range addrs {
		for _, p := range strings.Split(a, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			ep, err := normalizeScheme(p, opts.TLS != nil)
			if err != nil {
				return nil, err
			}
			eps = append(eps, ep)
		}
	}
	if len(eps) == 0 {
		eps = []string{DefaultAddr}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 8
	}
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = 50 * time.Millisecond
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = time.Second
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	c := &Client{endpoints: eps, opts: opts, hc: opts.HTTPClient, log: opts.Logger}
	if c.hc == nil {
		c.hc = &http.Client{Transport: &http.Transport{
			Proxy:                 nil, // loopback/LAN coordinators: never through a proxy
			DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   128,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 0, // long-polls wait; contexts bound calls
			ExpectContinueTimeout: time.Second,
			TLSClientConfig:       opts.TLS,
			TLSHandshakeTimeout:   5 * time.Second,
		}}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

func normalize(a string) (string, error) { return normalizeScheme(a, false) }

func normalizeScheme(a string, tls bool) (string, error) {
	if !strings.Contains(a, "://") && tls {
		a = "https://" + a
	} else if !strings.Contains(a, "://") {
		a = "http://" + a
	}
	u, err := url.Parse(a)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%w: coordinator address %q is not an http(s) URL", ErrConfig, a)
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}

// Endpoints returns the coordinator URLs in the order they are tried.
func (c *Client) Endpoints() []string { return append([]string(nil), c.endpoints...) }

// request is one API call, replayable: body is reopened for every attempt.
type request struct {
	method string
	path   string // starting with /v1/…; already escaped
	query  url.Values
	// body returns a fresh body, its length (-1: unknown) and its content
	// type; nil for no body.
	body func() (io.ReadCloser, int64, string, error)
	// idempotent calls are retried after ambiguous failures (the request may
	// have reached the coordinator); others only when it surely did not.
	idempotent bool
	// stream: no per-attempt timeout (uploads, downloads).
	stream bool
	// extra is added to the per-attempt timeout (long-poll wait).
	extra time.Duration
	// noRetry disables all retries (the caller handles them).
	noRetry bool
}

// retryable statuses: the coordinator (or a proxy in front) could not serve
// the call now, typically during an election.
func retryableStatus(code int) bool {
	return code == http.StatusServiceUnavailable || code == http.StatusBadGateway || code == http.StatusGatewayTimeout
}

// dialError reports whether err happened before the request left: the
// coordinator never saw it, so any call may be retried.
func dialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// do runs req against the endpoints with retries and returns the response of
// the first 2xx answer (the caller closes its body) or the last error; the
// cancel function releases the attempt's timeout and must be called after
// the body is consumed.
func (c *Client) do(ctx context.Context, req request) (*http.Response, context.CancelFunc, error) {
	n := int64(len(c.endpoints))
	start := c.cur.Load()
	var lastErr error
	sleeps := 0
	triedSinceSleep := 0
	attempts := c.opts.Attempts
	if req.noRetry {
		attempts = 1
	}
	for i := 0; i < attempts; i++ {
		idx := (start + int64(i)) % n
		ep := c.endpoints[idx]
		resp, cancel, err := c.once(ctx, ep, req)
		retry := false
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, nil, fmt.Errorf("client: %s %s: %w", req.method, req.path, ctx.Err())
		case err != nil && untrusted(err):
			// Trying again cannot help: the certificate stays the same.
			return nil, nil, fmt.Errorf("%w: coordinator at %s: %w", ErrUntrusted, ep, err)
		case err != nil:
			lastErr = fmt.Errorf("coordinator at %s: %w", ep, err)
			retry = req.idempotent || dialError(err)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			c.cur.Store(c.preferLeader(resp, idx))
			return resp, cancel, nil
		default:
			ae := readAPIError(ep, resp)
			resp.Body.Close()
			cancel()
			if !retryableStatus(resp.StatusCode) {
				// The coordinator answered: remember it, it is alive.
				c.cur.Store(idx)
				return nil, nil, ae
			}
			lastErr = ae
			retry = req.idempotent
		}
		if !retry || i == attempts-1 {
			break
		}
		c.log.Debug("coordinator call failed, retrying", "method", req.method, "path", req.path, "endpoint", ep, "err", lastErr)
		triedSinceSleep++
		// A refused connection moves straight on to an endpoint not yet
		// tried in this round; otherwise pause first.
		if !(err != nil && dialError(err) && triedSinceSleep < len(c.endpoints)) {
			if serr := c.sleep(ctx, sleeps); serr != nil {
				return nil, nil, fmt.Errorf("client: %s %s: %w (last failure: %v)", req.method, req.path, serr, lastErr)
			}
			sleeps++
			triedSinceSleep = 0
		}
	}
	var ae *APIError
	if errors.As(lastErr, &ae) {
		return nil, nil, lastErr
	}
	return nil, nil, fmt.Errorf("%w: %w", ErrNoCoordinator, lastErr)
}

// preferLeader returns the index of the leader named by a response's
// api.LeaderHeader if it is one of the client's endpoints, else idx: the
// next requests then go to the leader without a follower's forwarding hop.
func (c *Client) preferLeader(resp *http.Response, idx int64) int64 {
	l := resp.Header.Get(api.LeaderHeader)
	if l == "" || l == c.endpoints[idx] { // most answers: already at the leader
		return idx
	}
	l, err := normalize(l)
	if err != nil {
		return idx
	}
	for i, ep := range c.endpoints {
		if ep == l {
			return int64(i)
		}
	}
	return idx
}

// backoff returns the pause before retry number k (0-based): exponential,
// capped, jittered to 50–100 %.
func (c *Client) backoff(k int) time.Duration {
	d := c.opts.BackoffBase << min(k, 20)
	if d > c.opts.BackoffMax || d <= 0 {
		d = c.opts.BackoffMax
	}
	return time.Duration(float64(d) * (0.5 + 0.5*c.opts.Jitter()))
}

func (c *Client) sleep(ctx context.Context, k int) error {
	t := time.NewTimer(c.backoff(k))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) once(ctx context.Context, ep string, req request) (*http.Response, context.CancelFunc, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if !req.stream {
		actx, cancel = context.WithTimeout(ctx, c.opts.Timeout+req.extra)
	}
	u := ep + req.path
	q := req.query
	if c.opts.Stale && req.method == http.MethodGet && q.Get(api.ConsistentParam) == "" {
		q = url.Values{api.StaleParam: {"1"}}
		for k, v := range req.query {
			q[k] = v
		}
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.ReadCloser
	ctype, length := "", int64(0)
	if req.body != nil {
		var err error
		body, length, ctype, err = req.body()
		if err != nil {
			cancel()
			return nil, nil, err
		}
	}
	hr, err := http.NewRequestWithContext(actx, req.method, u, body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		cancel()
		return nil, nil, err
	}
	if body != nil {
		hr.ContentLength = length
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	hr.Header.Set("Accept", "application/json")
	if c.opts.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return resp, cancel, nil
}

// call runs req and decodes a JSON answer into out (nil: discard).
func (c *Client) call(ctx context.Context, req request, out any) error {
	resp, cancel, err := c.do(ctx, req)
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if err := decodeJSON(resp.Body, out); err != nil {
		return fmt.Errorf("client: %s %s: %w", req.method, req.path, err)
	}
	return nil
}

// decodeJSON decodes one JSON answer. Unknown fields are accepted, so that a
// newer coordinator can add some.
func decodeJSON(r io.Reader, out any) error {
	if err := json.NewDecoder(r).Decode(out); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	return nil
}

// jsonBody returns a replayable JSON request body.
func jsonBody(v any) (func() (io.ReadCloser, int64, string, error), error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return func() (io.ReadCloser, int64, string, error) {
		return io.NopCloser(bytes.NewReader(b)), int64(len(b)), "application/json", nil
	}, nil
}
