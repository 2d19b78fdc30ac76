package coordinator_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

// TestReadYourWritesOnAFollower: an order submitted through one client
// (on the leader) is in the list another client reads from a follower
// at once, every time: the follower asks the leader for its applied
// index and waits until it has applied as far. Before, the follower
// answered from what it had, and the order was sometimes missing.
func TestReadYourWritesOnAFollower(t *testing.T) {
	c := coordinatortest.Start(t, 3, coordinatortest.Options{Inmem: true})
	li := c.LeaderIndex(5 * time.Second)
	leader, follower := c.Nodes[li].URL(), c.Nodes[(li+1)%3].URL()
	tok := newCommunity(t, c, leader, "makers")
	reader, err := client.New([]string{follower}, client.Options{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	model := coordinatortest.CubeSTL(10, 10, 10)
	ctx := context.Background()
	for i := range 30 {
		o := submit(t, leader, tok, model, 1, "PLA")
		list, err := reader.ListOrders(ctx, false)
		if err != nil {
			t.Fatalf("list %d: %v", i, err)
		}
		if !slices.ContainsFunc(list, func(x api.Order) bool { return x.ID == o.ID }) {
			t.Fatalf("round %d: the follower's list misses order %s, acknowledged before the read began", i, o.ID)
		}
		got, err := reader.GetOrder(ctx, o.ID, false)
		if err != nil || got.ID != o.ID {
			t.Fatalf("round %d: order %s on the follower: %v", i, o.ID, err)
		}
	}
	// ?stale=1 is a local read, served by the follower itself.
	stale, err := client.New([]string{follower}, client.Options{Token: tok, Stale: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stale.ListOrders(ctx, false); err != nil {
		t.Fatalf("stale read: %v", err)
	}
	var ri api.ReadIndex
	mustDo(t, http.StatusOK, "GET", leader+"/v1/cluster/read-index", tok, nil, &ri)
	if ri.Index == 0 {
		t.Fatal("the leader's read index is 0")
	}
	mustDo(t, http.StatusServiceUnavailable, "GET", follower+"/v1/cluster/read-index", tok, nil, nil)
	mustDo(t, http.StatusUnauthorized, "GET", leader+"/v1/cluster/read-index", "", nil, nil)
}
