package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrTokenFormat: a token is not in the documented format.
var ErrTokenFormat = errors.New("api: token not in the documented format")

// TokenBytes is how many random bytes a token carries.
const TokenBytes = 32

// CheckToken checks that tok is a token of the kind prefix names: the
// prefix, then TokenBytes random bytes in base64url without padding
// ("fgA_" and 43 characters for an admin token).
func CheckToken(tok, prefix string) error {
	rest, ok := strings.CutPrefix(tok, prefix)
	if !ok {
		return fmt.Errorf("%w: it must begin with %s", ErrTokenFormat, prefix)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil || len(b) != TokenBytes {
		return fmt.Errorf("%w: after %s it must be %d random bytes in base64url without padding (%d characters of A-Z a-z 0-9 - _)",
			ErrTokenFormat, prefix, TokenBytes, base64.RawURLEncoding.EncodedLen(TokenBytes))
	}
	return nil
}
