package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

var (
	// ErrNoCoordinator is returned (wrapped with the last failure) when no
	// coordinator answered within the retry budget.
	ErrNoCoordinator = errors.New("client: no coordinator reachable")
	// ErrChecksum is returned when a downloaded model does not hash to the
	// sha256 it was asked for.
	ErrChecksum = errors.New("client: model checksum mismatch")
	// ErrConfig is returned by New for unusable options.
	ErrConfig = errors.New("client: bad configuration")
)

// APIError is an error answer of the coordinator: the HTTP status and the
// {"error","code"} body. Endpoint is the coordinator URL that answered.
type APIError struct {
	Status   int
	Code     string
	Message  string
	Endpoint string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("coordinator %s: %d %s: %s", e.Endpoint, e.Status, e.Code, msg)
}

// IsCode reports whether err is (or wraps) an *APIError with the given code
// (one of the api.Code… constants).
func IsCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// readAPIError turns a non-2xx response into an *APIError. A body that is not
// the documented JSON still yields an error, coded "http_<status>".
func readAPIError(endpoint string, resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	ae := &APIError{Status: resp.StatusCode, Endpoint: endpoint}
	var wire struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if json.Unmarshal(body, &wire) == nil && (wire.Error != "" || wire.Code != "") {
		ae.Message, ae.Code = wire.Error, wire.Code
	} else {
		ae.Message = strings.TrimSpace(string(body))
		if len(ae.Message) > 200 {
			ae.Message = ae.Message[:200] + "…"
		}
	}
	if ae.Code == "" {
		ae.Code = fmt.Sprintf("http_%d", resp.StatusCode)
	}
	return ae
}
