package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/localgrid"
	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/worker"
)

// fleetPrinter is what the fleet and the checks need of a printer.
type fleetPrinter interface {
	worker.Printer
	Inject(PrinterFault) bool
	Printing() string
	Records() []PrintRecord
	Overlaps() []string
	kill()
}

var (
	_ fleetPrinter = (*SimPrinter)(nil)
	_ fleetPrinter = (*VirtualPrinter)(nil)
)

// VirtualPrinter is the real thing at small scale: every print streams
// its G-code with line numbers and checksums through the worker's own
// printer adapter (worker.MarlinPrinter) and printerdrv's host to
// a vprinter.Virtual Marlin emulator over an in-memory link
// (localgrid.PipePrinter), at Speed
// times real time. Faults are the emulator's own: a thermal runaway or a
// disconnect at a third of the next print's lines, a noisy line
// (1 % of lines corrupted, so resent) from now on.
type VirtualPrinter struct {
	name    NodeID
	profile profile.Printer
	speed   float64

	mu       sync.Mutex
	active   string
	link     *worker.MarlinPrinter // the running print's, connected
	killed   bool
	pending  []PrinterFault
	corrupt  float64
	records  []PrintRecord
	overlaps []string
}

// NewVirtualPrinter returns a virtual printer of the given profile.
func NewVirtualPrinter(name NodeID, p profile.Printer, speed float64) *VirtualPrinter {
	return &VirtualPrinter{name: name, profile: p, speed: speed}
}

// Print streams one job to a fresh emulator (a power-cycled printer).
func (p *VirtualPrinter) Print(ctx context.Context, job string, gcode []string, progress func(worker.PrintProgress)) error {
	p.mu.Lock()
	if p.active != "" {
		p.overlaps = append(p.overlaps, fmt.Sprintf("%s: %s started while %s was printing", p.name, job, p.active))
	}
	p.active, p.killed = job, false
	faults := vprinter.Faults{Corrupt: p.corrupt}
	for _, f := range p.pending {
		switch f {
		case FaultThermalRunaway:
			faults.ThermalRunawayAt = max(2, len(gcode)/3)
		case FaultDisconnect:
			faults.DisconnectAt = max(2, len(gcode)/3)
		}
	}
	p.pending = nil
	p.mu.Unlock()

	h := fnv.New64a()
	h.Write([]byte(job))
	rec := PrintRecord{Printer: p.name, Job: job, Start: time.Now()}
	v, err := localgrid.StartPipePrinter(ctx, vprinter.VirtualConfig{Printer: p.profile, Speed: p.speed, Faults: faults, Seed: int64(h.Sum64() >> 1)},
		printerdrv.Options{StartWait: -1, ProgressEvery: 100 * time.Millisecond})
	if err != nil {
		p.finish(rec, fmt.Errorf("sim: connect virtual printer: %w", err), 0, 0)
		return err
	}
	defer v.Close()
	p.mu.Lock()
	p.link = v.Link
	p.mu.Unlock()
	sum, err := v.Link.PrintJob(ctx, job, gcode, func(pp worker.PrintProgress) {
		if progress != nil {
			pp.ElapsedS *= p.speed // simulated seconds
			progress(pp)
		}
	})
	v.Link.Close()
	vr := v.Record()
	if err == nil && sum.Acked != sum.Commands {
		err = fmt.Errorf("sim: %s acknowledged %d of %d commands", job, sum.Acked, sum.Commands)
	}
	p.finish(rec, err, vr.MotionSeconds+vr.HeatingSeconds, sum.Resends)
	return err
}

func (p *VirtualPrinter) finish(rec PrintRecord, err error, simSeconds float64, resends int) {
	rec.End, rec.SimSeconds, rec.Resends = time.Now(), simSeconds, resends
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err == nil:
		rec.Outcome = "done"
	case p.killed:
		rec.Outcome, rec.Reason = "interrupted", err.Error()
	case errors.Is(err, printerdrv.ErrCancelled):
		rec.Outcome, rec.Reason = "cancelled", err.Error()
	default:
		rec.Outcome, rec.Reason = "failed", err.Error()
	}
	p.records = append(p.records, rec)
	p.active, p.link = "", nil
}

func (p *VirtualPrinter) current() *worker.MarlinPrinter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.link
}

// Pause holds the stream.
func (p *VirtualPrinter) Pause() error {
	if l := p.current(); l != nil {
		return l.Pause()
	}
	return nil
}

// Resume releases it.
func (p *VirtualPrinter) Resume() error {
	if l := p.current(); l != nil {
		return l.Resume()
	}
	return nil
}

// Cancel runs the safe cancel sequence.
func (p *VirtualPrinter) Cancel() error {
	if l := p.current(); l != nil {
		return l.Cancel()
	}
	return nil
}

// Inject queues a fault for the next print (the emulator's faults are
// fixed when it powers on); a noisy line stays. It reports whether a print
// was running.
func (p *VirtualPrinter) Inject(f PrinterFault) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f == FaultNoisyLine {
		p.corrupt = 0.01
	} else {
		p.pending = append(p.pending, f)
	}
	return p.active != ""
}

// kill drops the link as a host crash would.
func (p *VirtualPrinter) kill() {
	p.mu.Lock()
	l := p.link
	if l != nil {
		p.killed = true
	}
	p.mu.Unlock()
	if l != nil {
		l.Close()
	}
}

// Printing returns the job being printed, or "".
func (p *VirtualPrinter) Printing() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active
}

// Records returns the printer's print records.
func (p *VirtualPrinter) Records() []PrintRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PrintRecord(nil), p.records...)
}

// Overlaps lists prints started while another ran.
func (p *VirtualPrinter) Overlaps() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.overlaps...)
}
