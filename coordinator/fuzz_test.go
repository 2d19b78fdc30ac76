package coordinator

import (
	"bytes"
	"mime/multipart"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

func FuzzDecodeCommand(f *testing.F) {
	for _, c := range scenario() {
		b, err := EncodeCommand(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"type":"cancel_order"}`))
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCommand(data)
		if err != nil {
			return
		}
		// Whatever decodes applies without panicking, on a populated
		// state, and a refusal changes nothing.
		fsm := NewFSM(nil)
		for i, sc := range scenario()[:9] {
			fsm.ApplyCommand(uint64(i+1), sc)
		}
		before := fsm.SnapshotBytes()
		var r ApplyResult
		fsm.mu.Lock()
		r = fsm.state.apply(c)
		fsm.mu.Unlock()
		if r.Err != nil && !bytes.Equal(before, fsm.SnapshotBytes()) {
			t.Fatalf("refused command %s changed the state: %v", c.Type, r.Err)
		}
	})
}

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

func FuzzCheckSTL(f *testing.F) {
	f.Add(testModel)
	f.Add([]byte("solid x\nendsolid x\n"))
	f.Add(append(make([]byte, 80), 1, 0, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := CheckSTL(data)
		if err == nil && (m.Triangles == 0 || m.SizeMM[0] < 0) {
			t.Fatalf("accepted %+v", m)
		}
	})
}

func FuzzApplyBatch(f *testing.F) {
	var orders [][]byte
	for _, c := range scenario() {
		if c.Type == CmdSubmitOrder {
			b, err := EncodeCommand(c)
			if err != nil {
				f.Fatal(err)
			}
			orders = append(orders, b)
		}
	}
	f.Add(EncodeBatch(orders)[1:])
	f.Add(EncodeBatch(orders[:1])[1:])
	f.Add([]byte{1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Whatever the entry, applying it does not panic, and a batch
		// refused as a whole changes nothing.
		fsm := NewFSM(nil)
		for i, sc := range scenario()[:9] {
			fsm.ApplyCommand(uint64(i+1), sc)
		}
		before := fsm.SnapshotBytes()
		data = append([]byte{batchMagic}, data...)
		if r, ok := fsmApplyResult(fsm, 100, data).(ApplyResult); ok && r.Err != nil && !bytes.Equal(before, fsm.SnapshotBytes()) {
			t.Fatalf("refused batch changed the state: %v", r.Err)
		}
	})
}
