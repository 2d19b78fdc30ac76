package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// ListOptions pick one page of a list (docs/api.md, "Pages").
type ListOptions struct {
	// State keeps the items in these states (none: all).
	State []string
	// Limit is the page's size (0: the server's default, api.DefaultPageLimit).
	Limit int
	// Cursor is the previous page's NextCursor ("" for the first page).
	Cursor string
	// Consistent reads through the leader.
	Consistent bool
}

func (o ListOptions) query() url.Values {
	q := consistency(o.Consistent)
	if q == nil {
		q = url.Values{}
	}
	if len(o.State) > 0 {
		q.Set(api.StateParam, strings.Join(o.State, ","))
	}
	if o.Limit > 0 {
		q.Set(api.LimitParam, strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set(api.CursorParam, o.Cursor)
	}
	return q
}

func (c *Client) page(ctx context.Context, path string, o ListOptions, out any) error {
	return c.call(ctx, request{method: http.MethodGet, path: path, query: o.query(), idempotent: true}, out)
}

// OrdersPage returns one page of the orders the token may see.
func (c *Client) OrdersPage(ctx context.Context, o ListOptions) (*api.Orders, error) {
	var out api.Orders
	if err := c.page(ctx, "/v1/orders", o, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// JobsPage returns one page of the jobs of the orders the token may see.
func (c *Client) JobsPage(ctx context.Context, o ListOptions) (*api.Jobs, error) {
	var out api.Jobs
	if err := c.page(ctx, "/v1/jobs", o, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WorkersPage returns one page of the grid's printers.
func (c *Client) WorkersPage(ctx context.Context, o ListOptions) (*api.Workers, error) {
	var out api.Workers
	if err := c.page(ctx, "/v1/workers", o, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllOrders pages through every order that o selects (o.Cursor: from
// there; o.Limit: the size of each page, default api.MaxPageLimit).
func (c *Client) AllOrders(ctx context.Context, o ListOptions) ([]api.Order, error) {
	return all(o, func(o ListOptions) ([]api.Order, string, error) {
		p, err := c.OrdersPage(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return p.Orders, p.NextCursor, nil
	})
}

// AllJobs pages through every job that o selects.
func (c *Client) AllJobs(ctx context.Context, o ListOptions) ([]api.Job, error) {
	return all(o, func(o ListOptions) ([]api.Job, string, error) {
		p, err := c.JobsPage(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return p.Jobs, p.NextCursor, nil
	})
}

// AllWorkers pages through every worker that o selects.
func (c *Client) AllWorkers(ctx context.Context, o ListOptions) ([]api.Worker, error) {
	return all(o, func(o ListOptions) ([]api.Worker, string, error) {
		p, err := c.WorkersPage(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return p.Workers, p.NextCursor, nil
	})
}

func all[T any](o ListOptions, get func(ListOptions) ([]T, string, error)) ([]T, error) {
	if o.Limit == 0 {
		o.Limit = api.MaxPageLimit
	}
	out := []T{}
	for {
		items, next, err := get(o)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		o.Cursor = next
	}
}
