package printerdrv

import (
	"fmt"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/gcode"
)

// HostConfig tunes the protocol state machine. Zero values take defaults.
type HostConfig struct {
	// RXBuffer is the firmware's serial receive buffer in bytes (Marlin's
	// RX_BUFFER_SIZE, profile.Printer.RXBufferBytes). Unacknowledged bytes
	// never exceed it. Default 128.
	RXBuffer int
	// PingPong keeps one command in flight (profile.FlowPingPong).
	PingPong bool
	// AckTimeout is how long commands may stay unacknowledged, with nothing
	// heard from the firmware, before the host pokes it with M105. Default 3 s.
	AckTimeout time.Duration
	// LongTimeout replaces AckTimeout while a long command (G28, G29, M109,
	// M190, M400, G4) is in flight. "busy" reports extend both. Default 10 min.
	LongTimeout time.Duration
	// MaxPokes is how many unanswered M105 pokes end the job with ErrTimeout.
	// Default 3.
	MaxPokes int
	// MaxResends is how many consecutive resend requests for one line end
	// the job with ErrCommStuck. Default 12.
	MaxResends int
	// ResendSettle is how long to wait for the repeated resend requests that
	// lines already in flight cause before resending anyway (firmware that
	// flushes its buffer on an error drops those lines silently). Default 50 ms.
	ResendSettle time.Duration
	// PollInterval, when positive, inserts M105 between commands at this
	// interval (for firmware without AUTOREPORT_TEMP).
	PollInterval time.Duration
	// Flavour is the firmware's dialect (flavour.go). The zero value is
	// Marlin; RepRapFirmware implies PingPong.
	Flavour Flavour
}

func (c HostConfig) withDefaults() HostConfig {
	if c.RXBuffer <= 0 {
		c.RXBuffer = 128
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 3 * time.Second
	}
	if c.LongTimeout <= 0 {
		c.LongTimeout = 10 * time.Minute
	}
	if c.MaxPokes <= 0 {
		c.MaxPokes = 3
	}
	if c.MaxResends <= 0 {
		c.MaxResends = 12
	}
	if c.ResendSettle <= 0 {
		c.ResendSettle = 50 * time.Millisecond
	}
	if c.Flavour.PingPong() {
		c.PingPong = true
	}
	return c
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	EvResend EventKind = iota + 1 // the firmware asked for a line again
	EvBusy                        // the firmware is busy (long command)
	EvTemp                        // a temperature report
	EvError                       // a non-fatal error line
	EvFatal                       // the job cannot go on: Err holds the sentinel
	EvStart                       // the firmware printed "start" (boot or reset)
	EvInfo                        // M115 firmware/capability lines and other echo
	EvPoke                        // no answer in time: an M105 poke was queued
)

// Event is something the host saw, for the driver to act on or report.
type Event struct {
	Kind  EventKind
	Line  int // resend line
	Resp  Response
	Temps Temps
	Err   error
}

// HostStats counts what the host did.
type HostStats struct {
	Sent        int // lines written, including retransmissions
	Resent      int // lines retransmitted
	Resends     int // resend requests acted on (not counting duplicates)
	Duplicates  int // repeated resend requests caused by lines in flight
	Pokes       int // M105 pokes after a silence
	SpuriousOKs int // oks with nothing in flight
	Acked       int // job commands acknowledged
}

// entry is one command, numbered once it is first sent.
type entry struct {
	n     int
	cmd   string
	wire  string
	tag   int // job command index, or -1 for a command the host added
	long  bool
	m105  bool
	force bool // a poke: may use the bytes of the oldest (presumed lost) ok
}

