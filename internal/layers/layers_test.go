package layers

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/fabgrid/fabgrid"

// root is the module's directory: two levels above this file.
func root(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// deps returns every package that pkg (a path inside the module) imports,
// directly or not, through its non-test Go files under the default build
// tags, as `go list -deps` names them.
func deps(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "./"+pkg)
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./%s: %v", pkg, err)
	}
	seen := map[string]bool{}
	for _, d := range strings.Fields(string(out)) {
		seen[d] = true
	}
	delete(seen, module+"/"+pkg)
	return seen
}

func TestImportRules(t *testing.T) {
	for _, tc := range []struct {
		pkg       string
		forbidden []string // import paths, or prefixes ending in "/"
		why       string
	}{
		{"coordinator/fsm", []string{"net", "net/", "os/exec", "github.com/hashicorp/raft", "github.com/VictoriaMetrics/"}, "the state machine is deterministic on every replica"},
		{"scheduler", []string{"net", "net/", "os/exec"}, "placement is pure"},
		{"slicer", []string{"net", "net/", "os/exec"}, "slicing is pure"},
		{"slicer/poly", []string{"net", "net/", "os/exec"}, "geometry is pure"},
		{"motion", []string{"net", "net/", "os/exec"}, "the motion model is pure"},
		{"gcode", []string{"net", "net/", "os/exec"}, "the lexer is pure"},
		{"hours", []string{"net", "net/", "os/exec"}, "hours are pure"},
		{"profile", []string{"net", "net/", "os/exec"}, "profiles are data"},
		{"printerdrv", []string{module + "/printerdrv/vprinter"}, "the host does not depend on its emulator"},
		{"gossip", []string{module + "/coordinator", module + "/worker"}, "the pool serves both daemons"},
		{"coordinator/api", []string{module + "/coordinator"}, "clients must not link the server"},
		{"coordinator/client", []string{module + "/coordinator", module + "/coordinator/fsm"}, "clients must not link the server"},
		{"worker", []string{module + "/coordinator", module + "/coordinator/fsm", module + "/cmd/"}, "the worker talks to coordinators over HTTP only"},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			var bad []string
			for d := range deps(t, tc.pkg) {
				for _, f := range tc.forbidden {
					if d == f || strings.HasSuffix(f, "/") && strings.HasPrefix(d, f) {
						bad = append(bad, d)
					}
				}
			}
			sort.Strings(bad)
			if len(bad) > 0 {
				t.Errorf("%s imports %v: %s (docs/architecture.md)", tc.pkg, bad, tc.why)
			}
		})
	}
}

// TestGcodeIsTheOneLexer: the packages that read G-code do it through
// package gcode.
func TestGcodeIsTheOneLexer(t *testing.T) {
	for _, pkg := range []string{"motion", "slicer", "printerdrv", "printerdrv/vprinter"} {
		if !deps(t, pkg)[module+"/gcode"] {
			t.Errorf("%s does not import gcode, the one G-code lexer", pkg)
		}
	}
}

// TestRulesCatchAViolation: the walk sees a forbidden import where there
// is one (worker reaches net through its HTTP client), so the rules above
// can fail.
func TestRulesCatchAViolation(t *testing.T) {
	if !deps(t, "worker")["net"] {
		t.Fatal("the import walk did not find net under worker; the rules above would pass vacuously")
	}
	if !deps(t, "coordinator")[module+"/coordinator/fsm"] {
		t.Fatal("the import walk did not find coordinator/fsm under coordinator")
	}
}
