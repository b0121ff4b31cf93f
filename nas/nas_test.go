package nas_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/nas"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// A subscriber dials by PAP and by CHAP, gets an address from the pool and
// the DNS servers, moves traffic, hangs up; the accounting records carry
// exactly what the dialer counted.
func TestDialAccountHangup(t *testing.T) {
	for _, auth := range []nas.AuthMethod{nas.AuthPAP, nas.AuthCHAP} {
		t.Run(auth.String(), func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.Auth = auth
			cfg.InterimOverride = 150 * time.Millisecond
			h := startHubNAS(t, cfg, nas.Options{})
			s, err := h.dial("alice", "alice-pw", nil)
			if err != nil {
				t.Fatal(err)
			}
			if !netip.MustParsePrefix("100.64.0.0/24").Contains(s.Addr()) || s.Addr() == s.PeerAddr() {
				t.Fatalf("address %v, AC %v", s.Addr(), s.PeerAddr())
			}
			if s.PeerAddr() != netip.MustParseAddr("100.64.0.1") {
				t.Fatalf("AC address %v, want the pool's first host", s.PeerAddr())
			}
			if got := s.DNS(); len(got) != 2 || got[0].String() != "192.0.2.53" || got[1].String() != "192.0.2.54" {
				t.Fatalf("DNS %v", got)
			}
			if s.ACName() != "hub-nas" {
				t.Fatalf("AC-Name %q", s.ACName())
			}
			exchangeEcho(t, s, 10, 100)
			icmp := client.ICMPEcho(s.Addr(), netip.MustParseAddr("198.51.100.1"), 1, 1, 84)
			if err := s.SendIP(icmp); err != nil {
				t.Fatal(err)
			}
			// Sunk: not echoed, but counted as input.
			if err := s.SendIP(client.UDPPacket(s.Addr(), s.PeerAddr(), 1, 9, 60)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 5*time.Second, "ICMP echo reply", func() bool { return s.Counters().RxPackets == 11 })
			time.Sleep(400 * time.Millisecond) // at least one interim
			if err := s.Hangup(context.Background()); err != nil {
				t.Fatal(err)
			}
			c := s.Counters()
			if c.TxOctets != 10*100+84+60 || c.RxOctets != 10*100+84 || c.TxPackets != 12 || c.RxPackets != 11 {
				t.Fatalf("client counters %+v", c)
			}
			waitFor(t, 5*time.Second, "Stop", func() bool {
				recs := h.fr.records("")
				return len(recs) > 0 && statusOf(recs[len(recs)-1]) == rfc2866.AcctStatusType_Value_Stop
			})
			recs := h.fr.records("")
			if statusOf(recs[0]) != rfc2866.AcctStatusType_Value_AccountingOn {
				t.Fatalf("first record %v, want Accounting-On", statusOf(recs[0]))
			}
			id := rfc2866.AcctSessionID_GetString(recs[1])
			sess := h.fr.records(id)
			if statusOf(sess[0]) != rfc2866.AcctStatusType_Value_Start {
				t.Fatalf("first session record %v", statusOf(sess[0]))
			}
			interims := 0
			for _, p := range sess[1 : len(sess)-1] {
				if statusOf(p) != rfc2866.AcctStatusType_Value_InterimUpdate {
					t.Fatalf("middle record %v", statusOf(p))
				}
				interims++
			}
			if interims == 0 {
				t.Fatal("no Interim-Update")
			}
			stop := sess[len(sess)-1]
			in, out := octets(stop)
			if in != c.TxOctets || out != c.RxOctets {
				t.Fatalf("Stop octets in %d out %d, dialer sent %d received %d", in, out, c.TxOctets, c.RxOctets)
			}
			if rfc2866.AcctInputPackets_Get(stop) != 12 || rfc2866.AcctOutputPackets_Get(stop) != 11 {
				t.Fatalf("Stop packets %d/%d", rfc2866.AcctInputPackets_Get(stop), rfc2866.AcctOutputPackets_Get(stop))
			}
			if got := rfc2866.AcctTerminateCause_Get(stop); got != rfc2866.AcctTerminateCause_Value_UserRequest {
				t.Fatalf("terminate cause %v", got)
			}
			if rfc2865.FramedIPAddress_Get(stop).String() != s.Addr().String() || rfc2865.UserName_GetString(stop) != "alice" {
				t.Fatalf("Stop user %q address %v", rfc2865.UserName_GetString(stop), rfc2865.FramedIPAddress_Get(stop))
			}
			if rfc2869.EventTimestamp_Get(stop).IsZero() {
				t.Fatal("Stop without Event-Timestamp")
			}
			// The Access-Request carried what a BRAS sends.
			ar := h.fr.accessRequests()[0]
			if rfc2865.ServiceType_Get(ar) != rfc2865.ServiceType_Value_FramedUser || rfc2865.FramedProtocol_Get(ar) != rfc2865.FramedProtocol_Value_PPP ||
				rfc2865.NASIdentifier_GetString(ar) != "hub-nas" || rfc2865.CallingStationID_GetString(ar) == "" {
				t.Fatalf("Access-Request attributes: %v", ar.Attributes)
			}
			if auth == nas.AuthCHAP && len(rfc2865.CHAPChallenge_Get(ar)) != 16 {
				t.Fatal("CHAP without CHAP-Challenge")
			}
			if h.srv.Stats().Sessions != 0 {
				t.Fatalf("%d sessions left", h.srv.Stats().Sessions)
			}
			// Clean shutdown sends Accounting-Off.
			if err := h.stop(); err != nil {
				t.Fatal(err)
			}
			recs = h.fr.records("")
			if st := statusOf(recs[len(recs)-1]); st != rfc2866.AcctStatusType_Value_AccountingOff {
				t.Fatalf("last record %v, want Accounting-Off", st)
			}
		})
	}
}

