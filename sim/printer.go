package sim

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/worker"
)

// Printer faults the simulation can inject.
type PrinterFault string

const (
	// FaultThermalRunaway stops the print in progress the way Marlin's
	// thermal protection does.
	FaultThermalRunaway PrinterFault = "thermal-runaway"
	// FaultDisconnect drops the serial line under the print in progress.
	FaultDisconnect PrinterFault = "disconnect"
	// FaultNoisyLine corrupts lines on the wire from now on: every print
	// takes longer for the resends but completes.
	FaultNoisyLine PrinterFault = "noisy-line"
)

// Errors a simulated print ends with.
var (
	ErrThermalRunaway = errors.New("sim: printer halted: thermal runaway (hotend)")
	ErrDisconnected   = errors.New("sim: printer disconnected")
	ErrCancelled      = errors.New("sim: print cancelled")
	ErrHostStopped    = errors.New("sim: host stopped streaming")
)

// estMarker is the G-code comment that carries a job's simulated
// duration to the simulated printer (CachedSlicer appends it).
const estMarker = "; fabgrid-sim est_s="

// PrintRecord is one print as the printer saw it.
type PrintRecord struct {
	Printer NodeID    `json:"printer"`
	Job     string    `json:"job"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// SimSeconds is the simulated print time (the estimate, longer on a
	// noisy line); Outcome is "done", "failed", "cancelled" or
	// "interrupted".
	SimSeconds float64 `json:"sim_seconds"`
	Outcome    string  `json:"outcome"`
	Reason     string  `json:"reason,omitempty"`
	Resends    int     `json:"resends,omitempty"`
}

// SimPrinter is a simulated printer behind the real worker: a print takes
// its estimated time divided by the speed-up, reports progress, obeys
// pause, resume and cancel, and fails on injected faults. It keeps a
// record of every print and of any second print started while one ran.
type SimPrinter struct {
	name    NodeID
	speedUp float64
	tick    time.Duration

	mu       sync.Mutex
	active   string
	stop     chan error // ends the active print
	paused   bool
	pending  []PrinterFault // faults for the next print
	noise    float64        // fraction of lines resent
	records  []PrintRecord
	overlaps []string
}

var _ worker.Printer = (*SimPrinter)(nil)

// NewSimPrinter returns a printer whose prints run speedUp times faster
// than their estimate.
func NewSimPrinter(name NodeID, speedUp float64) *SimPrinter {
	if speedUp <= 0 {
		speedUp = 1
	}
	return &SimPrinter{name: name, speedUp: speedUp, tick: 50 * time.Millisecond}
}

// Print runs one simulated print.
func (p *SimPrinter) Print(ctx context.Context, job string, gcode []string, progress func(worker.PrintProgress)) error {
	est := estimateOf(gcode)
	p.mu.Lock()
	if p.active != "" {
		p.overlaps = append(p.overlaps, fmt.Sprintf("%s: %s started while %s was printing", p.name, job, p.active))
	}
	stop := make(chan error, 1)
	p.active, p.stop = job, stop
	faults := p.pending
	p.pending = nil
	noise := p.noise
	p.mu.Unlock()

	rec := PrintRecord{Printer: p.name, Job: job, Start: time.Now()}
	resends := int(noise * float64(len(gcode)))
	sim := est * (1 + noise)
	rec.SimSeconds, rec.Resends = sim, resends
	err := p.run(ctx, sim, stop, faults, progress)
	rec.End = time.Now()
	switch {
	case err == nil:
		rec.Outcome = "done"
	case errors.Is(err, ErrCancelled):
		rec.Outcome, rec.Reason = "cancelled", err.Error()
	case errors.Is(err, ErrHostStopped), ctx.Err() != nil:
		rec.Outcome, rec.Reason = "interrupted", err.Error()
	default:
		rec.Outcome, rec.Reason = "failed", err.Error()
	}
	p.mu.Lock()
	if p.active == job {
		p.active, p.stop = "", nil
	}
	p.records = append(p.records, rec)
	p.mu.Unlock()
	return err
}

func (p *SimPrinter) run(ctx context.Context, simSeconds float64, stop <-chan error, faults []PrinterFault, progress func(worker.PrintProgress)) error {
	total := time.Duration(simSeconds / p.speedUp * float64(time.Second))
	// A fault queued before the print strikes a third of the way in.
	failAt := time.Duration(-1)
	var failErr error
	for _, f := range faults {
		switch f {
		case FaultThermalRunaway:
			failAt, failErr = total/3, ErrThermalRunaway
		case FaultDisconnect:
			failAt, failErr = total/3, ErrDisconnected
		}
	}
	var done time.Duration
	t := time.NewTicker(p.tick)
	defer t.Stop()
	layers := max(1, int(simSeconds/30))
	for done < total {
		if failAt >= 0 && done >= failAt {
			return failErr
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrHostStopped, ctx.Err())
		case err := <-stop:
			return err
		case <-t.C:
		}
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		if !paused {
			done += p.tick
		}
		frac := min(1, float64(done)/float64(max(total, 1)))
		progress(worker.PrintProgress{
			Percent: 100 * frac, Layer: int(frac * float64(layers)), Layers: layers,
			HotendC: 205, BedC: 60, ETAS: simSeconds * (1 - frac),
			Acked:    int(done / p.tick),         // one acknowledged command a tick while running
			ElapsedS: done.Seconds() * p.speedUp, // simulated seconds
		})
	}
	return nil
}

// estimateOf reads the simulated duration CachedSlicer put into the G-code.
func estimateOf(gcode []string) float64 {
	for i := len(gcode) - 1; i >= 0 && i >= len(gcode)-3; i-- {
		if s, ok := strings.CutPrefix(gcode[i], estMarker); ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil && v > 0 {
				return v
			}
		}
	}
	return 60
}

// Pause holds the print.
func (p *SimPrinter) Pause() error {
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
	return nil
}

// Resume releases it.
func (p *SimPrinter) Resume() error {
	p.mu.Lock()
	p.paused = false
	p.mu.Unlock()
	return nil
}

// Cancel stops the print in progress.
func (p *SimPrinter) Cancel() error { return p.end(ErrCancelled) }

func (p *SimPrinter) end(err error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused = false
	if p.stop != nil {
		select {
		case p.stop <- err:
		default:
		}
	}
	return nil
}

// Inject applies a fault: thermal runaway and disconnect end the print in
// progress (or strike the next one if none runs); a noisy line stays.
// It reports whether a print was running.
func (p *SimPrinter) Inject(f PrinterFault) bool {
	p.mu.Lock()
	running := p.active != ""
	switch f {
	case FaultNoisyLine:
		p.noise = 0.05
		p.mu.Unlock()
		return running
	case FaultThermalRunaway, FaultDisconnect:
		if !running {
			p.pending = append(p.pending, f)
		}
	}
	p.mu.Unlock()
	if running {
		err := ErrThermalRunaway
		if f == FaultDisconnect {
			err = ErrDisconnected
		}
		p.end(err)
	}
	return running
}

// kill ends the print in progress as a crash of its host would.
func (p *SimPrinter) kill() { p.end(ErrHostStopped) }

// Printing returns the job being printed, or "".
func (p *SimPrinter) Printing() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active
}

// Records returns the printer's print records.
func (p *SimPrinter) Records() []PrintRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PrintRecord(nil), p.records...)
}

// Overlaps lists prints started while another ran.
func (p *SimPrinter) Overlaps() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.overlaps...)
}
