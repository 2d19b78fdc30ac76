package fsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// ExpandSnapshot copies a persisted snapshot (index, then the encoded
// state) from r to w with the bytes of every model that r only refers
// to read from models, so that w stands alone: what a follower or a
// backup receives. A snapshot of format 1 stands alone already and is
// copied as it is. Nothing is held in memory but one buffer.
func ExpandSnapshot(w io.Writer, r io.Reader, models ModelStore) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var idx [8]byte
	if _, err := io.ReadFull(r, idx[:]); err != nil {
		return fmt.Errorf("%w: index: %v", ErrBadSnapshot, err)
	}
	bw.Write(idx[:])
	sr, js, err := newSnapReader(r)
	if err != nil {
		return err
	}
	magic := snapMagic
	if sr.version == 2 {
		magic = snapMagicV2
	}
	bw.WriteString(magic)
	_ = binary.Write(bw, binary.BigEndian, uint64(len(js)))
	bw.Write(js)
	count, err := sr.modelCount()
	if err != nil {
		return err
	}
	_ = binary.Write(bw, binary.BigEndian, count)
	var hdr bytes.Buffer
	if sr.version >= 2 {
		// The table, every model's bytes now in the snapshot.
		for _, e := range sr.tab {
			writeBlobHeader(&hdr, e.hash, kindBytes, e.size)
		}
		bw.Write(hdr.Bytes())
	}
	for range count {
		e, err := sr.nextModel()
		if err != nil {
			return err
		}
		if sr.version < 2 {
			hdr.Reset()
			writeBlobHeader(&hdr, e.hash, 0, e.size)
			bw.Write(hdr.Bytes())
		}
		if e.kind == kindBytes {
			if _, err := io.CopyN(bw, sr.br, e.size); err != nil {
				return fmt.Errorf("%w: blob %s: %v", ErrBadSnapshot, e.hash, err)
			}
			continue
		}
		if err := copyModel(bw, models, e.hash, e.size); err != nil {
			return err
		}
	}
	ucount, err := sr.count("upload")
	if err != nil {
		return err
	}
	_ = binary.Write(bw, binary.BigEndian, ucount)
	// The uploads and anything after them as they are.
	if _, err := io.Copy(bw, sr.br); err != nil {
		return err
	}
	return bw.Flush()
}

func copyModel(w io.Writer, models ModelStore, h string, size int64) error {
	f, err := models.Open(h)
	if err != nil {
		return fmt.Errorf("snapshot: model %s: %w", h, err)
	}
	defer f.Close()
	n, err := io.Copy(w, f)
	if err != nil {
		return fmt.Errorf("snapshot: model %s: %w", h, err)
	}
	if n != size {
		return fmt.Errorf("snapshot: model %s has %d bytes in the store, %d in the state", h, n, size)
	}
	return nil
}

// SnapshotInfo describes a persisted snapshot (ScanSnapshot); it is
// the API's type, shown by fabgrid cluster snapshot inspect.
type SnapshotInfo = api.SnapshotInfo

