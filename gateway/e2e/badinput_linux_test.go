//go:build linux

package e2e

import (
	"crypto/rand"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/packet"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/nas/client"
)

// Bad input from both sides of a running gatewayd, while two sessions
// (alice, bob) carry traffic: malformed discovery and session frames,
// frames for alice's session from bob's MAC and from a stranger, a
// spoofed PADT and LCP Terminate-Request, a PADI flood from the LAN;
// unknown session ids, frames in alice's session from a host that is not
// the BRAS, malformed, unsolicited and forged PADO and PADS from the
// WAN. Nothing crashes, both sessions stay up, their traffic flows
// without loss, and their bills equal the subscribers' counts and nasd's
// exactly; a new dial still succeeds. Run with the kernel fast path and
// in user space.
func TestBadInputDisturbsNothing(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"kernel", "user"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			badInput(t, mode)
		})
	}
}

func badInput(t *testing.T, mode string) {
	e := newEnv(t, envOptions{NASAuth: "chap", RelayMode: mode, PADIRate: 20})
	m := e.mux()
	alice := mustDial(t, m, macN(0xb1, 1), "alice")
	bob := mustDial(t, m, macN(0xb1, 2), "bob")
	exchange(t, alice, 20, 600)
	exchange(t, bob, 20, 600)
	stopA := keepSending(alice, 400, 5*time.Millisecond)
	stopB := keepSending(bob, 900, 7*time.Millisecond)
	defer stopA()
	defer stopB()

	lanMAC := mustMAC(t, e.gw.NS, lab.GatewayLANIf)
	wanMAC := mustMAC(t, e.gw.NS, lab.GatewayWANIf)
	brasMAC := mustMAC(t, e.top.ISP, lab.ISPWANIf)
	if got := alice.ACMAC().String(); got != lanMAC.String() {
		t.Fatalf("alice's AC is %s, not the gateway's LAN %s", got, lanMAC)
	}
	sid := alice.SessionID()
	stranger := net.HardwareAddr{0x02, 0x66, 0x66, 0x66, 0x66, 0x66}
	ip := client.UDPPacket(alice.Addr(), alice.PeerAddr(), 40002, udpEchoPort, 300)
	lcpTerm := []byte{5, 0x77, 0, 4} // LCP Terminate-Request (RFC 1661 §5.5)
	rsid := func(mac net.HardwareAddr) []byte { return append(append([]byte{}, mac...), 1, 2, 3, 4, 5, 6) }

	// --- from the LAN ---
	lan := injector(t, e.top.Sub, e.gw.SubIf)
	padi := discovery(bcast, stranger, 0x09, 0, tag(0x0101, nil), tag(0x0103, []byte("hu")))
	var frames [][]byte
	frames = append(frames,
		padi[:17],                // truncated header
		withByte(padi, 14, 0x22), // VER/TYPE 2/2
		withLen(padi, 0x7ff0),    // LENGTH past the end
		discovery(bcast, stranger, 0x09, 0, []byte{0x01, 0x01, 0x40, 0x00}),                    // tag runs past the payload
		discovery(bcast, stranger, 0x09, 0, tag(0x0101, nil), tag(0x0110, rsid(stranger))),     // already relayed
		discovery(bcast, stranger, 0x09, 0, tag(0x0101, nil), tag(0x0102, make([]byte, 1480))), // no room left
		discovery(bcast, stranger, 0x09, 0x1234, tag(0x0101, nil)),                             // PADI with a session id
		discovery(lanMAC, stranger, 0x19, 0, tag(0x0101, nil), tag(0x0104, []byte("forged"))),  // PADR, no offer
		discovery(lanMAC, stranger, 0x55, 0, tag(0x0101, nil)),                                 // unknown code
		discovery(lanMAC, stranger, 0xa7, sid),                                                 // PADT for alice, not from alice
		discovery(lanMAC, bob.MAC(), 0xa7, sid),                                                // ... nor from bob
		discovery(bcast, net.HardwareAddr{0x03, 0, 0, 0, 0, 1}, 0x09, 0, tag(0x0101, nil)),     // group source
	)
	sess := sessionFrame(lanMAC, stranger, sid, 0x0021, ip)
	frames = append(frames,
		sess[:19],                // truncated header
		withLen(sess, 0x7ff0),    // LENGTH past the end
		withByte(sess, 14, 0x12), // VER/TYPE
		withLen(sess, 1),         // one octet of PPP protocol
		sessionFrame(lanMAC, alice.MAC(), sid, 0x0021, nil),          // IP, no packet
		sessionFrame(lanMAC, alice.MAC(), 0, 0x0021, ip),             // session 0
		sessionFrame(lanMAC, alice.MAC(), 0xffff, 0x0021, ip),        // session 0xffff
		sessionFrame(lanMAC, alice.MAC(), sid^0x5555, 0x0021, ip),    // unknown session
		sessionFrame(lanMAC, alice.MAC(), sid, 0x8021, []byte{1}),    // IPCP, truncated
		sessionFrame(lanMAC, alice.MAC(), sid, 0xc023, []byte{1, 9}), // PAP, truncated
		sessionFrame(lanMAC, alice.MAC(), sid, 0xc223, []byte{2, 1}), // CHAP, truncated
		sessionFrame(lanMAC, alice.MAC(), sid, 0xc021, []byte{9, 9}), // LCP, truncated
		sessionFrame(lanMAC, alice.MAC(), sid, 0x4021, []byte("??")), // an unknown protocol
	)
	for _, src := range []net.HardwareAddr{stranger, bob.MAC()} {
		// alice's session from another LAN host: IP, and the control
		// frames that would end or re-authenticate it.
		for i := 0; i < 20; i++ {
			frames = append(frames, sessionFrame(lanMAC, src, sid, 0x0021, ip))
		}
		frames = append(frames,
			sessionFrame(lanMAC, src, sid, 0xc021, lcpTerm),
			sessionFrame(lanMAC, src, sid, 0xc021, []byte{9, 1, 0, 8, 0, 0, 0, 0}), // Echo-Request
			sessionFrame(lanMAC, src, sid, 0xc023, []byte{1, 9, 0, 6, 0, 0}),       // PAP request
		)
	}
	lan.send(t, frames)
	// A PADI flood from 3000 hosts.
	var flood [][]byte
	for i := 0; i < 3000; i++ {
		src := net.HardwareAddr{0x02, 0x77, 0, byte(i >> 16), byte(i >> 8), byte(i)}
		flood = append(flood, discovery(bcast, src, 0x09, 0, tag(0x0101, nil), tag(0x0103, []byte{byte(i)})))
	}
	lan.send(t, flood)

	// --- from the WAN: straight onto the gateway's WAN link, bypassing
	// the ISP's bridge (and so nasd) ---
	wan := injector(t, e.top.ISP, e.gw.ISPPort)
	wsess := sessionFrame(wanMAC, brasMAC, sid, 0x0021, ip)
	pads := discovery(wanMAC, brasMAC, 0x65, sid, tag(0x0101, nil), tag(0x0110, rsid(alice.MAC())))
	frames = [][]byte{
		wsess[:18],
		withLen(wsess, 0x7ff0),
		withByte(wsess, 14, 0x21),
		sessionFrame(wanMAC, brasMAC, sid^0x5555, 0x0021, ip), // unknown sessions
		sessionFrame(wanMAC, brasMAC, sid^0x0f0f, 0xc021, lcpTerm),
		sessionFrame(wanMAC, brasMAC, 0, 0x0021, ip),
		sessionFrame(wanMAC, stranger, sid, 0x0021, ip),                 // alice's session, not from the BRAS
		sessionFrame(wanMAC, stranger, sid, 0xc021, lcpTerm),            // ... trying to end it
		sessionFrame(wanMAC, stranger, sid, 0xc223, []byte{3, 1, 0, 4}), // CHAP Success from a stranger
		discovery(wanMAC, stranger, 0xa7, sid),                          // PADT for alice, not from the BRAS
		discovery(wanMAC, brasMAC, 0xa7, sid^0x5555),                    // PADT, unknown session
		// PADO and PADS: malformed, unsolicited, forged.
		pads[:16],
		withLen(pads, 0x7ff0),
		withByte(pads, 14, 0x13),
		discovery(wanMAC, brasMAC, 0x07, 0, []byte{0x01, 0x02, 0x30, 0x00}),                                    // tag past the end
		discovery(wanMAC, brasMAC, 0x07, 0, tag(0x0102, []byte("evil-ac")), tag(0x0101, nil)),                  // no Relay-Session-Id
		discovery(wanMAC, brasMAC, 0x07, 0, tag(0x0102, []byte("evil-ac")), tag(0x0110, rsid(alice.MAC()))),    // forged one
		discovery(wanMAC, brasMAC, 0x07, 0, tag(0x0102, []byte("evil-ac")), tag(0x0110, []byte{1, 2, 3})),      // short one
		discovery(wanMAC, brasMAC, 0x07, 0x0042, tag(0x0102, []byte("evil-ac")), tag(0x0110, rsid(bob.MAC()))), // PADO with a session id
		pads, // forged PADS for alice's session id
		discovery(wanMAC, stranger, 0x65, sid^0x5555, tag(0x0101, nil), tag(0x0110, rsid(bob.MAC()))), // forged PADS, new id
		discovery(wanMAC, brasMAC, 0x65, 0, tag(0x0101, nil)),                                         // PADS without anything
		discovery(bcast, brasMAC, 0x09, 0, tag(0x0101, nil)),                                          // a PADI from the WAN
		discovery(wanMAC, brasMAC, 0x19, 0, tag(0x0101, nil)),                                         // a PADR from the WAN
	}
	for i := 0; i < 200; i++ {
		id := make([]byte, 2)
		rand.Read(id)
		frames = append(frames, sessionFrame(wanMAC, brasMAC, binary.BigEndian.Uint16(id)|1, 0x0021, ip))
	}
	wan.send(t, frames)

	// Let the traffic run on, then stop it and let the echoes come home.
	time.Sleep(time.Second)
	stopA()
	stopB()
	for _, s := range []*client.Session{alice, bob} {
		waitFor(t, 5*time.Second, "every echo back", func() bool {
			c := s.Counters()
			return c.RxPackets == c.TxPackets
		})
		select {
		case <-s.Done():
			t.Fatalf("%s's session ended: %v", s.MAC(), s.Err())
		default:
		}
	}
	if crashed, err := e.gwd.Exited(); crashed || !e.gwd.Running() {
		t.Fatalf("gatewayd is gone: %v", err)
	}
	if crashed, err := e.nasd.Exited(); crashed {
		t.Fatalf("nasd is gone: %v", err)
	}
	if strings.Contains(e.gwd.Log(), "panic") {
		t.Error("gatewayd's log mentions a panic")
	}
	// Sessions still in both tables, still exactly counted.
	exchange(t, alice, 30, 1000)
	exchange(t, bob, 30, 1000)
	want := map[string]sessionUsage{}
	for _, s := range []*client.Session{alice, bob} {
		want[s.MAC().String()] = clientUsage(s.Counters())
		hangup(t, s)
	}
	// The empty IP frame from alice's own MAC in her own session is
	// hers: gatewayd and nasd both count it, a packet of no octets, and
	// her dialer never sent it.
	a := want[alice.MAC().String()]
	a.InPackets++
	want[alice.MAC().String()] = a
	bills := waitBills(t, e.acct, 2, 15*time.Second)
	for _, b := range bills {
		u, ok := want[b.SubscriberMAC.String()]
		if !ok {
			t.Errorf("a bill for %s", b.SubscriberMAC)
			continue
		}
		if diff := cmp.Diff(u, billUsage(b)); diff != "" {
			t.Errorf("%s: bill vs the subscriber (-subscriber +bill):\n%s", b.UserName, diff)
		}
		if b.TerminateCause != rfc2866.AcctTerminateCause_Value_UserRequest {
			t.Errorf("%s: ended with %v", b.UserName, b.TerminateCause)
		}
		row := e.stoppedRow(b.UserName, b.PPPoESessionID, time.Time{}, 10*time.Second)
		if stop, ok := e.tap.stop(row.AcctSessionID); !ok || stop.Usage != billUsage(b) {
			t.Errorf("%s: bill %+v, nasd's Stop %+v", b.UserName, billUsage(b), stop.Usage)
		}
		t.Logf("%s: %+v", b.UserName, billUsage(b))
	}
	// What was dropped, and why.
	mt := e.metrics()
	drops := map[string]float64{}
	for k, v := range mt {
		if r, ok := strings.CutPrefix(k, `gatewayd_relay_drops_total{reason="`); ok {
			drops[strings.TrimSuffix(r, `"}`)] = v
		}
	}
	t.Logf("gatewayd drops: %v", drops)
	for _, reason := range []string{"malformed", "unknown_session", "spoofed", "padi_rate", "relay_id", "unexpected"} {
		if drops[reason] == 0 {
			t.Errorf("no drop counted as %s", reason)
		}
	}
	// The flood is over; a new subscriber dials.
	carol := mustDial(t, m, macN(0xb1, 3), "carol")
	exchange(t, carol, 10, 200)
	hangup(t, carol)
	waitBills(t, e.acct, 3, 10*time.Second)
}

