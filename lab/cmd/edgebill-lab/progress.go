package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress writes the demo's output: ordinary lines, and on a terminal
// one status line rewritten in place (a spinner or a bar). Off a terminal
// the status line is printed as a line of its own at most every
// quietEvery, so logs stay readable.
type progress struct {
	mu         sync.Mutex
	w          io.Writer
	tty        bool
	status     string // shown now (tty)
	lastPrint  time.Time
	quietEvery time.Duration
}

func newProgress(f *os.File) *progress {
	tty := false
	if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		tty = os.Getenv("TERM") != "dumb"
	}
	return &progress{w: f, tty: tty, quietEvery: 10 * time.Second}
}

// Write prints p as ordinary output (the Harness's log goes here), above
// the status line.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	_, err := p.w.Write(b)
	p.redrawLocked()
	return len(b), err
}

func (p *progress) printf(format string, args ...any) {
	fmt.Fprintf(p, format, args...)
}

// setStatus replaces the status line.
func (p *progress) setStatus(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty {
		if time.Since(p.lastPrint) >= p.quietEvery {
			fmt.Fprintln(p.w, s)
			p.lastPrint = time.Now()
		}
		return
	}
	p.clearLocked()
	p.status = s
	p.redrawLocked()
}

// endStatus leaves the status line as an ordinary line.
func (p *progress) endStatus(final string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.status = ""
	if final != "" {
		fmt.Fprintln(p.w, final)
	}
	p.lastPrint = time.Time{}
}

func (p *progress) clearLocked() {
	if p.tty && p.status != "" {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progress) redrawLocked() {
	if p.tty && p.status != "" {
		fmt.Fprint(p.w, "\r"+p.status)
	}
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// step shows label with a spinner and the time taken while fn runs, then
// a ✓ or ✗ line; it returns fn's result. With an expected duration it
// shows a bar instead of a spinner.
func (p *progress) step(label string, expect time.Duration, fn func() bool) bool {
	start := time.Now()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			el := time.Since(start)
			if expect > 0 {
				p.setStatus(fmt.Sprintf("%s %s %s", bar(el, expect, 20), label, el.Round(100*time.Millisecond)))
			} else {
				p.setStatus(fmt.Sprintf("%s %s %s", spinner[i%len(spinner)], label, el.Round(100*time.Millisecond)))
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	ok := fn()
	close(stop)
	<-done
	mark := "✓"
	if !ok {
		mark = "✗"
	}
	p.endStatus(fmt.Sprintf("%s %s (%s)", mark, label, time.Since(start).Round(10*time.Millisecond)))
	return ok
}

// bar draws done out of total as [#####.....] with width cells.
func bar(done, total time.Duration, width int) string {
	if width < 1 {
		width = 1
	}
	n := width
	if total > 0 && done < total {
		n = int(int64(width) * int64(done) / int64(total))
	}
	if n < 0 {
		n = 0
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// humanBytes writes n octets in SI units.
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// shortDuration writes d as 1h02m03s, 2m05s or 7s.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}