// ScanSnapshot reads a persisted snapshot to its end and describes it.
// It checks what Restore checks but that referenced models are held:
// every model with its bytes is hashed.
func ScanSnapshot(r io.Reader) (SnapshotInfo, error) {
	cr := &countingReader{r: r}
	var info SnapshotInfo
	var idx [8]byte
	if _, err := io.ReadFull(cr, idx[:]); err != nil {
		return info, fmt.Errorf("%w: index: %v", ErrBadSnapshot, err)
	}
	info.Index = binary.BigEndian.Uint64(idx[:])
	sr, js, err := newSnapReader(cr)
	if err != nil {
		return info, err
	}
	info.Version, info.StateSize = sr.version, int64(len(js))
	var s struct {
		Communities map[string]json.RawMessage `json:"communities"`
		Models      map[string]*Model          `json:"models"`
		Orders      map[string]json.RawMessage `json:"orders"`
		Jobs        map[string]json.RawMessage `json:"jobs"`
		Workers     map[string]json.RawMessage `json:"workers"`
		Nodes       map[string]json.RawMessage `json:"nodes"`
	}
	if err := json.Unmarshal(js, &s); err != nil {
		return info, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	info.Communities, info.Orders, info.Jobs, info.Workers, info.Nodes = len(s.Communities), len(s.Orders), len(s.Jobs), len(s.Workers), len(s.Nodes)
	count, err := sr.modelCount()
	if err != nil {
		return info, err
	}
	for range count {
		e, err := sr.nextModel()
		if err != nil {
			return info, err
		}
		h, kind, size := e.hash, e.kind, e.size
		if m := s.Models[h]; m == nil || m.Size != size {
			return info, fmt.Errorf("%w: model %s not in the state or of another size", ErrBadSnapshot, h)
		}
		info.Models++
		info.ModelBytes += size
		if kind == kindRef {
			info.Referenced++
			info.ReferencedBytes += size
			continue
		}
		got, err := sr.copyBlob(io.Discard, h, size)
		if err != nil {
			return info, err
		}
		if got != h {
			return info, fmt.Errorf("%w: model %s does not match its hash", ErrBadSnapshot, h)
		}
	}
	if info.Models != len(s.Models) {
		return info, fmt.Errorf("%w: %d models in the state, %d in the snapshot", ErrBadSnapshot, len(s.Models), info.Models)
	}
	if count, err = sr.count("upload"); err != nil {
		return info, err
	}
	for range count {
		e, err := sr.blobHeader(true)
		if err != nil {
			return info, err
		}
		h, size := e.hash, e.size
		if _, err := sr.copyBlob(io.Discard, h, size); err != nil {
			return info, err
		}
		info.Uploads++
		info.UploadBytes += size
	}
	if err := sr.end(); err != nil {
		return info, err
	}
	info.Size = cr.n
	return info, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ReferencedBytes reads a persisted snapshot's head and returns how
// many bytes of models it refers to without holding them: expanded, it
// grows by that much. It reads no model bytes.
func ReferencedBytes(r io.Reader) (int64, error) {
	var idx [8]byte
	if _, err := io.ReadFull(r, idx[:]); err != nil {
		return 0, fmt.Errorf("%w: index: %v", ErrBadSnapshot, err)
	}
	sr, _, err := newSnapReader(r)
	if err != nil || sr.version < 2 {
		return 0, err
	}
	if _, err := sr.modelCount(); err != nil {
		return 0, err
	}
	var n int64
	for _, e := range sr.tab {
		if e.kind == kindRef {
			n += e.size
		}
	}
	return n, nil
}

// ReferSnapshot is ExpandSnapshot's inverse: it copies a persisted
// snapshot from r to w, storing the bytes of every model that r carries
// in models (each checked against its hash) and writing a reference in
// their place, so that w is what the node would have persisted itself.
// A snapshot of format 1 is copied as it is (Restore stores its models).
func ReferSnapshot(w io.Writer, r io.Reader, models ModelStore) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var idx [8]byte
	if _, err := io.ReadFull(r, idx[:]); err != nil {
		return fmt.Errorf("%w: index: %v", ErrBadSnapshot, err)
	}
	bw.Write(idx[:])
	sr, js, err := newSnapReader(r)
	if err != nil {
		return err
	}
	if sr.version < 2 {
		bw.WriteString(snapMagic)
		_ = binary.Write(bw, binary.BigEndian, uint64(len(js)))
		bw.Write(js)
		if _, err := io.Copy(bw, sr.br); err != nil {
			return err
		}
		return bw.Flush()
	}
	bw.WriteString(snapMagicV2)
	_ = binary.Write(bw, binary.BigEndian, uint64(len(js)))
	bw.Write(js)
	count, err := sr.modelCount()
	if err != nil {
		return err
	}
	_ = binary.Write(bw, binary.BigEndian, count)
	var hdr bytes.Buffer
	for _, e := range sr.tab {
		writeBlobHeader(&hdr, e.hash, kindRef, e.size)
	}
	bw.Write(hdr.Bytes())
	for range count {
		e, err := sr.nextModel()
		if err != nil {
			return err
		}
		if e.kind != kindBytes {
			continue
		}
		mw, err := models.Create(e.hash, e.size)
		if err != nil {
			return fmt.Errorf("snapshot: model %s: %w", e.hash, err)
		}
		got, err := sr.copyBlob(mw, e.hash, e.size)
		if err == nil && got != e.hash {
			err = fmt.Errorf("%w: model %s does not match its hash", ErrBadSnapshot, e.hash)
		}
		if err == nil {
			err = mw.Commit()
		}
		if err != nil {
			mw.Abort()
			return err
		}
	}
	if _, err := io.Copy(bw, sr.br); err != nil {
		return err
	}
	return bw.Flush()
}
