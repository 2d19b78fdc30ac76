package vprinter

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/printerdrv"
)

// TestHostFirmwareLockstep drives the host state machine against the
// emulator's firmware core directly — no goroutines, no sleeps, a fake
// clock — through corrupted lines and lost oks, for many seeds: every
// command must run exactly once, in order, and the RX buffer never overflow.
func TestHostFirmwareLockstep(t *testing.T) {
	cmds := benchLines(1500)
	tests := []struct {
		name   string
		faults Faults
		ping   bool
	}{
		{"clean", Faults{}, false},
		{"5% corrupt", Faults{Corrupt: 0.05}, false},
		{"20% corrupt", Faults{Corrupt: 0.2}, false},
		{"corrupt and lost oks", Faults{Corrupt: 0.05, DropOK: 0.02}, false},
		{"ping-pong, corrupt and lost oks", Faults{Corrupt: 0.05, DropOK: 0.02}, true},
		{"flush on error, corrupt and lost oks", Faults{Corrupt: 0.05, DropOK: 0.02}, false},
	}
	for _, tc := range tests {
		for seed := int64(1); seed <= 8; seed++ {
			t.Run(fmt.Sprintf("%s/seed%d", tc.name, seed), func(t *testing.T) {
				v := NewVirtual(VirtualConfig{Faults: tc.faults, Seed: seed, FlushOnError: strings.HasPrefix(tc.name, "flush")})
				now := time.Unix(1000, 0)
				fw := newFirmware(v.cfg, &v.rec, now)
				h := printerdrv.NewHost(printerdrv.HostConfig{RXBuffer: v.cfg.Printer.RXBufferBytes, PingPong: tc.ping, AckTimeout: time.Second}, 0)
				h.EnqueueHost("M110 N0")
				for i, c := range cmds {
					h.Enqueue(c, i)
				}
				for step := 0; !h.Idle(); step++ {
					if step > 200000 {
						t.Fatal("no progress")
					}
					if err := h.Err(); err != nil {
						t.Fatal(err)
					}
					b := h.Next(now)
					fw.feed(b, now)
					fw.step(now)
					out := fw.out
					fw.out = nil
					for _, o := range out {
						for _, l := range strings.Split(strings.TrimSuffix(string(o.data), "\n"), "\n") {
							h.Received(l, now)
						}
					}
					if len(b) == 0 && len(out) == 0 {
						now = now.Add(100 * time.Millisecond)
						h.Tick(now)
					}
				}
				rec := v.Record()
				if got := jobPart(rec.Commands); !slices.Equal(got, cmds) {
					t.Fatalf("executed %d commands, want %d (first difference at %d)", len(got), len(cmds), firstDiff(got, cmds))
				}
				if rec.OverflowBytes != 0 {
					t.Fatalf("overflow %d bytes", rec.OverflowBytes)
				}
				if tc.faults.Corrupt > 0 && rec.Corrupted == 0 || tc.faults.DropOK > 0 && rec.DroppedOKs == 0 {
					t.Fatalf("faults not exercised: %+v", rec)
				}
			})
		}
	}
}
