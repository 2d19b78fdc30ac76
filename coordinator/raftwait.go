package coordinator

import "github.com/hashicorp/raft"

// awaitFuture waits for a raft future's outcome, or until stop closes.
//
// hashicorp/raft v1.7.3 never answers an Apply future that its FSM
// goroutine had not reached when raft shut down (ApplyLog gives the
// future no ShutdownCh), so a goroutine that waits on such a future with
// no way out holds the node's Close or Kill for ever — a crash of a
// leader with order submissions in flight did exactly that. When stop
// closes first, the wait is given up and the caller told the node has
// closed; the one goroutine left blocked in raft's future is raft's to
// answer and ends with the process if raft never does.
func awaitFuture(f raft.Future, stop <-chan struct{}) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-stop:
		select {
		case err := <-done:
			return err
		default:
			return ErrClosed
		}
	}
}
