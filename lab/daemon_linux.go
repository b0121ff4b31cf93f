package lab

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DaemonSpec says how to run one of edgebill's daemons (nasd, gatewayd,
// billd, pppoe-dial) or any other program under the lab's supervision.
// Zero values are the defaults named.
type DaemonSpec struct {
	// Name labels the log (default: the base name of Path).
	Name string
	// Path is the program (e.g. from Build).
	Path string
	Args []string
	// Env is added to this process's environment.
	Env []string
	// Netns runs the program inside a namespace (default: this one).
	Netns *Netns
	// Dir is the working folder (default: a new TempDir).
	Dir string
	// Ready says when a start is complete (default: as soon as the
	// process runs). Start polls it until ReadyTimeout (default 30 s).
	Ready        Ready
	ReadyTimeout time.Duration
	// StopSignal (default SIGTERM) asks the program to end; after
	// StopGrace (default 10 s) it is killed.
	StopSignal syscall.Signal
	StopGrace  time.Duration
	// LogMax bounds the output kept per run (default 1 MiB; the oldest
	// half is cut when it fills). Earlier runs keep their last LogMax/4.
	LogMax int
}

// Ready reports whether a daemon has finished starting; it is polled, so
// it must return promptly.
type Ready func(d *Daemon) bool

// Daemon is a supervised program: started, stopped, killed and restarted
// by a test, its output kept (bounded) and shown when the test fails.
type Daemon struct {
	spec DaemonSpec
	t    T

	mu      sync.Mutex
	proc    *process
	cur     *logBuffer // this run's output
	history *logBuffer // earlier runs'
	runs    int
	asked   bool // the current run's end was asked for (Stop, Kill9)
}

// StartDaemon starts the program and waits until it is ready; it fails t
// if it cannot start, exits while starting, or is not ready in time. It
// is stopped when t ends, and its output is logged if t failed.
func StartDaemon(t T, spec DaemonSpec) *Daemon {
	t.Helper()
	if spec.Name == "" {
		spec.Name = filepath.Base(spec.Path)
	}
	if spec.ReadyTimeout == 0 {
		spec.ReadyTimeout = 30 * time.Second
	}
	if spec.StopSignal == 0 {
		spec.StopSignal = syscall.SIGTERM
	}
	if spec.StopGrace == 0 {
		spec.StopGrace = 10 * time.Second
	}
	if spec.LogMax == 0 {
		spec.LogMax = 1 << 20
	}
	if spec.Dir == "" {
		spec.Dir = t.TempDir()
	}
	d := &Daemon{spec: spec, t: t, history: &logBuffer{max: spec.LogMax}}
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("%s log (last 64 KiB):\n%s", spec.Name, tail(d.Log(), 64<<10))
		}
	})
	if err := d.Start(); err != nil {
		t.Fatalf("%v\n%s log:\n%s", err, spec.Name, tail(d.Log(), 64<<10))
	}
	return d
}

// Name is the spec's name.
func (d *Daemon) Name() string { return d.spec.Name }

// Start starts the program (again, after Stop or Kill9; nothing if it
// runs) and waits until Ready holds.
func (d *Daemon) Start() error {
	d.mu.Lock()
	if d.proc != nil && !d.proc.exited() {
		d.mu.Unlock()
		return nil
	}
	if d.cur != nil {
		d.history.Write([]byte(tail(d.cur.String(), d.spec.LogMax/4)))
	}
	d.runs++
	d.cur = &logBuffer{max: d.spec.LogMax}
	fmt.Fprintf(d.history, "=== %s run %d, %s ===\n", d.spec.Name, d.runs, time.Now().Format(time.RFC3339))
	var cmd *exec.Cmd
	if d.spec.Netns != nil {
		cmd = d.spec.Netns.Command(d.spec.Path, d.spec.Args...)
	} else {
		cmd = exec.Command(d.spec.Path, d.spec.Args...)
	}
	cmd.Env = append(os.Environ(), d.spec.Env...)
	cmd.Dir = d.spec.Dir
	proc, err := startPinnedProcess(d.spec.Name, cmd, d.cur)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	d.proc = proc
	d.asked = false
	d.mu.Unlock()

	if d.spec.Ready == nil {
		return nil
	}
	ok := waitFor(d.spec.ReadyTimeout, func() bool {
		return proc.exited() || d.spec.Ready(d)
	})
	if proc.exited() {
		return fmt.Errorf("lab: %s exited while starting: %v", d.spec.Name, proc.err)
	}
	if !ok {
		return fmt.Errorf("lab: %s not ready within %v", d.spec.Name, d.spec.ReadyTimeout)
	}
	return nil
}

// Stop asks the program to end (StopSignal to its process group), kills
// it after StopGrace, and waits. It returns the program's exit error
// (nil for a clean exit).
func (d *Daemon) Stop() error {
	p := d.current(true)
	if p == nil {
		return nil
	}
	p.stop(d.spec.StopSignal, d.spec.StopGrace)
	select {
	case <-p.done:
		return p.err
	default:
		return fmt.Errorf("lab: %s did not end after SIGKILL", d.spec.Name)
	}
}

