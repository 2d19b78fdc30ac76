package coordinator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

// pageAll pages through path with limit and the other query values,
// and returns every id in the order served.
func pageAll(t *testing.T, base, path, token string, limit int, q url.Values, ids func(body []byte) ([]string, string)) []string {
	t.Helper()
	var out []string
	cursor := ""
	for range 100 {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Set(api.LimitParam, fmt.Sprint(limit))
		if cursor != "" {
			v.Set(api.CursorParam, cursor)
		}
		code, body, err := cl.Do("GET", base+path+"?"+v.Encode(), token, nil, nil)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET %s: %d %v %s", path, code, err, body)
		}
		page, next := ids(body)
		if len(page) > limit {
			t.Fatalf("page of %d items over the limit %d", len(page), limit)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		cursor = next
	}
	t.Fatal("pages do not end")
	return nil
}

func orderIDs(t *testing.T) func([]byte) ([]string, string) {
	return func(b []byte) ([]string, string) {
		var p api.Orders
		mustUnmarshal(t, b, &p)
		var ids []string
		for _, o := range p.Orders {
			ids = append(ids, o.ID)
		}
		return ids, p.NextCursor
	}
}

func TestListsComeInPagesWithFilters(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true})
	u := c.WaitLeader(5 * time.Second).URL()
	a := newCommunity(t, c, u, "elm")
	b := newCommunity(t, c, u, "oak")
	var all, mine, open []string
	for i := range 10 {
		tok := a
		if i%3 == 2 {
			tok = b
		}
		o := submit(t, u, tok, coordinatortest.CubeSTL(10, 10, float64(1+i)), 2, "PLA")
		all = append(all, o.ID)
		if tok == a {
			mine = append(mine, o.ID)
		}
		if i%4 == 1 {
			mustDo(t, http.StatusOK, "DELETE", u+"/v1/orders/"+o.ID, c.AdminToken, nil, nil)
		} else {
			open = append(open, o.ID)
		}
	}
	sort.Strings(all)
	sort.Strings(mine)
	sort.Strings(open)
	for _, limit := range []int{1, 3, 10, 100} {
		if got := pageAll(t, u, "/v1/orders", c.AdminToken, limit, nil, orderIDs(t)); !slices.Equal(got, all) {
			t.Fatalf("limit %d: admin pages %v, want %v", limit, got, all)
		}
	}
	if got := pageAll(t, u, "/v1/orders", a, 2, nil, orderIDs(t)); !slices.Equal(got, mine) {
		t.Fatalf("community pages %v, want its own %v", got, mine)
	}
	if got := pageAll(t, u, "/v1/orders", c.AdminToken, 4, url.Values{"state": {"open"}}, orderIDs(t)); !slices.Equal(got, open) {
		t.Fatalf("open orders %v, want %v", got, open)
	}
	if got := pageAll(t, u, "/v1/orders", c.AdminToken, 4, url.Values{"state": {"open,cancelled"}}, orderIDs(t)); !slices.Equal(got, all) {
		t.Fatalf("open or cancelled %v, want all %v", got, all)
	}

	// Jobs: two per order, paged the same way; pending ones are those of
	// open orders.
	jobIDs := func(b []byte) ([]string, string) {
		var p api.Jobs
		mustUnmarshal(t, b, &p)
		var ids []string
		for _, j := range p.Jobs {
			ids = append(ids, j.ID)
		}
		return ids, p.NextCursor
	}
	if got := pageAll(t, u, "/v1/jobs", c.AdminToken, 7, nil, jobIDs); len(got) != 20 || !slices.IsSorted(got) {
		t.Fatalf("jobs %v", got)
	}
	if got := pageAll(t, u, "/v1/jobs", c.AdminToken, 3, url.Values{"state": {"pending"}}, jobIDs); len(got) != 2*len(open) {
		t.Fatalf("pending jobs %v, want %d", got, 2*len(open))
	}
	if got := pageAll(t, u, "/v1/jobs", b, 3, nil, jobIDs); len(got) != 2*(len(all)-len(mine)) {
		t.Fatalf("community oak sees jobs %v", got)
	}

	// Workers.
	for i := range 5 {
		register(t, c, u, fmt.Sprintf("w-%d", i), "PLA")
	}
	workerIDs := func(b []byte) ([]string, string) {
		var p api.Workers
		mustUnmarshal(t, b, &p)
		var ids []string
		for _, w := range p.Workers {
			ids = append(ids, w.ID)
		}
		return ids, p.NextCursor
	}
	if got := pageAll(t, u, "/v1/workers", c.WorkerToken, 2, nil, workerIDs); !slices.Equal(got, []string{"w-0", "w-1", "w-2", "w-3", "w-4"}) {
		t.Fatalf("workers %v", got)
	}
	// The leader places the pending jobs on them meanwhile: each is
	// idle or busy, none paused.
	if got := pageAll(t, u, "/v1/workers", c.WorkerToken, 2, url.Values{"state": {"paused"}}, workerIDs); len(got) != 0 {
		t.Fatalf("paused workers %v", got)
	}
	if got := pageAll(t, u, "/v1/workers", c.WorkerToken, 2, url.Values{"state": {"idle", "busy"}}, workerIDs); len(got) != 5 {
		t.Fatalf("idle or busy workers %v", got)
	}

	// Bad paging is refused with what to do.
	for _, q := range []string{"limit=0", "limit=1001", "limit=x", "cursor=%21%21", "cursor=" + url.QueryEscape("b3Blbg"), "state=lost"} {
		code, body, _ := cl.Do("GET", u+"/v1/orders?"+q, c.AdminToken, nil, nil)
		var e api.Error
		mustUnmarshal(t, body, &e)
		if code != http.StatusBadRequest || e.Code != api.CodeBadRequest {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}