// Host is the host side of the Marlin line protocol as a pure state machine:
// no goroutines, no clock, no I/O. The driver feeds it received lines and
// the time, and writes what Next returns.
type Host struct {
	cfg      HostConfig
	pingPong bool // as configured, before the flavour's rule

	nextN  int
	job    []entry // job commands not yet sent
	prio   []entry // host commands (polls, pokes, cancel) sent before the job
	urgent []entry // unnumbered lines for the emergency parser, sent at once
	hold   bool    // paused: job commands wait, host commands go

	hist      []entry // sent lines by number, for resends
	resendQ   []int   // line numbers to retransmit, in order
	inflight  []entry // sent and not yet acknowledged, oldest first
	inBytes   int
	ghosts    []int // bytes of lines in flight when a resend was asked for
	ghostSum  int
	episodeK  int
	settleAt  time.Time
	swallowOK bool

	lastResendK int
	sameCount   int

	shutdown   bool // Klipper shut down: waiting for the reason ("!! …")
	shutdownAt time.Time

	lastProgress time.Time
	lastPoll     time.Time
	pokes        int

	temps   Temps
	lastTag int
	stats   HostStats
	events  []Event
	fatal   error
	out     []byte
}

// NewHost returns a host whose first line will be numbered firstN.
func NewHost(cfg HostConfig, firstN int) *Host {
	return &Host{cfg: cfg.withDefaults(), pingPong: cfg.PingPong, nextN: firstN, lastTag: -1, lastResendK: -1, episodeK: -1}
}

// Enqueue adds a job command (already stripped of comments); tag is its index
// in the job, reported back as progress.
func (h *Host) Enqueue(cmd string, tag int) {
	h.job = append(h.job, newEntry(cmd, tag))
}

// EnqueueHost adds a command the host itself needs (status poll, cancel
// sequence). It goes before any job command not yet sent and is sent even
// while the host holds the job.
func (h *Host) EnqueueHost(cmd string) {
	h.prio = append(h.prio, newEntry(cmd, -1))
}

func newEntry(cmd string, tag int) entry {
	c := gcode.Lex(cmd).Code
	return entry{cmd: cmd, tag: tag, long: isLong(c), m105: c == gcode.M(105)}
}

// Urgent sends cmd at the next Next, unnumbered and ahead of the flow
// control, for firmware whose emergency parser acts on it on arrival (M108
// ends a heating wait). Marlin still queues such a line and answers it with
// an ok in turn, so it is tracked in flight like any other.
func (h *Host) Urgent(cmd string) {
	e := newEntry(cmd, -1)
	e.n = -1
	e.wire = cmd + "\n"
	h.urgent = append(h.urgent, e)
}

// SetFlavour changes the dialect once the firmware has named itself (M115);
// call it between exchanges, with nothing in flight. Going from bare lines
// to numbered ones, the firmware's line count is stale: send M110 next.
func (h *Host) SetFlavour(f Flavour) {
	h.cfg.Flavour, h.cfg.PingPong = f, h.pingPong
	h.cfg = h.cfg.withDefaults()
}

// Flavour is the dialect the host speaks.
func (h *Host) Flavour() Flavour { return h.cfg.Flavour }

// Hold pauses (true) or resumes (false) sending job commands.
func (h *Host) Hold(on bool) { h.hold = on }

// JobPending is the number of job commands not yet sent.
func (h *Host) JobPending() int { return len(h.job) }

// DropJob forgets the job commands not yet sent and returns how many.
func (h *Host) DropJob() int {
	n := len(h.job)
	h.job = nil
	return n
}

// Idle reports whether everything enqueued has been sent and acknowledged.
func (h *Host) Idle() bool {
	return len(h.job) == 0 && len(h.prio) == 0 && len(h.urgent) == 0 && len(h.resendQ) == 0 && len(h.inflight) == 0 && len(h.ghosts) == 0
}

// Err is the fatal error that stopped the host, or nil.
func (h *Host) Err() error { return h.fatal }

// Stats returns the counters so far.
func (h *Host) Stats() HostStats { return h.stats }

// Temps returns the latest temperature report.
func (h *Host) Temps() Temps { return h.temps }

// LastAcked is the tag of the latest acknowledged job command, or -1.
func (h *Host) LastAcked() int { return h.lastTag }

// NextLine is the number the next new line will get.
func (h *Host) NextLine() int { return h.nextN }

// InFlight returns the number of unacknowledged lines and their bytes
// (including lines whose fate after a resend request is not yet known).
func (h *Host) InFlight() (lines, bytes int) {
	return len(h.inflight) + len(h.ghosts), h.inBytes + h.ghostSum
}

