package coordinator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/slicer"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

// TestOrder3MF: a 3MF order is accepted like an STL one, and the
// worker that is given its job fetches the package as it was uploaded,
// which the slicer's loader reads (worker/e2e slices and prints one).
func TestOrder3MF(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{})
	u := c.WaitLeader(5 * time.Second).URL()
	tok := newCommunity(t, c, u, "makers")
	model := testmesh.Write3MF(testmesh.Box(0, 0, 0, 20, 15, 5))
	o := submit(t, u, tok, model, 1, "PLA")
	sum := sha256.Sum256(model)
	if o.ModelSHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("order model %s, want the package's sha256", o.ModelSHA256)
	}
	register(t, c, u, "w-a", "PLA")
	a := assignment(t, c, u, "w-a")
	if a.OrderID != o.ID || a.ModelSHA256 != o.ModelSHA256 || a.ModelSize != int64(len(model)) {
		t.Fatalf("assignment %+v for order %s", a, o.ID)
	}
	req, _ := http.NewRequest("GET", u+"/v1/models/"+a.ModelSHA256, nil)
	req.Header.Set("Authorization", "Bearer "+c.WorkerToken)
	resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Equal(got, model) {
		t.Fatalf("model fetch: %d, %d bytes (want %d)", resp.StatusCode, len(got), len(model))
	}
	_, rep, err := slicer.LoadModel(bytes.NewReader(got), int64(len(got)), "", slicer.DefaultLimits)
	if err != nil || rep.Size != (slicer.Vec3{X: 20, Y: 15, Z: 5}) {
		t.Fatalf("the fetched model loads as %+v, %v", rep.Size, err)
	}
}

// TestHostile3MFRefused: a 3MF that is a zip bomb, bad XML, a cut-off
// zip or a mesh beyond the coordinate limit (as an STL's) is refused with a JSON error that
// says what is wrong, and neither the state nor the raft log changes.
func TestHostile3MFRefused(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{})
	n := c.WaitLeader(5 * time.Second)
	u := n.URL()
	tok := newCommunity(t, c, u, "makers")
	good := testmesh.Write3MF(testmesh.Cube(10))
	core := `xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"`
	tests := []struct {
		name   string
		model  []byte
		status int
		code   string
		says   string
	}{
		{"zip bomb", testmesh.ZipBomb3MF(64 << 20), 400, api.CodeInvalid3MF, "inflate"},
		{"bad XML", testmesh.Package3MF(map[string]string{"3D/3dmodel.model": "<model " + core + "><resources><object id=\"1\"><mesh>"}), 400, api.CodeInvalid3MF, "ends inside object 1"},
		{"not XML at all", testmesh.Package3MF(map[string]string{"3D/3dmodel.model": "\x00\x01 not xml <"}), 400, api.CodeInvalid3MF, "3MF"},
		{"cut-off zip", good[:len(good)/2], 400, api.CodeInvalid3MF, "not a zip package"},
		{"bad number", testmesh.Package3MF(map[string]string{"3D/3dmodel.model": strings.Replace(testmesh.Model3MF(testmesh.Cube(10)), `x="10"`, `x="1e999"`, 1)}), 400, api.CodeInvalid3MF, "1e999"},
		{"beyond the coordinate limit", testmesh.Package3MF(map[string]string{"3D/3dmodel.model": strings.Replace(strings.Replace(testmesh.Model3MF(testmesh.Cube(10)),
			`unit="millimeter"`, `unit="meter"`, 1), `<item objectid="1"/>`, `<item objectid="1" transform="1 0 0 0 1 0 0 0 1 500 0 0"/>`, 1)}), 413, api.CodeTooLarge, "beyond"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			state, last := n.FSM().SnapshotBytes(), n.Raft().LastIndex()
			ct, body := coordinatortest.OrderBody(tc.model, "quantity", "1", "material", "PLA")
			req, _ := http.NewRequest("POST", u+"/v1/orders", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", ct)
			resp, err := coordinatortest.DefaultClient.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e api.Error
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("status %d, body not a JSON error: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tc.status || e.Code != tc.code || !strings.Contains(e.Error, tc.says) {
				t.Fatalf("got %d %+v, want %d %s saying %q", resp.StatusCode, e, tc.status, tc.code, tc.says)
			}
			if n.Raft().LastIndex() != last {
				t.Fatalf("a refused 3MF wrote to the raft log: last index %d, was %d", n.Raft().LastIndex(), last)
			}
			if !bytes.Equal(state, n.FSM().SnapshotBytes()) {
				t.Fatal("a refused 3MF changed the state")
			}
		})
	}
}
