package fsm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// uploadTTL: an upload not restarted or finished within this long is
// dropped when another upload starts.
const uploadTTL = time.Hour

// maxUploadSize is a sanity bound on a model arriving in chunks; the HTTP
// layer enforces the configured limit long before.
const maxUploadSize = 4 << 30

func (s *State) applyChunk(now int64, c *ChunkCmd, data []byte) error {
	m := c.Model
	if !validHash(m.SHA256) || m.Size <= 0 || m.Size > maxUploadSize || len(data) == 0 {
		return badf("model chunk")
	}
	if s.Models[m.SHA256] != nil {
		return nil // stored meanwhile: nothing to do
	}
	u := s.Uploads[m.SHA256]
	var have []byte
	switch {
	case c.Offset == 0:
	case u == nil || c.Offset != u.Received || u.Model.Size != m.Size:
		return fmt.Errorf("%w: chunk at %d of model %s, which is at %d", ErrConflict, c.Offset, m.SHA256, receivedOf(u))
	default:
		have = u.Bytes
	}
	end := c.Offset + int64(len(data))
	if end > m.Size {
		return badf("chunk past the model's size")
	}
	if end == m.Size {
		h := sha256.New()
		h.Write(have)
		h.Write(data)
		if hex.EncodeToString(h.Sum(nil)) != m.SHA256 {
			return badf("model bytes do not match their hash")
		}
	}
	// Valid: mutate.
	if c.Offset == 0 {
		for k, old := range s.Uploads {
			if old.Started < now-int64(uploadTTL) {
				delete(s.Uploads, k)
			}
		}
		u = &Upload{Model: m, Started: now, Bytes: make([]byte, 0, m.Size)}
		s.Uploads[m.SHA256] = u
	}
	u.Bytes = append(u.Bytes, data...)
	u.Received = end
	if end == m.Size {
		s.putModel(m.SHA256, u.Bytes)
		stored := u.Model
		s.Models[m.SHA256] = &stored
		delete(s.Uploads, m.SHA256)
	}
	return nil
}

func receivedOf(u *Upload) int64 {
	if u == nil {
		return 0
	}
	return u.Received
}
