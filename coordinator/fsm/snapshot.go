package fsm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrBadSnapshot is returned by Restore for a snapshot it cannot read.
var ErrBadSnapshot = errors.New("coordinator: bad snapshot")

// Snapshot formats. A persisted snapshot (what Persist writes, what
// Restore reads) is the applied index, uint64 big-endian, followed by
// the encoded state in one of these formats; the magic names the
// format's version, and Restore reads every version ever written.
//
// Version 1 (SnapshotBytes still writes it, for comparing machines):
//
//	"FGSNAP1\n"
//	uint64 length, the State as JSON (maps sorted, so deterministic)
//	uint32 model count, then per model in hash order:
//	    64 bytes hex sha256, uint64 length, the bytes
//	uint32 upload count, then per upload in hash order:
//	    64 bytes hex sha256, uint64 length, the bytes received so far
//
// Version 2 (Persist writes it) lets a model's bytes stay in the model
// store, and lists the models before any of their bytes:
//
//	"FGSNAP2\n"
//	uint64 length, the State as JSON
//	uint32 model count, then the table, per model in hash order:
//	    64 bytes hex sha256, 1 byte kind, uint64 length
//	then the bytes of each model of kind 'b', in the table's order;
//	    kind 'r' (a reference) has none here: they are in the model
//	    store of the node that wrote the snapshot
//	uint32 upload count, then uploads as in version 1
//
// The snapshot a node keeps for itself holds references; one that
// leaves the node (sent to a follower, saved as a backup) is expanded
// (ExpandSnapshot) so that every model's bytes follow it, read from
// the store as they are written.
const (
	snapMagic   = "FGSNAP1\n"
	snapMagicV2 = "FGSNAP2\n"
	kindBytes   = 'b'
	kindRef     = 'r'
)

// SnapshotVersion is the format Persist writes.
const SnapshotVersion = 2

// maxSnapshotJSON bounds the JSON part of a snapshot.
const maxSnapshotJSON = 1 << 32

// maxBlob bounds one model in a snapshot.
const maxBlob = maxUploadSize

// encodeSnapshot encodes the state in format 1, every model's bytes read
// from the store.
func encodeSnapshot(s *State) ([]byte, error) {
	js, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(snapMagic)
	_ = binary.Write(&buf, binary.BigEndian, uint64(len(js)))
	buf.Write(js)
	keys := SortedKeys(s.Models)
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(keys)))
	for _, k := range keys {
		f, err := s.models.Open(k)
		if err != nil {
			return nil, fmt.Errorf("snapshot: model %s: %w", k, err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("snapshot: model %s: %w", k, err)
		}
		writeBlobHeader(&buf, k, 0, int64(len(b)))
		buf.Write(b)
	}
	writeUploads(&buf, s)
	return buf.Bytes(), nil
}

// writeSnapshotV2 writes the state in format 2: each model a
// reference, or, inline, with its bytes streamed from the store.
func writeSnapshotV2(w io.Writer, s *State, inline bool) error {
	js, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString(snapMagicV2)
	_ = binary.Write(&buf, binary.BigEndian, uint64(len(js)))
	if _, err := w.Write(buf.Bytes()); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	buf.Reset()
	keys := SortedKeys(s.Models)
	_ = binary.Write(&buf, binary.BigEndian, uint32(len(keys)))
	kind := byte(kindRef)
	if inline {
		kind = kindBytes
	}
	for _, k := range keys {
		writeBlobHeader(&buf, k, kind, s.Models[k].Size)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return err
	}
	for _, k := range keys {
		if !inline {
			break
		}
		if err := copyModel(w, s.models, k, s.Models[k].Size); err != nil {
			return err
		}
	}
	buf.Reset()
	writeUploads(&buf, s)
	_, err = w.Write(buf.Bytes())
	return err
}

// writeBlobHeader writes a blob's hash, kind (format 2; 0 for format 1)
// and length.
func writeBlobHeader(buf *bytes.Buffer, h string, kind byte, size int64) {
	buf.WriteString(h)
	if kind != 0 {
		buf.WriteByte(kind)
	}
	_ = binary.Write(buf, binary.BigEndian, uint64(size))
}

