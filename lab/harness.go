package lab

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
)

// Harness is a T for programs that are not tests (the demo): it keeps a
// stack of cleanups and runs them in reverse order on Teardown, as the
// testing package does at the end of a test.
//
// As in a test, Fatalf ends the goroutine that calls it, so set-up code
// runs inside Do. Teardown may be called from any goroutine, more than
// once (a second Ctrl-C while set-up still runs); each cleanup runs once.
type Harness struct {
	name string
	out  io.Writer

	mu       sync.Mutex
	cleanups []func()
	dir      string // made on first TempDir
	keep     bool
	ntemp    int

	failed atomic.Bool
}

// NewHarness returns a Harness that writes Logf and Fatalf lines to out
// (os.Stderr if nil), each prefixed with name.
func NewHarness(name string, out io.Writer) *Harness {
	if out == nil {
		out = os.Stderr
	}
	return &Harness{name: name, out: out}
}

// Helper does nothing: a program's log lines carry no file:line.
func (h *Harness) Helper() {}

// Logf writes one line.
func (h *Harness) Logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.out, "%s: %s\n", h.name, trimNL(msg))
}

// Fatalf writes the message, marks the harness failed and ends the
// calling goroutine (runtime.Goexit): call it only from inside Do.
func (h *Harness) Fatalf(format string, args ...any) {
	h.failed.Store(true)
	h.Logf(format, args...)
	runtime.Goexit()
}

// Failed reports whether Fatalf was called or a function run by Do
// panicked.
func (h *Harness) Failed() bool { return h.failed.Load() }

// Cleanup adds f to the functions Teardown runs, last added first.
func (h *Harness) Cleanup(f func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cleanups = append(h.cleanups, f)
}

// TempDir returns a new folder inside the harness's run folder (Dir).
func (h *Harness) TempDir() string {
	base, err := h.Dir()
	if err != nil {
		h.Fatalf("lab: %v", err)
	}
	h.mu.Lock()
	h.ntemp++
	n := h.ntemp
	h.mu.Unlock()
	d := filepath.Join(base, strconv.Itoa(n))
	if err := os.Mkdir(d, 0o755); err != nil {
		h.Fatalf("lab: %v", err)
	}
	return d
}

// Dir returns the run folder, made on first use under os.TempDir and
// removed by Teardown unless Keep(true).
func (h *Harness) Dir() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dir != "" {
		return h.dir, nil
	}
	d, err := os.MkdirTemp("", "edgebill-lab-")
	if err != nil {
		return "", err
	}
	// Some daemons (postgres via runuser) read their folders as another
	// user.
	_ = os.Chmod(d, 0o755)
	h.dir = d
	// First in, so it runs last: after every process using it has ended.
	h.cleanups = append([]func(){func() {
		h.mu.Lock()
		keep := h.keep
		h.mu.Unlock()
		if !keep {
			os.RemoveAll(d)
		}
	}}, h.cleanups...)
	return d, nil
}

// Keep makes Teardown leave the run folder in place.
func (h *Harness) Keep(keep bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keep = keep
}

// Do runs fn on a new goroutine and waits for it; it reports false when
// fn called Fatalf or panicked (the panic and its stack are logged).
// Cleanups fn registered stay for Teardown.
func (h *Harness) Do(fn func()) (ok bool) {
	done := make(chan bool, 1)
	go func() {
		finished := false
		defer func() {
			if !finished {
				if r := recover(); r != nil {
					h.failed.Store(true)
					h.Logf("panic: %v\n%s", r, debug.Stack())
				}
				// Otherwise: runtime.Goexit from Fatalf.
				done <- false
				return
			}
			done <- true
		}()
		fn()
		finished = true
	}()
	return <-done
}

// Teardown runs the cleanups, last added first, each once, and recovers
// from (logging) a panic in any of them so the rest still run.
func (h *Harness) Teardown() {
	for {
		h.mu.Lock()
		n := len(h.cleanups)
		if n == 0 {
			h.mu.Unlock()
			return
		}
		f := h.cleanups[n-1]
		h.cleanups = h.cleanups[:n-1]
		h.mu.Unlock()
		// On its own goroutine, so that a cleanup calling Fatalf (which
		// ends its goroutine) does not end the caller's.
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer func() {
				if r := recover(); r != nil {
					h.Logf("cleanup panic: %v\n%s", r, debug.Stack())
				}
			}()
			f()
		}()
		<-done
	}
}

func trimNL(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}
