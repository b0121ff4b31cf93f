package ppp_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/edgebill/edgebill/rfc/ppp"
)

// A PPPoE session payload is a PPP frame: the Protocol field, then the
// packet (RFC 2516 §4).
func ExampleSplitProtocol() {
	payload := []byte{0xc0, 0x21, 0x01, 0x01, 0x00, 0x0e, 0x01, 0x04, 0x05, 0xd4, 0x05, 0x06, 0x0a, 0x0b, 0x0c, 0x0d}
	proto, info, err := ppp.SplitProtocol(payload)
	if err != nil {
		panic(err)
	}
	var p ppp.Packet
	if err := p.UnmarshalBinary(info); err != nil {
		panic(err)
	}
	c, err := ppp.ParseLCPConfig(p.Options)
	if err != nil {
		panic(err)
	}
	fmt.Println(proto, p.Code, p.Identifier)
	fmt.Printf("MRU %d, Magic-Number %#x\n", c.MRU, c.MagicNumber)
	// Output:
	// LCP Configure-Request 1
	// MRU 1492, Magic-Number 0xa0b0c0d
}

// Build an LCP Configure-Request and put it in a PPP frame.
func ExamplePacket_AppendBinary() {
	req := ppp.Packet{
		Code:       ppp.CodeConfigureRequest,
		Identifier: 1,
		Options: ppp.LCPConfig{
			MRU:         1492,
			Auth:        ppp.AuthCHAPMD5,
			MagicNumber: 0x0a0b0c0d,
		}.Options(),
	}
	frame := ppp.AppendProtocol(nil, ppp.ProtoLCP)
	frame, err := req.AppendBinary(frame)
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", frame)
	// Output:
	// c0 21 01 01 00 13 01 04 05 d4 03 05 c2 23 05 05 06 0a 0b 0c 0d
}

// The authenticator checks a CHAP Response with the shared secret.
func ExampleCHAPMD5Response() {
	challenge := ppp.CHAPPacket{Code: ppp.CHAPChallenge, Identifier: 7, Value: []byte("0123456789abcdef"), Name: "bras"}

	// The peer answers...
	sum := ppp.CHAPMD5Response(challenge.Identifier, []byte("s3cret"), challenge.Value)
	resp := ppp.CHAPPacket{Code: ppp.CHAPResponse, Identifier: challenge.Identifier, Value: sum[:], Name: "alice"}
	b, _ := resp.MarshalBinary()

	// ...and the authenticator verifies.
	var got ppp.CHAPPacket
	if err := got.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	want := ppp.CHAPMD5Response(got.Identifier, []byte("s3cret"), challenge.Value)
	fmt.Println(got.Name, string(got.Value) == string(want[:]))
	// Output:
	// alice true
}

func ExamplePAPPacket() {
	req := ppp.PAPPacket{Code: ppp.PAPAuthenticateRequest, Identifier: 1, PeerID: "alice", Password: []byte("secret")}
	b, _ := req.MarshalBinary()
	fmt.Printf("% x\n", b)

	nak := ppp.PAPPacket{Code: ppp.PAPAuthenticateNak, Identifier: 1, Message: "in arrears"}
	b, _ = nak.MarshalBinary()
	fmt.Printf("% x\n", b)
	// Output:
	// 01 01 00 11 05 61 6c 69 63 65 06 73 65 63 72 65 74
	// 03 01 00 0f 0a 69 6e 20 61 72 72 65 61 72 73
}

func ExampleParseIPCPConfig() {
	nak := ppp.Packet{Code: ppp.CodeConfigureNak, Identifier: 1, Options: []ppp.Option{
		ppp.AddrOption(ppp.IPCPIPAddress, netip.MustParseAddr("10.0.0.2")),
		ppp.AddrOption(ppp.IPCPPrimaryDNS, netip.MustParseAddr("192.0.2.53")),
	}}
	c, err := ppp.ParseIPCPConfig(nak.Options)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Address, c.PrimaryDNS, c.SecondaryDNS.IsValid())
	// Output:
	// 10.0.0.2 192.0.2.53 false
}

// A BRAS's LCP automaton: the caller owns sockets and the clock, and
// carries out the actions the Machine returns.
func ExampleMachine() {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	lcp := ppp.NewMachine(ppp.Config{
		Protocol: ppp.ProtoLCP,
		Policy: &ppp.LCPPolicy{
			MRU: 1492, MaxPeerMRU: 1492,
			Auth:  []ppp.Auth{ppp.AuthPAP},
			Magic: func() uint32 { return 0x0a0b0c0d }, // use a random source
		},
	})
	show := func(acts []ppp.Action) {
		for _, a := range acts {
			fmt.Print(" ", a)
		}
		fmt.Println(" ->", lcp.State())
	}
	show(lcp.Open(now))
	show(lcp.Up(now)) // the PPPoE session is up

	// The peer's Configure-Request asks for an MRU PPPoE cannot carry.
	peerReq := ppp.Packet{Code: ppp.CodeConfigureRequest, Identifier: 1, Options: []ppp.Option{ppp.MRUOption(1500)}}
	b, _ := peerReq.MarshalBinary()
	ev, acts, _ := lcp.Receive(now, b)
	fmt.Print(ev, ":")
	show(acts)

	// No answer: the caller fires the Restart timer when it is due.
	deadline, _ := lcp.Deadline()
	fmt.Print("after ", deadline.Sub(now), ":")
	show(lcp.Timeout(deadline))
	// Output:
	//  tls -> Starting
	//  irc scr(Configure-Request id=1) -> Req-Sent
	// RCR-: scn(Configure-Nak id=1) -> Req-Sent
	// after 3s: scr(Configure-Request id=1) -> Req-Sent
}

func ExampleKeepalive() {
	var k ppp.Keepalive // call Tick every interval while LCP is Opened
	req, dead := k.Tick(0x0a0b0c0d)
	fmt.Println(req.Code, req.Identifier, dead)
	reply := ppp.EchoReply(&req, 0x01020304) // what the peer sends back
	fmt.Println(k.Reply(&reply), k.Pending())
	// Output:
	// Echo-Request 1 false
	// true 0
}