func writeUploads(buf *bytes.Buffer, s *State) {
	keys := SortedKeys(s.Uploads)
	_ = binary.Write(buf, binary.BigEndian, uint32(len(keys)))
	for _, k := range keys {
		b := s.Uploads[k].Bytes
		writeBlobHeader(buf, k, 0, int64(len(b)))
		buf.Write(b)
	}
}

// snapReader reads the parts of an encoded state in order.
type snapReader struct {
	br      *bufio.Reader
	version int
	// tab is the rest of a format 2 model table.
	tab []blobEntry
}

// blobEntry is a model's or upload's hash, kind and length.
type blobEntry struct {
	hash string
	kind byte
	size int64
}

func newSnapReader(r io.Reader) (*snapReader, []byte, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(br, magic); err != nil {
		return nil, nil, fmt.Errorf("%w: magic", ErrBadSnapshot)
	}
	sr := &snapReader{br: br}
	switch string(magic) {
	case snapMagic:
		sr.version = 1
	case snapMagicV2:
		sr.version = 2
	default:
		return nil, nil, fmt.Errorf("%w: magic %q: not a fabgrid snapshot, or one of a newer version than this coordinator reads", ErrBadSnapshot, magic)
	}
	var n uint64
	if err := binary.Read(br, binary.BigEndian, &n); err != nil || n > maxSnapshotJSON {
		return nil, nil, fmt.Errorf("%w: header length", ErrBadSnapshot)
	}
	// Read as it arrives: a corrupt length allocates nothing.
	js, err := io.ReadAll(io.LimitReader(br, int64(n)))
	if err != nil || uint64(len(js)) != n {
		return nil, nil, fmt.Errorf("%w: state JSON of %d bytes cut short", ErrBadSnapshot, n)
	}
	return sr, js, nil
}

func (sr *snapReader) count(what string) (uint32, error) {
	var n uint32
	if err := binary.Read(sr.br, binary.BigEndian, &n); err != nil {
		return 0, fmt.Errorf("%w: %s count", ErrBadSnapshot, what)
	}
	return n, nil
}

// blobHeader reads a blob's hash, kind and length; uploads and format 1
// have bytes always (kindBytes).
func (sr *snapReader) blobHeader(upload bool) (blobEntry, error) {
	hb := make([]byte, 64)
	if _, err := io.ReadFull(sr.br, hb); err != nil {
		return blobEntry{}, fmt.Errorf("%w: blob hash", ErrBadSnapshot)
	}
	e := blobEntry{hash: string(hb), kind: kindBytes}
	if sr.version >= 2 && !upload {
		var err error
		if e.kind, err = sr.br.ReadByte(); err != nil || e.kind != kindBytes && e.kind != kindRef {
			return blobEntry{}, fmt.Errorf("%w: blob %s kind", ErrBadSnapshot, hb)
		}
	}
	var n uint64
	if err := binary.Read(sr.br, binary.BigEndian, &n); err != nil || n > maxBlob {
		return blobEntry{}, fmt.Errorf("%w: blob size", ErrBadSnapshot)
	}
	e.size = int64(n)
	return e, nil
}

// modelCount reads the number of models and, in format 2, their table.
func (sr *snapReader) modelCount() (uint32, error) {
	n, err := sr.count("model")
	if err != nil || sr.version < 2 {
		return n, err
	}
	for range n {
		e, err := sr.blobHeader(false)
		if err != nil {
			return 0, err
		}
		sr.tab = append(sr.tab, e)
	}
	return n, nil
}

// nextModel returns the next model's entry; the bytes of one of kind
// 'b' are next to read, in either format.
func (sr *snapReader) nextModel() (blobEntry, error) {
	if sr.version < 2 {
		return sr.blobHeader(false)
	}
	e := sr.tab[0]
	sr.tab = sr.tab[1:]
	return e, nil
}

