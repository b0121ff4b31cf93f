//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

const helperEnv = "EDGEBILL_LAB_HELPER"

// TestHelperDaemon is not a test: it is the program the supervisor tests
// run (this test binary again, with helperEnv set). It binds the UDP and
// TCP addresses it is given, says so, and ends on SIGTERM or, with
// HELPER_CRASH_AFTER, by itself with status 3.
func TestHelperDaemon(t *testing.T) {
	if os.Getenv(helperEnv) != "daemon" {
		return
	}
	u, err := net.ListenPacket("udp", os.Getenv("HELPER_UDP"))
	if err != nil {
		fmt.Println("udp:", err)
		os.Exit(2)
	}
	l, err := net.Listen("tcp", os.Getenv("HELPER_TCP"))
	if err != nil {
		fmt.Println("tcp:", err)
		os.Exit(2)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	time.Sleep(100 * time.Millisecond) // so that log-based readiness is seen to wait
	fmt.Printf("helper ready udp=%s tcp=%s\n", u.LocalAddr(), l.Addr())
	crash := make(<-chan time.Time)
	if d, err := time.ParseDuration(os.Getenv("HELPER_CRASH_AFTER")); err == nil {
		crash = time.After(d)
	}
	select {
	case <-sig:
		fmt.Println("helper: bye")
		os.Exit(0)
	case <-crash:
		fmt.Println("helper: crashing")
		os.Exit(3)
	case <-time.After(2 * time.Minute):
		os.Exit(4)
	}
}

func helperSpec(t *testing.T, ns *Netns, udp, tcp string, env ...string) DaemonSpec {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spec := DaemonSpec{
		Name:  "helper",
		Path:  exe,
		Args:  []string{"-test.run=^TestHelperDaemon$"},
		Env:   append([]string{helperEnv + "=daemon", "HELPER_UDP=" + udp, "HELPER_TCP=" + tcp}, env...),
		Netns: ns,
		Ready: ReadyAll(ReadyLog("helper ready"), ReadyUDP(udp), ReadyTCP(tcp)),
	}
	if strings.HasSuffix(udp, ":0") { // no known port to look for
		spec.Ready = ReadyLog("helper ready")
	}
	return spec
}

func TestDaemonKill9AndRestart(t *testing.T) {
	t.Parallel()
	ns := NewNetns(t, "eb-dmn")
	spec := helperSpec(t, ns, "127.0.0.1:7811", "127.0.0.1:7812")
	d := StartDaemon(t, spec)
	if !d.Running() || d.Pid() == 0 {
		t.Fatal("not running after StartDaemon")
	}
	// It runs in ns: its port is bound there, not here.
	if c, err := net.ListenPacket("udp", "127.0.0.1:7811"); err == nil {
		c.Close()
	} else {
		t.Logf("note: 127.0.0.1:7811 taken on the host too: %v", err)
	}
	c, err := ns.DialContext(context.Background(), "tcp", "127.0.0.1:7812")
	if err != nil {
		t.Fatalf("dial the helper inside %s: %v", ns.Name, err)
	}
	c.Close()

	d.Kill9()
	if d.Running() {
		t.Fatal("running after Kill9")
	}
	if crashed, _ := d.Exited(); crashed {
		t.Error("Exited reports a crash after Kill9")
	}
	if err := d.Start(); err != nil {
		t.Fatalf("start after Kill9: %v\n%s", err, d.Log())
	}
	if err := d.Restart(); err != nil {
		t.Fatalf("Restart: %v\n%s", err, d.Log())
	}
	if err := d.Stop(); err != nil {
		t.Fatalf("Stop: %v\n%s", err, d.Log())
	}
	log := d.Log()
	for _, want := range []string{"=== helper run 1", "=== helper run 3", "helper: bye"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if n := strings.Count(log, "helper ready"); n != 3 {
		t.Errorf("%d ready lines in the log, want 3:\n%s", n, log)
	}
	if !strings.Contains(d.RunLog(), "helper: bye") || strings.Count(d.RunLog(), "helper ready") != 1 {
		t.Errorf("RunLog is not the last run's output:\n%s", d.RunLog())
	}
}

func TestDaemonCrashIsReported(t *testing.T) {
	t.Parallel()
	d := StartDaemon(t, helperSpec(t, nil, "127.0.0.1:0", "127.0.0.1:0", "HELPER_CRASH_AFTER=200ms"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := d.Wait(ctx)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("Wait = %v, want exit status 3", err)
	}
	crashed, err := d.Exited()
	if !crashed || err == nil {
		t.Fatalf("Exited = %v, %v; want a crash", crashed, err)
	}
}

func TestDaemonNotReadyFails(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	h := NewHarness("fake", &out)
	defer h.Teardown()
	ok := h.Do(func() {
		spec := helperSpec(t, nil, "127.0.0.1:0", "127.0.0.1:0")
		spec.Ready = ReadyLog("a line that never comes")
		spec.ReadyTimeout = 500 * time.Millisecond
		StartDaemon(h, spec)
		t.Error("StartDaemon returned for a daemon never ready")
	})
	if ok || !h.Failed() {
		t.Fatalf("Do = %v, Failed = %v", ok, h.Failed())
	}
	h.Teardown()
	if s := out.String(); !strings.Contains(s, "not ready within") || !strings.Contains(s, "helper ready") {
		t.Errorf("the failure does not show the reason and the log:\n%s", s)
	}
}

func TestParseProcAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0100007F:1F90", "127.0.0.1:8080"},
		{"00000000:0035", "0.0.0.0:53"},
		{"014DCB0A:0714", "10.203.77.1:1812"},
		{"00000000000000000000000001000000:0016", "[::1]:22"},
	} {
		got, err := parseProcAddr(tc.in)
		if err != nil || got != netip.MustParseAddrPort(tc.want) {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007F:XYZ", "01:0016", "zz00007F:0016"} {
		if _, err := parseProcAddr(bad); err == nil {
			t.Errorf("parseProcAddr(%q) accepted", bad)
		}
	}
}

// Netns.Do ends the thread it ran on; a daemon forked from that thread a
// moment before would get its Pdeathsig. StartDaemon forks elsewhere.
func TestDaemonSurvivesNetnsDo(t *testing.T) {
	t.Parallel()
	ns := NewNetns(t, "eb-pd")
	for i := 0; i < 5; i++ {
		d := StartDaemon(t, DaemonSpec{Path: "/bin/sleep", Args: []string{"30"}, Netns: ns})
		for j := 0; j < 20; j++ {
			ns.Do(func() error { return nil })
		}
		time.Sleep(20 * time.Millisecond)
		if crashed, err := d.Exited(); crashed {
			t.Fatalf("daemon %d died after Netns.Do calls: %v", i, err)
		}
		d.Kill9()
	}
}
