//go:build !slicer

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestSimCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small neighbourhood for a few seconds")
	}
	var out, errOut bytes.Buffer
	err := runSim(context.Background(), []string{"--printers", "4", "--orders", "8", "--speed-up", "3000",
		"--hours", "1", "--faults", "worker-churn=25%", "--seed", "5", "--json", "--quiet"}, &out, &errOut)
	if err != nil {
		t.Fatalf("sim: %v\n%s", err, errOut.String())
	}
	var rep struct {
		Seed         uint64 `json:"seed"`
		OK           bool   `json:"ok"`
		Acknowledged int    `json:"acknowledged"`
		Lost         int    `json:"lost"`
		Duplicated   int    `json:"duplicated"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if !rep.OK || rep.Seed != 5 || rep.Acknowledged != 8 || rep.Lost != 0 || rep.Duplicated != 0 {
		t.Fatalf("report %+v", rep)
	}
}

func TestSimCommandRejects(t *testing.T) {
	for _, args := range [][]string{
		{"--faults", "meteor=every:1h"},
		{"--printers", "0"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		err := runSim(context.Background(), args, &out, &errOut)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: err %v, want exit code 2", args, err)
		}
	}
}
