package nas_test

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/nas"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/nas/link"
)

// idleSessionMemory brings n sessions up on an in-memory hub, then drops
// the subscribers silently (nasd keeps its n sessions, idle: keepalive is
// off) and returns nasd's heap growth per session. The dialer's own
// leftovers (its session map does not shrink) count too, so this is an
// upper bound.
func idleSessionMemory(tb testing.TB, n int) float64 {
	tb.Helper()
	hub := link.NewHub()
	fr := newFakeRADIUS()
	cfg := testConfig()
	cfg.Pool = mustPrefix("100.64.0.0/16")
	srv, err := nas.New(cfg, nas.Options{Link: hub.Port(acMAC, 1<<15), Auth: fr, Acct: fr, Logger: zap.NewNop()})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(tb, 5*time.Second, "ready", srv.Ready)
	mux := client.NewMux(hub.Port(net.HardwareAddr{0x02, 0xd2, 0, 0, 0, 0}, 1<<15), zap.NewNop())
	go mux.Run(ctx)
	fr.mu.Lock()
	fr.users["alice"] = fakeUser{password: "alice-pw"} // no interim
	fr.mu.Unlock()

	dial := func(i int) *client.Session {
		dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
		defer dcancel()
		s, err := mux.Dial(dctx, client.Options{MAC: client.MACAt(net.HardwareAddr{0x02, 0x3e, 0, 0, 0, 0}, i), User: "alice", Password: "alice-pw",
			RestartTimer: time.Second, DiscoveryTimeout: time.Second})
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	warm := dial(0) // first-use allocations out of the way
	warm.Hangup(ctx)
	fr.mu.Lock()
	fr.acct, fr.access = nil, nil // the fake's own records are not nasd's
	fr.mu.Unlock()
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	sem := make(chan struct{}, 64)
	sessions := make([]*client.Session, n)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			sessions[i] = dial(1 + i)
		}()
	}
	for range cap(sem) {
		sem <- struct{}{}
	}
	waitFor(tb, 10*time.Second, "all up", func() bool { return srv.Stats().Sessions == n })
	for _, s := range sessions {
		s.Drop()
	}
	sessions = nil
	fr.mu.Lock()
	fr.acct, fr.access = nil, nil
	fr.mu.Unlock()
	time.Sleep(50 * time.Millisecond) // accounting goroutines finish
	after := heap()
	if got := srv.Stats().Sessions; got != n {
		tb.Fatalf("%d sessions after the drop, want %d", got, n)
	}
	return float64(after-before) / float64(n)
}

// Memory per established idle session stays under 16 KiB (issue 4's
// target), measured on 1000 sessions.
func TestIdleSessionMemory(t *testing.T) {
	per := idleSessionMemory(t, 1000)
	t.Logf("nasd heap per idle session: %.0f octets", per)
	if per > 16<<10 {
		t.Fatalf("%.0f octets per idle session, target < 16 KiB", per)
	}
}

func BenchmarkIdleSessionMemory(b *testing.B) {
	var per float64
	for range b.N {
		per = idleSessionMemory(b, 5000)
	}
	b.ReportMetric(per, "B/session")
}
