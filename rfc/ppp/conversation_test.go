package ppp

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// end is one side of a scripted conversation.
type end struct {
	name     string
	m        *Machine
	peer     *end // where its packets go; itself on a looped-back link
	layer    []string
	errs     []error
	finished bool
}

// pipe is an in-memory link between automatons with a fake clock: it
// delivers packets in order, and when none is in flight it advances the
// clock to the earliest Restart-timer deadline and fires it.
type pipe struct {
	t          *testing.T
	now        time.Time
	ends       []*end
	inflight   []flight
	sent       []flight // every packet put on the wire, in order
	transcript []string
	// drop, if set, loses the packets it returns true for.
	drop func(from *end, p Packet) bool
}

type flight struct {
	from, to *end
	b        []byte
}

func newPipe(t *testing.T, ends ...*end) *pipe {
	return &pipe{t: t, now: t0, ends: ends}
}

// act takes a Machine's actions: packets go in flight, layer actions are
// logged.
func (p *pipe) act(e *end, acts []Action) {
	p.t.Helper()
	for _, a := range acts {
		switch {
		case a.Kind.Sends():
			line := fmt.Sprintf("%s>%s %s", e.name, e.peer.name, describe(e.m.Protocol(), a.Packet))
			if p.drop != nil && p.drop(e, a.Packet) {
				p.transcript = append(p.transcript, line+" (lost)")
				continue
			}
			p.transcript = append(p.transcript, line)
			f := flight{from: e, to: e.peer, b: encode(p.t, a.Packet)}
			p.inflight = append(p.inflight, f)
			p.sent = append(p.sent, f)
		case a.Kind == ActionTLU || a.Kind == ActionTLD || a.Kind == ActionTLS || a.Kind == ActionTLF:
			e.layer = append(e.layer, a.Kind.String())
			if a.Kind == ActionTLF {
				e.finished = true
			}
		}
	}
}

// start opens each end and brings its lower layer up.
func (p *pipe) start() {
	for _, e := range p.ends {
		p.act(e, e.m.Open(p.now))
		p.act(e, e.m.Up(p.now))
	}
}

// run delivers and times out until nothing is in flight and no timer
// runs, or the step bound is hit.
func (p *pipe) run() {
	p.t.Helper()
	for steps := 0; steps < 1000; steps++ {
		if len(p.inflight) > 0 {
			f := p.inflight[0]
			p.inflight = p.inflight[1:]
			_, acts, err := f.to.m.Receive(p.now, f.b)
			if err != nil {
				f.to.errs = append(f.to.errs, err)
			}
			p.act(f.to, acts)
			continue
		}
		var next *end
		var at time.Time
		for _, e := range p.ends {
			if d, ok := e.m.Deadline(); ok && (next == nil || d.Before(at)) {
				next, at = e, d
			}
		}
		if next == nil {
			return
		}
		p.now = at
		p.transcript = append(p.transcript, fmt.Sprintf("(%s timeout at +%v)", next.name, p.now.Sub(t0)))
		p.act(next, next.m.Timeout(p.now))
	}
	p.t.Fatal("conversation did not settle in 1000 steps")
}

// describe renders a packet for a transcript, e.g.
// "ConfReq#1 MRU=1492 Auth=CHAP/MD5 Magic=0x0a0b0c0d".
func describe(proto Protocol, p Packet) string {
	names := map[Code]string{
		CodeConfigureRequest: "ConfReq", CodeConfigureAck: "ConfAck", CodeConfigureNak: "ConfNak",
		CodeConfigureReject: "ConfRej", CodeTerminateRequest: "TermReq", CodeTerminateAck: "TermAck",
	}
	s := names[p.Code]
	if s == "" {
		s = p.Code.String()
	}
	s += fmt.Sprintf("#%d", p.Identifier)
	for _, o := range p.Options {
		s += " " + describeOption(proto, o)
	}
	return s
}

