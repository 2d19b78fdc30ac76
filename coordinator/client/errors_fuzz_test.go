package client

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzReadAPIError feeds arbitrary error bodies: the result is always an
// error with a code and a bounded message, never a panic.
func FuzzReadAPIError(f *testing.F) {
	f.Add(401, `{"error":"missing token","code":"unauthorized"}`)
	f.Add(503, `{"error":"","code":"no_leader"}`)
	f.Add(500, "<html>proxy error</html>")
	f.Add(400, `{"error":1}`)
	f.Add(413, strings.Repeat("x", 1000))
	f.Fuzz(func(t *testing.T, status int, body string) {
		resp := &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body))}
		ae := readAPIError("http://127.0.0.1:1", resp)
		if ae.Code == "" || ae.Status != status {
			t.Fatalf("%+v", ae)
		}
		if ae.Error() == "" {
			t.Fatal("empty message")
		}
	})
}
