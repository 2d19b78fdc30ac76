package coordinatortest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"time"
)

// CubeSTL returns a binary STL of an axis-aligned box of the given size in
// millimetres (12 triangles). Different sizes give different models.
func CubeSTL(x, y, z float64) []byte {
	v := [8][3]float32{}
	for i := range 8 {
		v[i] = [3]float32{float32(x) * float32(i&1), float32(y) * float32(i>>1&1), float32(z) * float32(i>>2&1)}
	}
	faces := [12][3]int{
		{0, 2, 1}, {1, 2, 3}, {4, 5, 6}, {5, 7, 6}, {0, 1, 4}, {1, 5, 4},
		{2, 6, 3}, {3, 6, 7}, {0, 4, 2}, {2, 4, 6}, {1, 3, 5}, {3, 7, 5},
	}
	var buf bytes.Buffer
	buf.Write(make([]byte, 80))
	_ = binary.Write(&buf, binary.LittleEndian, uint32(len(faces)))
	for _, f := range faces {
		_ = binary.Write(&buf, binary.LittleEndian, [3]float32{})
		for _, k := range f {
			for _, c := range v[k] {
				_ = binary.Write(&buf, binary.LittleEndian, math.Float32bits(c))
			}
		}
		_ = binary.Write(&buf, binary.LittleEndian, uint16(0))
	}
	return buf.Bytes()
}

// Client is a minimal API client for tests.
type Client struct {
	HTTP *http.Client
}

// DefaultClient has a 10 s timeout and trusts the test CA.
var DefaultClient = &Client{HTTP: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: ClientTLS()}}}

// Do sends a JSON request (body may be nil, []byte or a value to encode)
// and decodes a JSON answer into out when out is not nil. It returns the
// status code and the raw body.
func (c *Client) Do(method, url, token string, body, out any) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.send(req, out)
}

func (c *Client) send(req *http.Request, out any) (int, []byte, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, err
	}
	if out != nil && resp.StatusCode < 300 && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, b, fmt.Errorf("decode %s: %w", b, err)
		}
	}
	return resp.StatusCode, b, nil
}

// OrderBody builds a multipart order body; fields are form fields in the
// given order (pairs name, value), model the STL bytes ("model" part).
func OrderBody(model []byte, fields ...string) (contentType string, body []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = mw.WriteField(fields[i], fields[i+1])
	}
	if model != nil {
		fw, _ := mw.CreateFormFile("model", "part.stl")
		_, _ = fw.Write(model)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// SubmitOrder posts an order and decodes the answer into out.
func (c *Client) SubmitOrder(baseURL, token string, model []byte, out any, fields ...string) (int, []byte, error) {
	ct, body := OrderBody(model, fields...)
	req, err := http.NewRequest(http.MethodPost, baseURL+"/v1/orders", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", ct)
	return c.send(req, out)
}
