package fsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrBadSnapshot is returned by Restore for a snapshot it cannot read.
var ErrBadSnapshot = errors.New("coordinator: bad snapshot")

// Snapshot format, version 1:
//
//	"FGSNAP1\n"
//	uint64 length, the State as JSON (maps sorted, so deterministic)
//	uint32 model count, then per model in hash order:
//	    64 bytes hex sha256, uint64 length, the bytes
//	uint32 upload count, then per upload in hash order:
//	    64 bytes hex sha256, uint64 length, the bytes received so far
const snapMagic = "FGSNAP1\n"

// maxSnapshotJSON bounds the JSON part of a snapshot.
const maxSnapshotJSON = 1 << 32

// snapshotParts is a state cut into what a snapshot writes: the header
// (magic, JSON, model count) and the models' bytes, which are immutable
// and shared with the live state rather than copied.
type snapshotParts struct {
	header  []byte
	hashes  []string
	models  [][]byte
	uhashes []string
	uploads [][]byte
}

// cutSnapshot encodes the state; call it under the FSM's read lock.
func cutSnapshot(s *State) (*snapshotParts, error) {
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
	p := &snapshotParts{header: buf.Bytes(), hashes: keys}
	for _, k := range keys {
		b, ok := s.models.Get(k)
		if !ok {
			return nil, fmt.Errorf("snapshot: model %s is not in the model store", k)
		}
		p.models = append(p.models, b)
	}
	p.uhashes = SortedKeys(s.Uploads)
	for _, k := range p.uhashes {
		p.uploads = append(p.uploads, s.Uploads[k].Bytes)
	}
	return p, nil
}

// writeTo writes the snapshot after the header.
func (p *snapshotParts) writeTo(w io.Writer) error {
	if _, err := w.Write(p.header); err != nil {
		return err
	}
	if err := writeBlobs(w, p.hashes, p.models); err != nil {
		return err
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(p.uhashes)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	return writeBlobs(w, p.uhashes, p.uploads)
}

func writeBlobs(w io.Writer, hashes []string, blobs [][]byte) error {
	var size [8]byte
	for i, h := range hashes {
		binary.BigEndian.PutUint64(size[:], uint64(len(blobs[i])))
		if _, err := io.WriteString(w, h); err != nil {
			return err
		}
		if _, err := w.Write(size[:]); err != nil {
			return err
		}
		if _, err := w.Write(blobs[i]); err != nil {
			return err
		}
	}
	return nil
}

func encodeSnapshot(s *State) ([]byte, error) {
	p, err := cutSnapshot(s)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_ = p.writeTo(&buf)
	return buf.Bytes(), nil
}

// maxBlob bounds one model in a snapshot.
const maxBlob = maxUploadSize

func readBlob(br *bufio.Reader) (string, []byte, error) {
	h := make([]byte, 64)
	if _, err := io.ReadFull(br, h); err != nil {
		return "", nil, fmt.Errorf("%w: blob hash", ErrBadSnapshot)
	}
	var size uint64
	if err := binary.Read(br, binary.BigEndian, &size); err != nil || size > maxBlob {
		return "", nil, fmt.Errorf("%w: blob size", ErrBadSnapshot)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(br, b); err != nil {
		return "", nil, fmt.Errorf("%w: blob %s: %v", ErrBadSnapshot, h, err)
	}
	return string(h), b, nil
}

// decodeSnapshot reads a snapshot into a new state over models. Only a
// snapshot read whole and found sound puts its models into the store.
func decodeSnapshot(r io.Reader, models ModelStore) (*State, error) {
	br := bufio.NewReader(r)
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapMagic {
		return nil, fmt.Errorf("%w: magic", ErrBadSnapshot)
	}
	var n uint64
	if err := binary.Read(br, binary.BigEndian, &n); err != nil || n > maxSnapshotJSON {
		return nil, fmt.Errorf("%w: header length", ErrBadSnapshot)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(br, js); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	s := NewState()
	if err := json.Unmarshal(js, s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	s.fillNil()
	s.models = models
	blobs := map[string][]byte{}
	var count uint32
	if err := binary.Read(br, binary.BigEndian, &count); err != nil {
		return nil, fmt.Errorf("%w: model count", ErrBadSnapshot)
	}
	for range count {
		h, b, err := readBlob(br)
		if err != nil {
			return nil, err
		}
		m := s.Models[h]
		if m == nil || m.Size != int64(len(b)) || sha256Hex(b) != h {
			return nil, fmt.Errorf("%w: model %s not in the state, of another size or not matching its hash", ErrBadSnapshot, h)
		}
		blobs[h] = b
	}
	for k := range s.Models {
		if blobs[k] == nil {
			return nil, fmt.Errorf("%w: model %s has no bytes", ErrBadSnapshot, k)
		}
	}
	if err := binary.Read(br, binary.BigEndian, &count); err != nil {
		return nil, fmt.Errorf("%w: upload count", ErrBadSnapshot)
	}
	for range count {
		h, b, err := readBlob(br)
		if err != nil {
			return nil, err
		}
		u := s.Uploads[h]
		if u == nil || u.Received != int64(len(b)) {
			return nil, fmt.Errorf("%w: upload %s not in the state or of another length", ErrBadSnapshot, h)
		}
		u.Bytes = b
	}
	for k, u := range s.Uploads {
		if u.Bytes == nil {
			return nil, fmt.Errorf("%w: upload %s has no bytes", ErrBadSnapshot, k)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrBadSnapshot)
	}
	for _, h := range SortedKeys(blobs) {
		if err := models.Put(h, blobs[h]); err != nil {
			return nil, fmt.Errorf("%w: model %s: %w", ErrBadSnapshot, h, err)
		}
	}
	return s, nil
}
