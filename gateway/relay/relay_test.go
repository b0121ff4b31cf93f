package relay

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/relay/internal/pppoetest"
	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// RFC 2516 Appendix A: the relay adds its Relay-Session-Id to PADI and
// PADR and takes it out of PADO and PADS; TR-101 line identification is
// inserted when configured.
func TestDiscoveryRelaySessionID(t *testing.T) {
	g := newRig(t, Config{CircuitID: "gw1 eth 0/1", RemoteID: "sub-{mac}"}, ppp.AuthPAP)
	c := g.client(1)
	pado, pads, err := c.Discover(testCtx(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*pppoe.Discovery{pado, pads} {
		if _, ok := d.RelaySessionID(); ok {
			t.Errorf("%v reached the subscriber with a Relay-Session-Id", d.Code)
		}
		if !bytes.Equal(d.Src, macLAN) {
			t.Errorf("%v from %v, want the relay's LAN MAC %v", d.Code, d.Src, macLAN)
		}
	}
	padis, padrs, _ := g.bras.Snapshot()
	if len(padis) == 0 || len(padrs) != 1 {
		t.Fatalf("BRAS saw %d PADI, %d PADR", len(padis), len(padrs))
	}
	for _, d := range []*pppoe.Discovery{padis[0], padrs[0]} {
		v, ok := d.RelaySessionID()
		if !ok || len(v) != 12 || !bytes.Equal(v[:6], subMAC(1)) {
			t.Errorf("%v at the BRAS: Relay-Session-Id % x, want 12 octets starting with the subscriber MAC", d.Code, v)
		}
		if !bytes.Equal(d.Src, macWAN) {
			t.Errorf("%v at the BRAS from %v, want %v", d.Code, d.Src, macWAN)
		}
		tr, ok, err := d.TR101()
		if !ok || err != nil {
			t.Fatalf("%v: no TR-101 tag (%v)", d.Code, err)
		}
		cid, _ := tr.CircuitID()
		rid, _ := tr.RemoteID()
		if diff := cmp.Diff([]string{"gw1 eth 0/1", "sub-" + subMAC(1).String()}, []string{cid, rid}); diff != "" {
			t.Errorf("TR-101 (-want +got):\n%s", diff)
		}
	}
	if !bytes.Equal(padis[0].Dst, pppoetest.Broadcast) || !bytes.Equal(padrs[0].Dst, macBRAS) {
		t.Errorf("PADI to %v, PADR to %v", padis[0].Dst, padrs[0].Dst)
	}
	if g.r.Stats().Sessions != 1 {
		t.Errorf("sessions = %d, want 1", g.r.Stats().Sessions)
	}
}

// A PADI that already carries a Relay-Session-Id, or leaves no room for
// one, is answered with a Generic-Error PADO and not relayed.
func TestDiscoveryGenericError(t *testing.T) {
	g := newRig(t, Config{}, ppp.AuthPAP)
	c := g.client(2)
	ctx := testCtx(t, 5*time.Second)
	for _, tc := range []struct {
		name string
		tags []pppoe.Tag
	}{
		{"relay id present", []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""),
			{Type: pppoe.TagHostUniq, Value: []byte("hu-1")}, {Type: pppoe.TagRelaySessionID, Value: []byte("someone-else")}}},
		// 1490 octets from the PPPoE header on: over RFC 2516 §5.1's 1484.
		{"no room", []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""),
			{Type: pppoe.TagHostUniq, Value: []byte("hu-2")}, {Type: 0x7777, Value: make([]byte, 1490-6-4-8-4)}}},
	} {
		d := pppoe.Discovery{Dst: pppoetest.Broadcast, Src: subMAC(2), Code: pppoe.CodePADI, Tags: tc.tags}
		// Encoded by hand: the codec refuses an oversized PADI.
		b := append(append([]byte{}, d.Dst...), d.Src...)
		b = append(b, 0x88, 0x63, 0x11, byte(pppoe.CodePADI), 0, 0, 0, 0)
		for _, tg := range d.Tags {
			b = append(b, byte(tg.Type>>8), byte(tg.Type), byte(len(tg.Value)>>8), byte(len(tg.Value)))
			b = append(b, tg.Value...)
		}
		b[18], b[19] = byte((len(b)-20)>>8), byte(len(b)-20)
		c.SendRaw(b)
		rv, err := c.Next(ctx, pppoetest.IsDiscovery(pppoe.CodePADO))
		if err != nil {
			t.Fatalf("%s: no PADO: %v", tc.name, err)
		}
		et, ok := rv.Discovery.ErrorTag()
		if !ok || et.Type != pppoe.TagGenericError {
			t.Errorf("%s: PADO without Generic-Error: %+v", tc.name, rv.Discovery.Tags)
		}
		hu, _ := rv.Discovery.HostUniq()
		if want, _ := d.HostUniq(); tc.name != "no room" && !bytes.Equal(hu, want) {
			t.Errorf("%s: Host-Uniq %q, want %q", tc.name, hu, want)
		}
		if _, ok := rv.Discovery.ACName(); !ok {
			t.Errorf("%s: PADO without AC-Name", tc.name)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if padis, _, _ := g.bras.Snapshot(); len(padis) != 0 {
		t.Errorf("BRAS saw %d refused PADIs", len(padis))
	}
	if n := g.r.Stats().GenericErrors; n != 2 {
		t.Errorf("GenericErrors = %d, want 2", n)
	}
}

// A session relayed end to end in user space: every IP octet counted
// exactly, equal to what the BRAS counted, events in order.
func TestSessionCounts(t *testing.T) {
	for _, auth := range []ppp.Auth{ppp.AuthPAP, ppp.AuthCHAPMD5} {
		t.Run(auth.String(), func(t *testing.T) {
			g := newRig(t, Config{}, auth)
			g.bras.Echo = true
			c := g.client(3)
			ctx := testCtx(t, 10*time.Second)
			res, err := c.Dial(ctx, "alice", "alice-pw")
			if err != nil {
				t.Fatal(err)
			}
			var want gateway.Usage
			for i := 0; i < 200; i++ {
				n := 20 + i*7%1400
				if err := c.SendIP(n); err != nil {
					t.Fatal(err)
				}
				want.InOctets += uint64(n)
				want.InPackets++
				if i%20 == 19 {
					// Pace: the hub drops when a port's queue is full.
					wait(t, "echoes", 5*time.Second, func() bool { return c.InPackets.Load() == want.InPackets })
				}
			}
			want.OutOctets, want.OutPackets = want.InOctets, want.InPackets
			wait(t, "echoes", 5*time.Second, func() bool { return c.InOctets.Load() == want.OutOctets })

			s, ok := g.events.openedFor("alice")
			if !ok {
				t.Fatal("no Opened event")
			}
			if s.PPPoESessionID != res.Session || !bytes.Equal(s.SubscriberMAC, subMAC(3)) || !bytes.Equal(s.BRASMAC, macBRAS) || s.AcctSessionID == "" {
				t.Errorf("Opened %+v", s)
			}
			got, ok := g.r.Usage(s.Key)
			if !ok {
				t.Fatal("Usage: no session")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("relay usage (-want +got):\n%s", diff)
			}
			bu := g.bras.Usage(res.Session)
			if diff := cmp.Diff(want, gateway.Usage{InOctets: bu.InOctets, OutOctets: bu.OutOctets, InPackets: bu.InPackets, OutPackets: bu.OutPackets}); diff != "" {
				t.Errorf("BRAS usage (-want +got):\n%s", diff)
			}
			g.events.mu.Lock()
			addr := g.events.addrs[s.Key]
			g.events.mu.Unlock()
			if addr != res.Address {
				t.Errorf("Addressed %v, the subscriber got %v", addr, res.Address)
			}

			c.Hangup(ctx)
			wait(t, "Closed", 5*time.Second, func() bool { _, ok := g.events.closedFor(s.Key); return ok })
			ce, _ := g.events.closedFor(s.Key)
			if diff := cmp.Diff(want, ce.usage); diff != "" {
				t.Errorf("Closed usage (-want +got):\n%s", diff)
			}
			if ce.cause != gateway.CauseUserRequest {
				t.Errorf("cause %d, want User-Request", ce.cause)
			}
			wait(t, "BRAS PADT", 5*time.Second, func() bool { return g.bras.Sessions() == 0 })
			if st := g.r.Stats(); st.Sessions != 0 || st.Up != 0 {
				t.Errorf("after hang-up: %d sessions, %d up", st.Sessions, st.Up)
			}
		})
	}
}

// The Authorizer's refusal: the subscriber gets PAP-Nak / CHAP-Failure
// with the Reply-Message, LCP Terminate-Request and PADT; the BRAS gets a
// PADT and never the credentials.
func TestAuthorizerRefuses(t *testing.T) {
	for _, auth := range []ppp.Auth{ppp.AuthPAP, ppp.AuthCHAPMD5} {
		t.Run(auth.String(), func(t *testing.T) {
			az := &fakeAuthorizer{answers: map[string]gateway.Decision{
				"dave":  {ReplyMessage: "Account in arrears: please pay your bill"},
				"alice": {Accept: true, Auth: gateway.Authorization{Tariff: "t1", InterimInterval: time.Minute, Class: []byte("c")}},
			}}
			g := newRig(t, Config{Authorizer: az}, auth)
			ctx := testCtx(t, 10*time.Second)

			c := g.client(4)
			res, err := c.Dial(ctx, "dave", "dave-pw")
			if !errors.Is(err, pppoetest.ErrRefused) || res.Message != "Account in arrears: please pay your bill" {
				t.Fatalf("dave: %+v, %v", res, err)
			}
			if _, err := c.Next(ctx, pppoetest.IsPPP(ppp.ProtoLCP, uint8(ppp.CodeTerminateRequest))); err != nil {
				t.Errorf("no LCP Terminate-Request: %v", err)
			}
			if _, err := c.Next(ctx, pppoetest.IsDiscovery(pppoe.CodePADT)); err != nil {
				t.Errorf("no PADT to the subscriber: %v", err)
			}
			wait(t, "PADT at the BRAS", 5*time.Second, func() bool { _, _, padts := g.bras.Snapshot(); return len(padts) == 1 })
			if g.bras.SawUser("dave") {
				t.Error("the BRAS saw dave's credentials")
			}

			c2 := g.client(5)
			if _, err := c2.Dial(ctx, "alice", "alice-pw"); err != nil {
				t.Fatalf("alice: %v", err)
			}
			s, ok := g.events.openedFor("alice")
			if !ok {
				t.Fatal("alice not opened")
			}
			if diff := cmp.Diff(gateway.Authorization{Tariff: "t1", InterimInterval: time.Minute, Class: []byte("c")}, s.Auth); diff != "" {
				t.Errorf("Authorization (-want +got):\n%s", diff)
			}
			if _, ok := g.events.openedFor("dave"); ok {
				t.Error("dave was opened")
			}
			st := g.r.Stats()
			if st.Accepted != 1 || st.Refused != 1 {
				t.Errorf("accepted %d refused %d", st.Accepted, st.Refused)
			}
		})
	}
}

// An Authorizer that fails (no server answers) refuses the dial.
func TestAuthorizerFailsClosed(t *testing.T) {
	az := &fakeAuthorizer{answers: map[string]gateway.Decision{}}
	g := newRig(t, Config{Authorizer: az, UnavailableMessage: "try later"}, ppp.AuthPAP)
	c := g.client(6)
	res, err := c.Dial(testCtx(t, 10*time.Second), "bob", "pw")
	if !errors.Is(err, pppoetest.ErrRefused) || res.Message != "try later" {
		t.Fatalf("%+v, %v", res, err)
	}
	if g.bras.SawUser("bob") {
		t.Error("credentials went upstream")
	}
	if g.r.Stats().AuthErrors != 1 {
		t.Error("AuthErrors not counted")
	}
}

// Frames claiming a session from another LAN host are dropped and
// counted; the session itself is undisturbed.
func TestSpoofedSession(t *testing.T) {
	g := newRig(t, Config{}, ppp.AuthPAP)
	ctx := testCtx(t, 10*time.Second)
	c := g.client(7)
	res, err := c.Dial(ctx, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	evil := g.client(8)
	evil.SetSession(res.Session, macLAN)
	for i := 0; i < 50; i++ {
		evil.SendIP(100)
	}
	evil.SendPPP(ppp.ProtoLCP, []byte{byte(ppp.CodeTerminateRequest), 1, 0, 4})
	evil.SendPADT()
	for i := 0; i < 10; i++ {
		c.SendIP(10)
	}
	wait(t, "BRAS count", 5*time.Second, func() bool { return g.bras.Usage(res.Session).InPackets == 10 })
	s, _ := g.events.openedFor("alice")
	if n := g.r.Spoofed(s.Key); n != 52 {
		t.Errorf("spoofed = %d, want 52", n)
	}
	if u, _ := g.r.Usage(s.Key); u.InPackets != 10 || u.InOctets != 100 {
		t.Errorf("usage %+v", u)
	}
	if g.bras.Sessions() != 1 {
		t.Error("the spoofed PADT ended the session")
	}
}

// MaxSessions: discovery beyond the limit goes unanswered.
func TestSessionLimit(t *testing.T) {
	g := newRig(t, Config{MaxSessions: 1}, ppp.AuthPAP)
	if _, _, err := g.client(9).Discover(testCtx(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, 2*time.Second)
	if _, _, err := g.client(10).Discover(ctx); err == nil {
		t.Fatal("second session discovered past the limit")
	}
	if g.r.Stats().Drops[DropSessionLimit] == 0 {
		t.Error("no session_limit drops")
	}
}

// A PADI flood: relayed up to the burst, the rest dropped and counted;
// an established session keeps working.
func TestPADIFlood(t *testing.T) {
	g := newRig(t, Config{PADIRate: 10, PADIBurst: 20, PADIHostRate: 1, PADIHostBurst: 3}, ppp.AuthPAP)
	ctx := testCtx(t, 10*time.Second)
	c := g.client(11)
	res, err := c.Dial(ctx, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	flood := g.client(12)
	for i := 0; i < 2000; i++ {
		mac := subMAC(1000 + i%500)
		d := pppoe.Discovery{Dst: pppoetest.Broadcast, Src: mac, Code: pppoe.CodePADI,
			Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, "")}}
		b, _ := d.MarshalBinary()
		flood.SendRaw(b)
		if i%100 == 0 {
			c.SendIP(64)
			time.Sleep(2 * time.Millisecond) // the hub's queues are finite
		}
	}
	wait(t, "session traffic", 5*time.Second, func() bool { return g.bras.Usage(res.Session).InPackets == 20 })
	padis, _, _ := g.bras.Snapshot()
	if len(padis) > 25 {
		t.Errorf("%d PADIs relayed, want at most the burst and a little", len(padis))
	}
	if g.r.Stats().Drops[DropPADIRate] == 0 {
		t.Error("no padi_rate drops")
	}
}

// Echo silence: the BRAS's Echo-Requests go unanswered, the relay ends
// the session (Lost-Carrier) with PADT to both sides.
func TestEchoSilence(t *testing.T) {
	g := newRig(t, Config{EchoFailures: 3}, ppp.AuthPAP)
	ctx := testCtx(t, 10*time.Second)
	c := g.client(13)
	res, err := c.Dial(ctx, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	c.NoEcho.Store(true)
	for i := 0; i < 4; i++ {
		e := ppp.EchoRequest(uint8(i), 0x1234, nil)
		b, _ := e.MarshalBinary()
		g.bras.SendPPP(res.Session, ppp.ProtoLCP, b)
	}
	s, _ := g.events.openedFor("alice")
	wait(t, "Closed", 5*time.Second, func() bool { _, ok := g.events.closedFor(s.Key); return ok })
	if ce, _ := g.events.closedFor(s.Key); ce.cause != gateway.CauseLostCarrier {
		t.Errorf("cause %d, want Lost-Carrier", ce.cause)
	}
	wait(t, "BRAS PADT", 5*time.Second, func() bool { return g.bras.Sessions() == 0 })
	if _, err := c.Next(ctx, pppoetest.IsDiscovery(pppoe.CodePADT)); err != nil {
		t.Error("no PADT to the subscriber")
	}
}

// A PADT from the BRAS is relayed and ends the session.
func TestBRASPADT(t *testing.T) {
	g := newRig(t, Config{}, ppp.AuthPAP)
	ctx := testCtx(t, 10*time.Second)
	c := g.client(14)
	res, err := c.Dial(ctx, "alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	g.bras.SendPADT(res.Session)
	if _, err := c.Next(ctx, pppoetest.IsDiscovery(pppoe.CodePADT)); err != nil {
		t.Fatal("PADT not relayed")
	}
	s, _ := g.events.openedFor("alice")
	wait(t, "Closed", 5*time.Second, func() bool { _, ok := g.events.closedFor(s.Key); return ok })
	if ce, _ := g.events.closedFor(s.Key); ce.cause != gateway.CauseLostService {
		t.Errorf("cause %d", ce.cause)
	}
}

// Shutdown ends live sessions: Closed with Admin-Reboot, PADT both ways.
func TestShutdown(t *testing.T) {
	g := newRig(t, Config{}, ppp.AuthPAP)
	ctx := testCtx(t, 10*time.Second)
	c := g.client(15)
	if _, err := c.Dial(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	s, _ := g.events.openedFor("alice")
	g.stop()
	ce, ok := g.events.closedFor(s.Key)
	if !ok || ce.cause != gateway.CauseAdminReboot {
		t.Errorf("Closed %+v %v", ce, ok)
	}
	wait(t, "BRAS PADT", 5*time.Second, func() bool { return g.bras.Sessions() == 0 })
}

// Sessions that never come up, and dead ones, are reaped.
func TestReap(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	g := newRig(t, Config{Now: clock, HandshakeTimeout: time.Minute, IdleTimeout: time.Hour}, ppp.AuthPAP)
	ctx := testCtx(t, 10*time.Second)
	if _, _, err := g.client(16).Discover(ctx); err != nil {
		t.Fatal(err)
	}
	c := g.client(17)
	if _, err := c.Dial(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	g.r.reap()
	if st := g.r.Stats(); st.Sessions != 1 || st.Up != 1 {
		t.Fatalf("after the handshake timeout: %+v", st)
	}
	now = now.Add(2 * time.Hour)
	g.r.reap()
	s, _ := g.events.openedFor("alice")
	if ce, ok := g.events.closedFor(s.Key); !ok || ce.cause != gateway.CauseIdleTimeout {
		t.Errorf("Closed %+v %v", ce, ok)
	}
}

// End (the billing side's cut, gateway.Ender): the subscriber gets an LCP
// Terminate-Request carrying the reason and a PADT, the BRAS a PADT, and
// Closed reports the cause asked for with the usage so far; another
// session on the relay carries on; ending an unknown or ended session
// reports false.
func TestEnd(t *testing.T) {
	g := newRig(t, Config{}, ppp.AuthPAP)
	ctx := testCtx(t, 10*time.Second)
	c, other := g.client(18), g.client(19)
	if _, err := c.Dial(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Dial(ctx, "bob", "pw"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := c.SendIP(100); err != nil {
			t.Fatal(err)
		}
	}
	s, _ := g.events.openedFor("alice")
	wait(t, "usage", 5*time.Second, func() bool { u, _ := g.r.Usage(s.Key); return u.InPackets == 3 })
	if !g.r.End(s.Key, gateway.CauseSessionTimeout, "credit exhausted") {
		t.Fatal("End of a live session reported false")
	}
	rv, err := c.Next(ctx, pppoetest.IsPPP(ppp.ProtoLCP, uint8(ppp.CodeTerminateRequest)))
	if err != nil {
		t.Fatalf("no LCP Terminate-Request: %v", err)
	}
	var term ppp.Packet
	if err := term.UnmarshalBinary(rv.Info); err != nil || string(term.Data) != "credit exhausted" {
		t.Errorf("Terminate-Request %+v (%v), want data %q", term, err, "credit exhausted")
	}
	padt, err := c.Next(ctx, pppoetest.IsDiscovery(pppoe.CodePADT))
	if err != nil {
		t.Fatalf("no PADT to the subscriber: %v", err)
	}
	if v, ok := padt.Discovery.Tag(pppoe.TagGenericError); !ok || string(v.Value) != "credit exhausted" {
		t.Errorf("PADT Generic-Error %q", v.Value)
	}
	wait(t, "PADT at the BRAS", 5*time.Second, func() bool { _, _, padts := g.bras.Snapshot(); return len(padts) == 1 })
	ce, ok := g.events.closedFor(s.Key)
	if !ok || ce.cause != gateway.CauseSessionTimeout || ce.usage.InPackets != 3 || ce.usage.InOctets != 3*100 {
		t.Errorf("Closed %+v %v", ce, ok)
	}
	if g.r.End(s.Key, gateway.CauseSessionTimeout, "again") || g.r.End(12345, gateway.CauseSessionTimeout, "") {
		t.Error("End of an ended or unknown session reported true")
	}
	// bob's session is untouched.
	b, _ := g.events.openedFor("bob")
	if err := other.SendIP(200); err != nil {
		t.Fatal(err)
	}
	wait(t, "bob's traffic", 5*time.Second, func() bool { u, ok := g.r.Usage(b.Key); return ok && u.InPackets == 1 })
	if _, closed := g.events.closedFor(b.Key); closed {
		t.Error("bob's session closed")
	}
}
