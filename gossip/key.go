package gossip

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrKey is returned for a gossip key that is not base64 of 16, 24 or 32 bytes.
var ErrKey = errors.New("gossip: bad key")

// ParseKey decodes a --gossip-key value: standard or URL base64 (padding
// optional) of 16, 24 or 32 bytes, selecting AES-128, -192 or -256.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty (make one with: head -c 32 /dev/urandom | base64)", ErrKey)
	}
	var key []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not base64: %v", ErrKey, err)
	}
	switch len(key) {
	case 16, 24, 32:
		return key, nil
	}
	return nil, fmt.Errorf("%w: %d bytes, want 16, 24 or 32 (make one with: head -c 32 /dev/urandom | base64)", ErrKey, len(key))
}

// NewKey returns a fresh random 32-byte key in the base64 form ParseKey reads.
func NewKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("gossip: new key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
