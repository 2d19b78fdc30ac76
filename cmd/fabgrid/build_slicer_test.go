//go:build slicer

package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestSlicerBuildCommands(t *testing.T) {
	got := slices.Sorted(maps.Keys(commands))
	if want := []string{"gcode", "print", "profile", "slice", "version", "vprinter"}; !slices.Equal(got, want) {
		t.Fatalf("slicer build registers %v, want %v", got, want)
	}
	for _, name := range gridCommands {
		var out, errb bytes.Buffer
		if code := run([]string{name, "--help"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "build without -tags slicer") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errb.String())
		}
	}
	var out bytes.Buffer
	run([]string{"--help"}, &out, &out)
	if !strings.Contains(out.String(), "the grid commands (cluster, community, coordinator") {
		t.Errorf("help does not say what is left out:\n%s", out.String())
	}
	out.Reset()
	var v map[string]string
	if code := run([]string{"version", "--json"}, &out, &out); code != 0 || json.Unmarshal(out.Bytes(), &v) != nil || v["build"] != "slicer" {
		t.Fatalf("version --json: exit %d, %q", code, out.String())
	}
}
