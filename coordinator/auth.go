package coordinator

import (
	"context"
	"net/http"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// role is a set of token kinds.
type role int

const (
	roleAdmin role = 1 << iota
	roleCommunity
	roleWorker
	roleAny = roleAdmin | roleCommunity | roleWorker
)

// principal is who a request's token belongs to.
type principal struct {
	role      role
	community string // for roleCommunity
	name      string // worker token name
	// tokenHash is the worker token's hash (roleWorker): the worker ids
	// it registers are bound to it (Worker.TokenHash).
	tokenHash string
}

type principalKey struct{}

func principalOf(r *http.Request) principal {
	p, _ := r.Context().Value(principalKey{}).(principal)
	return p
}

// identify looks a bearer token up among the stored hashes.
func (n *Node) identify(tok string) (principal, bool) {
	h := HashToken(tok)
	var p principal
	ok := false
	n.fsm.View(func(s *fsm.State) {
		switch {
		case strings.HasPrefix(tok, api.AdminTokenPrefix) && s.AdminTokens[h]:
			p, ok = principal{role: roleAdmin}, true
		case strings.HasPrefix(tok, api.WorkerTokenPrefix):
			if name, found := s.WorkerTokens[h]; found {
				p, ok = principal{role: roleWorker, name: name, tokenHash: h}, true
			}
		case strings.HasPrefix(tok, api.CommunityTokenPrefix):
			for _, c := range s.Communities {
				if c.TokenHash == h {
					p, ok = principal{role: roleCommunity, community: c.Name}, true
					break
				}
			}
		}
	})
	return p, ok
}

// auth admits requests whose bearer token has one of the roles: no or an
// unknown token is 401, a known token of another kind 403.
func (n *Node) auth(allowed role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found || tok == "" {
			writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "missing bearer token: pass --token or set FABGRID_TOKEN")
			return
		}
		p, ok := n.identify(strings.TrimSpace(tok))
		if !ok {
			writeError(w, http.StatusUnauthorized, api.CodeUnauthorized, "unknown token: check --token / FABGRID_TOKEN")
			return
		}
		if p.role&allowed == 0 {
			writeError(w, http.StatusForbidden, api.CodeForbidden, "this token may not do that: use a token of the right kind")
			return
		}
		if n.rateLimited(w, HashToken(strings.TrimSpace(tok))) {
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}
