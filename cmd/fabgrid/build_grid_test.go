//go:build !slicer

package main

import (
	"bytes"
	"testing"
)

// The list of grid-only commands names commands that exist, so the slicer
// build's message for them stays true.
func TestGridCommandsAreRegistered(t *testing.T) {
	for _, name := range gridCommands {
		if _, ok := commands[name]; !ok {
			t.Errorf("gridCommands names %q, which the grid build does not register", name)
		}
	}
	var out bytes.Buffer
	if code := run([]string{"--help"}, &out, &out); code != 0 || bytes.Contains(out.Bytes(), []byte("left out")) {
		t.Fatalf("grid build help (exit %d) claims commands are left out:\n%s", code, out.String())
	}
}
