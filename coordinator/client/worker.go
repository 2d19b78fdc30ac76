package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// The worker-facing half of the API (worker token). Every call here is safe
// to repeat, so all are retried: registering again with the same id updates
// the record, heartbeats and progress reports are absorbing, and a repeated
// result is reconciled by the coordinator (answer Duplicate).

// Register registers (or re-registers) the worker.
func (c *Client) Register(ctx context.Context, r api.RegisterRequest) (*api.RegisterResponse, error) {
	var out api.RegisterResponse
	if err := c.postJSON(ctx, "/v1/workers/register", r, &out, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// Heartbeat reports the worker's state. An *APIError coded
// api.CodeUnknownWorker means: register again.
func (c *Client) Heartbeat(ctx context.Context, workerID, state string) error {
	return c.postJSON(ctx, "/v1/workers/"+url.PathEscape(workerID)+"/heartbeat", api.HeartbeatRequest{State: state}, nil, true)
}

// GetAssignment long-polls for work: it returns the assignment, or nil and
// no error when nothing came within wait.
func (c *Client) GetAssignment(ctx context.Context, workerID string, wait time.Duration) (*api.Assignment, error) {
	q := url.Values{api.WaitParam: {wait.Round(time.Millisecond).String()}}
	resp, cancel, err := c.do(ctx, request{
		method: http.MethodGet, path: "/v1/workers/" + url.PathEscape(workerID) + "/assignment",
		query: q, idempotent: true, extra: wait,
	})
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return nil, nil
	}
	var out api.Assignment
	if err := decodeJSON(resp.Body, &out); err != nil {
		return nil, fmt.Errorf("client: assignment: %w", err)
	}
	return &out, nil
}

// ReportProgress renews the job's lease; the answer's Action says whether to
// go on or cancel. An *APIError coded api.CodeStaleEpoch means the lease
// was lost.
func (c *Client) ReportProgress(ctx context.Context, jobID string, p api.ProgressRequest) (*api.ProgressResponse, error) {
	var out api.ProgressResponse
	if err := c.postJSON(ctx, "/v1/jobs/"+url.PathEscape(jobID)+"/progress", p, &out, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReportResult reports a job's outcome (done, failed or refused).
func (c *Client) ReportResult(ctx context.Context, jobID string, r api.ResultRequest) (*api.OK, error) {
	var out api.OK
	if err := c.postJSON(ctx, "/v1/jobs/"+url.PathEscape(jobID)+"/result", r, &out, true); err != nil {
		return nil, err
	}
	return &out, nil
}

// BedClear tells the coordinator the owner removed the finished part.
func (c *Client) BedClear(ctx context.Context, workerID string) error {
	return c.postJSON(ctx, "/v1/workers/"+url.PathEscape(workerID)+"/bed-clear", api.BedClearRequest{}, nil, true)
}

// DownloadModel streams the model with the given sha256 into w and checks
// it: on a mismatch it returns ErrChecksum, and w has received bytes that
// must be thrown away (DownloadModelFile does that). It returns the size.
func (c *Client) DownloadModel(ctx context.Context, sha string, w io.Writer) (int64, error) {
	want := strings.ToLower(sha)
	if len(want) != sha256.Size*2 {
		return 0, fmt.Errorf("%w: %q is not a sha256", ErrConfig, sha)
	}
	if _, err := hex.DecodeString(want); err != nil {
		return 0, fmt.Errorf("%w: %q is not a sha256", ErrConfig, sha)
	}
	resp, cancel, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/models/" + want, idempotent: true, stream: true})
	if err != nil {
		return 0, err
	}
	defer cancel()
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), resp.Body)
	if err != nil {
		return n, fmt.Errorf("client: downloading model %s: %w", want[:12], err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return n, fmt.Errorf("%w: asked for %s, got %d bytes hashing to %s", ErrChecksum, want, n, got)
	}
	return n, nil
}

// DownloadModelFile downloads the model into path atomically: a temporary
// file in the same directory is checked and then renamed; on any failure
// nothing is left at path.
func (c *Client) DownloadModelFile(ctx context.Context, sha, path string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".model-*")
	if err != nil {
		return 0, fmt.Errorf("client: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	n, err := c.DownloadModel(ctx, sha, tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("client: %w", cerr)
	}
	if err != nil {
		return n, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("client: %w", err)
	}
	return n, nil
}