// Refusals reach the subscriber with RADIUS's Reply-Message, and leave no
// accounting behind.
func TestRefusals(t *testing.T) {
	for _, auth := range []nas.AuthMethod{nas.AuthPAP, nas.AuthCHAP} {
		t.Run(auth.String(), func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.Auth = auth
			h := startHubNAS(t, cfg, nas.Options{})
			for _, tc := range []struct{ user, pw, msg string }{
				{"dave", "dave-pw", "Account in arrears: please pay your bill"},
				{"erin", "erin-pw", "Account not yet activated"},
				{"alice", "wrong", "authentication failed"},
				{"nobody", "x", "Unknown subscriber"},
			} {
				_, err := h.dial(tc.user, tc.pw, nil)
				var re *client.RefusedError
				if !errors.As(err, &re) || re.Message != tc.msg {
					t.Errorf("%s: err = %v, want refusal %q", tc.user, err, tc.msg)
				}
			}
			waitFor(t, 2*time.Second, "sessions gone", func() bool { return h.srv.Stats().Sessions == 0 })
			if n := len(h.fr.records("")); n != 1 { // Accounting-On only
				t.Fatalf("%d accounting records", n)
			}
			if st := h.srv.Stats(); st.AuthReject != 4 || st.SessionsUp != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// RADIUS's Framed-IP-Address, Session-Timeout and Idle-Timeout are applied.
func TestRADIUSAttributesApplied(t *testing.T) {
	t.Parallel()
	h := startHubNAS(t, testConfig(), nas.Options{})
	h.fr.users["carol"] = fakeUser{password: "carol-pw", reply: func(r *radius.Packet) {
		rfc2865.FramedIPAddress_Set(r, netip.MustParseAddr("203.0.113.9").AsSlice())
		rfc2865.SessionTimeout_Set(r, 1)
		rfc2865.Class_Set(r, []byte("plan-x"))
	}}
	h.fr.users["bob"] = fakeUser{password: "bob-pw", reply: func(r *radius.Packet) { rfc2865.IdleTimeout_Set(r, 1) }}
	carol, err := h.dial("carol", "carol-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if carol.Addr().String() != "203.0.113.9" {
		t.Fatalf("carol got %v", carol.Addr())
	}
	bob, err := h.dial("bob", "bob-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	// bob keeps sending for a while, so idles only after.
	for range 4 {
		exchangeEcho(t, bob, 1, 40)
		time.Sleep(300 * time.Millisecond)
	}
	for _, s := range []*client.Session{carol, bob} {
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("session did not time out")
		}
	}
	causes := map[string]rfc2866.AcctTerminateCause{}
	waitFor(t, 3*time.Second, "two Stops", func() bool {
		for _, p := range h.fr.records("") {
			if statusOf(p) == rfc2866.AcctStatusType_Value_Stop {
				causes[rfc2865.UserName_GetString(p)] = rfc2866.AcctTerminateCause_Get(p)
				if rfc2865.UserName_GetString(p) == "carol" && string(rfc2865.Class_Get(p)) != "plan-x" {
					t.Errorf("Class not echoed")
				}
			}
		}
		return len(causes) == 2
	})
	if causes["carol"] != rfc2866.AcctTerminateCause_Value_SessionTimeout || causes["bob"] != rfc2866.AcctTerminateCause_Value_IdleTimeout {
		t.Fatalf("causes %v", causes)
	}
}

// A PADR with no cookie, a forged one or a stale one allocates nothing.
func TestPADRCookie(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.CookieTTL = time.Second
	h := startHubNAS(t, cfg, nas.Options{})
	inj := newInjector(t, h)
	mac := subscriberMAC()
	pado := inj.padi(mac)
	cookie, ok := pado.ACCookie()
	if !ok || len(cookie) != 20 {
		t.Fatalf("PADO cookie %x", cookie)
	}
	forged := append([]byte(nil), cookie...)
	forged[10] ^= 1
	other := subscriberMAC() // a valid cookie for another MAC
	for _, c := range [][]byte{nil, forged, cookie[:19]} {
		inj.padr(mac, c)
	}
	inj.padr(other, cookie)
	time.Sleep(2100 * time.Millisecond) // the cookie goes stale
	inj.padr(mac, cookie)
	time.Sleep(100 * time.Millisecond)
	if st := h.srv.Stats(); st.PADRBadCookie != 5 || st.PADSOut != 0 || st.Sessions != 0 {
		t.Fatalf("stats %+v", st)
	}
	if n := inj.count(pppoe.CodePADS); n != 0 {
		t.Fatalf("%d PADS", n)
	}
	// A fresh cookie works, and a repeated PADR gets the same session.
	pado = inj.padi(mac)
	cookie, _ = pado.ACCookie()
	inj.padr(mac, cookie)
	inj.padr(mac, cookie)
	waitFor(t, 2*time.Second, "PADS", func() bool { return inj.count(pppoe.CodePADS) == 2 })
	if ids := inj.sessionIDs(pppoe.CodePADS); ids[0] != ids[1] || ids[0] == 0 {
		t.Fatalf("PADS session ids %v", ids)
	}
	if h.srv.Stats().Sessions != 1 {
		t.Fatalf("%d sessions", h.srv.Stats().Sessions)
	}
}

// Beyond MaxSessions, a PADR gets a PADS with AC-System-Error; Host-Uniq
// and Relay-Session-Id are echoed in it.
func TestSessionLimit(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.MaxSessions = 1
	h := startHubNAS(t, cfg, nas.Options{})
	if _, err := h.dial("alice", "alice-pw", nil); err != nil {
		t.Fatal(err)
	}
	_, err := h.dial("bob", "bob-pw", nil)
	var de *client.DiscoveryError
	if !errors.As(err, &de) || de.Tag != pppoe.TagACSystemError {
		t.Fatalf("err = %v, want AC-System-Error", err)
	}
	inj := newInjector(t, h)
	mac := subscriberMAC()
	pado := inj.padi(mac, pppoe.Tag{Type: pppoe.TagRelaySessionID, Value: []byte("relay-7")})
	if v, _ := pado.RelaySessionID(); string(v) != "relay-7" {
		t.Fatalf("PADO Relay-Session-Id %q", v)
	}
	cookie, _ := pado.ACCookie()
	inj.padr(mac, cookie, pppoe.Tag{Type: pppoe.TagRelaySessionID, Value: []byte("relay-7")})
	waitFor(t, 2*time.Second, "PADS", func() bool { return inj.count(pppoe.CodePADS) == 1 })
	pads := inj.last(pppoe.CodePADS)
	if _, ok := pads.ErrorTag(); !ok || pads.SessionID != 0 {
		t.Fatalf("PADS %+v", pads)
	}
	if v, _ := pads.RelaySessionID(); string(v) != "relay-7" {
		t.Fatalf("PADS Relay-Session-Id %q", v)
	}
	if v, _ := pads.HostUniq(); string(v) != string(mac) {
		t.Fatalf("PADS Host-Uniq %x", v)
	}
}

// Service names: a PADI for a service nasd does not offer gets no PADO.
func TestServiceNames(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.ServiceNames = []string{"internet", "iptv"}
	h := startHubNAS(t, cfg, nas.Options{})
	if _, err := h.dial("alice", "alice-pw", func(o *client.Options) { o.ServiceName = "iptv" }); err != nil {
		t.Fatal(err)
	}
	if _, err := h.dial("bob", "bob-pw", nil); err != nil { // any service
		t.Fatal(err)
	}
	_, err := h.dial("carol", "carol-pw", func(o *client.Options) { o.ServiceName = "voip"; o.DiscoveryTries = 2 })
	if !errors.Is(err, client.ErrNoOffer) {
		t.Fatalf("err = %v, want ErrNoOffer", err)
	}
}

// A PADT from the subscriber ends the session (User-Request); a dropped
// subscriber is found by the echo keepalive (Lost-Carrier).
func TestPADTAndKeepalive(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.EchoInterval = 100 * time.Millisecond
	cfg.EchoFailures = 3
	h := startHubNAS(t, cfg, nas.Options{})
	a, err := h.dial("alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.dial("bob", "bob-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(350 * time.Millisecond) // echoes answered: both stay up
	if h.srv.Stats().Sessions != 2 {
		t.Fatalf("%d sessions", h.srv.Stats().Sessions)
	}
	inj := newInjector(t, h)
	inj.send(pppoe.NewPADT(h.srv.HardwareAddr(), a.MAC(), a.SessionID(), ""))
	b.Drop()
	causes := map[string]rfc2866.AcctTerminateCause{}
	waitFor(t, 3*time.Second, "two Stops", func() bool {
		for _, p := range h.fr.records("") {
			if statusOf(p) == rfc2866.AcctStatusType_Value_Stop {
				causes[rfc2865.UserName_GetString(p)] = rfc2866.AcctTerminateCause_Get(p)
			}
		}
		return len(causes) == 2
	})
	if causes["alice"] != rfc2866.AcctTerminateCause_Value_UserRequest || causes["bob"] != rfc2866.AcctTerminateCause_Value_LostCarrier {
		t.Fatalf("causes %v", causes)
	}
}

// A protocol nasd does not speak (IPv6CP here) is Protocol-Rejected
// (RFC 1661 §5.7), and the session stays up.
func TestProtocolReject(t *testing.T) {
	t.Parallel()
	h := startHubNAS(t, testConfig(), nas.Options{})
	s, err := h.dial("alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	inj := newInjector(t, h)
	inj.sendSession(s, ppp.ProtoIPv6CP, []byte{1, 1, 0, 4})
	waitFor(t, 2*time.Second, "Protocol-Reject", func() bool {
		for _, f := range inj.sessionFrames(s.SessionID()) {
			if p, info, err := ppp.SplitProtocol(f.Payload); err == nil && p == ppp.ProtoLCP && len(info) > 0 && ppp.Code(info[0]) == ppp.CodeProtocolReject {
				return true
			}
		}
		return false
	})
	exchangeEcho(t, s, 3, 64)
}

// Accounting records wait, in order, while the server does not answer;
// nothing is lost.
func TestAccountingWhileServerDown(t *testing.T) {
	t.Parallel()
	h := startHubNAS(t, testConfig(), nas.Options{})
	h.fr.setAcctDown(true)
	var sessions []*client.Session
	for _, u := range []string{"alice", "bob", "carol"} {
		s, err := h.dial(u, u+"-pw", nil)
		if err != nil {
			t.Fatal(err)
		}
		exchangeEcho(t, s, 5, 200)
		sessions = append(sessions, s)
	}
	for _, s := range sessions {
		if err := s.Hangup(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(h.fr.records("")); n != 1 {
		t.Fatalf("%d records while down", n)
	}
	if st := h.srv.Stats(); st.AcctPending != 6 {
		t.Fatalf("pending %d, want 6", st.AcctPending)
	}
	h.fr.setAcctDown(false)
	waitFor(t, 3*time.Second, "6 records", func() bool { return len(h.fr.records("")) == 7 })
	seen := map[string][]rfc2866.AcctStatusType{}
	for _, p := range h.fr.records("")[1:] {
		id := rfc2866.AcctSessionID_GetString(p)
		seen[id] = append(seen[id], statusOf(p))
		if statusOf(p) == rfc2866.AcctStatusType_Value_Stop {
			if in, out := octets(p); in != 1000 || out != 1000 {
				t.Errorf("Stop octets %d/%d", in, out)
			}
		}
	}
	for id, sts := range seen {
		if len(sts) != 2 || sts[0] != rfc2866.AcctStatusType_Value_Start || sts[1] != rfc2866.AcctStatusType_Value_Stop {
			t.Errorf("%s: %v", id, sts)
		}
	}
}

// Shutting down ends live sessions with Admin-Reboot Stops, then
// Accounting-Off.
func TestShutdownStopsSessions(t *testing.T) {
	t.Parallel()
	h := startHubNAS(t, testConfig(), nas.Options{})
	s, err := h.dial("alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	exchangeEcho(t, s, 2, 50)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
		if !errors.Is(s.Err(), client.ErrTerminated) {
			t.Fatalf("session ended with %v", s.Err())
		}
	case <-time.After(2 * time.Second):
		t.Fatal("subscriber not told")
	}
	recs := h.fr.records("")
	if len(recs) != 4 {
		t.Fatalf("%d records", len(recs))
	}
	if st := statusOf(recs[2]); st != rfc2866.AcctStatusType_Value_Stop || rfc2866.AcctTerminateCause_Get(recs[2]) != rfc2866.AcctTerminateCause_Value_AdminReboot {
		t.Fatalf("record %v cause %v", st, rfc2866.AcctTerminateCause_Get(recs[2]))
	}
	if statusOf(recs[3]) != rfc2866.AcctStatusType_Value_AccountingOff {
		t.Fatalf("last record %v", statusOf(recs[3]))
	}
}

// The TR-101 line identification of the PADR reaches RADIUS (RFC 4679).
func TestTR101ToRADIUS(t *testing.T) {
	t.Parallel()
	h := startHubNAS(t, testConfig(), nas.Options{})
	tr, _ := pppoe.NewTR101("olt-1 eth 1/1/3:100", "subscriber-42")
	tag, _ := tr.Tag()
	if _, err := h.dial("alice", "alice-pw", func(o *client.Options) { o.ExtraTags = []pppoe.Tag{tag} }); err != nil {
		t.Fatal(err)
	}
	ar := h.fr.accessRequests()[0]
	circuit, remote := "", ""
	for _, a := range ar.Attributes {
		if a.Type == 26 && len(a.Attribute) > 6 && a.Attribute[3] == 0xe9 { // Vendor-Specific, ADSL Forum 3561
			switch a.Attribute[4] {
			case 1:
				circuit = string(a.Attribute[6:])
			case 2:
				remote = string(a.Attribute[6:])
			}
		}
	}
	if circuit != "olt-1 eth 1/1/3:100" || remote != "subscriber-42" {
		t.Fatalf("Agent-Circuit-Id %q Agent-Remote-Id %q", circuit, remote)
	}
	info := h.srv.Sessions()
	if len(info) != 1 || info[0].CircuitID != "olt-1 eth 1/1/3:100" || info[0].User != "alice" || info[0].Phase != "up" {
		t.Fatalf("sessions %+v", info)
	}
}

// RFC 4638: a PPP-Max-Payload above 1492 is granted up to the link's MTU,
// and 1500-octet packets then pass.
func TestPPPMaxPayload(t *testing.T) {
	t.Parallel()
	hub := startHubNAS(t, testConfig(), nas.Options{})
	// A second nasd on its own hub port with a bigger MTU.
	port := hub.hub.Port(net.HardwareAddr{0x02, 0xac, 0, 0, 0, 2}, 0)
	port.ExtraMTU = 8
	cfg := testConfig()
	cfg.ACName = "jumbo"
	big, err := nas.New(cfg, nas.Options{Link: port, Auth: hub.fr, Acct: hub.fr})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { big.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, 5*time.Second, "ready", big.Ready)

	inj := newInjector(t, hub)
	inj.padi(subscriberMAC(), pppoe.NewPPPMaxPayloadTag(1500))
	waitFor(t, 2*time.Second, "two PADOs", func() bool { return inj.count(pppoe.CodePADO) == 2 })
	for _, pado := range inj.discovery(pppoe.CodePADO) {
		v, ok := pado.PPPMaxPayload()
		name, _ := pado.ACName()
		if name == "jumbo" && (!ok || v != 1500) || name == "hub-nas" && ok {
			t.Errorf("%s: PPP-Max-Payload %d %v", name, v, ok)
		}
	}
	s, err := hub.dial("alice", "alice-pw", func(o *client.Options) { o.ACName = "jumbo"; o.MaxPayload = 1500 })
	if err != nil {
		t.Fatal(err)
	}
	exchangeEcho(t, s, 2, 1500)
	// The 1492-octet nasd does not grant it: the dial still works at 1492.
	s2, err := hub.dial("bob", "bob-pw", func(o *client.Options) { o.ACName = "hub-nas"; o.MaxPayload = 1500 })
	if err != nil {
		t.Fatal(err)
	}
	exchangeEcho(t, s2, 2, 1492)
}

// RunLoad brings many subscribers up with traffic and hangs them up; each
// session's Stop carries what its subscriber counted.
func TestRunLoadInMemory(t *testing.T) {
	t.Parallel()
	h := startHubNAS(t, testConfig(), nas.Options{})
	rep, err := client.RunLoad(context.Background(), h.mux, client.LoadConfig{
		Sessions: 40, Rate: 400, Concurrency: 16, MACBase: mustMAC6("02:70:00:00:00:00"),
		Credentials: []client.Credential{{User: "alice", Password: "alice-pw"}, {User: "bob", Password: "bob-pw"}, {User: "erin", Password: "erin-pw"}},
		Template:    client.Options{RestartTimer: 300 * time.Millisecond, DiscoveryTimeout: 300 * time.Millisecond},
		Hold:        300 * time.Millisecond, PPS: 50, Size: 120, Settle: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Up != 27 || rep.Failed != 13 || rep.Failures["refused"] != 13 || rep.SetupRate <= 0 || rep.Totals.TxOctets == 0 {
		t.Fatalf("report %+v", rep)
	}
	waitFor(t, 3*time.Second, "Stops", func() bool { st := h.srv.Stats(); return st.AcctPending == 0 && st.Sessions == 0 })
	byMAC := map[string][2]uint64{}
	for _, p := range h.fr.records("") {
		if statusOf(p) == rfc2866.AcctStatusType_Value_Stop {
			in, out := octets(p)
			byMAC[rfc2865.CallingStationID_GetString(p)] = [2]uint64{in, out}
		}
	}
	for _, s := range rep.PerSess {
		if s.Error != "" {
			if s.User != "erin" || s.Message != "Account not yet activated" {
				t.Errorf("%+v", s)
			}
			continue
		}
		got := byMAC[strings.ToUpper(strings.ReplaceAll(s.MAC, ":", "-"))]
		if got[0] != s.TxOctets || got[1] != s.RxOctets || s.TxOctets != s.RxOctets || s.TxPackets < 5 {
			t.Errorf("%s: Stop %v, dialer %+v", s.MAC, got, s)
		}
	}
}

// Subscribers that drop without a word (every second one here) are found
// by the echo keepalive; the others hang up.
func TestRunLoadDrop(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.EchoInterval = 50 * time.Millisecond
	cfg.EchoFailures = 2
	h := startHubNAS(t, cfg, nas.Options{})
	rep, err := client.RunLoad(context.Background(), h.mux, client.LoadConfig{
		Sessions: 10, MACBase: mustMAC6("02:71:00:00:00:00"), DropEvery: 2,
		Hold: 50 * time.Millisecond, HoldJitter: 100 * time.Millisecond,
		Credentials: []client.Credential{{User: "carol", Password: "carol-pw"}},
		Template:    client.Options{RestartTimer: 300 * time.Millisecond, DiscoveryTimeout: 300 * time.Millisecond},
	})
	if err != nil || rep.Up != 10 {
		t.Fatalf("%+v %v", rep, err)
	}
	waitFor(t, 3*time.Second, "sessions ended", func() bool { return h.srv.Stats().Sessions == 0 })
	causes := map[rfc2866.AcctTerminateCause]int{}
	waitFor(t, 3*time.Second, "ten Stops", func() bool {
		clear(causes)
		for _, p := range h.fr.records("") {
			if statusOf(p) == rfc2866.AcctStatusType_Value_Stop {
				causes[rfc2866.AcctTerminateCause_Get(p)]++
			}
		}
		return causes[rfc2866.AcctTerminateCause_Value_LostCarrier]+causes[rfc2866.AcctTerminateCause_Value_UserRequest] == 10
	})
	if causes[rfc2866.AcctTerminateCause_Value_LostCarrier] != 5 || causes[rfc2866.AcctTerminateCause_Value_UserRequest] != 5 {
		t.Fatalf("causes %v", causes)
	}
}

// On a link losing one frame in five each way, every timer that resends
// (PADI/PADR, LCP and IPCP Restart, CHAP Challenge, PAP request) gets
// the sessions up anyway, and a lost Ack or Success is answered again.
func TestLossyLink(t *testing.T) {
	t.Parallel()
	for _, auth := range []nas.AuthMethod{nas.AuthPAP, nas.AuthCHAP} {
		t.Run(auth.String(), func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.Auth = auth
			cfg.LCPRestart = 100 * time.Millisecond
			h := startHubNAS(t, cfg, nas.Options{})
			var mu sync.Mutex
			rng := rand.New(rand.NewPCG(7, uint64(auth)))
			lossy := func([]byte) bool {
				mu.Lock()
				defer mu.Unlock()
				return rng.IntN(5) != 0
			}
			h.port.Filter = lossy
			var wg sync.WaitGroup
			errs := make(chan error, 10)
			for i := range 10 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := h.dial("alice", "alice-pw", func(o *client.Options) {
						o.RestartTimer = 100 * time.Millisecond
						o.DiscoveryTimeout = 100 * time.Millisecond
						o.DiscoveryTries = 20
					})
					if err != nil {
						errs <- fmt.Errorf("dial %d: %w", i, err)
						return
					}
					if !s.Addr().IsValid() {
						errs <- fmt.Errorf("dial %d: no address", i)
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
