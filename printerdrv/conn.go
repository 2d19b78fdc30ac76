package printerdrv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fabgrid/fabgrid/profile"
)

// Options configure a connection. Zero values take defaults.
type Options struct {
	// Printer gives the flow control mode and RX buffer size
	// (profile.FlowBuffered counts bytes against RXBufferBytes;
	// profile.FlowPingPong sends one command at a time).
	Printer profile.Printer
	// StartWait is how long to wait for the firmware's "start" after the
	// port opens (boards reset on open). Default 2 s; negative: do not wait.
	StartWait time.Duration
	// HandshakeTimeout bounds M110/M115/M155. Default 10 s.
	HandshakeTimeout time.Duration
	// HostConfig holds the protocol's timeouts and limits. RXBuffer and
	// PingPong, when zero, come from Printer; PollInterval is used only
	// when the firmware lacks AUTOREPORT_TEMP (default 2 s).
	HostConfig
	// ReportSeconds is the M155 auto-report interval when supported (default 2).
	ReportSeconds int
	// ProgressEvery is the minimum interval between progress callbacks
	// (default 250 ms; the last one always comes).
	ProgressEvery time.Duration
	// CancelTimeout bounds the safe sequence after a cancel (default 30 s).
	CancelTimeout time.Duration
	// NoPark keeps the head where it is on Pause; by default a job that
	// has homed and started printing is parked (see park.go).
	NoPark bool
	Logger *slog.Logger
	Now    func() time.Time
}

