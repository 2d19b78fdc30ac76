package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// Health asks the current coordinator (no token needed).
func (c *Client) Health(ctx context.Context) (*api.Health, error) {
	var out api.Health
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/health", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// HealthOf asks one given coordinator, without moving to another.
func (c *Client) HealthOf(ctx context.Context, endpoint string) (*api.Health, error) {
	ep, err := normalize(endpoint)
	if err != nil {
		return nil, err
	}
	one := &Client{endpoints: []string{ep}, opts: c.opts, hc: c.hc, log: c.log}
	var out api.Health
	if err := one.call(ctx, request{method: http.MethodGet, path: "/v1/health", noRetry: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Cluster returns the nodes, leader, term and indexes (admin token).
func (c *Client) Cluster(ctx context.Context, consistent bool) (*api.Cluster, error) {
	var out api.Cluster
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/cluster", query: consistency(consistent), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// postJSON sends a JSON body and decodes the answer.
func (c *Client) postJSON(ctx context.Context, path string, in, out any, idempotent bool) error {
	body, err := jsonBody(in)
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: http.MethodPost, path: path, body: body, idempotent: idempotent}, out)
}

// JoinCluster adds a voter (admin token). Joining a node that is already a
// member with the same addresses is harmless, so it is retried.
func (c *Client) JoinCluster(ctx context.Context, r api.JoinRequest) (*api.Cluster, error) {
	var out api.Cluster
	if err := c.postJSON(ctx, "/v1/cluster/join", r, &out, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveNode removes a node from the cluster (admin token); retried, since
// removing an absent node changes nothing.
func (c *Client) RemoveNode(ctx context.Context, id string) (*api.Cluster, error) {
	var out api.Cluster
	if err := c.postJSON(ctx, "/v1/cluster/remove", api.RemoveRequest{ID: id}, &out, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// TransferLeader hands leadership to id, or to any up-to-date voter when id
// is empty (admin token). Not retried: a second transfer would move it again.
func (c *Client) TransferLeader(ctx context.Context, id string) (*api.Cluster, error) {
	var out api.Cluster
	if err := c.postJSON(ctx, "/v1/cluster/transfer-leader", api.TransferRequest{ID: id}, &out, false); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateCommunity creates a community and returns its token, shown only
// this once (admin token). Not retried after an ambiguous failure: a retry
// would get 409 and the token would be lost.
func (c *Client) CreateCommunity(ctx context.Context, name string, weight float64) (*api.CommunityCreated, error) {
	var out api.CommunityCreated
	if err := c.postJSON(ctx, "/v1/communities", api.CommunityRequest{Name: name, Weight: weight}, &out, false); err != nil {
		return nil, err
	}
	return &out, nil
}

// Communities lists the communities (admin token).
func (c *Client) Communities(ctx context.Context) ([]api.Community, error) {
	var out api.Communities
	err := c.call(ctx, request{method: http.MethodGet, path: "/v1/communities", idempotent: true}, &out)
	return out.Communities, err
}

// CreateWorkerToken makes another worker token (admin token); not retried.
func (c *Client) CreateWorkerToken(ctx context.Context, name string) (string, error) {
	var out api.WorkerTokenCreated
	if err := c.postJSON(ctx, "/v1/worker-tokens", api.WorkerTokenRequest{Name: name}, &out, false); err != nil {
		return "", err
	}
	return out.Token, nil
}

// SetWorkerTokenLimit sets how many workers the worker token tok may
// register (admin token).
func (c *Client) SetWorkerTokenLimit(ctx context.Context, tok string, maxWorkers int) error {
	var out api.OK
	return c.postJSON(ctx, "/v1/worker-tokens/max-workers", api.WorkerTokenLimitRequest{Token: tok, MaxWorkers: maxWorkers}, &out, true)
}

// Workers lists the printers of the grid (any valid token).
// It pages through them (AllWorkers).
func (c *Client) Workers(ctx context.Context) ([]api.Worker, error) {
	return c.AllWorkers(ctx, ListOptions{})
}

// ReleaseWorker unbinds a worker id from the worker token that registered
// it, so the next registration binds it to its own token (admin token).
// Retried: releasing twice is releasing once.
func (c *Client) ReleaseWorker(ctx context.Context, workerID string) error {
	return c.postJSON(ctx, "/v1/workers/"+url.PathEscape(workerID)+"/release", struct{}{}, nil, true)
}