// Kill9 kills the program's process group with SIGKILL, no warning (the
// fault tests' "kill -9"), and waits until it is gone.
func (d *Daemon) Kill9() {
	p := d.current(true)
	if p == nil {
		return
	}
	p.stop(syscall.SIGKILL, 5*time.Second)
}

// Restart stops the program and starts it again.
func (d *Daemon) Restart() error {
	d.Stop()
	return d.Start()
}

func (d *Daemon) current(asked bool) *process {
	d.mu.Lock()
	defer d.mu.Unlock()
	if asked && d.proc != nil && !d.proc.exited() {
		d.asked = true
	}
	return d.proc
}

// Running reports whether the program is running.
func (d *Daemon) Running() bool {
	p := d.current(false)
	return p != nil && !p.exited()
}

// Pid is the running program's process id (0 if none).
func (d *Daemon) Pid() int {
	p := d.current(false)
	if p == nil || p.exited() {
		return 0
	}
	return p.cmd.Process.Pid
}

// Exited reports whether the current run ended without Stop or Kill9
// asking it to (a crash), and how.
func (d *Daemon) Exited() (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil || !d.proc.exited() || d.asked {
		return false, nil
	}
	return true, d.proc.err
}

// Wait waits until the current run ends and returns its exit error.
func (d *Daemon) Wait(ctx context.Context) error {
	p := d.current(false)
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Log is the output of every run so far, each run headed by a line.
func (d *Daemon) Log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.history.String()
	if d.cur != nil {
		s += d.cur.String()
	}
	return s
}

// RunLog is the current (or last) run's output.
func (d *Daemon) RunLog() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cur == nil {
		return ""
	}
	return d.cur.String()
}

// WaitLog waits until the current run's output contains s.
func (d *Daemon) WaitLog(ctx context.Context, s string) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if strings.Contains(d.RunLog(), s) {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("lab: %s: waiting for %q: %w", d.spec.Name, s, ctx.Err())
		}
	}
}

// ReadyLog is ready when the current run's output contains s.
func ReadyLog(s string) Ready {
	return func(d *Daemon) bool { return strings.Contains(d.RunLog(), s) }
}

// ReadyTCP is ready when a socket in the daemon's network namespace
// listens on addr's port, on addr's address or the wildcard. It reads the
// kernel's socket table (/proc/PID/net/tcp), so it makes no connection the
// daemon would see.
func ReadyTCP(addr string) Ready {
	return func(d *Daemon) bool { return d.bound("tcp", addr) }
}

// ReadyUDP is ready when a UDP socket in the daemon's network namespace is
// bound to addr's port, on addr's address or the wildcard.
func ReadyUDP(addr string) Ready {
	return func(d *Daemon) bool { return d.bound("udp", addr) }
}

// ReadyAll is ready when every one of rs is.
func ReadyAll(rs ...Ready) Ready {
	return func(d *Daemon) bool {
		for _, r := range rs {
			if !r(d) {
				return false
			}
		}
		return true
	}
}

func (d *Daemon) bound(proto, addr string) bool {
	pid := d.Pid()
	if pid == 0 {
		return false
	}
	want, err := netip.ParseAddrPort(addr)
	if err != nil {
		// host:port with a name, or ":port"
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			return false
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		want = netip.AddrPortFrom(netip.Addr{}, uint16(n))
	}
	for _, f := range []string{proto, proto + "6"} {
		ok, _ := socketBound("/proc/"+strconv.Itoa(pid)+"/net/"+f, proto == "tcp", want)
		if ok {
			return true
		}
	}
	return false
}

// socketBound scans a /proc/net/{tcp,udp}{,6} table for a socket bound to
// want's port on want's address or a wildcard; for TCP only listening
// sockets count. An invalid want address matches any address.
func socketBound(path string, listening bool, want netip.AddrPort) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for n := 0; sc.Scan() && n < 1<<16; n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		local, err := parseProcAddr(fields[1])
		if err != nil || local.Port() != want.Port() {
			continue
		}
		if listening && fields[3] != "0A" { // TCP_LISTEN
			continue
		}
		a := local.Addr().Unmap()
		if !want.Addr().IsValid() || a.IsUnspecified() || a == want.Addr().Unmap() {
			return true, nil
		}
	}
	return false, sc.Err()
}

// parseProcAddr parses "0100007F:1F90" (IPv4) or the 32-hex-digit IPv6
// form: the address as host-order 32-bit words, the port big-endian hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, errors.New("lab: bad socket address")
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.AddrPort{}, errors.New("lab: bad socket address")
	}
	// Each 32-bit word is in host (little-endian) order.
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	a, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(a, uint16(port)), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}
