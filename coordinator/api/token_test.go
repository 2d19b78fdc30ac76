package api

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckToken(t *testing.T) {
	good := AdminTokenPrefix + strings.Repeat("A", 43)
	for _, tc := range []struct {
		name, tok, prefix string
		ok                bool
	}{
		{"admin", good, AdminTokenPrefix, true},
		{"worker", WorkerTokenPrefix + "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE", WorkerTokenPrefix, true},
		{"no prefix", "admin-123", AdminTokenPrefix, false},
		{"other kind", good, WorkerTokenPrefix, false},
		{"short", AdminTokenPrefix + "abc", AdminTokenPrefix, false},
		{"padded", AdminTokenPrefix + strings.Repeat("A", 42) + "=", AdminTokenPrefix, false},
		{"standard base64", AdminTokenPrefix + strings.Repeat("A", 42) + "+", AdminTokenPrefix, false},
		{"long", good + "AAAA", AdminTokenPrefix, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckToken(tc.tok, tc.prefix)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrTokenFormat) {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
		})
	}
}

func FuzzCheckToken(f *testing.F) {
	f.Add(AdminTokenPrefix + strings.Repeat("A", 43))
	f.Add("admin-123")
	f.Fuzz(func(t *testing.T, tok string) {
		if CheckToken(tok, AdminTokenPrefix) == nil && !strings.HasPrefix(tok, AdminTokenPrefix) {
			t.Fatalf("accepted %q", tok)
		}
	})
}
