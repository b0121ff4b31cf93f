package nas_test

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/edgebill/edgebill/nas"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func mustFrame(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// sessionFrame is a session-stage frame from src to ac in session id.
func sessionFrame(ac, src net.HardwareAddr, id uint16, proto ppp.Protocol, info []byte) []byte {
	f := pppoe.Session{Dst: ac, Src: src, SessionID: id, Payload: append(ppp.AppendProtocol(nil, proto), info...)}
	return mustFrame(f.MarshalBinary())
}

// malformed returns frames that are wrong in every way we could think
// of: truncations, bad versions and codes, lying lengths, tags that
// overrun, frames in the victim's session from the wrong MAC, and
// PPP packets in the victim's session that no parser should accept.
// None of them may end the victim's session.
func malformed(ac, victimMAC net.HardwareAddr, victimID uint16) [][]byte {
	stranger := net.HardwareAddr{0x02, 0x66, 0, 0, 0, 1}
	padi := mustFrame((&pppoe.Discovery{Dst: broadcast, Src: stranger, Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""), {Type: pppoe.TagHostUniq, Value: []byte{1, 2, 3}}}}).MarshalBinary())
	padr := mustFrame((&pppoe.Discovery{Dst: ac, Src: stranger, Code: pppoe.CodePADR,
		Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""), {Type: pppoe.TagACCookie, Value: make([]byte, 20)}}}).MarshalBinary())
	padtVictim := mustFrame(pppoe.NewPADT(ac, victimMAC, victimID, "").MarshalBinary())
	echo := ppp.EchoRequest(7, 0, []byte("hi"))
	lcpEcho := sessionFrame(ac, victimMAC, victimID, ppp.ProtoLCP, mustFrame(echo.MarshalBinary()))
	termReq := ppp.Packet{Code: ppp.CodeTerminateRequest, Identifier: 9}
	var out [][]byte
	add := func(b []byte) { out = append(out, append([]byte(nil), b...)) }

	// Every truncation of valid frames, the victim's PADT included (a
	// truncated PADT is no PADT).
	for _, f := range [][]byte{padi, padr, padtVictim, lcpEcho} {
		for n := 0; n < len(f); n++ {
			add(f[:n])
		}
	}
	// Bad VER/TYPE, codes, session ids, lengths.
	for _, f := range [][]byte{padi, padr, lcpEcho} {
		for _, vt := range []byte{0x00, 0x10, 0x01, 0x21, 0xff} {
			g := append([]byte(nil), f...)
			g[14] = vt
			add(g)
		}
		for _, code := range []byte{0x00, 0x01, 0x07, 0x65, 0xa7, 0x19, 0x09, 0xff} {
			g := append([]byte(nil), f...)
			g[15] = code
			add(g)
		}
		for _, l := range []uint16{0, 1, 3, 0xffff, uint16(len(f) - 19)} {
			g := append([]byte(nil), f...)
			binary.BigEndian.PutUint16(g[18:20], l)
			add(g)
		}
	}
	g := append([]byte(nil), padi...)
	binary.BigEndian.PutUint16(g[16:18], 0x1234) // PADI with a session id
	add(g)
	g = append([]byte(nil), padi...)
	binary.BigEndian.PutUint16(g[22:24], 0xfff0) // tag overruns
	add(g)
	big := append(append([]byte(nil), padi[:20]...), make([]byte, 1500)...) // PADI over 1484
	binary.BigEndian.PutUint16(big[18:20], 1500)
	add(big)
	// PADO and PADS from a host; PADR and PADT to broadcast.
	for _, c := range []pppoe.Code{pppoe.CodePADO, pppoe.CodePADS} {
		g = append([]byte(nil), padr...)
		g[15] = byte(c)
		add(g)
	}
	g = append([]byte(nil), padtVictim...)
	copy(g[0:6], broadcast)
	add(g)
	// The victim's session id, from another MAC: a PADT, an LCP
	// Terminate-Request, IP.
	add(mustFrame(pppoe.NewPADT(ac, stranger, victimID, "").MarshalBinary()))
	add(sessionFrame(ac, stranger, victimID, ppp.ProtoLCP, mustFrame(termReq.MarshalBinary())))
	add(sessionFrame(ac, stranger, victimID, ppp.ProtoIPv4, make([]byte, 40)))
	// The victim's session from its own MAC, broadcast.
	g = sessionFrame(ac, victimMAC, victimID, ppp.ProtoLCP, mustFrame(termReq.MarshalBinary()))
	copy(g[0:6], broadcast)
	add(g)
	// Unknown sessions.
	add(sessionFrame(ac, victimMAC, victimID+1, ppp.ProtoLCP, mustFrame(termReq.MarshalBinary())))
	add(sessionFrame(ac, victimMAC, 0, ppp.ProtoLCP, mustFrame(termReq.MarshalBinary())))
	// PPP in the victim's session that no parser accepts.
	for _, info := range []struct {
		proto ppp.Protocol
		b     []byte
	}{
		{ppp.ProtoLCP, nil}, {ppp.ProtoLCP, []byte{5}}, {ppp.ProtoLCP, []byte{5, 1, 0}},
		{ppp.ProtoLCP, []byte{5, 1, 0, 3}}, {ppp.ProtoLCP, []byte{5, 1, 0, 200}},
		{ppp.ProtoLCP, []byte{1, 1, 0, 8, 1, 0, 0, 0}},      // Configure-Request, option length 0
		{ppp.ProtoLCP, []byte{1, 1, 0, 7, 1, 9, 5}},         // option overruns
		{ppp.ProtoLCP, []byte{2, 200, 0, 4}},                // Configure-Ack answering nothing
		{ppp.ProtoLCP, []byte{9, 1, 0, 6, 0, 0}},            // Echo-Request without a Magic-Number
		{ppp.ProtoLCP, []byte{8, 1, 0, 5, 0xc0}},            // Protocol-Reject, truncated
		{ppp.ProtoPAP, []byte{1, 1, 0, 9, 200, 1, 2, 3, 4}}, // Peer-ID overruns
		{ppp.ProtoPAP, []byte{77, 1, 0, 4}},
		{ppp.ProtoCHAP, []byte{2, 1, 0, 5, 99}},
		{ppp.ProtoCHAP, []byte{2}},
		{ppp.ProtoIPCP, []byte{1, 1, 0, 10, 3, 6, 1, 2}},
		{ppp.ProtoIPCP, []byte{1}},
		{ppp.ProtoIPv4, []byte{0x45}},
		{ppp.ProtoIPv4, []byte{0x45, 0, 0xff, 0xff, 0, 0, 0, 0, 64, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 0}},
		{ppp.ProtoIPv4, []byte{0x4f, 0, 0, 20}},
	} {
		add(sessionFrame(ac, victimMAC, victimID, info.proto, info.b))
	}
	// An invalid Protocol field (RFC 1661 §2: odd high octet).
	g = sessionFrame(ac, victimMAC, victimID, ppp.ProtoLCP, []byte{9, 1, 0, 8, 0, 0, 0, 0})
	g[20], g[21] = 0x01, 0x00
	add(g)
	// Other ethertypes (a promiscuous socket's BPF filter drops them on
	// a real link; the hub does not).
	g = append([]byte(nil), padi...)
	g[12], g[13] = 0x08, 0x00
	add(g)
	return out
}

