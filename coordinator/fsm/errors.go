package fsm

import "errors"

// Sentinel errors of the state machine: a refused command's
// ApplyResult.Err wraps one of them. Their texts are the coordinator's,
// as the HTTP layer shows them to callers.
var (
	ErrBadCommand    = errors.New("coordinator: bad command")
	ErrNotFound      = errors.New("coordinator: not found")
	ErrConflict      = errors.New("coordinator: conflict")
	ErrStaleEpoch    = errors.New("coordinator: stale epoch")
	ErrUnknownWorker = errors.New("coordinator: unknown worker")

	// ErrWorkerToken refuses a worker call made with another token than
	// the one the worker id is bound to (Worker.TokenHash).
	ErrWorkerToken = errors.New("coordinator: printer registered under another worker token")

	// ErrTokenFull refuses a registration that would bind more workers to
	// one worker token than it may have (it is wrapped with ErrConflict).
	ErrTokenFull = errors.New("coordinator: worker token has registered as many workers as it may")
)
