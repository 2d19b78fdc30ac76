package coordinator

import (
	"bytes"
	"errors"
	"mime/multipart"
	"os"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"id":"w-1","name":"a","profile":"ender3","build_mm":[220,220,250],"nozzle_mm":0.4,"material":"PLA","state":"idle"}`))
	f.Add([]byte(`{"epoch":7,"worker_id":"w","state":"printing","percent":42.5}`))
	f.Add([]byte(`{"epoch":7,"worker_id":"w","outcome":"done"} {}`))
	f.Add([]byte(`{"name":"x","bogus":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			reg api.RegisterRequest
			pr  api.ProgressRequest
			rr  api.ResultRequest
			cr  api.CommunityRequest
			jr  api.JoinRequest
		)
		for _, v := range []any{&reg, &pr, &rr, &cr, &jr} {
			_ = DecodeJSON(bytes.NewReader(data), maxJSONBody, v)
		}
	})
}

func FuzzParseOrderForm(f *testing.F) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.SetBoundary("BOUNDARY")
	_ = mw.WriteField("quantity", "2")
	_ = mw.WriteField("material", "PLA")
	fw, _ := mw.CreateFormFile("model", "a.stl")
	_, _ = fw.Write(testModel)
	_ = mw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("--BOUNDARY\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--BOUNDARY--\r\n"))
	f.Add([]byte("--BOUNDARY\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		form, err := ParseOrderForm(bytes.NewReader(data), "BOUNDARY", 1<<16)
		if err != nil {
			return
		}
		if form.Quantity < 1 || form.Quantity > 1000 || form.Model == nil || len(form.Model) > 1<<16 {
			t.Fatalf("accepted an invalid form: %+v", form)
		}
	})
}

// FuzzCheckModel: any upload, STL or 3MF, is refused with one of the
// check's errors or measured as a mesh with triangles, never a panic.
func FuzzCheckModel(f *testing.F) {
	f.Add(testModel)
	f.Add([]byte("solid x\nendsolid x\n"))
	f.Add(append(make([]byte, 80), 1, 0, 0, 0))
	f.Add(testmesh.Write3MF(testmesh.Cube(2)))
	f.Add(testmesh.Package3MF(map[string]string{"3D/3dmodel.model": "<model><resources><object"}))
	f.Add([]byte("PK\x03\x04"))
	if b, err := os.ReadFile("../slicer/testdata/3mf/tshape-prusaslicer.3mf"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := CheckModel(data)
		if err != nil && !errors.Is(err, ErrInvalidSTL) && !errors.Is(err, ErrInvalid3MF) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error %v wraps none of the check's errors", err)
		}
		if err == nil && (m.Triangles == 0 || m.SizeMM[0] < 0) {
			t.Fatalf("accepted %+v", m)
		}
	})
}