// fuzzFrames returns n random frames with PPPoE ethertypes and n bit-flip
// mutations of valid frames, addressed to ac, from a seeded generator.
func fuzzFrames(ac, src net.HardwareAddr, id uint16, n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	valid := [][]byte{
		mustFrame((&pppoe.Discovery{Dst: broadcast, Src: src, Code: pppoe.CodePADI,
			Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""), {Type: pppoe.TagHostUniq, Value: []byte{9, 9}}}}).MarshalBinary()),
		mustFrame((&pppoe.Discovery{Dst: ac, Src: src, Code: pppoe.CodePADR,
			Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""), {Type: pppoe.TagACCookie, Value: make([]byte, 20)}}}).MarshalBinary()),
		sessionFrame(ac, src, id, ppp.ProtoLCP, []byte{9, 1, 0, 8, 0, 0, 0, 0}),
		sessionFrame(ac, src, id, ppp.ProtoIPCP, []byte{1, 1, 0, 10, 3, 6, 0, 0, 0, 0}),
		sessionFrame(ac, src, id, ppp.ProtoCHAP, []byte{2, 1, 0, 21, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}),
		sessionFrame(ac, src, id, ppp.ProtoIPv4, client.UDPPacket(mustAddr("100.64.0.9"), mustAddr("100.64.0.1"), 1, 7, 60)),
	}
	var out [][]byte
	for range n {
		f := make([]byte, 14+rng.IntN(120))
		for i := range f {
			f[i] = byte(rng.Uint32())
		}
		copy(f[0:6], ac)
		copy(f[6:12], src)
		f[12], f[13] = 0x88, 0x63+byte(rng.IntN(2))
		out = append(out, f)

		g := append([]byte(nil), valid[rng.IntN(len(valid))]...)
		for range 1 + rng.IntN(4) {
			i := 14 + rng.IntN(len(g)-14)
			g[i] ^= 1 << rng.IntN(8)
		}
		out = append(out, g)
	}
	return out
}

// Malformed frames and fuzzed frames neither crash nasd nor disturb the
// sessions they do not belong to.
func TestMalformedFramesInMemory(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.EchoInterval = 200 * time.Millisecond
	cfg.EchoFailures = 10
	h := startHubNAS(t, cfg, nas.Options{})
	victim, err := h.dial("alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	bystander, err := h.dial("bob", "bob-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	sacrifice, err := h.dial("carol", "carol-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	inj := newInjector(t, h)
	ac := h.srv.HardwareAddr()
	frames := malformed(ac, victim.MAC(), victim.SessionID())
	for i, f := range frames {
		inj.raw(f)
		if i%200 == 0 {
			time.Sleep(time.Millisecond) // let the hub drain
		}
	}
	for i, f := range fuzzFrames(ac, sacrifice.MAC(), sacrifice.SessionID(), 3000, 1) {
		inj.raw(f)
		if i%200 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(300 * time.Millisecond)
	for _, s := range []*client.Session{victim, bystander} {
		select {
		case <-s.Done():
			t.Fatalf("session %d ended: %v", s.SessionID(), s.Err())
		default:
		}
		exchangeEcho(t, s, 5, 80)
	}
	st := h.srv.Stats()
	if st.BadFrames == 0 || st.UnknownSession == 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("%d malformed + 6000 fuzzed frames; stats %+v", len(frames), st)
	// And nasd still serves new subscribers.
	s, err := h.dial("erin", "erin-pw", nil)
	if err == nil {
		s.Hangup(context.Background())
	}
	if _, err := h.dial("carol", "carol-pw", nil); err != nil {
		t.Fatalf("new dial after the onslaught: %v", err)
	}
}
