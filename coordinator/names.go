package coordinator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// hasControl reports whether s holds a control character (C0, DEL, C1)
// or is not UTF-8: such a name would be stored as it is and printed raw
// into an operator's terminal.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// controlNameMsg is the 400 text for a name with control characters.
func controlNameMsg(field string) string {
	return field + " holds control characters or is not UTF-8: use printable characters only"
}

// plainWorkerNames refuses, with 400, a worker registration whose id,
// name, profile, material or colour holds control characters, before the
// registration handler sees it. A body that does not decode is passed on
// for the handler to refuse with its own message.
func plainWorkerNames(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
		if err != nil {
			writeErr(w, err)
			return
		}
		var req api.RegisterRequest
		if json.Unmarshal(b, &req) == nil {
			for _, f := range []struct{ field, v string }{{"id", req.ID}, {"name", req.Name}, {"profile", req.Profile}, {"material", req.Material}, {"colour", req.Colour}} {
				if hasControl(f.v) {
					writeError(w, http.StatusBadRequest, api.CodeBadRequest, controlNameMsg("worker "+f.field))
					return
				}
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		h(w, r)
	}
}