// Events returns and clears the events since the last call.
func (h *Host) Events() []Event {
	ev := h.events
	h.events = nil
	return ev
}

func (h *Host) emit(e Event) { h.events = append(h.events, e) }

func (h *Host) fail(err error) {
	if h.fatal == nil {
		h.fatal = err
		h.emit(Event{Kind: EvFatal, Err: err})
	}
}

// Fail stops the host with err (for the driver: disconnects, cancels).
func (h *Host) Fail(err error) { h.fail(err) }

func (h *Host) canSend(n int, force bool) bool {
	used := h.inBytes + h.ghostSum
	if force && len(h.inflight) > 0 {
		used -= h.inflight[0].wireLen()
	}
	if len(h.inflight) == 0 && len(h.ghosts) == 0 {
		return true
	}
	if h.cfg.PingPong {
		// A poke goes even so: one ok is presumed lost and M105 is short.
		return force && len(h.ghosts) == 0
	}
	return used+n <= h.cfg.RXBuffer
}

func (e entry) wireLen() int { return len(e.wire) }

func (h *Host) send(e entry, now time.Time) {
	if len(h.inflight) == 0 {
		h.lastProgress = now
	}
	h.inflight = append(h.inflight, e)
	h.inBytes += len(e.wire)
	h.out = append(h.out, e.wire...)
	h.stats.Sent++
}

// Next returns the bytes to write now (nil if nothing may be sent). The
// returned slice is valid until the next call.
func (h *Host) Next(now time.Time) []byte {
	h.out = h.out[:0]
	if h.fatal != nil {
		return nil
	}
	for _, e := range h.urgent {
		h.send(e, now)
	}
	h.urgent = h.urgent[:0]
	if len(h.ghosts) > 0 {
		if now.Before(h.settleAt) {
			return nil
		}
		h.ghosts, h.ghostSum = h.ghosts[:0], 0
	}
	for len(h.resendQ) > 0 {
		e, ok := h.lookup(h.resendQ[0])
		if !ok || !h.canSend(len(e.wire), e.force) {
			break
		}
		h.resendQ = h.resendQ[1:]
		h.stats.Resent++
		h.send(e, now)
	}
	if len(h.resendQ) > 0 {
		return h.out
	}
	for len(h.prio) > 0 || (!h.hold && !h.shutdown && len(h.job) > 0) {
		q := &h.job
		if len(h.prio) > 0 {
			q = &h.prio
		}
		if (*q)[0].wire == "" || (*q)[0].n != h.nextN { // format once, not on every blocked call
			(*q)[0].n = h.nextN
			(*q)[0].wire = h.format(h.nextN, (*q)[0].cmd)
		}
		e := (*q)[0]
		if !h.canSend(len(e.wire), e.force) {
			break
		}
		*q = (*q)[1:]
		h.nextN++
		h.remember(e)
		h.send(e, now)
	}
	return h.out
}

// format writes one line as the flavour wants it: "N12 G1 X1*57\n", or
// bare for Klipper (numbered internally all the same, for the bookkeeping).
func (h *Host) format(n int, cmd string) string {
	if !h.cfg.Flavour.Numbered() {
		return cmd + "\n"
	}
	return gcode.FormatLine(n, cmd)
}

func (h *Host) remember(e entry) {
	h.hist = append(h.hist, e)
	// Forget lines far behind everything unacknowledged.
	if len(h.hist) > 8192 {
		low := h.nextN
		if len(h.inflight) > 0 {
			low = h.inflight[0].n
		}
		if len(h.resendQ) > 0 && h.resendQ[0] < low {
			low = h.resendQ[0]
		}
		cut := 0
		for cut < len(h.hist)-4096 && h.hist[cut].n < low-1024 {
			cut++
		}
		h.hist = append(h.hist[:0:0], h.hist[cut:]...)
	}
}

