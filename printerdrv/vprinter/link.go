package vprinter

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"
)

// The virtual printer's side of the wire: reading with arrival times,
// pacing at an emulated baud rate, and writing answers when due.

// chunk is bytes from the link with the (emulated) time they arrived.
type chunk struct {
	b  []byte
	at time.Time
}

// readLink reads from the link, stamping each read with its time.
func readLink(ctx context.Context, r io.Reader, now func() time.Time, out chan<- chunk, errc chan<- error) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			select {
			case out <- chunk{append([]byte(nil), buf[:n]...), now()}:
			case <-ctx.Done():
				return
			}
		}
		if err != nil {
			select {
			case errc <- err:
			default:
			}
			return
		}
	}
}

// paceLink delivers bytes line by line when their last byte would have
// crossed a wire at the emulated baud rate, as a UART would. Bytes enter the
// wire when they were read (they waited in the kernel's buffer, not on the
// reader), or when the wire is free.
func paceLink(ctx context.Context, baud int, now func() time.Time, raw <-chan chunk, in chan<- chunk) {
	var free time.Time
	for {
		var c chunk
		select {
		case c = <-raw:
		case <-ctx.Done():
			return
		}
		if free.Before(c.at) {
			free = c.at
		}
		b := c.b
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n') + 1
			if i == 0 {
				i = len(b)
			}
			free = free.Add(time.Duration(i) * 10 * time.Second / time.Duration(baud))
			if !sleepUntil(ctx, free, now) {
				return
			}
			select {
			case in <- chunk{b[:i], free}:
			case <-ctx.Done():
				return
			}
			b = b[i:]
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time, now func() time.Time) bool {
	d := t.Sub(now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// linkWriter sends the firmware's output when due, at the emulated baud.
type linkWriter struct {
	w    io.Writer
	baud int
	now  func() time.Time
	wake chan struct{}

	mu sync.Mutex
	q  []outItem
}

func (l *linkWriter) push(items []outItem) {
	l.mu.Lock()
	l.q = append(l.q, items...)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// flush writes what is queued now (before an injected disconnect).
func (l *linkWriter) flush(ctx context.Context) {
	deadline := l.now().Add(time.Second)
	for l.now().Before(deadline) && ctx.Err() == nil {
		l.mu.Lock()
		n := len(l.q)
		l.mu.Unlock()
		if n == 0 {
			return
		}
		sleepUntil(ctx, l.now().Add(time.Millisecond), l.now)
	}
}

func (l *linkWriter) run(ctx context.Context) {
	var free time.Time // when the emulated wire is free again
	var buf []byte
	for {
		l.mu.Lock()
		if len(l.q) == 0 {
			l.mu.Unlock()
			select {
			case <-l.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		// The batch starts when its first item is due and the wire is
		// free; it takes every item due by then.
		start := l.q[0].due
		if start.Before(free) {
			start = free
		}
		i := 0
		buf = buf[:0]
		for i < len(l.q) && !l.q[i].due.After(start) {
			buf = append(buf, l.q[i].data...)
			i++
		}
		l.q = l.q[i:]
		l.mu.Unlock()
		end := start
		if l.baud > 0 {
			end = start.Add(time.Duration(len(buf)) * 10 * time.Second / time.Duration(l.baud))
			free = end
		}
		if !sleepUntil(ctx, end, l.now) {
			return
		}
		if _, err := l.w.Write(buf); err != nil {
			return
		}
	}
}
