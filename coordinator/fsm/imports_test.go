package fsm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// forbiddenImports are what the state machine must not reach: the
// network, the file system, other processes, and the libraries of its
// drivers (raft imports net; metrics belong to the coordinator).
var forbiddenImports = []string{
	"os",
	"os/exec",
	"net",
	"github.com/hashicorp/raft",
	"github.com/VictoriaMetrics/metrics",
}

// purityFaults lists what in f breaks the package's purity: a forbidden
// import (or one under net/), or a use of time.Now. Durations, and
// time.Unix on a command's timestamp, are fine. f must be parsed with
// object resolution, which tells the time package from a local named
// time.
func purityFaults(fset *token.FileSet, f *ast.File) []string {
	var faults []string
	timeName := ""
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if slices.Contains(forbiddenImports, path) || strings.HasPrefix(path, "net/") {
			faults = append(faults, fset.Position(imp.Pos()).String()+": imports "+path)
		}
		if path == "time" {
			timeName = "time"
			if imp.Name != nil {
				timeName = imp.Name.Name
			}
		}
	}
	if timeName == "" {
		return faults
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Now" {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok && x.Name == timeName && x.Obj == nil {
			faults = append(faults, fset.Position(sel.Pos()).String()+": reads the clock (time.Now)")
		}
		return true
	})
	return faults
}

func TestPackageImportsNoNetworkFilesOrClock(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, fault := range purityFaults(fset, f) {
			t.Error(fault)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}

func TestPurityFaultsFindsEachFault(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		faults    int
	}{
		{"clean", `package p; import "time"; func f(ns int64) time.Time { return time.Unix(0, ns).Add(time.Second) }`, 0},
		{"os", `package p; import "os"; var _ = os.Args`, 1},
		{"os/exec", `package p; import "os/exec"; var _ = exec.Command`, 1},
		{"net", `package p; import "net"; var _ net.Conn`, 1},
		{"net/http", `package p; import "net/http"; var _ = http.Get`, 1},
		{"raft", `package p; import "github.com/hashicorp/raft"; var _ raft.FSM`, 1},
		{"time.Now", `package p; import "time"; var _ = time.Now()`, 1},
		{"time.Now as a value", `package p; import "time"; var now = time.Now`, 1},
		{"renamed time", `package p; import tm "time"; var _ = tm.Now()`, 1},
		{"a local named time", `package p; type clock struct{}; func (clock) Now() int { return 0 }; func f() int { time := clock{}; return time.Now() }`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, "src.go", tc.src, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := purityFaults(fset, f); len(got) != tc.faults {
				t.Fatalf("faults %q, want %d", got, tc.faults)
			}
		})
	}
}
