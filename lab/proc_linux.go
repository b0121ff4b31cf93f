package lab

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logBuffer collects a child process's output, bounded, for showing when
// a test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.max > 0 && l.buf.Len() > l.max {
		b := l.buf.Bytes()
		keep := append([]byte(nil), b[len(b)-l.max/2:]...)
		l.buf.Reset()
		l.buf.WriteString("...[earlier output cut]...\n")
		l.buf.Write(keep)
	}
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Contains reports whether the output so far contains s.
func (l *logBuffer) Contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Contains(l.buf.Bytes(), []byte(s))
}

var _ io.Writer = (*logBuffer)(nil)

// process is a child started in its own process group so that its
// teardown also reaches its children.
type process struct {
	name string
	cmd  *exec.Cmd
	log  *logBuffer
	done chan struct{}
	err  error
}

func startProcess(name string, cmd *exec.Cmd, log *logBuffer) (*process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.Stdout = log
	cmd.Stderr = log
	// Pdeathsig fires when the forking *thread* ends: fork from a thread
	// that lives as long as the process (spawn_linux.go).
	if err := startOnSpawnThread(cmd); err != nil {
		return nil, fmt.Errorf("lab: start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig to the process group and waits up to grace, then kills.
func (p *process) stop(sig syscall.Signal, grace time.Duration) {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

// freePort returns a TCP or UDP port on 127.0.0.1 that was free a moment
// ago. proto is "tcp" or "udp".
func freePort(t testing.TB, proto string) int {
	t.Helper()
	switch proto {
	case "tcp":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("lab: free port: %v", err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	default:
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("lab: free port: %v", err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
}

// freeUDPPair returns two UDP ports, each free a moment ago, the second
// equal to the first plus one (FreeRADIUS's auth/acct convention is not
// required, but adjacent ports are easier to read in logs).
func freeUDPPorts(t testing.TB, n int) []int {
	t.Helper()
	var conns []net.PacketConn
	var ports []int
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("lab: free port: %v", err)
		}
		conns = append(conns, c)
		ports = append(ports, c.LocalAddr().(*net.UDPAddr).Port)
	}
	return ports
}

func itoa(i int) string { return strconv.Itoa(i) }

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}
