package client

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// SaveSnapshot writes a backup file of the cluster to w (admin token):
// a snapshot the leader takes now, with every model (GET
// /v1/cluster/snapshot). It returns the bytes written; a stream cut
// short leaves w without the file's checksum, which inspect and
// restore refuse.
func (c *Client) SaveSnapshot(ctx context.Context, w io.Writer) (int64, error) {
	resp, cancel, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/cluster/snapshot", idempotent: true, stream: true})
	if err != nil {
		return 0, err
	}
	defer cancel()
	defer resp.Body.Close()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("client: saving the snapshot: %w", err)
	}
	return n, nil
}

// RestoreSnapshot sends a backup file to the cluster, which checks it
// whole and then replaces its state with it (admin token; POST
// /v1/cluster/snapshot). open returns the file from its start, and its
// length, for each attempt. Restoring the same file twice gives the same
// state, so it is retried.
func (c *Client) RestoreSnapshot(ctx context.Context, open func() (io.ReadCloser, int64, error)) (*api.BackupInfo, error) {
	var out api.BackupInfo
	err := c.call(ctx, request{
		method: http.MethodPost, path: "/v1/cluster/snapshot", idempotent: true, stream: true,
		body: func() (io.ReadCloser, int64, string, error) {
			rc, n, err := open()
			return rc, n, "application/octet-stream", err
		},
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
