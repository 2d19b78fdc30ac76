package coordinator

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// Every list the API serves comes in pages: items in ascending id order
// (ids never change, so the order is stable), at most limit of them,
// from just after the cursor, which names the last id of the previous
// page. An item added while a client pages through lands wherever its
// id sorts: on a page still to come, or on one read already; no item is
// ever served twice or skipped because of it.

// page is a list request's paging and filter.
type page struct {
	limit  int
	after  string          // ids > after
	states map[string]bool // nil: every state
}

// cursorPrefix versions the cursor's encoding.
const cursorPrefix = "1:"

func encodeCursor(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + lastID))
}

// parsePage reads limit, cursor and state from the query; states lists
// the states the filter may name.
func parsePage(r *http.Request, states []string) (page, error) {
	q := r.URL.Query()
	p := page{limit: api.DefaultPageLimit}
	if v := q.Get(api.LimitParam); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > api.MaxPageLimit {
			return p, fmt.Errorf("%w: limit %q: want a number of items from 1 to %d", ErrBadCommand, v, api.MaxPageLimit)
		}
		p.limit = n
	}
	if v := q.Get(api.CursorParam); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || !strings.HasPrefix(string(b), cursorPrefix) {
			return p, fmt.Errorf("%w: cursor %q is not one this API gave: pass the next_cursor of the previous page, or none for the first", ErrBadCommand, v)
		}
		p.after = strings.TrimPrefix(string(b), cursorPrefix)
	}
	for _, v := range q[api.StateParam] {
		for _, st := range strings.Split(v, ",") {
			if !slices.Contains(states, st) {
				return p, fmt.Errorf("%w: state %q: want one of %s", ErrBadCommand, st, strings.Join(states, ", "))
			}
			if p.states == nil {
				p.states = map[string]bool{}
			}
			p.states[st] = true
		}
	}
	return p, nil
}

// wants reports whether an item in state passes the filter.
func (p page) wants(state string) bool { return p.states == nil || p.states[state] }

// ids returns the keys of m after the cursor, sorted, and whether the
// list goes on past them: keep(id) says which ids count (visibility and
// filter); the walk stops at limit kept ids.
func pageIDs[V any](p page, m map[string]V, keep func(id string, v V) bool) (ids []string, next string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k > p.after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !keep(k, m[k]) {
			continue
		}
		if len(ids) == p.limit {
			return ids, encodeCursor(ids[len(ids)-1])
		}
		ids = append(ids, k)
	}
	return ids, ""
}

// workerStates are the states a worker filter may name (orderStates
// and jobStates: metrics.go).
var workerStates = []string{api.WorkerIdle, api.WorkerBusy, api.WorkerAwaitingBedClear, api.WorkerPaused, api.WorkerOffline}
