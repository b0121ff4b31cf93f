package relay

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/relay/internal/pppoetest"
	"github.com/edgebill/edgebill/rfc/ppp"
)

var (
	macLAN  = net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 0x01}
	macWAN  = net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 0x02}
	macBRAS = net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 0x03}
)

func subMAC(i int) net.HardwareAddr { return net.HardwareAddr{0x02, 0x5b, 0, 0, byte(i >> 8), byte(i)} }

// recorder is a gateway.Sessions that keeps every event.
type recorder struct {
	mu     sync.Mutex
	opened []gateway.Session
	addrs  map[uint64]netip.Addr
	closed map[uint64]closedEvent
	change chan struct{}
}

type closedEvent struct {
	at    time.Time
	usage gateway.Usage
	cause gateway.TerminateCause
}

func newRecorder() *recorder {
	return &recorder{addrs: map[uint64]netip.Addr{}, closed: map[uint64]closedEvent{}, change: make(chan struct{}, 1)}
}

func (r *recorder) poke() {
	select {
	case r.change <- struct{}{}:
	default:
	}
}

func (r *recorder) Opened(s gateway.Session) {
	r.mu.Lock()
	r.opened = append(r.opened, s)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) Addressed(key uint64, ip netip.Addr) {
	r.mu.Lock()
	r.addrs[key] = ip
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) Closed(key uint64, at time.Time, u gateway.Usage, c gateway.TerminateCause) {
	r.mu.Lock()
	r.closed[key] = closedEvent{at, u, c}
	r.mu.Unlock()
	r.poke()
}

// wait polls cond until it holds or the deadline passes.
func wait(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *recorder) openedFor(user string) (gateway.Session, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.opened {
		if s.User == user {
			return s, true
		}
	}
	return gateway.Session{}, false
}

func (r *recorder) closedFor(key uint64) (closedEvent, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.closed[key]
	return c, ok
}

// fakeAuthorizer answers from a table; users not in it get an error.
type fakeAuthorizer struct {
	mu      sync.Mutex
	answers map[string]gateway.Decision
	asked   []string
	delay   time.Duration
}

func (f *fakeAuthorizer) Authorize(ctx context.Context, user string, mac net.HardwareAddr) (gateway.Decision, error) {
	f.mu.Lock()
	f.asked = append(f.asked, user)
	d, ok := f.answers[user]
	f.mu.Unlock()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return gateway.Decision{}, ctx.Err()
		}
	}
	if !ok {
		return gateway.Decision{}, context.DeadlineExceeded
	}
	return d, nil
}

// rig is a relay between two in-memory hubs with a BRAS on the WAN.
type rig struct {
	t      *testing.T
	r      *Relay
	lan    *pppoetest.Hub
	wan    *pppoetest.Hub
	bras   *pppoetest.BRAS
	events *recorder
	cancel context.CancelFunc
	done   chan error
}

func newRig(t *testing.T, cfg Config, auth ppp.Auth) *rig {
	t.Helper()
	g := &rig{t: t, lan: &pppoetest.Hub{}, wan: &pppoetest.Hub{}, events: newRecorder(), done: make(chan error, 1)}
	if cfg.Sessions == nil {
		cfg.Sessions = g.events
	}
	if cfg.Logger == nil {
		cfg.Logger = zaptest.NewLogger(t)
	}
	r, err := NewWithPorts(cfg,
		Port{Link: g.lan.Port(macLAN), MAC: macLAN, Name: "lan"},
		Port{Link: g.wan.Port(macWAN), MAC: macWAN, Name: "wan"})
	if err != nil {
		t.Fatal(err)
	}
	g.r = r
	g.bras = pppoetest.NewBRAS(g.wan.Port(macBRAS), macBRAS, auth)
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	go func() { g.done <- r.Run(ctx) }()
	t.Cleanup(func() {
		g.stop()
		g.bras.Close()
	})
	return g
}

func (g *rig) stop() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	g.cancel = nil
	select {
	case err := <-g.done:
		if err != nil {
			g.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		g.t.Errorf("Run did not return")
	}
}

func (g *rig) client(i int) *pppoetest.Client {
	mac := subMAC(i)
	c := pppoetest.NewClient(g.lan.Port(mac), mac)
	g.t.Cleanup(c.Close)
	return c
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