func describeOption(proto Protocol, o Option) string {
	if proto == ProtoIPCP {
		if a, err := o.Addr(); err == nil {
			return map[IPCPOptionType]string{IPCPIPAddress: "IP", IPCPPrimaryDNS: "DNS1", IPCPSecondaryDNS: "DNS2"}[IPCPOptionType(o.Type)] + "=" + a.String()
		}
		return IPCPOptionType(o.Type).String()
	}
	switch LCPOptionType(o.Type) {
	case LCPMRU:
		v, _ := o.MRU()
		return fmt.Sprintf("MRU=%d", v)
	case LCPAuthProtocol:
		a, _ := o.Auth()
		return "Auth=" + a.String()
	case LCPMagicNumber:
		v, _ := o.MagicNumber()
		return fmt.Sprintf("Magic=%#08x", v)
	case LCPPFC:
		return "PFC"
	case LCPACFC:
		return "ACFC"
	}
	return LCPOptionType(o.Type).String()
}

// magicSeq returns a Magic-Number source that yields vs in turn, then
// counts on from the last.
func magicSeq(vs ...uint32) func() uint32 {
	i := 0
	return func() uint32 {
		if i < len(vs) {
			i++
			return vs[i-1]
		}
		i++
		return vs[len(vs)-1] + uint32(i)
	}
}

func lcpEnd(name string, pol *LCPPolicy) *end {
	return &end{name: name, m: NewMachine(Config{Protocol: ProtoLCP, Policy: pol})}
}

func connect(a, b *end) { a.peer, b.peer = b, a }

