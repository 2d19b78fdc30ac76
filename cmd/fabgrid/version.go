package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func init() {
	register(command{name: "version", summary: "print the fabgrid version", run: runVersion})
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "version [--json]", "Prints the version of this fabgrid binary, the Go release it was built with and which build it is (grid: every command; slicer: built with -tags slicer, only the commands that need no grid).", stderr)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(map[string]string{"version": v, "go": runtime.Version(), "build": buildName})
	}
	_, err := fmt.Fprintf(stdout, "fabgrid %s (%s, %s build)\n", v, runtime.Version(), buildName)
	return err
}
