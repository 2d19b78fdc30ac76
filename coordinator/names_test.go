package coordinator_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

// orderWithFileHeader builds an order body whose model part carries the
// given Content-Disposition.
func orderWithFileHeader(model []byte, disposition string) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField(api.FieldQuantity, "1")
	_ = mw.WriteField(api.FieldMaterial, "PLA")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", disposition)
	h.Set("Content-Type", "application/octet-stream")
	pw, _ := mw.CreatePart(h)
	_, _ = pw.Write(model)
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func TestControlCharactersInNamesAre400AndChangeNothing(t *testing.T) {
	c, n := startLimited(t, func(*coordinator.Config) {})
	u := n.URL()
	makers := newCommunity(t, c, u, "makers")
	model := coordinatortest.CubeSTL(10, 10, 10)
	reg := func(name string) api.RegisterRequest {
		return api.RegisterRequest{ID: "w-1", Name: name, Profile: "ender3", BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4, Material: "PLA", State: "idle"}
	}
	type tc struct {
		name, path, token, ct string
		body                  []byte
	}
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	form := func(fields ...string) (string, []byte) { return coordinatortest.OrderBody(model, fields...) }
	var cases []tc
	add := func(name, path, token, ct string, body []byte) {
		cases = append(cases, tc{name, path, token, ct, body})
	}
	add("worker name with an escape sequence", "/v1/workers/register", c.WorkerToken, "application/json", js(reg("w\x1b]0;pwned\x07")))
	add("worker name with a newline", "/v1/workers/register", c.WorkerToken, "application/json", js(reg("w-1\nw-2 idle")))
	add("worker name with a C1 control", "/v1/workers/register", c.WorkerToken, "application/json", []byte(`{"id":"w-1","name":"\u0085x","profile":"ender3","build_mm":[220,220,250],"nozzle_mm":0.4,"material":"PLA","state":"idle"}`))
	ct, b := orderWithFileHeader(model, `form-data; name="model"; filename*=UTF-8''cube%1B%5B2J.stl`)
	add("model file name with an escape", "/v1/orders", makers, ct, b)
	ct, b = form("quantity", "1", "material", "PLA", "colour", "red\x07")
	add("colour with a bell", "/v1/orders", makers, ct, b)
	ct, b = form("quantity", "1", "material", "PLA", "community", "mak\rers")
	add("community with a carriage return inside", "/v1/orders", makers, ct, b)
	ct, b = form("quantity", "1", "material", "PLA\x00")
	add("material with a NUL", "/v1/orders", makers, ct, b)

	before := n.Raft().LastIndex()
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodPost, u+tc.path, bytes.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+tc.token)
		req.Header.Set("Content-Type", tc.ct)
		resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e api.Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, "control characters") {
			t.Errorf("%s: %d %q; want 400 naming the control characters", tc.name, resp.StatusCode, e.Error)
		}
	}
	if after := n.Raft().LastIndex(); after != before {
		t.Errorf("raft last index %d -> %d: refused names changed the log", before, after)
	}
	// Printable names beyond ASCII still register.
	mustDo(t, http.StatusOK, "POST", u+"/v1/workers/register", c.WorkerToken, reg("Jürgen's Ender 3 (garage)"), nil)
}
