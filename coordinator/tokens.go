package coordinator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// NewToken returns a fresh token with the given prefix (api.*TokenPrefix):
// 32 random bytes, base64url without padding.
func NewToken(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("coordinator: no randomness: " + err.Error())
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken returns the hex sha256 under which a token is stored.
func HashToken(tok string) string { return sha256Hex([]byte(tok)) }

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// newID returns a short random identifier with a prefix ("o-…").
func newID(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("coordinator: no randomness: " + err.Error())
	}
	return prefix + hex.EncodeToString(b[:])
}
