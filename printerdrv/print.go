package printerdrv

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Print streams a job and returns when every command is acknowledged, the
// job fails, or it is cancelled (Cancel, or ctx ending: then the safe
// sequence is still sent, bounded by Options.CancelTimeout). The job is
// checked against the printer's temperature limits before a byte is sent.
// progress, if not nil, is called from Print's goroutine.
func (c *Conn) Print(ctx context.Context, job Job, progress func(Progress)) (Summary, error) {
	start := c.opts.Now()
	sum := Summary{Job: job.Name, Outcome: "failed"}
	if !c.printing.CompareAndSwap(false, true) {
		err := fmt.Errorf("printerdrv: job %s: another job is printing on this connection", job.Name)
		sum.Error = err.Error()
		return sum, err
	}
	defer c.printing.Store(false)
	if job.Printer.ID == "" {
		job.Printer = c.opts.Printer
	}
	prep, err := Prepare(job)
	if err != nil {
		sum.Error = err.Error()
		return sum, err
	}
	sum.Commands = len(prep.Commands)
	h := c.host
	if err := h.Err(); err != nil {
		err = fmt.Errorf("printerdrv: job %s: the connection failed earlier (%w); close it and connect again", job.Name, err)
		sum.Error = err.Error()
		return sum, err
	}
	base := h.Stats()
	for i, cmd := range prep.Commands {
		h.Enqueue(cmd, i)
	}
	// Drop control messages meant for an earlier job.
	for len(c.ctl) > 0 {
		<-c.ctl
	}
	var park *parker
	if !c.opts.NoPark {
		park = newParker(job.Printer)
	}
	var (
		cancelled bool
		stopped   bool
		paused    bool
		lastProg  time.Time
		cancelAt  time.Time
	)
	report := func(now time.Time, force bool) {
		if progress == nil || (!force && now.Sub(lastProg) < c.opts.ProgressEvery) {
			return
		}
		lastProg = now
		st := h.Stats()
		acked := st.Acked - base.Acked
		p := Progress{Acked: acked, Total: len(prep.Commands), Layers: prep.Layers, Temps: h.Temps(),
			Elapsed: now.Sub(start), Resends: st.Resends - base.Resends, Paused: paused}
		if p.Total > 0 {
			p.Percent = 100 * float64(acked) / float64(p.Total)
		}
		if t := h.LastAcked(); t >= 0 && t < len(prep.Layer) {
			p.Layer = prep.Layer[t]
		}
		if acked > 0 && acked < p.Total {
			p.ETA = time.Duration(float64(p.Elapsed) * float64(p.Total-acked) / float64(acked))
		}
		progress(p)
	}
	beginCancel := func(now time.Time) {
		if cancelled {
			return
		}
		cancelled, cancelAt = true, now
		h.DropJob()
		h.Hold(false)
		if c.fw.Caps["EMERGENCY_PARSER"] {
			// Abandon the moves the firmware has planned (seconds of motion
			// on a full planner) and end a heating wait now, not when the
			// target is reached. The few commands already in the firmware's
			// queue still run; the safe sequence follows them.
			h.Urgent("M410")
			h.Urgent("M108")
		}
		for _, s := range CancelSequence {
			h.EnqueueHost(s)
		}
		c.log.Info("job cancelled, sending the safe sequence", "job", job.Name)
	}
	onEvent := func(e Event) error {
		switch e.Kind {
		case EvStart:
			return fmt.Errorf("%w: the firmware restarted (%q) after %d of %d commands; the print is lost",
				ErrReset, e.Resp.Text, h.Stats().Acked-base.Acked, len(prep.Commands))
		case EvError:
			c.log.Warn("printer error", "line", e.Resp.Text)
		case EvResend:
			c.log.Debug("resend requested", "line", e.Line)
		case EvPoke:
			c.log.Warn("no answer from the printer, polling with M105")
		}
		return nil
	}
	onTick := func(now time.Time) error {
		for {
			select {
			case m := <-c.ctl:
				switch m {
				case ctlPause:
					if paused || cancelled {
						continue
					}
					paused = true
					h.Hold(true)
					if park != nil {
						for _, s := range park.park(prep.Commands, len(prep.Commands)-h.JobPending()) {
							h.EnqueueHost(s)
						}
					}
				case ctlResume:
					if !paused || cancelled {
						continue
					}
					paused = false
					if park != nil {
						for _, s := range park.unpark() {
							h.EnqueueHost(s)
						}
					}
					h.Hold(false)
				case ctlCancel:
					beginCancel(now)
				case ctlStop:
					stopped = true
					h.DropJob()
					return fmt.Errorf("%w: emergency stop (M112) sent", ErrHalted)
				}
				continue
			default:
			}
			break
		}
		if ctx.Err() != nil && !cancelled {
			beginCancel(now)
		}
		if cancelled && now.Sub(cancelAt) > c.opts.CancelTimeout {
			return fmt.Errorf("%w: the safe sequence was not acknowledged within %s", ErrTimeout, c.opts.CancelTimeout)
		}
		report(now, false)
		return nil
	}
	err = c.loop(context.Background(), onEvent, onTick)
	st := h.Stats()
	sum.Acked = st.Acked - base.Acked
	sum.Sent = st.Sent - base.Sent
	sum.Resends = st.Resends - base.Resends
	sum.Resent = st.Resent - base.Resent
	sum.Pokes = st.Pokes - base.Pokes
	sum.Duration = c.opts.Now().Sub(start)
	report(c.opts.Now(), true)
	switch {
	case err == nil && cancelled:
		sum.Outcome = "cancelled"
		err = fmt.Errorf("%w after %d of %d commands; heaters, fan and motors are off", ErrCancelled, sum.Acked, sum.Commands)
	case err == nil:
		sum.Outcome = "done"
	case stopped:
		sum.Outcome = "failed"
	}
	if err != nil {
		sum.Error = err.Error()
		if !errors.Is(err, ErrCancelled) {
			err = fmt.Errorf("printerdrv: job %s: %w", job.Name, err)
		}
	}
	return sum, err
}
