package localgrid

import (
	"context"
	"io"

	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/printerdrv/vprinter"
	"github.com/fabgrid/fabgrid/worker"
)

// PTYPrinter is a virtual printer (vprinter.Virtual) serving a
// pseudo-terminal at Path, as a real printer's USB serial port appears.
type PTYPrinter struct {
	*vprinter.Virtual
	Path string
	stop context.CancelFunc
}

// StartPTYPrinter powers on a virtual printer of cfg on a new
// pseudo-terminal; Close powers it off.
func StartPTYPrinter(cfg vprinter.VirtualConfig) (*PTYPrinter, error) {
	v := vprinter.NewVirtual(cfg)
	ctx, stop := context.WithCancel(context.Background())
	path, err := v.ServePTY(ctx)
	if err != nil {
		stop()
		return nil, err
	}
	return &PTYPrinter{Virtual: v, Path: path, stop: stop}, nil
}

// Close powers the printer off and waits for it.
func (p *PTYPrinter) Close() error {
	p.stop()
	return p.Wait()
}

// PipePrinter is a virtual printer (vprinter.Virtual) on an in-memory
// serial link, and the worker's adapter (worker.MarlinPrinter) connected
// to it: Link prints through printerdrv's host as a worker does.
type PipePrinter struct {
	*vprinter.Virtual
	Link   *worker.MarlinPrinter
	stop   context.CancelFunc
	dev    io.Closer
	served chan struct{}
}

// StartPipePrinter powers on a virtual printer of cfg and connects Link
// to it with opts (opts.Printer is cfg.Printer); Close powers it off.
func StartPipePrinter(ctx context.Context, cfg vprinter.VirtualConfig, opts printerdrv.Options) (*PipePrinter, error) {
	v := vprinter.NewVirtual(cfg)
	host, dev := vprinter.Pipe()
	sctx, stop := context.WithCancel(context.Background())
	p := &PipePrinter{Virtual: v, stop: stop, dev: dev, served: make(chan struct{})}
	go func() { defer close(p.served); _ = v.Serve(sctx, dev) }()
	opts.Printer = cfg.Printer
	p.Link = &worker.MarlinPrinter{Profile: cfg.Printer, Dial: func(ctx context.Context) (*printerdrv.Conn, error) {
		return printerdrv.Connect(ctx, host, opts)
	}}
	if err := p.Link.Connect(ctx); err != nil {
		host.Close()
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close closes the link, powers the printer off and waits for it.
func (p *PipePrinter) Close() error {
	p.Link.Close()
	p.stop()
	p.dev.Close()
	<-p.served
	return nil
}
