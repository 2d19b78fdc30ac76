// Package layers holds, in its test, the import rules of
// docs/architecture.md: which packages must stay pure (no network, no
// os/exec), that the serial host does not depend on its emulator, that the
// clients and the gossip pool do not link the daemons, and that nothing
// imports a binary. It has no code of its own.
package layers
