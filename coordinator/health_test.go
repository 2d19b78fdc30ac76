package coordinator_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

const metricsToken = "scrape-me-0123456789"

func TestHealthTellsStrangersOnlyStatusAndRole(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true, Configure: func(_ int, cfg *coordinator.Config) {
		cfg.MetricsToken = metricsToken
	}})
	n := c.WaitLeader(5 * time.Second)
	comm := newCommunity(t, c, n.URL(), "makers")
	for _, tc := range []struct {
		name  string
		token string
		want  []string
	}{
		{"no token", "", []string{"role", "status"}},
		{"unknown token", "fgA_nope", []string{"role", "status"}},
		{"community token", comm, []string{"leader", "node", "role", "status", "term"}},
		{"admin token", c.AdminToken, []string{"leader", "node", "role", "status", "term"}},
		{"metrics token", metricsToken, []string{"leader", "node", "role", "status", "term"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h map[string]any
			mustDo(t, 200, "GET", n.URL()+"/v1/health", tc.token, nil, &h)
			if got := slices.Sorted(maps.Keys(h)); !slices.Equal(got, tc.want) {
				t.Fatalf("health fields %v, want %v (%v)", got, tc.want, h)
			}
			if h["role"] != "leader" || h["status"] != "ok" {
				t.Fatalf("health %v", h)
			}
		})
	}
}

func TestMetricsNeedTheMetricsTokenWhenSet(t *testing.T) {
	c := coordinatortest.Start(t, 2, coordinatortest.Options{Inmem: true, Configure: func(i int, cfg *coordinator.Config) {
		if i == 0 {
			cfg.MetricsToken = metricsToken
		}
	}})
	guarded, open := c.Nodes[0], c.Nodes[1]
	comm := newCommunity(t, c, guarded.URL(), "makers")
	for _, tc := range []struct {
		name  string
		token string
		code  int
	}{
		{"no token", "", 401},
		{"wrong token", "scrape-me-not", 401},
		{"community token", comm, 401},
		{"metrics token", metricsToken, 200},
		{"admin token", c.AdminToken, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, err := cl.Do("GET", guarded.URL()+"/metrics", tc.token, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Fatalf("status %d, want %d: %s", code, tc.code, body)
			}
			if leaks := strings.Contains(string(body), "fabgrid_"); leaks != (code == 200) {
				t.Fatalf("status %d and metrics in the body: %v", code, leaks)
			}
			if code == 401 {
				var e struct{ Error, Code string }
				if json.Unmarshal(body, &e) != nil || !strings.Contains(e.Error, "token") {
					t.Fatalf("401 body %s does not say what to do", body)
				}
			}
		})
	}
	// Without a metrics token, /metrics stays open.
	if code, body, _ := cl.Do("GET", open.URL()+"/metrics", "", nil, nil); code != 200 || !strings.Contains(string(body), "fabgrid_") {
		t.Fatalf("open metrics: %d", code)
	}
}