func (h *Host) lookup(n int) (entry, bool) {
	if len(h.hist) == 0 {
		return entry{}, false
	}
	i := n - h.hist[0].n
	if i < 0 || i >= len(h.hist) {
		return entry{}, false
	}
	return h.hist[i], true
}

// Received feeds one line from the firmware.
func (h *Host) Received(line string, now time.Time) {
	if h.fatal != nil {
		return
	}
	r := h.cfg.Flavour.Parse(line)
	if h.shutdown && (r.Kind == KindError || r.Kind == KindFatal) {
		h.failShutdown(r)
		return
	}
	switch r.Kind {
	case KindOK:
		h.lastProgress, h.pokes = now, 0
		if r.Firmware != "" {
			h.emit(Event{Kind: EvInfo, Resp: Response{Kind: KindFirmware, Line: -1, Planner: -1, Buffer: -1, Text: r.Firmware}})
		}
		if r.HasTemps {
			h.setTemps(r.Temps)
		}
		if h.swallowOK {
			h.swallowOK = false
			return
		}
		h.ack(r.HasTemps)
	case KindResend:
		if !h.cfg.Flavour.Numbered() {
			// Bare lines cannot be asked for again: resending would run
			// them twice. (Klipper never asks.)
			h.emit(Event{Kind: EvError, Resp: r})
			return
		}
		h.lastProgress = now
		h.resend(r.Line, now)
	case KindBusy:
		h.lastProgress = now
		h.emit(Event{Kind: EvBusy, Resp: r})
	case KindWait:
	case KindTemp:
		if h.cfg.Flavour.heatReportsAreProgress() {
			h.lastProgress = now
		}
		h.setTemps(r.Temps)
	case KindShutdown:
		// Klipper says why only in answer to a command: STATUS asks, and
		// every line in flight is answered with the reason too.
		if !h.shutdown {
			h.shutdown, h.shutdownAt = true, now
			h.prio = append([]entry{newEntry("STATUS", -1)}, h.prio...)
		}
	case KindFatal:
		h.fail(fmt.Errorf("%w: firmware said %q", r.Fatal, r.Text))
	case KindError:
		if !recoverable(r.Text) {
			h.emit(Event{Kind: EvError, Resp: r})
		}
	case KindStart:
		h.emit(Event{Kind: EvStart, Resp: r})
	default:
		h.emit(Event{Kind: EvInfo, Resp: r})
	}
}

// failShutdown ends the job with the reason Klipper gave for shutting down.
func (h *Host) failShutdown(r Response) {
	err := r.Fatal
	if err == nil {
		err = ErrHalted
	}
	h.fail(fmt.Errorf("%w: Klipper shut down: %q (fix the cause, then FIRMWARE_RESTART)", err, r.Text))
}

func (h *Host) setTemps(t Temps) {
	if !t.HasBed {
		t.Bed, t.BedTarget, t.HasBed = h.temps.Bed, h.temps.BedTarget, h.temps.HasBed
	}
	h.temps = t
	h.emit(Event{Kind: EvTemp, Temps: t})
}

// recoverable errors are the line errors that a resend request follows.
func recoverable(text string) bool {
	low := strings.ToLower(text)
	return strings.Contains(low, "checksum") || strings.Contains(low, "line number") ||
		strings.Contains(low, "last line")
}

// ack handles one ok. An ok carrying temperatures answers an M105: every
// line sent before that M105 has run, so their oks, if missing, were lost.
func (h *Host) ack(withTemps bool) {
	if len(h.inflight) == 0 {
		h.stats.SpuriousOKs++
		return
	}
	upto := 0
	if withTemps {
		for i, e := range h.inflight {
			if e.m105 {
				upto = i
				break
			}
		}
	}
	for i := 0; i <= upto; i++ {
		e := h.inflight[0]
		h.inflight = h.inflight[1:]
		h.inBytes -= len(e.wire)
		if e.tag >= 0 {
			h.stats.Acked++
			h.lastTag = e.tag
		}
		if e.n == h.episodeK {
			h.episodeK = -1
		}
	}
	if len(h.inflight) == 0 {
		h.inflight = h.inflight[:0:0]
	}
}

