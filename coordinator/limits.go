package coordinator

import (
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/netutil"
	"golang.org/x/time/rate"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// Defaults of the HTTP server's limits (Config, docs/api.md "Limits").
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 15 * time.Minute
	DefaultBodyGrace         = 10 * time.Second
	DefaultMinBodyRate       = 4 << 10 // bytes per second
	DefaultMaxConns          = 1024
	DefaultMaxUploads        = 16
)

func (c *Config) setLimitDefaults() {
	if c.ReadHeaderTimeout <= 0 {
		c.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.BodyGrace <= 0 {
		c.BodyGrace = DefaultBodyGrace
	}
	if c.MinBodyRate <= 0 {
		c.MinBodyRate = DefaultMinBodyRate
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxUploads <= 0 {
		c.MaxUploads = DefaultMaxUploads
	}
}

// newHTTPServer builds the API's server with the configured timeouts.
func (n *Node) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           n.bodyDeadline(h),
		ReadHeaderTimeout: n.cfg.ReadHeaderTimeout,
		WriteTimeout:      n.cfg.WriteTimeout,
		IdleTimeout:       n.cfg.IdleTimeout,
	}
}

// limitConns caps the open API connections; beyond the cap, new
// connections wait in the listen backlog until one closes.
func (n *Node) limitConns(ln net.Listener) net.Listener {
	return netutil.LimitListener(ln, n.cfg.MaxConns)
}

// bodyDeadline makes a request body arrive at MinBodyRate after a grace
// of BodyGrace: each read moves the connection's read deadline to
// start + grace + received/rate, so a client trickling bytes is cut off
// (the read fails, the handler answers an error, the server closes the
// connection). Network deadlines are wall-clock time.
func (n *Node) bodyDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		b := &rateBody{body: r.Body, rc: rc, start: time.Now(), grace: n.cfg.BodyGrace, rate: float64(n.cfg.MinBodyRate)}
		if err := rc.SetReadDeadline(b.start.Add(b.grace)); err != nil {
			h.ServeHTTP(w, r) // a connection without deadlines (not served by net/http)
			return
		}
		r.Body = b
		h.ServeHTTP(w, r)
	})
}

type rateBody struct {
	body  io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	rate  float64
	got   int64
}

func (b *rateBody) Read(p []byte) (int, error) {
	k, err := b.body.Read(p)
	if k > 0 {
		b.got += int64(k)
		allowed := b.grace + time.Duration(float64(b.got)/b.rate*float64(time.Second))
		_ = b.rc.SetReadDeadline(b.start.Add(allowed))
	}
	return k, err
}

func (b *rateBody) Close() error { return b.body.Close() }

// largeUpload is the body size from which an upload takes a slot: a
// small order (most models) costs little memory and is never refused
// for a slot, so many clients can submit at once.
const largeUpload = 1 << 20

// upload bounds the large uploads (over largeUpload bytes, or of unknown
// length) being read and checked at once; one beyond MaxUploads is
// answered 429 before its body is read.
func (n *Node) upload(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength >= 0 && r.ContentLength <= largeUpload {
			h(w, r)
			return
		}
		select {
		case n.uploads <- struct{}{}:
		default:
			tooMany(w, time.Second, "too many large uploads at once (at most "+strconv.Itoa(cap(n.uploads))+" over 1 MiB); retry after the Retry-After seconds")
			return
		}
		defer func() { <-n.uploads }()
		h(w, r)
	}
}

// tooMany answers 429 with a Retry-After of d rounded up to seconds.
func tooMany(w http.ResponseWriter, d time.Duration, msg string) {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, api.CodeTooManyRequests, msg)
}

// tokenRates holds one token bucket per token (by hash). Only tokens the
// cluster knows get a bucket, so the map is as large as the token list.
type tokenRates struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	lims  map[string]*rate.Limiter
}

func newTokenRates(perSec float64, burst int) *tokenRates {
	if perSec <= 0 {
		return nil
	}
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSec)))
	}
	return &tokenRates{limit: rate.Limit(perSec), burst: burst, lims: map[string]*rate.Limiter{}}
}

// allow takes one request from the token's bucket at now; when the
// bucket is empty it returns false and how long until it holds one.
func (t *tokenRates) allow(hash string, now time.Time) (bool, time.Duration) {
	if t == nil {
		return true, 0
	}
	t.mu.Lock()
	lim := t.lims[hash]
	if lim == nil {
		lim = rate.NewLimiter(t.limit, t.burst)
		t.lims[hash] = lim
	}
	t.mu.Unlock()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimited answers 429 when the token has used up its rate.
func (n *Node) rateLimited(w http.ResponseWriter, hash string) bool {
	ok, wait := n.rates.allow(hash, n.cfg.Clock.Now())
	if ok {
		return false
	}
	tooMany(w, wait, "request rate of this token is over its limit ("+strconv.FormatFloat(n.cfg.RateLimit, 'g', -1, 64)+"/s); retry after the Retry-After seconds")
	return true
}

// methodNotAllowed answers a request whose path is served for other
// methods with 405 and the Allow header; it reports false otherwise.
func methodNotAllowed(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) bool {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return false
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, r.Method+" is not served on "+r.URL.Path+"; use "+strings.Join(allow, ", ")+" (see docs/api.md)")
	return true
}
