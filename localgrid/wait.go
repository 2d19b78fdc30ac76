package localgrid

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTimeout is returned when a condition the grid waits for does not
// come true in time.
var ErrTimeout = errors.New("localgrid: timed out")

// Wait polls cond every 10 ms until it holds, ctx ends or limit passes.
func Wait(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %v waiting for %s", ErrTimeout, limit, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
