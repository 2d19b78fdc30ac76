package fsm

import (
	"bytes"
	"testing"
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
		m := New(Options{})
		for i, sc := range scenario()[:9] {
			m.ApplyCommand(uint64(i+1), sc)
		}
		before := m.SnapshotBytes()
		var r ApplyResult
		m.mu.Lock()
		r = m.state.apply(c)
		m.mu.Unlock()
		if r.Err != nil && !bytes.Equal(before, m.SnapshotBytes()) {
			t.Fatalf("refused command %s changed the state: %v", c.Type, r.Err)
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
		m := New(Options{})
		for i, sc := range scenario()[:9] {
			m.ApplyCommand(uint64(i+1), sc)
		}
		before := m.SnapshotBytes()
		data = append([]byte{batchMagic}, data...)
		if r, ok := m.ApplyEntry(100, data).(ApplyResult); ok && r.Err != nil && !bytes.Equal(before, m.SnapshotBytes()) {
			t.Fatalf("refused batch changed the state: %v", r.Err)
		}
	})
}
