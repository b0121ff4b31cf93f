package nas

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// A hand-made IPv4 ICMP echo request (RFC 792) and its expected answer.
func TestEchoReplyICMP(t *testing.T) {
	req := []byte{
		0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, // checksum later
		100, 64, 0, 2, 198, 51, 100, 1,
		0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01,
	}
	binary.BigEndian.PutUint16(req[10:12], checksum(req[:20]))
	binary.BigEndian.PutUint16(req[22:24], checksum(req[20:]))
	p := append([]byte(nil), req...)
	if !echoReply(p, 7) {
		t.Fatal("not answered")
	}
	if p[20] != 0 || string(p[12:16]) != string(req[16:20]) || string(p[16:20]) != string(req[12:16]) {
		t.Fatalf("reply % x", p)
	}
	if checksum(p[:20]) != 0 || checksum(p[20:]) != 0 {
		t.Fatalf("checksums do not verify: % x", p)
	}
}

func TestEchoReplyUDP(t *testing.T) {
	p := make([]byte, 28+5)
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:4], uint16(len(p)))
	p[8], p[9] = 64, 17
	copy(p[12:16], []byte{100, 64, 0, 2})
	copy(p[16:20], []byte{100, 64, 0, 1})
	binary.BigEndian.PutUint16(p[10:12], checksum(p[:20]))
	u := p[20:]
	binary.BigEndian.PutUint16(u[0:2], 40000)
	binary.BigEndian.PutUint16(u[2:4], 7)
	binary.BigEndian.PutUint16(u[4:6], uint16(len(u)))
	copy(u[8:], "hello")
	pseudo := func(p []byte) uint16 {
		b := append([]byte(nil), p[12:20]...)
		b = append(b, 0, 17, byte(len(p)-20>>8), byte(len(p)-20))
		return checksum(append(b, p[20:]...))
	}
	binary.BigEndian.PutUint16(u[6:8], pseudo(p))
	if !echoReply(p, 7) {
		t.Fatal("not answered")
	}
	if binary.BigEndian.Uint16(u[0:2]) != 7 || binary.BigEndian.Uint16(u[2:4]) != 40000 || p[15] != 1 || p[19] != 2 {
		t.Fatalf("reply % x", p)
	}
	if checksum(p[:20]) != 0 || pseudo(p) != 0 {
		t.Fatal("checksums no longer verify after the swap")
	}
	// Another port, a fragment, garbage: not answered.
	for _, bad := range [][]byte{
		func() []byte { q := append([]byte(nil), p...); binary.BigEndian.PutUint16(q[22:24], 9); return q }(),
		func() []byte { q := append([]byte(nil), p...); q[6] = 0x20; return q }(),
		{0x45, 0, 0, 10}, {0x60, 0, 0, 0}, nil,
		func() []byte { q := append([]byte(nil), p...); q[0] = 0x4f; return q }(),
	} {
		if echoReply(bad, 7) {
			t.Errorf("answered % x", bad)
		}
	}
}

func TestPool(t *testing.T) {
	pl, err := newPool(netip.MustParsePrefix("10.0.0.0/29"), netip.MustParseAddr("10.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[netip.Addr]bool{}
	for {
		a, ok := pl.alloc()
		if !ok {
			break
		}
		if got[a] {
			t.Fatalf("%v twice", a)
		}
		got[a] = true
	}
	// .0 network, .1 ours, .7 broadcast: .2-.6 remain.
	if len(got) != 5 || got[netip.MustParseAddr("10.0.0.1")] || got[netip.MustParseAddr("10.0.0.7")] {
		t.Fatalf("allocated %v", got)
	}
	pl.release(netip.MustParseAddr("10.0.0.4"))
	pl.release(netip.MustParseAddr("10.0.0.4")) // twice: harmless
	if a, ok := pl.alloc(); !ok || a != netip.MustParseAddr("10.0.0.4") {
		t.Fatalf("after release: %v %v", a, ok)
	}
	if pl.inUse != 5 {
		t.Fatalf("in use %d", pl.inUse)
	}
}

func TestPADILimiter(t *testing.T) {
	l := newPADILimiter(Config{PADIRate: 10, PADIBurst: 5, PADIRatePerMAC: 1, PADIBurstPerMAC: 2})
	now := time.Unix(0, 0)
	a, b := []byte{2, 0, 0, 0, 0, 1}, []byte{2, 0, 0, 0, 0, 2}
	var got []bool
	for range 3 {
		got = append(got, l.allow(a, nil, now))
	}
	if got[0] != true || got[1] != true || got[2] != false {
		t.Fatalf("per MAC: %v", got)
	}
	// The same MAC with a Relay-Session-Id is another subscriber.
	if !l.allow(a, []byte("relay-1"), now) {
		t.Fatal("subscriber behind a relay limited with the relay's other subscribers")
	}
	// The interface bucket (5) runs out across MACs.
	n := 0
	for i := range 10 {
		if l.allow([]byte{2, 0, 0, 1, 0, byte(i)}, nil, now) {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d allowed after 3, want 2 (burst 5)", n)
	}
	if l.allow(b, nil, now) {
		t.Fatal("interface bucket empty, still allowed")
	}
	now = now.Add(time.Second)
	if !l.allow(b, nil, now) {
		t.Fatal("refilled, still refused")
	}
	l.sweep(now.Add(10 * time.Second))
	if len(l.macs) != 0 {
		t.Fatalf("%d MACs after sweep", len(l.macs))
	}
}

// Accounting gives way to authentication: while Access-Requests are out,
// at most acctInFlightWhileAuth records are; records are admitted in
// order; a cancelled waiter leaves no trace.
func TestAccountingGate(t *testing.T) {
	var g gate
	ctx := context.Background()
	g.enterAuth()
	for range acctInFlightWhileAuth {
		if err := g.enterAcct(ctx); err != nil {
			t.Fatal(err)
		}
	}
	order := make(chan int, 3)
	for i := range 3 {
		go func() {
			if g.enterAcct(ctx) == nil {
				order <- i
			}
		}()
		time.Sleep(10 * time.Millisecond) // queue in order
	}
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- g.enterAcct(cctx) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("cancelled waiter admitted")
	}
	select {
	case i := <-order:
		t.Fatalf("record %d admitted while auth busy and full", i)
	case <-time.After(20 * time.Millisecond):
	}
	// Each record leaving lets exactly the next one in, in order.
	for want := range 3 {
		g.leaveAcct()
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("admitted %d, want %d", got, want)
			}
		case <-time.After(time.Second):
			t.Fatal("not admitted")
		}
		select {
		case got := <-order:
			t.Fatalf("%d admitted too", got)
		case <-time.After(10 * time.Millisecond):
		}
	}
	// Authentication done: the limit is maxAcctInFlight again.
	g.leaveAuth()
	for range maxAcctInFlight - acctInFlightWhileAuth {
		if err := g.enterAcct(ctx); err != nil {
			t.Fatal(err)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.acct != maxAcctInFlight || len(g.waiters) != 0 {
		t.Fatalf("acct %d waiters %d", g.acct, len(g.waiters))
	}
}
