package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// fieldRequestID is the optional idempotency key of POST /v1/orders.
const fieldRequestID = "request_id"

// Model is the model file of an order: a name, a size and a way to read it
// from the start, so that a retried upload can send it again.
type Model struct {
	Name string
	Size int64
	Open func() (io.ReadCloser, error)
}

// FileModel describes the model file at path.
func FileModel(path string) (Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Model{}, fmt.Errorf("client: model: %w", err)
	}
	if !st.Mode().IsRegular() {
		return Model{}, fmt.Errorf("client: model %s is not a regular file", path)
	}
	return Model{
		Name: filepath.Base(path),
		Size: st.Size(),
		Open: func() (io.ReadCloser, error) { return os.Open(path) },
	}, nil
}

// BytesModel describes a model held in memory.
func BytesModel(name string, b []byte) Model {
	return Model{Name: name, Size: int64(len(b)), Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(string(b))), nil
	}}
}

// OrderRequest is an order to submit. Zero numbers and empty strings are
// left out, so the coordinator's defaults apply.
type OrderRequest struct {
	Community   string
	Quantity    int
	Material    string
	Colour      string
	LayerHeight float64 // mm
	Infill      float64 // percent
	Deadline    string  // RFC 3339 or YYYY-MM-DD
	PickupNote  string
	// RequestID makes the submission idempotent; empty means a fresh one is
	// generated. Reuse one only to resubmit the very same order.
	RequestID string
	// Progress, when set, is called as the model is sent with the bytes
	// sent so far and the model's size. It restarts from 0 on a retry.
	Progress func(sent, total int64)
}

// NewRequestID returns a random idempotency key for an order submission.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (o OrderRequest) fields() [][2]string {
	var f [][2]string
	add := func(k, v string) {
		if v != "" {
			f = append(f, [2]string{k, v})
		}
	}
	add(api.FieldCommunity, o.Community)
	if o.Quantity != 0 {
		add(api.FieldQuantity, strconv.Itoa(o.Quantity))
	}
	add(api.FieldMaterial, o.Material)
	add(api.FieldColour, o.Colour)
	if o.LayerHeight != 0 {
		add(api.FieldLayerHeight, strconv.FormatFloat(o.LayerHeight, 'f', -1, 64))
	}
	if o.Infill != 0 {
		add(api.FieldInfill, strconv.FormatFloat(o.Infill, 'f', -1, 64))
	}
	add(api.FieldDeadline, o.Deadline)
	add(api.FieldPickupNote, o.PickupNote)
	return f
}

// SubmitOrder uploads the model and the order as one multipart request. The
// model is streamed, never held in memory whole. The answer comes only once
// the coordinator committed the order and its model through Raft.
//
// The submission carries a request_id, so it is retried like a read after
// connection failures and elections; a coordinator that does not know the
// field makes the client fall back to a single, unretried attempt.
func (c *Client) SubmitOrder(ctx context.Context, m Model, o OrderRequest) (*api.Order, error) {
	if m.Open == nil {
		return nil, fmt.Errorf("%w: order without a model", ErrConfig)
	}
	rid := o.RequestID
	if rid == "" {
		rid = NewRequestID()
	}
	withID := !c.noRequestID.Load()
	var out api.Order
	err := c.call(ctx, c.submitRequest(m, o, rid, withID), &out)
	if withID && IsCode(err, api.CodeUnknownField) && strings.Contains(err.Error(), fieldRequestID) {
		// The coordinator predates idempotent submissions: it rejected the
		// whole request, so nothing was created; send it once without.
		c.noRequestID.Store(true)
		err = c.call(ctx, c.submitRequest(m, o, rid, false), &out)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) submitRequest(m Model, o OrderRequest, rid string, withID bool) request {
	fields := o.fields()
	if withID {
		fields = append(fields, [2]string{fieldRequestID, rid})
	}
	return request{
		method:     http.MethodPost,
		path:       "/v1/orders",
		idempotent: withID,
		stream:     true,
		body: func() (io.ReadCloser, int64, string, error) {
			return multipartBody(m, fields, o.Progress)
		},
	}
}

// multipartBody lays the order out as multipart/form-data: the fields and
// the model part's header (built in memory, small), the model streamed
// from its reader, and the closing boundary. The exact length is known, so
// the request carries a Content-Length (the coordinator can refuse an
// oversize upload before reading it) and goes out in large writes, without
// a goroutine or a pipe; a model over 64 KiB is never held in memory.
func multipartBody(m Model, fields [][2]string, progress func(sent, total int64)) (io.ReadCloser, int64, string, error) {
	var head, tail bytes.Buffer
	sw := &switchWriter{w: &head}
	mw := multipart.NewWriter(sw)
	for _, kv := range fields {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			return nil, 0, "", err
		}
	}
	name := m.Name
	if name == "" {
		name = "model.stl"
	}
	if _, err := mw.CreateFormFile(api.FieldModel, name); err != nil {
		return nil, 0, "", err
	}
	sw.w = &tail
	if err := mw.Close(); err != nil {
		return nil, 0, "", err
	}
	f, err := m.Open()
	if err != nil {
		return nil, 0, "", fmt.Errorf("client: opening model: %w", err)
	}
	if m.Size <= uploadChunk && progress == nil {
		// A small model goes in memory: net/http then writes the
		// request's head and body in one write (a streamed body costs a
		// write for the headers and one per part).
		defer f.Close()
		all := make([]byte, head.Len(), head.Len()+int(m.Size)+tail.Len()+1)
		copy(all, head.Bytes())
		all, err = readAllInto(all, io.LimitReader(f, m.Size+1))
		if err != nil {
			return nil, 0, "", fmt.Errorf("client: reading model: %w", err)
		}
		if got := int64(len(all) - head.Len()); got != m.Size {
			return nil, 0, "", fmt.Errorf("client: model changed while uploading: %d bytes instead of %d", got, m.Size)
		}
		all = append(all, tail.Bytes()...)
		return io.NopCloser(bytes.NewReader(all)), int64(len(all)), mw.FormDataContentType(), nil
	}
	model := &modelReader{r: io.LimitReader(f, m.Size), c: f, size: m.Size, progress: progress}
	if progress != nil {
		progress(0, m.Size)
	}
	body := &multiReadCloser{Reader: io.MultiReader(&head, model, &tail), c: model}
	return body, int64(head.Len()) + m.Size + int64(tail.Len()), mw.FormDataContentType(), nil
}

