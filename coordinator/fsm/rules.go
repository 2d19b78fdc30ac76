package fsm

import "time"

// Job lifecycle rules. Every command carries the rules it applies with
// (Command.Rules), stamped by its proposer, so a log keeps meaning what
// it meant when it was written: entries from before RulesLifecycle carry
// none and replay under the rules they were written for, to the same
// state byte for byte (testdata/v1-scenario.*).
const (
	// RulesV1 are the rules of the logs written before Command.Rules: any
	// refusal excludes the printer, a late done from an older lease frees
	// the present holder's printer and bumps the epoch, a placement
	// charges its community the estimate at once, and a result is taken
	// from any past lease of the job.
	RulesV1 = 0
	// RulesLifecycle (lifecycle.go): each lease's outcome is recorded
	// once and a replay is refused; a late done counts the copy once and
	// leaves the present holder's printer to that holder, who is told to
	// cancel; refusals are temporary (a backoff on that printer) or
	// permanent (an exclusion) and use up no attempt; a copy every
	// registered printer is excluded from fails with its reasons; a
	// community is charged printer time actually used; a stalled report
	// does not renew the lease.
	RulesLifecycle = 1
	// CurrentRules are the rules new commands are proposed with.
	CurrentRules = RulesLifecycle
)

// DefaultRefusalBackoff is how long a temporary refusal keeps a copy off
// the printer that refused it, unless the command says otherwise.
const DefaultRefusalBackoff = int64(time.Minute)