// --- raw frames ----------------------------------------------------------------

var bcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// frameInjector writes whole Ethernet frames on an interface.
type frameInjector struct{ c *packet.Conn }

func injector(t *testing.T, ns *lab.Netns, ifname string) *frameInjector {
	t.Helper()
	var c *packet.Conn
	if err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		// A protocol nothing uses: this socket writes, it reads nothing.
		c, err = packet.Listen(ifi, packet.Raw, 0x88b5, nil)
		return err
	}); err != nil {
		t.Fatalf("%s in %s: %v", ifname, ns.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return &frameInjector{c: c}
}

// send writes frames, pausing every 64 so that the receiver's queues,
// not the sender's, are what the test exercises.
func (in *frameInjector) send(t *testing.T, frames [][]byte) {
	t.Helper()
	for i, f := range frames {
		if len(f) < 14 {
			continue
		}
		if _, err := in.c.WriteTo(f, &packet.Addr{HardwareAddr: net.HardwareAddr(f[0:6])}); err != nil {
			t.Fatalf("frame %d (% x...): %v", i, f[:min(len(f), 24)], err)
		}
		if i%64 == 63 {
			time.Sleep(time.Millisecond)
		}
	}
}

func mustMAC(t *testing.T, ns *lab.Netns, ifname string) net.HardwareAddr {
	t.Helper()
	mac, err := ns.HardwareAddr(ifname)
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

// discovery is a PPPoE discovery frame (RFC 2516 §5) with the given tags
// (each already encoded) and a correct LENGTH.
func discovery(dst, src net.HardwareAddr, code byte, sid uint16, tags ...[]byte) []byte {
	f := append(append(append([]byte{}, dst...), src...), 0x88, 0x63, 0x11, code, byte(sid>>8), byte(sid), 0, 0)
	for _, t := range tags {
		f = append(f, t...)
	}
	binary.BigEndian.PutUint16(f[18:20], uint16(len(f)-20))
	return f
}

// tag encodes one discovery tag (RFC 2516 Appendix A).
func tag(typ uint16, v []byte) []byte {
	return append([]byte{byte(typ >> 8), byte(typ), byte(len(v) >> 8), byte(len(v))}, v...)
}

// sessionFrame is a PPPoE session frame (RFC 2516 §4) carrying PPP
// protocol proto and info.
func sessionFrame(dst, src net.HardwareAddr, sid, proto uint16, info []byte) []byte {
	f := append(append(append([]byte{}, dst...), src...), 0x88, 0x64, 0x11, 0, byte(sid>>8), byte(sid), 0, 0,
		byte(proto>>8), byte(proto))
	f = append(f, info...)
	binary.BigEndian.PutUint16(f[18:20], uint16(len(f)-20))
	return f
}

// withLen is f with its PPPoE LENGTH set to n.
func withLen(f []byte, n uint16) []byte {
	g := append([]byte{}, f...)
	binary.BigEndian.PutUint16(g[18:20], n)
	return g
}

// withByte is f with octet i set to v.
func withByte(f []byte, i int, v byte) []byte {
	g := append([]byte{}, f...)
	g[i] = v
	return g
}

// A session frame on the WAN with the BRAS's source MAC and a session's
// id, but addressed to another host (broadcast, or a unicast MAC that is
// not the gateway's: RFC 2516 §4 makes a SESSION_ID unique only per pair
// of Ethernet addresses, so a BRAS may give the same id to two gateways,
// and a flooded frame of the other one's reaches this one) is not the
// gateway's to relay: it must neither reach the subscriber nor be billed.
// This test found the relay checking only the source MAC; both paths
// (relay.go handleSession, the tc program's PACKET_HOST check) now drop
// such frames.
func TestWANSessionFramesForOtherHosts(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"kernel", "user"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOptions{RelayMode: mode})
			m := e.mux()
			alice := mustDial(t, m, macN(0xb2, 1), "alice")
			exchange(t, alice, 10, 500)
			wanMAC := mustMAC(t, e.gw.NS, lab.GatewayWANIf)
			brasMAC := mustMAC(t, e.top.ISP, lab.ISPWANIf)
			other := net.HardwareAddr{0x02, 0x99, 0, 0, 0, 1}
			if other.String() == wanMAC.String() {
				t.Fatal("the other host has the gateway's MAC")
			}
			ip := client.UDPPacket(alice.PeerAddr(), alice.Addr(), udpEchoPort, 40000, 300)
			wan := injector(t, e.top.ISP, e.gw.ISPPort)
			wan.send(t, [][]byte{
				sessionFrame(bcast, brasMAC, alice.SessionID(), 0x0021, ip),
				sessionFrame(other, brasMAC, alice.SessionID(), 0x0021, ip),
			})
			time.Sleep(300 * time.Millisecond)
			hangup(t, alice)
			b := waitBills(t, e.acct, 1, 10*time.Second)[0]
			row := e.stoppedRow("alice", alice.SessionID(), time.Time{}, 10*time.Second)
			stop, _ := e.tap.stop(row.AcctSessionID)
			if diff := cmp.Diff(stop.Usage, billUsage(b)); diff != "" {
				t.Errorf("bill vs nasd's Stop (-nasd +gatewayd):\n%s", diff)
			}
			if c := alice.Counters(); c.RxPackets != c.TxPackets {
				t.Errorf("alice received %d packets for %d sent: frames for other hosts reached her", c.RxPackets, c.TxPackets)
			}
		})
	}
}
