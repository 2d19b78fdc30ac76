package printerdrv

import (
	"os"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
)

// The internal tests' helpers; the tests against the virtual printer
// (package printerdrv_test, pty_test.go) have their own.

func printer(t testing.TB, id string) profile.Printer {
	t.Helper()
	p, err := profile.LookupPrinter(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func calibration(t testing.TB, p profile.Printer) Job {
	t.Helper()
	f, err := os.Open("testdata/calibration.gcode")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j, err := ReadJob("calibration.gcode", f, p)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func mustPrepare(t testing.TB, j Job) Prepared {
	t.Helper()
	p, err := Prepare(j)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
