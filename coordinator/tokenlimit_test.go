package coordinator_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

// TestWorkerTokenRegistersAtMostItsLimit: an owner's worker token binds
// at most max_workers printers (409 conflict beyond, saying so); an admin
// raises the limit; the grid's own token has none. Before, one token
// could register any number of printers.
func TestWorkerTokenRegistersAtMostItsLimit(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Inmem: true})
	u := c.WaitLeader(5 * time.Second).URL()
	var created api.WorkerTokenCreated
	mustDo(t, http.StatusCreated, "POST", u+"/v1/worker-tokens", c.AdminToken, api.WorkerTokenRequest{Name: "bob", MaxWorkers: 2}, &created)
	reg := func(tok, id string) (int, string) {
		r := api.RegisterRequest{ID: id, Name: id, Profile: "ender3", BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4, Material: "PLA"}
		code, body, err := cl.Do("POST", u+"/v1/workers/register", tok, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		return code, string(body)
	}
	for _, id := range []string{"b-1", "b-2"} {
		if code, body := reg(created.Token, id); code != http.StatusOK {
			t.Fatalf("%s: %d %s", id, code, body)
		}
	}
	if code, body := reg(created.Token, "b-3"); code != http.StatusConflict {
		t.Fatalf("third printer of a 2-printer token: %d %s", code, body)
	}
	mustDo(t, http.StatusBadRequest, "POST", u+"/v1/worker-tokens/max-workers", c.AdminToken, api.WorkerTokenLimitRequest{Token: "bob", MaxWorkers: 3}, nil)
	mustDo(t, http.StatusOK, "POST", u+"/v1/worker-tokens/max-workers", c.AdminToken, api.WorkerTokenLimitRequest{Token: created.Token, MaxWorkers: 3}, nil)
	if code, body := reg(created.Token, "b-3"); code != http.StatusOK {
		t.Fatalf("after raising the limit: %d %s", code, body)
	}
	mustDo(t, http.StatusBadRequest, "POST", u+"/v1/worker-tokens", c.AdminToken, api.WorkerTokenRequest{Name: "grid"}, nil)
	for i := range 10 {
		if code, body := reg(c.WorkerToken, fmt.Sprintf("g-%d", i)); code != http.StatusOK {
			t.Fatalf("grid token, printer %d: %d %s", i, code, body)
		}
	}
}
