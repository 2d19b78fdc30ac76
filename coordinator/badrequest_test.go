package coordinator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator"
	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

func TestBadRequestsChangeNothing(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{Configure: func(_ int, cfg *coordinator.Config) {
		cfg.MaxModelSize = 4096
	}})
	n := c.WaitLeader(5e9)
	u := n.URL()
	makers := newCommunity(t, c, u, "makers")
	others := newCommunity(t, c, u, "others")
	model := coordinatortest.CubeSTL(10, 10, 10)
	o := submit(t, u, makers, model, 1, "PLA")
	register(t, c, u, "w-a", "PLA")
	a := assignment(t, c, u, "w-a")

	multipart := func(model []byte, fields ...string) (string, []byte) {
		return coordinatortest.OrderBody(model, fields...)
	}
	ok := []string{"quantity", "1", "material", "PLA"}
	big := append(bytes.Repeat([]byte{' '}, 5000), model...)

	type req struct {
		name, method, path, token string
		ct                        string
		body                      []byte
		status                    int
		code                      string
	}
	js := func(v any) []byte { b, _ := json.Marshal(v); return b }
	mp := func(name string, status int, code string, model []byte, fields ...string) req {
		ct, b := multipart(model, fields...)
		return req{name, "POST", "/v1/orders", makers, ct, b, status, code}
	}
	cases := []req{
		{"no token", "POST", "/v1/communities", "", "application/json", js(api.CommunityRequest{Name: "x"}), 401, api.CodeUnauthorized},
		{"unknown token", "POST", "/v1/communities", "fgA_nope", "application/json", js(api.CommunityRequest{Name: "x"}), 401, api.CodeUnauthorized},
		{"community token on admin call", "POST", "/v1/communities", makers, "application/json", js(api.CommunityRequest{Name: "x"}), 403, api.CodeForbidden},
		{"worker token on orders", "GET", "/v1/orders", c.WorkerToken, "", nil, 403, api.CodeForbidden},
		{"community token on worker call", "POST", "/v1/workers/register", makers, "application/json", js(api.RegisterRequest{ID: "w-z"}), 403, api.CodeForbidden},
		{"other community's order", "GET", "/v1/orders/" + o.ID, others, "", nil, 403, api.CodeForbidden},
		{"cancel other community's order", "DELETE", "/v1/orders/" + o.ID, others, "", nil, 403, api.CodeForbidden},
		mp("order for another community", 403, api.CodeForbidden, model, append(ok, "community", "others")...),
		{"unknown JSON field", "POST", "/v1/communities", c.AdminToken, "application/json", []byte(`{"name":"x","colour":"red"}`), 400, api.CodeUnknownField},
		{"malformed JSON", "POST", "/v1/communities", c.AdminToken, "application/json", []byte(`{"name":`), 400, api.CodeBadRequest},
		{"trailing JSON", "POST", "/v1/communities", c.AdminToken, "application/json", []byte(`{"name":"x"}{}`), 400, api.CodeBadRequest},
		{"oversize JSON", "POST", "/v1/communities", c.AdminToken, "application/json", []byte(`{"name":"` + strings.Repeat("x", 70000) + `"}`), 413, api.CodeTooLarge},
		{"bad community name", "POST", "/v1/communities", c.AdminToken, "application/json", []byte(`{"name":"a b"}`), 400, api.CodeBadRequest},
		{"existing community", "POST", "/v1/communities", c.AdminToken, "application/json", []byte(`{"name":"makers"}`), 409, api.CodeConflict},
		mp("oversize model", 413, api.CodeTooLarge, big, ok...),
		mp("invalid STL", 400, api.CodeInvalidSTL, []byte("this is not a mesh at all, not even close to one, no"), ok...),
		mp("truncated binary STL", 400, api.CodeInvalidSTL, model[:len(model)-10], ok...),
		mp("no model part", 400, api.CodeBadRequest, nil, ok...),
		mp("unknown form field", 400, api.CodeUnknownField, model, append(ok, "priority", "high")...),
		mp("quantity zero", 400, api.CodeBadRequest, model, "quantity", "0", "material", "PLA"),
		mp("unknown material", 400, api.CodeBadRequest, model, "quantity", "1", "material", "wood"),
		mp("bad deadline", 400, api.CodeBadRequest, model, append(ok, "deadline", "soon")...),
		{"malformed multipart", "POST", "/v1/orders", makers, "multipart/form-data; boundary=XYZ", []byte("--XYZ\r\nbroken"), 400, api.CodeBadRequest},
		{"not multipart", "POST", "/v1/orders", makers, "application/json", []byte(`{"quantity":1}`), 400, api.CodeBadRequest},
		{"unknown order", "GET", "/v1/orders/o-nope", makers, "", nil, 404, api.CodeNotFound},
		{"unknown worker heartbeat", "POST", "/v1/workers/w-nope/heartbeat", c.WorkerToken, "application/json", []byte(`{"state":"idle"}`), 404, api.CodeUnknownWorker},
		{"stale epoch progress", "POST", "/v1/jobs/" + a.JobID + "/progress", c.WorkerToken, "application/json", js(api.ProgressRequest{Epoch: a.Epoch + 5, WorkerID: "w-a", State: "printing"}), 409, api.CodeStaleEpoch},
		{"other worker's progress", "POST", "/v1/jobs/" + a.JobID + "/progress", c.WorkerToken, "application/json", js(api.ProgressRequest{Epoch: a.Epoch, WorkerID: "w-b", State: "printing"}), 409, api.CodeStaleEpoch},
		{"unknown field in progress", "POST", "/v1/jobs/" + a.JobID + "/progress", c.WorkerToken, "application/json", []byte(`{"epoch":1,"speed":3}`), 400, api.CodeUnknownField},
		{"register with an unknown time zone", "POST", "/v1/workers/register", c.WorkerToken, "application/json", js(api.RegisterRequest{ID: "w-z", Material: "PLA", BuildMM: [3]float64{220, 220, 250}, Hours: "08:00-22:00", Timezone: "Mars/Olympus"}), 400, api.CodeBadRequest},
		{"register without build volume", "POST", "/v1/workers/register", c.WorkerToken, "application/json", js(api.RegisterRequest{ID: "w-z", Material: "PLA"}), 400, api.CodeBadRequest},
		{"bad outcome", "POST", "/v1/jobs/" + a.JobID + "/result", c.WorkerToken, "application/json", js(api.ResultRequest{Epoch: a.Epoch, WorkerID: "w-a", Outcome: "meh"}), 400, api.CodeBadRequest},
		{"unknown endpoint", "GET", "/v1/nothing", c.AdminToken, "", nil, 404, api.CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := n.FSM().SnapshotBytes()
			r, _ := http.NewRequest(tc.method, u+tc.path, bytes.NewReader(tc.body))
			if tc.token != "" {
				r.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			resp, err := coordinatortest.DefaultClient.HTTP.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e api.Error
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("status %d, body not a JSON error: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tc.status || e.Code != tc.code || e.Error == "" {
				t.Fatalf("got %d %+v, want %d %s", resp.StatusCode, e, tc.status, tc.code)
			}
			if !bytes.Equal(before, n.FSM().SnapshotBytes()) {
				t.Fatal("a refused request changed the state")
			}
		})
	}
}