func (o Options) withDefaults() Options {
	if o.StartWait == 0 {
		o.StartWait = 2 * time.Second
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.ReportSeconds <= 0 {
		o.ReportSeconds = 2
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 250 * time.Millisecond
	}
	if o.CancelTimeout <= 0 {
		o.CancelTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Firmware is what M115 told about the printer.
type Firmware struct {
	Name string          // the FIRMWARE_NAME line
	Caps map[string]bool // Cap: lines (AUTOREPORT_TEMP, EMERGENCY_PARSER, ADVANCED_OK…)
	// Flavour is the dialect the connection speaks: the one FIRMWARE_NAME
	// names, or else the profile's firmware field.
	Flavour Flavour
}

// CancelSequence is sent when a job is cancelled: heaters off, fan off,
// lift Z, motors off.
var CancelSequence = []string{"M104 S0", "M140 S0", "M106 S0", "G91", "G1 Z10 F600", "G90", "M84"}

// Progress is reported while a job streams.
type Progress struct {
	Percent       float64
	Acked, Total  int // job commands acknowledged / in the job
	Layer, Layers int
	Temps         Temps
	Elapsed, ETA  time.Duration
	Resends       int
	Paused        bool
}

// Summary is the result of one job.
type Summary struct {
	Job      string        `json:"job"`
	Commands int           `json:"commands"`     // job commands
	Acked    int           `json:"acked"`        // job commands acknowledged
	Sent     int           `json:"lines_sent"`   // lines written, host lines and resends included
	Resends  int           `json:"resends"`      // resend requests acted on
	Resent   int           `json:"lines_resent"` // lines written again
	Pokes    int           `json:"pokes"`        // M105 pokes after a lost ok
	Duration time.Duration `json:"duration_ns"`
	Outcome  string        `json:"outcome"` // "done", "cancelled", "failed"
	Error    string        `json:"error,omitempty"`
}

// Conn is a connection to a printer. Print runs one job at a time; Pause,
// Resume, Cancel and EmergencyStop may be called from any goroutine.
type Conn struct {
	rw   io.ReadWriteCloser
	opts Options
	host *Host
	fw   Firmware
	log  *slog.Logger

	lines   chan string
	readErr chan error
	ctl     chan ctlMsg
	wmu     sync.Mutex

	ctx    context.Context
	cancel context.CancelFunc

	printing atomic.Bool
	wg       sync.WaitGroup
}

type ctlMsg int

const (
	ctlPause ctlMsg = iota + 1
	ctlResume
	ctlCancel
	ctlStop
)

// Connect performs the handshake on an open link: wait for "start", reset
// line numbers with M110 N0, read M115 capabilities, and turn on
// temperature auto-report (M155) when the firmware offers it.
func Connect(ctx context.Context, rw io.ReadWriteCloser, opts Options) (*Conn, error) {
	opts = opts.withDefaults()
	cctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		rw: rw, opts: opts, log: opts.Logger,
		lines: make(chan string, 256), readErr: make(chan error, 1), ctl: make(chan ctlMsg, 8),
		ctx: cctx, cancel: cancel,
		fw: Firmware{Caps: map[string]bool{}},
	}
	c.wg.Go(c.readLoop)
	if err := c.handshake(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// hostConfig is the host's configuration before the handshake: no M105
// polling until the firmware turns out to lack auto-report.
func (c *Conn) hostConfig() HostConfig {
	cfg, p := c.opts.HostConfig, c.opts.Printer
	if cfg.RXBuffer <= 0 {
		cfg.RXBuffer = p.RXBufferBytes
	}
	cfg.PingPong = cfg.PingPong || p.FlowControl == profile.FlowPingPong
	cfg.PollInterval = 0
	if f, err := ParseFlavour(p.Firmware); err == nil {
		cfg.Flavour = f
	} else {
		c.log.Warn("unknown firmware flavour in the profile, speaking Marlin until M115 says otherwise", "firmware", p.Firmware)
	}
	return cfg
}

// chooseFlavour switches the host to the flavour M115 named, when it named
// one; the firmware's own word beats the profile's. A host that sent bare
// lines (a Klipper profile) to numbering firmware starts its count with M110.
func (c *Conn) chooseFlavour() {
	c.fw.Flavour = c.host.Flavour()
	f, ok := FlavourFromM115(c.fw.Name)
	if !ok || f == c.fw.Flavour {
		return
	}
	if f.Numbered() && !c.fw.Flavour.Numbered() {
		c.host.EnqueueHost(fmt.Sprintf("M110 N%d", c.host.NextLine()))
	}
	if c.opts.Printer.Firmware != "" {
		c.log.Info("the firmware is not the profile's flavour; speaking the firmware's",
			"profile", c.opts.Printer.Firmware, "firmware", f.String(), "name", c.fw.Name)
	}
	c.host.SetFlavour(f)
	c.fw.Flavour = f
}

func (c *Conn) handshake(ctx context.Context) error {
	if c.opts.StartWait > 0 {
		// Boards that reset when the port opens print "start" after
		// booting; one that did not reset answers a probe at once.
		// Klipper says "// Klipper state: Ready" where Marlin says "start".
		parse := c.hostConfig().Flavour.Parse
		t := time.NewTimer(c.opts.StartWait)
		probe := time.NewTimer(min(300*time.Millisecond, c.opts.StartWait/2))
		defer probe.Stop()
	wait:
		for {
			select {
			case l := <-c.lines:
				if k := parse(l).Kind; k == KindStart || k == KindOK {
					break wait
				}
			case <-probe.C:
				if err := c.write([]byte("M105\n")); err != nil {
					t.Stop()
					return fmt.Errorf("%w: during connect: %w", ErrDisconnected, err)
				}
			case err := <-c.readErr:
				t.Stop()
				return fmt.Errorf("%w: during connect: %w", ErrDisconnected, err)
			case <-t.C:
				break wait
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		t.Stop()
	}
	// Discard what the firmware printed while booting.
	for drained := false; !drained; {
		select {
		case <-c.lines:
		case <-time.After(20 * time.Millisecond):
			drained = true
		}
	}
	hctx, cancel := context.WithTimeout(ctx, c.opts.HandshakeTimeout)
	defer cancel()
	onEvent := func(e Event) error {
		switch {
		case e.Kind == EvInfo && e.Resp.Kind == KindFirmware:
			c.fw.Name = e.Resp.Text
		case e.Kind == EvInfo && e.Resp.Kind == KindCap:
			c.fw.Caps[e.Resp.Cap] = e.Resp.CapOn
		}
		return nil
	}
	// A corrupted M110 leaves the firmware's line count stale, and it asks
	// for a line this connection never sent: start over, a few times.
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		c.host = NewHost(c.hostConfig(), 0)
		c.host.EnqueueHost("M110 N0")
		c.host.EnqueueHost("M115")
		if err = c.loop(hctx, onEvent, nil); !errors.Is(err, ErrCommStuck) {
			break
		}
	}
	if err != nil {
		return handshakeErr(err, c.opts.HandshakeTimeout)
	}
	c.chooseFlavour()
	if !c.host.Idle() {
		if err := c.loop(hctx, onEvent, nil); err != nil {
			return handshakeErr(err, c.opts.HandshakeTimeout)
		}
	}
	if c.fw.Caps["AUTOREPORT_TEMP"] {
		c.host.EnqueueHost(fmt.Sprintf("M155 S%d", c.opts.ReportSeconds))
		if err := c.loop(hctx, onEvent, nil); err != nil {
			return handshakeErr(err, c.opts.HandshakeTimeout)
		}
	} else {
		cfg := c.host.cfg
		cfg.PollInterval = c.opts.PollInterval
		c.host.cfg = cfg
	}
	c.log.Info("printer connected", "firmware", c.fw.Name, "flavour", c.fw.Flavour.String(), "caps", c.fw.Caps)
	return nil
}

func handshakeErr(err error, limit time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: no answer to M110/M115 within %s (is the baud rate right? is the printer halted? power-cycle it)", ErrTimeout, limit)
	}
	return fmt.Errorf("printerdrv: handshake: %w", err)
}

// Firmware returns what M115 reported.
func (c *Conn) Firmware() Firmware { return c.fw }

// maxLine bounds one line from the firmware; longer ones (noise, a
// misconfigured baud rate) are dropped rather than buffered without end.
const maxLine = 4096

func (c *Conn) readLoop() {
	r := bufio.NewReaderSize(c.rw, maxLine)
	long := false
	for {
		b, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = true
			continue
		}
		if long {
			long = false
			b = nil
		}
		if l := strings.TrimRight(string(b), "\r\n"); l != "" {
			select {
			case c.lines <- l:
			case <-c.ctx.Done():
				return
			}
		}
		if err != nil {
			select {
			case c.readErr <- err:
			case <-c.ctx.Done():
			}
			return
		}
	}
}

func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.rw.Write(b)
	return err
}

// loop drives the host until it is idle, fails, or ctx ends. onCtl handles
// control messages during a print (nil outside one).
func (c *Conn) loop(ctx context.Context, onEvent func(Event) error, onTick func(now time.Time) error) error {
	h := c.host
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	lastTick := c.opts.Now()
	for {
		now := c.opts.Now()
		if now.Sub(lastTick) >= 10*time.Millisecond {
			h.Tick(now)
			lastTick = now
		}
		if b := h.Next(now); len(b) > 0 {
			if err := c.write(b); err != nil {
				h.Fail(fmt.Errorf("%w: write: %w", ErrDisconnected, err))
			}
		}
		for _, e := range h.Events() {
			if e.Kind == EvFatal {
				continue
			}
			if err := onEvent(e); err != nil {
				h.Fail(err)
			}
		}
		if err := h.Err(); err != nil {
			return err
		}
		if onTick != nil {
			if err := onTick(now); err != nil {
				return err
			}
		}
		if h.Idle() {
			return nil
		}
		select {
		case l := <-c.lines:
			h.Received(l, c.opts.Now())
		more:
			for range 64 {
				select {
				case l := <-c.lines:
					h.Received(l, c.opts.Now())
				default:
					break more
				}
			}
		case err := <-c.readErr:
			// Lines read before the error still count.
			for len(c.lines) > 0 {
				h.Received(<-c.lines, c.opts.Now())
			}
			if h.Err() == nil {
				h.Fail(fmt.Errorf("%w: %w", ErrDisconnected, err))
			}
			c.readErr <- err // later loops see it too
		case <-ticker.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Pause stops sending job commands after the ones already sent and, once
// they are done, parks the head (unless Options.NoPark; see park.go).
func (c *Conn) Pause() { c.send(ctlPause) }

// Resume brings a parked head back and continues a paused job.
func (c *Conn) Resume() { c.send(ctlResume) }

// Cancel stops the job: commands not yet sent are dropped and the
// CancelSequence is sent; Print then returns ErrCancelled.
func (c *Conn) Cancel() { c.send(ctlCancel) }

func (c *Conn) send(m ctlMsg) {
	select {
	case c.ctl <- m:
	default:
	}
}

// EmergencyStop writes M112 at once, out of band (firmware with
// EMERGENCY_PARSER acts on it immediately), and ends the job with ErrHalted.
func (c *Conn) EmergencyStop() error {
	err := c.write([]byte("M112\n"))
	c.send(ctlStop)
	if err != nil {
		return fmt.Errorf("%w: emergency stop: %w", ErrDisconnected, err)
	}
	return nil
}

// Close stops the reader and closes the link.
func (c *Conn) Close() error {
	c.cancel()
	err := c.rw.Close()
	c.wg.Wait()
	return err
}
