package printerdrv_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/motion"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
)

// state replays commands on a fresh machine and returns where it ends.
type state struct {
	x, y, z, e   float64
	relXYZ, relE bool
	feed         float64
}

func replay(t testing.TB, cmds []string) state {
	t.Helper()
	m := motion.NewMachine(motion.Limits{})
	for _, c := range cmds {
		_, _ = m.Exec(c)
	}
	var s state
	s.x, s.y, s.z, s.e = m.Pos()
	s.relXYZ, s.relE, s.feed = m.Modes()
	return s
}

func (s state) near(o state) bool {
	eq := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	return eq(s.x, o.x) && eq(s.y, o.y) && eq(s.z, o.z) && eq(s.e, o.e) && s.relXYZ == o.relXYZ && s.relE == o.relE && eq(s.feed, o.feed)
}

// mm formats as the parker does.
func mm(v float64) string { return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) }

// On a real pty: a paused job parks the head once the commands already
// sent are done, holds, and comes back to finish exactly as without the
// pause.
func TestPTYPauseParksAndResumes(t *testing.T) {
	p := printer(t, "ender3")
	v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Speed: 100})
	c := dial(t, path, printerdrv.Options{Printer: p, ProgressEvery: time.Millisecond})
	job := calibration(t, p)
	prep := mustPrepare(t, job)
	parkMove := "G1 X" + mm(printerdrv.ParkInsetMM) + " Y" + mm(p.BuildVolume.Y-printerdrv.ParkInsetMM)
	var paused, resumed bool
	var atPark []string
	deadline := time.Now().Add(20 * time.Second)
	_, err := c.Print(context.Background(), job, func(pr printerdrv.Progress) {
		if time.Now().After(deadline) && !resumed {
			resumed = true
			c.Resume()
			return
		}
		switch {
		case !paused && pr.Layer >= 2:
			paused = true
			c.Pause()
		case pr.Paused && !resumed:
			// The park's last move executed: the head waits at the park point.
			cmds := v.Record().Commands
			if len(cmds) == 0 || !strings.HasPrefix(cmds[len(cmds)-1], parkMove) {
				return
			}
			atPark = jobPart(cmds)
			resumed = true
			c.Resume()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if atPark == nil {
		t.Fatal("the head never reached the park point while paused")
	}
	parked := replay(t, atPark)
	if parked.x != printerdrv.ParkInsetMM || parked.y != p.BuildVolume.Y-printerdrv.ParkInsetMM || parked.z < printerdrv.ParkLiftMM {
		t.Fatalf("while paused the head was at %+v", parked)
	}
	executed := jobPart(v.Record().Commands)
	if got, want := replay(t, executed), replay(t, prep.Commands); !got.near(want) {
		t.Fatalf("the paused job ended at %+v, the job alone at %+v", got, want)
	}
	if n := len(executed) - len(prep.Commands); n != 6+8 {
		t.Fatalf("%d commands beyond the job's, want the 6 of the park and 8 of the return", n)
	}
}

func TestPTYNoPark(t *testing.T) {
	p := printer(t, "ender3")
	v, path := startPTY(t, vprinter.VirtualConfig{Printer: p, Speed: 100})
	c := dial(t, path, printerdrv.Options{Printer: p, ProgressEvery: time.Millisecond, NoPark: true})
	job := calibration(t, p)
	var paused, resumed bool
	held := 0
	_, err := c.Print(context.Background(), job, func(pr printerdrv.Progress) {
		switch {
		case !paused && pr.Layer >= 2:
			paused = true
			c.Pause()
		case pr.Paused && !resumed:
			if held++; held > 50 {
				resumed = true
				c.Resume()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(jobPart(v.Record().Commands)) - len(mustPrepare(t, job).Commands); !resumed || n != 0 {
		t.Fatalf("resumed %v; %d commands beyond the job's with NoPark", resumed, n)
	}
}
