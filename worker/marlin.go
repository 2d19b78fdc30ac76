package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/profile"
)

// MarlinPrinter drives a Marlin printer through printerdrv: the one adapter
// from printerdrv to Printer, used by the worker and by the simulation's
// virtual printers. It connects on the first Print (and again after the
// link was lost, the board reset or the firmware halted), so a printer
// switched on after the worker started, or unplugged between jobs, is
// picked up again.
type MarlinPrinter struct {
	// Dial opens and handshakes the link (printerdrv.Open + Connect).
	Dial    func(ctx context.Context) (*printerdrv.Conn, error)
	Profile profile.Printer
	Logger  *slog.Logger

	mu   sync.Mutex
	conn *printerdrv.Conn
}

var _ Printer = (*MarlinPrinter)(nil)

// NewMarlinPrinter returns a printer on the serial port (or pty) at path.
func NewMarlinPrinter(path string, baud int, p profile.Printer, opts printerdrv.Options, log *slog.Logger) *MarlinPrinter {
	if baud <= 0 {
		baud = p.Baud
	}
	opts.Printer = p
	if opts.Logger == nil {
		opts.Logger = log
	}
	return &MarlinPrinter{
		Profile: p, Logger: log,
		Dial: func(ctx context.Context) (*printerdrv.Conn, error) {
			rw, err := printerdrv.Open(ctx, path, baud)
			if err != nil {
				return nil, err
			}
			c, err := printerdrv.Connect(ctx, rw, opts)
			if err != nil {
				rw.Close()
				return nil, err
			}
			return c, nil
		},
	}
}

// Connect opens the link now (the worker checks the printer at start).
func (p *MarlinPrinter) Connect(ctx context.Context) error {
	_, err := p.get(ctx)
	return err
}

func (p *MarlinPrinter) get(ctx context.Context) (*printerdrv.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn != nil {
		return p.conn, nil
	}
	c, err := p.Dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to printer: %w", err)
	}
	p.conn = c
	return c, nil
}

func (p *MarlinPrinter) current() *printerdrv.Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conn
}

// Print streams gcode; errors wrap printerdrv's sentinels (ErrThermalRunaway,
// ErrDisconnected, ErrReset, ErrCancelled…).
func (p *MarlinPrinter) Print(ctx context.Context, name string, gcode []string, progress func(PrintProgress)) error {
	_, err := p.PrintJob(ctx, name, gcode, progress)
	return err
}

// PrintJob is Print that also returns printerdrv's summary of the job
// (commands acknowledged, resends).
func (p *MarlinPrinter) PrintJob(ctx context.Context, name string, gcode []string, progress func(PrintProgress)) (printerdrv.Summary, error) {
	c, err := p.get(ctx)
	if err != nil {
		return printerdrv.Summary{}, err
	}
	sum, err := c.Print(ctx, printerdrv.Job{Name: name, Lines: gcode, Printer: p.Profile}, func(pp printerdrv.Progress) {
		if progress != nil {
			progress(PrintProgress{Percent: pp.Percent, Layer: pp.Layer, Layers: pp.Layers,
				HotendC: pp.Temps.Hotend, BedC: pp.Temps.Bed, ETAS: pp.ETA.Seconds(), Acked: pp.Acked, ElapsedS: pp.Elapsed.Seconds()})
		}
	})
	if errors.Is(err, printerdrv.ErrDisconnected) || errors.Is(err, printerdrv.ErrReset) ||
		errors.Is(err, printerdrv.ErrHalted) || errors.Is(err, printerdrv.ErrThermalRunaway) ||
		errors.Is(err, printerdrv.ErrTimeout) || errors.Is(err, printerdrv.ErrCommStuck) {
		p.drop(c)
	}
	return sum, err
}

func (p *MarlinPrinter) drop(c *printerdrv.Conn) {
	p.mu.Lock()
	if p.conn == c {
		p.conn = nil
	}
	p.mu.Unlock()
	_ = c.Close()
}

// Pause holds the stream after the commands already sent.
func (p *MarlinPrinter) Pause() error {
	if c := p.current(); c != nil {
		c.Pause()
	}
	return nil
}

// Resume releases a paused stream.
func (p *MarlinPrinter) Resume() error {
	if c := p.current(); c != nil {
		c.Resume()
	}
	return nil
}

// Cancel drops what is not sent yet and sends the safe sequence (heaters
// off, lift, motors off); Print then returns printerdrv.ErrCancelled.
func (p *MarlinPrinter) Cancel() error {
	if c := p.current(); c != nil {
		c.Cancel()
	}
	return nil
}

// Close closes the link.
func (p *MarlinPrinter) Close() error {
	p.mu.Lock()
	c := p.conn
	p.conn = nil
	p.mu.Unlock()
	if c != nil {
		return c.Close()
	}
	return nil
}
