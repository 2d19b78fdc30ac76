//go:build !slicer

package main

import (
	"io"
	"os"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// uploadBar draws an upload progress bar on stderr when stderr is a
// terminal; otherwise it draws nothing and its methods do nothing.
type uploadBar struct {
	mu  sync.Mutex
	p   *mpb.Progress
	bar *mpb.Bar
}

func newUploadBar(stderr io.Writer, name string, total int64) *uploadBar {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &uploadBar{}
	}
	p := mpb.New(mpb.WithOutput(f), mpb.WithWidth(40))
	bar := p.AddBar(total,
		mpb.PrependDecorators(decor.Name("upload "+name+" ", decor.WCSyncSpaceR), decor.CountersKibiByte("% .1f / % .1f")),
		mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.AverageSpeed(decor.SizeB1024(0), " % .1f")),
	)
	return &uploadBar{p: p, bar: bar}
}

// set is the client's progress callback.
func (u *uploadBar) set(sent, _ int64) {
	if u.bar == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.bar.SetCurrent(sent)
}

// done ends the bar (complete or aborted) and waits for its last frame.
func (u *uploadBar) done(ok bool) {
	if u.bar == nil {
		return
	}
	u.mu.Lock()
	if !ok {
		u.bar.Abort(false)
	} else {
		u.bar.SetTotal(-1, true)
	}
	u.mu.Unlock()
	u.p.Wait()
}
