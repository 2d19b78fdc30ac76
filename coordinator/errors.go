package coordinator

import (
	"errors"

	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// Sentinel errors. The HTTP layer maps them to status codes and api codes.
// The state machine's refusals are its own sentinels (package fsm), named
// here too so the coordinator's callers need one package.
var (
	ErrBadCommand    = fsm.ErrBadCommand
	ErrNotFound      = fsm.ErrNotFound
	ErrForbidden     = errors.New("coordinator: forbidden")
	ErrConflict      = fsm.ErrConflict
	ErrStaleEpoch    = fsm.ErrStaleEpoch
	ErrUnknownWorker = fsm.ErrUnknownWorker
	ErrNoLeader      = errors.New("coordinator: no leader")
	ErrTooLarge      = errors.New("coordinator: too large")
	ErrInvalidSTL    = errors.New("coordinator: invalid STL")
	ErrInvalid3MF    = errors.New("coordinator: invalid 3MF")
	ErrClosed        = errors.New("coordinator: node closed")

	// ErrWorkerToken refuses a worker call made with another token than
	// the one the worker id is bound to (Worker.TokenHash).
	ErrWorkerToken = fsm.ErrWorkerToken
)
