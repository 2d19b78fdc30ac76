package coordinator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// maxJSONBody bounds every JSON request body.
const maxJSONBody = 64 << 10

// Handler returns the node's HTTP API (docs/api.md).
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	// Everyone.
	mux.HandleFunc("GET /v1/health", n.handleHealth)
	mux.Handle("GET /metrics", n.metricsAuth(n.metrics.handler()))
	// Operators.
	mux.HandleFunc("GET /v1/cluster", n.read(n.auth(roleAdmin, n.handleCluster)))
	mux.HandleFunc("GET "+readIndexPath, n.auth(roleAny, n.handleReadIndex))
	mux.HandleFunc("POST /v1/cluster/join", n.write(n.auth(roleAdmin, n.handleJoin)))
	mux.HandleFunc("POST /v1/cluster/remove", n.write(n.auth(roleAdmin, n.handleRemove)))
	mux.HandleFunc("POST /v1/cluster/transfer-leader", n.write(n.auth(roleAdmin, n.handleTransfer)))
	mux.HandleFunc("GET /v1/cluster/snapshot", n.write(n.auth(roleAdmin, n.handleSnapshotSave)))
	mux.HandleFunc("POST /v1/cluster/snapshot", n.write(n.auth(roleAdmin, n.handleSnapshotRestore)))
	mux.HandleFunc("POST /v1/communities", n.write(n.auth(roleAdmin, n.handleCreateCommunity)))
	mux.HandleFunc("GET /v1/communities", n.read(n.auth(roleAdmin, n.handleCommunities)))
	mux.HandleFunc("POST /v1/worker-tokens", n.write(n.auth(roleAdmin, n.handleWorkerToken)))
	mux.HandleFunc("POST /v1/worker-tokens/max-workers", n.write(n.auth(roleAdmin, n.handleWorkerTokenLimit)))
	mux.HandleFunc("POST /v1/workers/{id}/release", n.write(n.auth(roleAdmin, n.handleRelease)))
	// Communities.
	mux.HandleFunc("POST /v1/orders", n.write(n.auth(roleAdmin|roleCommunity, n.upload(n.handleSubmit))))
	mux.HandleFunc("GET /v1/orders", n.read(n.auth(roleAdmin|roleCommunity, n.handleOrders)))
	mux.HandleFunc("GET /v1/orders/{id}", n.read(n.auth(roleAdmin|roleCommunity, n.handleOrder)))
	mux.HandleFunc("DELETE /v1/orders/{id}", n.write(n.auth(roleAdmin|roleCommunity, n.handleCancel)))
	mux.HandleFunc("GET /v1/jobs", n.read(n.auth(roleAdmin|roleCommunity, n.handleJobs)))
	mux.HandleFunc("GET /v1/workers", n.read(n.auth(roleAny, n.handleWorkers)))
	// Workers: all on the leader, whose memory holds the leases.
	mux.HandleFunc("POST /v1/workers/register", n.write(n.auth(roleWorker, plainWorkerNames(n.handleRegister))))
	mux.HandleFunc("POST /v1/workers/{id}/heartbeat", n.write(n.auth(roleWorker, n.handleHeartbeat)))
	mux.HandleFunc("GET /v1/workers/{id}/assignment", n.write(n.auth(roleWorker, n.handleAssignment)))
	mux.HandleFunc("POST /v1/jobs/{id}/progress", n.write(n.auth(roleWorker, n.handleProgress)))
	mux.HandleFunc("POST /v1/jobs/{id}/result", n.write(n.auth(roleWorker, n.handleResult)))
	mux.HandleFunc("POST /v1/workers/{id}/bed-clear", n.write(n.auth(roleWorker, n.handleBedClear)))
	mux.HandleFunc("GET /v1/models/{sha256}", n.read(n.auth(roleWorker|roleAdmin, n.handleModel)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if methodNotAllowed(mux, w, r) {
			return
		}
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path+" (see docs/api.md)")
	})
	return mux
}

// writeJSON writes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes the API's error body.
func writeError(w http.ResponseWriter, code int, errCode, msg string) {
	writeJSON(w, code, api.Error{Error: msg, Code: errCode})
}

// writeErr maps a coordinator error to its status and code.
func writeErr(w http.ResponseWriter, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || errors.Is(err, ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, err.Error())
	case errors.Is(err, ErrInvalidSTL):
		writeError(w, http.StatusBadRequest, api.CodeInvalidSTL, err.Error())
	case errors.Is(err, ErrInvalid3MF):
		writeError(w, http.StatusBadRequest, api.CodeInvalid3MF, err.Error())
	case errors.Is(err, ErrBadCommand):
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
	case errors.Is(err, ErrForbidden):
		writeError(w, http.StatusForbidden, api.CodeForbidden, err.Error())
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, api.CodeNotFound, err.Error())
	case errors.Is(err, ErrWorkerToken):
		writeError(w, http.StatusForbidden, api.CodeWorkerTokenMismatch, workerTokenAdvice(err.Error()))
	case errors.Is(err, ErrUnknownWorker):
		writeError(w, http.StatusNotFound, api.CodeUnknownWorker, err.Error()+"; register again")
	case errors.Is(err, ErrStaleEpoch):
		writeError(w, http.StatusConflict, api.CodeStaleEpoch, err.Error()+"; this assignment is no longer yours, stop it")
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, api.CodeConflict, err.Error())
	case errors.Is(err, ErrNoLeader):
		writeError(w, http.StatusServiceUnavailable, api.CodeNoLeader, err.Error()+"; retry, or ask another coordinator")
	default:
		writeError(w, http.StatusInternalServerError, api.CodeInternal, err.Error())
	}
}

// workerTokenAdvice completes ErrWorkerToken's text with what to do.
func workerTokenAdvice(msg string) string {
	return msg + "; register this printer under another name (fabgrid worker --name: a new name gets a new worker id)," +
		" or ask an admin to release this worker id (fabgrid workers release ID) so your token can register it"
}

// errBadJSON marks a request body that is not the expected JSON.
type errBadJSON struct {
	code string
	msg  string
}

func (e *errBadJSON) Error() string { return e.msg }

// DecodeJSON strictly decodes one JSON value from r into v: unknown
// fields, trailing data and bodies over limit bytes are errors. The
// returned error is an *http.MaxBytesError for a body over the limit.
func DecodeJSON(r io.Reader, limit int64, v any) error {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > limit {
		return &http.MaxBytesError{Limit: limit}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return &errBadJSON{api.CodeUnknownField, err.Error()}
		}
		return &errBadJSON{api.CodeBadRequest, "malformed JSON body: " + err.Error()}
	}
	if dec.More() {
		return &errBadJSON{api.CodeBadRequest, "malformed JSON body: data after the JSON value"}
	}
	return nil
}

// decodeBody decodes a request's JSON body and writes the error response
// when it fails. It returns false after an error response.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	err := DecodeJSON(http.MaxBytesReader(w, r.Body, maxJSONBody), maxJSONBody, v)
	if err == nil {
		return true
	}
	var bj *errBadJSON
	if errors.As(err, &bj) {
		writeError(w, http.StatusBadRequest, bj.code, bj.msg)
		return false
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, fmt.Sprintf("request body over %d bytes", mbe.Limit))
		return false
	}
	writeError(w, http.StatusBadRequest, api.CodeBadRequest, "reading body: "+err.Error())
	return false
}
