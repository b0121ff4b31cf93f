package udpproxy

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// server is a loopback UDP server that records what it receives and,
// with echo, answers each datagram with a copy.
type server struct {
	conn net.PacketConn
	mu   sync.Mutex
	got  []string
	done chan struct{}
}

func startServer(t *testing.T, echo bool) *server {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{conn: c, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 8192)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.got = append(s.got, string(buf[:n]))
			s.mu.Unlock()
			if echo {
				c.WriteTo(buf[:n], from)
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-s.done })
	return s
}

func (s *server) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// waitCount waits up to d for s to have received n datagrams.
func (s *server) waitCount(n int, d time.Duration) []string {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if got := s.received(); len(got) >= n {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	return s.received()
}

// startProxy runs a proxy to target until the test ends, checking that
// Run then returns nil promptly.
func startProxy(t *testing.T, cfg Config) *Proxy {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Error("Run did not return within 2s of cancel")
		}
	})
	return p
}

func dialProxy(t *testing.T, p *Proxy) *net.UDPConn {
	t.Helper()
	c, err := net.DialUDP("udp", nil, p.Addr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readAll reads datagrams until none comes for quiet.
func readAll(c *net.UDPConn, quiet time.Duration) []string {
	var got []string
	buf := make([]byte, 8192)
	for i := 0; i < 10000; i++ {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		got = append(got, string(buf[:n]))
	}
	return got
}

func msgs(n int) []string {
	var m []string
	for i := 1; i <= n; i++ {
		m = append(m, fmt.Sprintf("m%d", i))
	}
	return m
}

func TestPassesBothWaysInOrder(t *testing.T) {
	srv := startServer(t, true)
	p := startProxy(t, Config{Target: srv.conn.LocalAddr().String()})
	c := dialProxy(t, p)
	var got []string
	buf := make([]byte, 100)
	for _, m := range msgs(50) {
		c.Write([]byte(m))
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no reply to %s: %v", m, err)
		}
		got = append(got, string(buf[:n]))
	}
	if diff := cmp.Diff(msgs(50), got); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(msgs(50), srv.received()); diff != "" {
		t.Errorf("at the server (-want +got):\n%s", diff)
	}
	want := Stats{ToTarget: Counts{Received: 50, Forwarded: 50}, ToClient: Counts{Received: 50, Forwarded: 50}, Clients: 1}
	// The last reply may reach the client before the proxy counts it.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline) && p.Stats() != want; {
		time.Sleep(5 * time.Millisecond)
	}
	if diff := cmp.Diff(want, p.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestFaultsAlways(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults Faults
		send   int
		want   []string // at the server, in order
		counts Counts
	}{
		{"drop", Faults{Drop: 1}, 4, nil, Counts{Received: 4, Dropped: 4}},
		{"duplicate", Faults{Duplicate: 1}, 3, []string{"m1", "m1", "m2", "m2", "m3", "m3"}, Counts{Received: 3, Forwarded: 6, Duplicated: 3}},
		// Hold-and-swap: pairs swap; the odd last one goes after ReorderWait.
		{"reorder", Faults{Reorder: 1}, 5, []string{"m2", "m1", "m4", "m3", "m5"}, Counts{Received: 5, Forwarded: 5, Reordered: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, false)
			p := startProxy(t, Config{Target: srv.conn.LocalAddr().String(), ToTarget: tc.faults, ReorderWait: 300 * time.Millisecond})
			c := dialProxy(t, p)
			for _, m := range msgs(tc.send) {
				c.Write([]byte(m))
			}
			got := srv.waitCount(len(tc.want), 2*time.Second)
			time.Sleep(50 * time.Millisecond) // nothing more should come
			got = srv.received()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("at the server (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.counts, p.Stats().ToTarget); diff != "" {
				t.Errorf("ToTarget counts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSeededFaultsRepeat(t *testing.T) {
	run := func(seed uint64) ([]string, Counts) {
		srv := startServer(t, false)
		p := startProxy(t, Config{Target: srv.conn.LocalAddr().String(), Seed: seed,
			ToTarget: Faults{Drop: 0.3, Duplicate: 0.2}})
		c := dialProxy(t, p)
		for _, m := range msgs(200) {
			c.Write([]byte(m))
			time.Sleep(100 * time.Microsecond) // keep arrival order = send order
		}
		deadline := time.Now().Add(3 * time.Second)
		// Received is counted before a datagram's fate: wait until every
		// received one is accounted for.
		settled := func(s Counts) bool {
			return s.Received == 200 && s.Forwarded == s.Received-s.Dropped+s.Duplicated
		}
		for time.Now().Before(deadline) && !settled(p.Stats().ToTarget) {
			time.Sleep(5 * time.Millisecond)
		}
		s := p.Stats().ToTarget
		got := srv.waitCount(int(s.Forwarded), 2*time.Second)
		return got, s
	}
	got1, s1 := run(7)
	got2, s2 := run(7)
	if diff := cmp.Diff(got1, got2); diff != "" {
		t.Errorf("same seed, different datagrams (-first +second):\n%s", diff)
	}
	if s1 != s2 {
		t.Errorf("same seed, different counts: %+v vs %+v", s1, s2)
	}
	if s1.Received != 200 || s1.Dropped < 30 || s1.Dropped > 90 || s1.Duplicated < 10 || s1.Forwarded != 200-s1.Dropped+s1.Duplicated {
		t.Errorf("counts off the rates: %+v", s1)
	}
	_, s3 := run(8)
	if s3 == s1 {
		t.Errorf("another seed gave the very same counts %+v", s3)
	}
}

func TestDownBlackHolesUntilUp(t *testing.T) {
	srv := startServer(t, true)
	p := startProxy(t, Config{Target: srv.conn.LocalAddr().String()})
	c := dialProxy(t, p)
	p.Down()
	if !p.IsDown() {
		t.Fatal("IsDown false after Down")
	}
	for _, m := range msgs(3) {
		c.Write([]byte(m))
	}
	if got := readAll(c, 200*time.Millisecond); len(got) != 0 {
		t.Fatalf("replies while Down: %q", got)
	}
	if n := len(srv.received()); n != 0 {
		t.Fatalf("server got %d datagrams while Down", n)
	}
	p.Up()
	c.Write([]byte("after"))
	if got := readAll(c, 500*time.Millisecond); len(got) != 1 || got[0] != "after" {
		t.Fatalf("after Up: %q", got)
	}
	s := p.Stats()
	if s.ToTarget.BlackHoled != 3 || s.ToTarget.Forwarded != 1 || s.ToClient.Forwarded != 1 {
		t.Errorf("Stats = %+v", s)
	}
}

func TestRepliesFindTheirClient(t *testing.T) {
	srv := startServer(t, true)
	p := startProxy(t, Config{Target: srv.conn.LocalAddr().String(), MaxClients: 2})
	var conns []*net.UDPConn
	for i := 0; i < 3; i++ {
		conns = append(conns, dialProxy(t, p))
	}
	for round := 0; round < 2; round++ {
		for i, c := range conns {
			m := fmt.Sprintf("client%d-round%d", i, round)
			c.Write([]byte(m))
			got := readAll(c, 300*time.Millisecond)
			if len(got) != 1 || got[0] != m {
				t.Fatalf("client %d got %q, want [%s]", i, got, m)
			}
		}
	}
	if n := p.Stats().Clients; n != 2 {
		t.Errorf("Clients = %d, want MaxClients 2", n)
	}
}

func TestQueueIsBounded(t *testing.T) {
	srv := startServer(t, false)
	p, err := New(Config{Target: srv.conn.LocalAddr().String(), QueueLen: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Not running: nothing drains the queue.
	for i := 0; i < 5; i++ {
		p.dispatch(toTarget, []byte("x"), p.conn, p.target)
	}
	p.dispatch(toTarget, make([]byte, 5000), p.conn, p.target)
	want := Counts{Received: 6, Overflowed: 3, Errors: 1}
	if diff := cmp.Diff(want, p.Stats().ToTarget); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRunEndsCleanly(t *testing.T) {
	srv := startServer(t, true)
	before := runtime.NumGoroutine()
	p, err := New(Config{Target: srv.conn.LocalAddr().String(), ToTarget: Faults{Reorder: 1}, ReorderWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	addr := p.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- p.Run(ctx) }()
	c := dialProxy(t, p)
	c.Write([]byte("held for an hour"))
	time.Sleep(50 * time.Millisecond)
	if err := p.Run(ctx); err != ErrRunning {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return")
	}
	// Its socket is closed: the address can be bound again.
	l, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("listen address still bound: %v", err)
	}
	l.Close()
	deadline := time.Now().Add(time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Run, %d before", n, before)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Target: "127.0.0.1:1", ToTarget: Faults{Drop: 1.5}},
		{Target: "127.0.0.1:1", ToClient: Faults{Reorder: -0.1}},
		{Target: "no-such-host.invalid:1"},
		{Target: "127.0.0.1:1", Listen: "256.0.0.1:0"},
	} {
		if p, err := New(cfg); err == nil {
			p.Close()
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	p, err := New(Config{Target: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.SetFaults(Faults{Duplicate: 2}, Faults{}); err == nil {
		t.Error("SetFaults accepted a rate of 2")
	}
}

func BenchmarkForward(b *testing.B) {
	srv, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	go func() {
		buf := make([]byte, 8192)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			srv.WriteTo(buf[:n], from)
		}
	}()
	p, err := New(Config{Target: srv.LocalAddr().String()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	c, err := net.DialUDP("udp", nil, p.Addr().(*net.UDPAddr))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, 200) // an Accounting-Request's size
	buf := make([]byte, 8192)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Write(msg)
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