func lcpConfig(t *testing.T, opts []Option) LCPConfig {
	t.Helper()
	c, err := ParseLCPConfig(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantOpened(t *testing.T, es ...*end) {
	t.Helper()
	for _, e := range es {
		if e.m.State() != StateOpened || len(e.errs) != 0 || strings.Join(e.layer, ",") != "tls,tlu" {
			t.Fatalf("%s: state %v, layer %v, errors %v", e.name, e.m.State(), e.layer, e.errs)
		}
	}
}

func wantTranscript(t *testing.T, p *pipe, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, p.transcript); diff != "" {
		t.Fatalf("transcript (-want +got):\n%s", diff)
	}
}

// TestConversationLCP has two automatons negotiate LCP with each other
// through an in-memory pipe: a BRAS that demands authentication and a
// client, as in RFC 1661 §4 and §6 and RFC 2516 §7.
func TestConversationLCP(t *testing.T) {
	t.Run("agree", func(t *testing.T) {
		bras := lcpEnd("B", &LCPPolicy{MRU: 1492, MaxPeerMRU: 1492, Auth: []Auth{AuthCHAPMD5}, Magic: magicSeq(0xb0b0b0b0)})
		cli := lcpEnd("C", &LCPPolicy{MRU: 1492, MaxPeerMRU: 1492, AcceptAuth: []Auth{AuthCHAPMD5, AuthPAP}, Magic: magicSeq(0xc0c0c0c0)})
		connect(bras, cli)
		p := newPipe(t, bras, cli)
		p.start()
		p.run()
		wantTranscript(t, p, []string{
			"B>C ConfReq#1 MRU=1492 Auth=CHAP/MD5 Magic=0xb0b0b0b0",
			"C>B ConfReq#1 MRU=1492 Magic=0xc0c0c0c0",
			"C>B ConfAck#1 MRU=1492 Auth=CHAP/MD5 Magic=0xb0b0b0b0",
			"B>C ConfAck#1 MRU=1492 Magic=0xc0c0c0c0",
		})
		wantOpened(t, bras, cli)
		want := LCPConfig{MRU: 1492, Auth: AuthCHAPMD5, MagicNumber: 0xb0b0b0b0}
		if diff := cmp.Diff(want, lcpConfig(t, bras.m.LocalOptions())); diff != "" {
			t.Fatalf("BRAS local (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, lcpConfig(t, cli.m.PeerOptions())); diff != "" {
			t.Fatalf("client's view of the BRAS (-want +got):\n%s", diff)
		}

		// Then the BRAS hangs up (RFC 1661 §5.5): the client acks and
		// waits one Restart period in Stopping (zrc) before tlf.
		p.act(bras, bras.m.Close(p.now, "Session-Timeout"))
		p.run()
		wantTranscript(t, p, []string{
			"B>C ConfReq#1 MRU=1492 Auth=CHAP/MD5 Magic=0xb0b0b0b0",
			"C>B ConfReq#1 MRU=1492 Magic=0xc0c0c0c0",
			"C>B ConfAck#1 MRU=1492 Auth=CHAP/MD5 Magic=0xb0b0b0b0",
			"B>C ConfAck#1 MRU=1492 Magic=0xc0c0c0c0",
			"B>C TermReq#2",
			"C>B TermAck#2",
			"(C timeout at +3s)",
		})
		if bras.m.State() != StateClosed || cli.m.State() != StateStopped || !bras.finished || !cli.finished {
			t.Fatalf("after close: BRAS %v %v, client %v %v", bras.m.State(), bras.layer, cli.m.State(), cli.layer)
		}
	})

	t.Run("nak", func(t *testing.T) {
		// The client asks for MRU 1500, which PPPoE cannot carry: Naked
		// to 1492. The BRAS prefers CHAP; the client only speaks PAP and
		// Naks with it; the BRAS falls back to PAP.
		bras := lcpEnd("B", &LCPPolicy{MRU: 1492, MaxPeerMRU: 1492, Auth: []Auth{AuthCHAPMD5, AuthPAP}, Magic: magicSeq(0xb0b0b0b0)})
		cli := lcpEnd("C", &LCPPolicy{MRU: 1500, AcceptAuth: []Auth{AuthPAP}, Magic: magicSeq(0xc0c0c0c0)})
		connect(bras, cli)
		p := newPipe(t, bras, cli)
		p.start()
		p.run()
		wantTranscript(t, p, []string{
			"B>C ConfReq#1 MRU=1492 Auth=CHAP/MD5 Magic=0xb0b0b0b0",
			"C>B ConfReq#1 MRU=1500 Magic=0xc0c0c0c0",
			"C>B ConfNak#1 Auth=PAP",
			"B>C ConfNak#1 MRU=1492",
			"B>C ConfReq#2 MRU=1492 Auth=PAP Magic=0xb0b0b0b0",
			"C>B ConfReq#2 MRU=1492 Magic=0xc0c0c0c0",
			"C>B ConfAck#2 MRU=1492 Auth=PAP Magic=0xb0b0b0b0",
			"B>C ConfAck#2 MRU=1492 Magic=0xc0c0c0c0",
		})
		wantOpened(t, bras, cli)
		if c := lcpConfig(t, bras.m.PeerOptions()); c.MRU != 1492 {
			t.Fatalf("client's MRU as the BRAS acked it: %d", c.MRU)
		}
	})

	t.Run("reject", func(t *testing.T) {
		// The client asks for PFC and ACFC; over PPPoE the BRAS rejects
		// both (RFC 2516 §7) and the client drops them.
		bras := lcpEnd("B", &LCPPolicy{MRU: 1492, Auth: []Auth{AuthPAP}, Magic: magicSeq(0xb0b0b0b0)})
		cli := lcpEnd("C", &LCPPolicy{MRU: 1492, AcceptAuth: []Auth{AuthPAP}, PFC: true, ACFC: true, Magic: magicSeq(0xc0c0c0c0)})
		connect(bras, cli)
		p := newPipe(t, bras, cli)
		p.start()
		p.run()
		wantTranscript(t, p, []string{
			"B>C ConfReq#1 MRU=1492 Auth=PAP Magic=0xb0b0b0b0",
			"C>B ConfReq#1 MRU=1492 Magic=0xc0c0c0c0 PFC ACFC",
			"C>B ConfAck#1 MRU=1492 Auth=PAP Magic=0xb0b0b0b0",
			"B>C ConfRej#1 PFC ACFC",
			"C>B ConfReq#2 MRU=1492 Magic=0xc0c0c0c0",
			"B>C ConfAck#2 MRU=1492 Magic=0xc0c0c0c0",
		})
		wantOpened(t, bras, cli)
	})

	t.Run("auth refused", func(t *testing.T) {
		// A client that will not authenticate rejects Auth-Protocol:
		// the BRAS's Policy gives up and the BRAS closes the link.
		bras := lcpEnd("B", &LCPPolicy{MRU: 1492, Auth: []Auth{AuthCHAPMD5}, Magic: magicSeq(0xb0b0b0b0)})
		cli := lcpEnd("C", &LCPPolicy{MRU: 1492, Magic: magicSeq(0xc0c0c0c0)})
		connect(bras, cli)
		p := newPipe(t, bras, cli)
		p.start()
		p.run()
		if len(bras.errs) != 1 || !errors.Is(bras.errs[0], ErrAuthRefused) {
			t.Fatalf("BRAS errors %v, want ErrAuthRefused", bras.errs)
		}
		if bras.m.State() != StateClosed || !bras.finished {
			t.Fatalf("BRAS %v %v, want Closed after tlf", bras.m.State(), bras.layer)
		}
		if cli.m.State() != StateStopped || !cli.finished {
			t.Fatalf("client %v %v, want Stopped after tlf", cli.m.State(), cli.layer)
		}
		if got := p.transcript[:5]; !cmp.Equal(got, []string{
			"B>C ConfReq#1 MRU=1492 Auth=CHAP/MD5 Magic=0xb0b0b0b0",
			"C>B ConfReq#1 MRU=1492 Magic=0xc0c0c0c0",
			"C>B ConfRej#1 Auth=CHAP/MD5",
			"B>C ConfAck#1 MRU=1492 Magic=0xc0c0c0c0",
			"B>C TermReq#2",
		}) {
			t.Fatalf("transcript starts %q", got)
		}
	})

	t.Run("magic collision", func(t *testing.T) {
		// Both ends draw the same first Magic-Number (RFC 1661 §6.4):
		// each Naks the other with a new value, both draw again, and
		// the link opens with distinct numbers and no loop reported.
		bras := lcpEnd("B", &LCPPolicy{MRU: 1492, Magic: magicSeq(0x12345678, 0xb1b1b1b1, 0xb2b2b2b2)})
		cli := lcpEnd("C", &LCPPolicy{MRU: 1492, Magic: magicSeq(0x12345678, 0xc1c1c1c1, 0xc2c2c2c2)})
		connect(bras, cli)
		p := newPipe(t, bras, cli)
		p.start()
		p.run()
		wantTranscript(t, p, []string{
			"B>C ConfReq#1 MRU=1492 Magic=0x12345678",
			"C>B ConfReq#1 MRU=1492 Magic=0x12345678",
			"C>B ConfNak#1 Magic=0xc1c1c1c1",
			"B>C ConfNak#1 Magic=0xb1b1b1b1",
			"B>C ConfReq#2 MRU=1492 Magic=0xb2b2b2b2",
			"C>B ConfReq#2 MRU=1492 Magic=0xc2c2c2c2",
			"C>B ConfAck#2 MRU=1492 Magic=0xb2b2b2b2",
			"B>C ConfAck#2 MRU=1492 Magic=0xc2c2c2c2",
		})
		wantOpened(t, bras, cli)
	})

	t.Run("looped back", func(t *testing.T) {
		// A link looped back to itself: every Configure-Request comes
		// back with our own Magic-Number, our Nak comes back with the
		// value we suggested, and after LoopLimit rounds (10 by
		// default, more than Max-Failure's 5, which must not turn the
		// Magic-Number Naks into Rejects) the Policy reports the loop
		// and the layer closes (RFC 1661 §6.4).
		self := lcpEnd("L", &LCPPolicy{MRU: 1492, Magic: magicSeq(0x1000)})
		self.peer = self
		p := newPipe(t, self)
		p.start()
		p.run()
		if len(self.errs) != 1 || !errors.Is(self.errs[0], ErrLoopback) {
			t.Fatalf("errors %v, want ErrLoopback", self.errs)
		}
		if self.m.State() != StateClosed || !self.finished {
			t.Fatalf("state %v, layer %v; want Closed after tlf", self.m.State(), self.layer)
		}
		naks := 0
		for _, l := range p.transcript {
			if strings.Contains(l, "ConfNak") {
				naks++
			}
		}
		if naks != defaultLoopLimit {
			t.Fatalf("%d Configure-Naks before the loop was called, want 10:\n%s", naks, strings.Join(p.transcript, "\n"))
		}
	})

	t.Run("lost request", func(t *testing.T) {
		// The BRAS's first Configure-Request is lost: its Restart timer
		// resends it, same Identifier, one period later.
		bras := lcpEnd("B", &LCPPolicy{MRU: 1492, Magic: magicSeq(0xb0b0b0b0)})
		cli := lcpEnd("C", &LCPPolicy{MRU: 1492, Magic: magicSeq(0xc0c0c0c0)})
		connect(bras, cli)
		p := newPipe(t, bras, cli)
		lost := false
		p.drop = func(from *end, pk Packet) bool {
			if from == bras && pk.Code == CodeConfigureRequest && !lost {
				lost = true
				return true
			}
			return false
		}
		p.start()
		p.run()
		wantTranscript(t, p, []string{
			"B>C ConfReq#1 MRU=1492 Magic=0xb0b0b0b0 (lost)",
			"C>B ConfReq#1 MRU=1492 Magic=0xc0c0c0c0",
			"B>C ConfAck#1 MRU=1492 Magic=0xc0c0c0c0",
			"(B timeout at +3s)",
			"B>C ConfReq#1 MRU=1492 Magic=0xb0b0b0b0",
			"C>B ConfAck#1 MRU=1492 Magic=0xb0b0b0b0",
		})
		wantOpened(t, bras, cli)
	})
}

// TestConversationIPCP negotiates IPCP (RFC 1332, RFC 1877) between a BRAS
// that assigns the address and DNS servers and a client that asks.
func TestConversationIPCP(t *testing.T) {
	bras := &end{name: "B", m: NewMachine(Config{Protocol: ProtoIPCP, Policy: &IPCPPolicy{
		Local:        mustAddr("10.0.0.1"),
		Peer:         mustAddr("10.0.0.2"),
		PrimaryDNS:   mustAddr("192.0.2.53"),
		SecondaryDNS: mustAddr("192.0.2.54"),
	}})}
	cli := &end{name: "C", m: NewMachine(Config{Protocol: ProtoIPCP, Policy: &IPCPPolicy{RequestDNS: true}})}
	connect(bras, cli)
	p := newPipe(t, bras, cli)
	p.start()
	p.run()
	wantTranscript(t, p, []string{
		"B>C ConfReq#1 IP=10.0.0.1",
		"C>B ConfReq#1 IP=0.0.0.0 DNS1=0.0.0.0 DNS2=0.0.0.0",
		"C>B ConfAck#1 IP=10.0.0.1",
		"B>C ConfNak#1 IP=10.0.0.2 DNS1=192.0.2.53 DNS2=192.0.2.54",
		"C>B ConfReq#2 IP=10.0.0.2 DNS1=192.0.2.53 DNS2=192.0.2.54",
		"B>C ConfAck#2 IP=10.0.0.2 DNS1=192.0.2.53 DNS2=192.0.2.54",
	})
	wantOpened(t, bras, cli)
	got, err := ParseIPCPConfig(cli.m.LocalOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got.Address != mustAddr("10.0.0.2") || got.PrimaryDNS != mustAddr("192.0.2.53") || got.SecondaryDNS != mustAddr("192.0.2.54") {
		t.Fatalf("client's negotiated config %+v", got)
	}
	if peer, _ := ParseIPCPConfig(cli.m.PeerOptions()); peer.Address != mustAddr("10.0.0.1") {
		t.Fatalf("client's view of the BRAS %+v", peer)
	}
}

// TestIPCPPolicyRejects covers the IPCP Policy's rejections: NBNS, DNS it
// has none of, 0.0.0.0 with no address to give, and a peer that rejects
// IP-Address while we have none.
func TestIPCPPolicyRejects(t *testing.T) {
	pol := &IPCPPolicy{Local: mustAddr("10.0.0.1")}
	pol.Reset()
	req := []Option{
		AddrOption(IPCPIPAddress, mustAddr("0.0.0.0")),
		AddrOption(IPCPPrimaryDNS, mustAddr("0.0.0.0")),
		AddrOption(IPCPPrimaryNBNS, mustAddr("0.0.0.0")),
		{Type: uint8(IPCPIPAddress), Data: []byte{1}},
	}
	nak, rej := pol.CheckRequest(req)
	if len(nak) != 0 || !sameOptions(rej, req) {
		t.Fatalf("CheckRequest = nak %v, rej %v", nak, rej)
	}
	if nak, rej := pol.CheckRequest([]Option{AddrOption(IPCPIPAddress, mustAddr("10.9.9.9"))}); nak != nil || rej != nil {
		t.Fatalf("a peer's own address with no Peer set: nak %v rej %v", nak, rej)
	}
	if err := pol.Reject([]Option{AddrOption(IPCPIPAddress, mustAddr("10.0.0.1"))}); err != nil {
		t.Fatalf("Reject of IP-Address with a Local address: %v", err)
	}
	if got := pol.Request(); len(got) != 0 {
		t.Fatalf("Request after IP-Address rejected: %v", got)
	}
	cli := &IPCPPolicy{}
	cli.Reset()
	if err := cli.Reject([]Option{AddrOption(IPCPIPAddress, mustAddr("0.0.0.0"))}); !errors.Is(err, ErrNoAddress) {
		t.Fatalf("client Reject of IP-Address: %v", err)
	}
}

// TestLCPPolicyChecks covers LCPPolicy.CheckRequest cases the
// conversations do not reach.
func TestLCPPolicyChecks(t *testing.T) {
	pol := &LCPPolicy{MaxPeerMRU: 1492, AcceptAuth: []Auth{AuthPAP}, Magic: magicSeq(7, 8, 9)}
	pol.Reset()
	tests := []struct {
		name     string
		opt      Option
		nak, rej bool
	}{
		{"MRU too small", MRUOption(64), true, false},
		{"MRU malformed", Option{Type: 1, Data: []byte{1}}, false, true},
		{"MRU fine", MRUOption(1400), false, false},
		{"auth malformed", Option{Type: 3, Data: []byte{0xc2}}, true, false},
		{"auth unwanted", AuthCHAPMD5.Option(), true, false},
		{"auth fine", AuthPAP.Option(), false, false},
		{"magic zero", MagicNumberOption(0), true, false},
		{"magic ours", MagicNumberOption(7), true, false},
		{"magic malformed", Option{Type: 5, Data: []byte{1}}, false, true},
		{"magic fine", MagicNumberOption(1234), false, false},
		{"PFC unwanted", PFCOption(), false, true},
		{"quality protocol", Option{Type: 4, Data: []byte{0xc0, 0x25}}, false, true},
		{"unknown", Option{Type: 200}, false, true},
	}
	for _, tt := range tests {
		nak, rej := pol.CheckRequest([]Option{tt.opt})
		if (len(nak) > 0) != tt.nak || (len(rej) > 0) != tt.rej {
			t.Errorf("%s: nak %v rej %v", tt.name, nak, rej)
		}
		if len(rej) > 0 && !rej[0].Equal(tt.opt) {
			t.Errorf("%s: rejected %v, want the option as received", tt.name, rej[0])
		}
	}
	noMagic := &LCPPolicy{}
	noMagic.Reset()
	if _, rej := noMagic.CheckRequest([]Option{MagicNumberOption(0)}); len(rej) != 1 {
		t.Error("zero Magic-Number without a Magic source not rejected")
	}
	if err := (&LCPPolicy{Auth: []Auth{AuthPAP}}).Nak([]Option{AuthCHAPMD5.Option()}); !errors.Is(err, ErrAuthRefused) {
		t.Errorf("Nak of our only auth method: %v", err)
	}
}

// TestKeepalive: echo keepalive with the timing left to the caller.
func TestKeepalive(t *testing.T) {
	var k Keepalive
	for i := range DefaultEchoFailures {
		req, dead := k.Tick(0x11111111)
		if dead || req.Code != CodeEchoRequest || req.Identifier != uint8(i+1) {
			t.Fatalf("tick %d: %+v dead=%v", i, req, dead)
		}
	}
	if _, dead := k.Tick(0x11111111); !dead {
		t.Fatal("peer not declared dead after 3 unanswered requests")
	}
	req := EchoRequest(9, 0x11111111, nil)
	if k.Reply(&req) {
		t.Fatal("an Echo-Request accepted as a reply")
	}
	looped := EchoReply(&req, 0x11111111)
	if k.Reply(&looped) || k.Pending() != 3 {
		t.Fatal("a reply with our own magic accepted")
	}
	rep := EchoReply(&req, 0x22222222)
	if !k.Reply(&rep) || k.Pending() != 0 {
		t.Fatal("a good reply not accepted")
	}
	if _, dead := k.Tick(0x11111111); dead {
		t.Fatal("dead after a reply")
	}
}
