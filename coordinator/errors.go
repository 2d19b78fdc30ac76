package coordinator

import "errors"

// Sentinel errors. The HTTP layer maps them to status codes and api codes.
var (
	ErrBadCommand    = errors.New("coordinator: bad command")
	ErrNotFound      = errors.New("coordinator: not found")
	ErrForbidden     = errors.New("coordinator: forbidden")
	ErrConflict      = errors.New("coordinator: conflict")
	ErrStaleEpoch    = errors.New("coordinator: stale epoch")
	ErrUnknownWorker = errors.New("coordinator: unknown worker")
	ErrNoLeader      = errors.New("coordinator: no leader")
	ErrTooLarge      = errors.New("coordinator: too large")
	ErrInvalidSTL    = errors.New("coordinator: invalid STL")
	ErrClosed        = errors.New("coordinator: node closed")

	// ErrWorkerToken refuses a worker call made with another token than
	// the one the worker id is bound to (Worker.TokenHash).
	ErrWorkerToken = errors.New("coordinator: printer registered under another worker token")
)