// copyBlob copies a blob's size bytes to w and returns their hash.
func (sr *snapReader) copyBlob(w io.Writer, h string, size int64) (string, error) {
	hs := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(w, hs), sr.br, size); err != nil {
		return "", fmt.Errorf("%w: blob %s: %v", ErrBadSnapshot, h, err)
	}
	return hex.EncodeToString(hs.Sum(nil)), nil
}

func (sr *snapReader) end() error {
	if _, err := sr.br.ReadByte(); err != io.EOF {
		return fmt.Errorf("%w: trailing data", ErrBadSnapshot)
	}
	return nil
}

// decodeSnapshot reads an encoded state (any version) into a new state
// over models. Models whose bytes follow are streamed into the store
// and committed only once the whole snapshot is read and found sound;
// a reference must name a model the store holds, of its size.
func decodeSnapshot(r io.Reader, models ModelStore) (*State, error) {
	sr, js, err := newSnapReader(r)
	if err != nil {
		return nil, err
	}
	s := NewState()
	if err := json.Unmarshal(js, s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	s.fillNil()
	s.models = models
	var pending []ModelWriter
	defer func() {
		for _, w := range pending {
			w.Abort()
		}
	}()
	seen := map[string]bool{}
	count, err := sr.modelCount()
	if err != nil {
		return nil, err
	}
	for range count {
		e, err := sr.nextModel()
		if err != nil {
			return nil, err
		}
		h, kind, size := e.hash, e.kind, e.size
		m := s.Models[h]
		if m == nil || m.Size != size || seen[h] {
			return nil, fmt.Errorf("%w: model %s not in the state, of another size or twice", ErrBadSnapshot, h)
		}
		seen[h] = true
		if kind == kindRef {
			if err := checkHeld(models, h, size); err != nil {
				return nil, err
			}
			continue
		}
		w, err := models.Create(h, size)
		if err != nil {
			return nil, fmt.Errorf("%w: model %s: %w", ErrBadSnapshot, h, err)
		}
		pending = append(pending, w)
		got, err := sr.copyBlob(w, h, size)
		if err != nil {
			return nil, err
		}
		if got != h {
			return nil, fmt.Errorf("%w: model %s does not match its hash", ErrBadSnapshot, h)
		}
	}
	for k := range s.Models {
		if !seen[k] {
			return nil, fmt.Errorf("%w: model %s has no bytes", ErrBadSnapshot, k)
		}
	}
	if count, err = sr.count("upload"); err != nil {
		return nil, err
	}
	for range count {
		e, err := sr.blobHeader(true)
		if err != nil {
			return nil, err
		}
		h, size := e.hash, e.size
		u := s.Uploads[h]
		if u == nil || u.Received != size || u.Bytes != nil {
			return nil, fmt.Errorf("%w: upload %s not in the state or of another length", ErrBadSnapshot, h)
		}
		var b bytes.Buffer
		if _, err := sr.copyBlob(&b, h, size); err != nil {
			return nil, err
		}
		u.Bytes = b.Bytes()
		if u.Bytes == nil {
			u.Bytes = []byte{}
		}
	}
	for k, u := range s.Uploads {
		if u.Bytes == nil {
			return nil, fmt.Errorf("%w: upload %s has no bytes", ErrBadSnapshot, k)
		}
	}
	if err := sr.end(); err != nil {
		return nil, err
	}
	for len(pending) > 0 {
		if err := pending[0].Commit(); err != nil {
			return nil, fmt.Errorf("%w: storing a model: %w", ErrBadSnapshot, err)
		}
		pending = pending[1:]
	}
	return s, nil
}

// checkHeld reports whether the store holds model h of size bytes.
func checkHeld(models ModelStore, h string, size int64) error {
	f, err := models.Open(h)
	if err != nil {
		return fmt.Errorf("%w: the snapshot refers to model %s, which this node's model store does not hold (%w); restore a saved (expanded) snapshot instead", ErrBadSnapshot, h, err)
	}
	defer f.Close()
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil || n != size {
		return fmt.Errorf("%w: model %s in the store has %d bytes, the snapshot says %d", ErrBadSnapshot, h, n, size)
	}
	return nil
}
