package lab

import (
	"fmt"
	"os/exec"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// Why children are forked from particular threads: startProcess sets
// Pdeathsig, and Linux sends that signal when the parent *thread* ends,
// not the parent process. Netns.Do ends its thread (it leaves it in
// another namespace), and the Go scheduler may well hand Do the very
// thread that forked a daemon a moment before: the daemon is then killed
// for no reason (measured: 19 of 20 /bin/sleep children, started and
// followed by Do calls, died). Forking from a thread that lives as long
// as the child should avoids that.

// spawnThread is a goroutine locked to its OS thread for the rest of the
// process's life; onSpawnThread runs functions there.
var spawnThread struct {
	once sync.Once
	work chan func()
	tid  int // the thread's id, to run nested calls in place
}

// onSpawnThread runs fn on the spawn thread and waits for it; called from
// the spawn thread itself, it runs fn in place. fn must not call
// runtime.Goexit (Fatalf); a panic is passed on to the caller.
func onSpawnThread(fn func()) {
	spawnThread.once.Do(func() {
		spawnThread.work = make(chan func())
		ready := make(chan struct{})
		go func() {
			runtime.LockOSThread() // never unlocked: this thread stays
			spawnThread.tid = unix.Gettid()
			close(ready)
			for f := range spawnThread.work {
				f()
			}
		}()
		<-ready
	})
	// Only the spawn goroutine runs on that thread (it is locked to it),
	// so a caller there is that goroutine: a nested call.
	if unix.Gettid() == spawnThread.tid {
		fn()
		return
	}
	var perr any
	done := make(chan struct{})
	spawnThread.work <- func() {
		defer close(done)
		defer func() { perr = recover() }()
		fn()
	}
	<-done
	if perr != nil {
		panic(perr)
	}
}

// startOnSpawnThread runs cmd.Start on the spawn thread, so the child's
// Pdeathsig fires only when this process ends. (proc_linux.go's
// startProcess should call this instead of cmd.Start; see the report of
// issue 7's groundwork.)
func startOnSpawnThread(cmd *exec.Cmd) error {
	var err error
	onSpawnThread(func() { err = cmd.Start() })
	return err
}

// startPinnedProcess is startProcess run on the spawn thread.
func startPinnedProcess(name string, cmd *exec.Cmd, log *logBuffer) (p *process, err error) {
	onSpawnThread(func() { p, err = startProcess(name, cmd, log) })
	return p, err
}

// pinned runs fn (which may start children through helpers this package
// cannot change, e.g. StartPostgres) on a goroutine locked to its own
// thread, kept until t's cleanups have run, so the children's parent
// thread outlives them. A Fatalf or Skipf inside fn is passed on to t
// from the calling goroutine.
func pinned(t T, fn func(t T)) {
	t.Helper()
	release := make(chan struct{})
	// Registered before fn's own cleanups, so it runs after them.
	t.Cleanup(func() { close(release) })
	type result struct {
		ok, skip bool
		msg      string
	}
	res := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		pt := &pinnedT{T: t}
		finished := false
		defer func() {
			if !finished {
				r := result{msg: pt.msg, skip: pt.skip}
				if p := recover(); p != nil {
					r = result{msg: fmt.Sprintf("lab: panic: %v", p)}
				}
				res <- r
			}
			<-release
			runtime.UnlockOSThread()
		}()
		fn(pt)
		finished = true
		res <- result{ok: true}
	}()
	r := <-res
	switch {
	case r.ok:
	case r.skip:
		if tb, ok := t.(testing.TB); ok {
			tb.Skipf("%s", r.msg)
		}
		t.Fatalf("%s", r.msg)
	default:
		t.Fatalf("%s", r.msg)
	}
}

// pinnedT is the T given to a pinned function: Fatalf and Skipf end the
// pinned goroutine and are reported by pinned on the caller's.
type pinnedT struct {
	T
	msg  string
	skip bool
}

func (p *pinnedT) Fatalf(format string, args ...any) {
	p.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (p *pinnedT) Skipf(format string, args ...any) {
	p.msg, p.skip = fmt.Sprintf(format, args...), true
	runtime.Goexit()
}