// readAllInto appends everything r holds to b.
func readAllInto(b []byte, r io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// switchWriter lets one multipart.Writer write its head and its tail into
// different buffers.
type switchWriter struct{ w io.Writer }

func (s *switchWriter) Write(b []byte) (int, error) { return s.w.Write(b) }

// modelReader reads the model, reports progress, and insists on the size
// announced in the Content-Length.
type modelReader struct {
	r        io.Reader
	c        io.Closer
	size     int64
	sent     int64
	progress func(sent, total int64)
}

func (m *modelReader) Read(p []byte) (int, error) {
	if len(p) > uploadChunk {
		p = p[:uploadChunk] // progress moves in steps of at most a chunk
	}
	n, err := m.r.Read(p)
	m.sent += int64(n)
	if n > 0 && m.progress != nil {
		m.progress(m.sent, m.size)
	}
	if err == io.EOF && m.sent != m.size {
		return n, fmt.Errorf("client: model changed while uploading: %d bytes instead of %d", m.sent, m.size)
	}
	return n, err
}

type multiReadCloser struct {
	io.Reader
	c io.Closer
}

func (m *multiReadCloser) Close() error { return m.c.Close() }
func (m *modelReader) Close() error     { return m.c.Close() }

// uploadChunk is the unit of model upload and of its progress reports.
const uploadChunk = 64 << 10

// ListOrders returns every order the token may see (its community's;
// all for the admin), paging through them (AllOrders). consistent asks
// for leader-consistent reads.
func (c *Client) ListOrders(ctx context.Context, consistent bool) ([]api.Order, error) {
	return c.AllOrders(ctx, ListOptions{Consistent: consistent})
}

// GetOrder returns one order with its jobs; each unplaced job says why.
func (c *Client) GetOrder(ctx context.Context, id string, consistent bool) (*api.Order, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: empty order id", ErrConfig)
	}
	var out api.Order
	err := c.call(ctx, request{method: http.MethodGet, path: "/v1/orders/" + url.PathEscape(id), query: consistency(consistent), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelOrder cancels an order: pending jobs are cancelled and printing jobs
// stop at their worker's next report. Cancelling twice is harmless, so it
// is retried.
func (c *Client) CancelOrder(ctx context.Context, id string) (*api.Order, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: empty order id", ErrConfig)
	}
	var out api.Order
	err := c.call(ctx, request{method: http.MethodDelete, path: "/v1/orders/" + url.PathEscape(id), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func consistency(leader bool) url.Values {
	if !leader {
		return nil
	}
	return url.Values{api.ConsistentParam: {api.ConsistentLeader}}
}