// resend handles "Resend: k". Lines sent after k that were still in flight
// each cause one more "Resend: k" (Marlin rejects them by line number) or
// vanish (firmware that flushes its buffer); they become ghosts whose bytes
// count against the buffer until accounted for or the settle time passes.
func (h *Host) resend(k int, now time.Time) {
	h.swallowOK = true
	if k < 0 {
		h.emit(Event{Kind: EvError, Resp: Response{Text: "resend request without a line number"}})
		return
	}
	if k == h.episodeK && len(h.ghosts) > 0 {
		h.stats.Duplicates++
		h.popGhost()
		h.settleAt = now.Add(h.cfg.ResendSettle)
		return
	}
	if k == h.nextN && len(h.inflight) == 0 {
		h.stats.Duplicates++ // asks for the line we will send next: nothing lost
		return
	}
	if _, ok := h.lookup(k); !ok {
		h.fail(fmt.Errorf("%w: firmware asked for line %d, which was never sent (next is %d)", ErrCommStuck, k, h.nextN))
		return
	}
	if k == h.lastResendK {
		h.sameCount++
	} else {
		h.lastResendK, h.sameCount = k, 1
	}
	if h.sameCount > h.cfg.MaxResends {
		h.fail(fmt.Errorf("%w: line %d resent %d times", ErrCommStuck, k, h.cfg.MaxResends))
		return
	}
	h.stats.Resends++
	h.emit(Event{Kind: EvResend, Line: k})
	// Lines before k, and unnumbered lines (never refused), stay in flight.
	keep := h.inflight[:0]
	for _, e := range h.inflight {
		if e.n < k {
			keep = append(keep, e)
			continue
		}
		h.ghosts = append(h.ghosts, len(e.wire))
		h.ghostSum += len(e.wire)
		h.inBytes -= len(e.wire)
	}
	h.inflight = keep
	h.popGhost() // the rejected line that this request answers
	h.episodeK = k
	h.settleAt = now.Add(h.cfg.ResendSettle)
	h.resendQ = h.resendQ[:0]
	for n := k; n < h.nextN; n++ {
		h.resendQ = append(h.resendQ, n)
	}
}

func (h *Host) popGhost() {
	if len(h.ghosts) == 0 {
		return
	}
	h.ghostSum -= h.ghosts[0]
	h.ghosts = h.ghosts[1:]
}

// Tick advances time: it pokes a silent firmware, fails after repeated
// silence, and queues temperature polls.
func (h *Host) Tick(now time.Time) {
	if h.fatal != nil {
		return
	}
	if h.shutdown && now.Sub(h.shutdownAt) >= h.cfg.AckTimeout {
		h.fail(fmt.Errorf("%w: Klipper shut down and gave no reason within %s (fix the cause, then FIRMWARE_RESTART)", ErrHalted, h.cfg.AckTimeout))
		return
	}
	if len(h.inflight) > 0 {
		timeout := h.cfg.AckTimeout
		for _, e := range h.inflight {
			if e.long {
				timeout = h.cfg.LongTimeout
				break
			}
		}
		if now.Sub(h.lastProgress) >= timeout {
			if h.pokes >= h.cfg.MaxPokes {
				h.fail(fmt.Errorf("%w: no ok for %s since the last of %d status requests (M105); check the cable and the printer",
					ErrTimeout, timeout, h.pokes))
				return
			}
			h.pokes++
			h.stats.Pokes++
			h.lastProgress = now
			e := newEntry("M105", -1)
			e.force = true
			h.prio = append([]entry{e}, h.prio...)
			h.emit(Event{Kind: EvPoke})
		}
	}
	if h.cfg.PollInterval > 0 && now.Sub(h.lastPoll) >= h.cfg.PollInterval && !h.m105Pending() {
		h.lastPoll = now
		h.prio = append(h.prio, newEntry("M105", -1))
	}
}

func (h *Host) m105Pending() bool {
	for _, e := range h.inflight {
		if e.m105 {
			return true
		}
	}
	for _, e := range h.prio {
		if e.m105 {
			return true
		}
	}
	return false
}
