package coordinator

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// What the unauthenticated endpoints tell whom. A stranger who knows a
// node's raft term and last index can forge raft RPCs at it (TLS stops
// those, and this keeps the figures from strangers too): /v1/health says
// only status and role (and a transport warning) to a caller without a
// token of the cluster, and /metrics, with Config.MetricsToken set,
// answers only the metrics token or an admin token.

// bearer returns the request's bearer token, "" when none.
func bearer(r *http.Request) string {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(tok)
}

// knownCaller reports whether the request carries a token of the
// cluster: any stored kind, or the metrics token.
func (n *Node) knownCaller(r *http.Request) bool {
	tok := bearer(r)
	if tok == "" {
		return false
	}
	if n.isMetricsToken(tok) {
		return true
	}
	_, ok := n.identify(tok)
	return ok
}

func (n *Node) isMetricsToken(tok string) bool {
	want := n.cfg.MetricsToken
	return want != "" && subtle.ConstantTimeCompare([]byte(HashToken(tok)), []byte(HashToken(want))) == 1
}

// metricsAuth guards /metrics with the metrics token, when there is one.
func (n *Node) metricsAuth(h http.Handler) http.Handler {
	if n.cfg.MetricsToken == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		if tok == "" {
			writeError(w, http.StatusUnauthorized, api.CodeUnauthorized,
				"metrics need a token: send Authorization: Bearer with the metrics token (--metrics-token-file) or an admin token")
			return
		}
		if !n.isMetricsToken(tok) {
			if p, ok := n.identify(tok); !ok || p.role != roleAdmin {
				writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "not the metrics token nor an admin token: check the scraper's token file")
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
