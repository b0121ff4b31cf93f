package pppoe_test

import (
	"encoding/hex"
	"fmt"
	"net"

	"github.com/edgebill/edgebill/rfc/pppoe"
)

func mustMAC(s string) net.HardwareAddr {
	a, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return a
}

// Build a host's PADI and read it back.
func ExampleDiscovery_MarshalBinary() {
	padi := pppoe.Discovery{
		Dst:  mustMAC("ff:ff:ff:ff:ff:ff"),
		Src:  mustMAC("02:eb:00:00:02:01"),
		Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{
			pppoe.NewStringTag(pppoe.TagServiceName, ""),
			{Type: pppoe.TagHostUniq, Value: []byte{0xca, 0xfe}},
			pppoe.NewPPPMaxPayloadTag(1500),
		},
	}
	b, err := padi.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)

	var back pppoe.Discovery
	if err := back.UnmarshalBinary(b); err != nil {
		panic(err)
	}
	mru, _ := back.PPPMaxPayload()
	fmt.Println(back.Code, len(back.Tags), "tags, PPP-Max-Payload", mru)
	// Output:
	// ff ff ff ff ff ff 02 eb 00 00 02 01 88 63 11 09 00 00 00 10 01 01 00 00 01 03 00 02 ca fe 01 20 00 02 05 dc
	// PADI 3 tags, PPP-Max-Payload 1500
}

// A relay adds its Relay-Session-Id to a PADI going up and takes it out of
// the PADO coming back (RFC 2516 Appendix A).
func ExampleDiscovery_AddRelaySessionID() {
	padi := pppoe.Discovery{
		Dst: mustMAC("ff:ff:ff:ff:ff:ff"), Src: mustMAC("02:eb:00:00:02:01"),
		Code: pppoe.CodePADI, Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, "")},
	}
	if err := padi.AddRelaySessionID([]byte("lan0:7")); err != nil {
		panic(err)
	}
	fmt.Println(padi.Tags)
	fmt.Println(padi.AddRelaySessionID([]byte("again")))

	pado := pppoe.Discovery{
		Dst: mustMAC("02:eb:00:00:01:03"), Src: mustMAC("02:eb:00:00:01:04"), Code: pppoe.CodePADO,
		Tags: []pppoe.Tag{
			pppoe.NewStringTag(pppoe.TagACName, "edgebill-ac"),
			pppoe.NewStringTag(pppoe.TagServiceName, ""),
			{Type: pppoe.TagRelaySessionID, Value: []byte("lan0:7")},
		},
	}
	id, _ := pado.StripRelaySessionID()
	fmt.Printf("%s %d\n", id, len(pado.Tags))
	// Output:
	// [Service-Name="" Relay-Session-Id=6c616e303a37]
	// pppoe: more than one Relay-Session-Id tag: frame already carries one
	// lan0:7 2
}

// The relay's session fast path: check a frame, rewrite it in place.
func ExampleParseSession() {
	frame, _ := hex.DecodeString("02eb00000202" + "02eb00000201" + "8864" + "1100" + "0001" + "0004" + "c0210905")
	f, err := pppoe.ParseSession(frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Src(), "->", f.Dst(), "session", f.SessionID(), "payload", f.Len())

	f.SetSrc(mustMAC("02:eb:00:00:01:03"))
	f.SetDst(mustMAC("02:eb:00:00:01:04"))
	f.SetSessionID(0x42)
	fmt.Printf("% x\n", frame) // the frame itself changed
	// Output:
	// 02:eb:00:00:02:01 -> 02:eb:00:00:02:02 session 1 payload 4
	// 02 eb 00 00 01 04 02 eb 00 00 01 03 88 64 11 00 00 42 00 04 c0 21 09 05
}

// End a session with a reason the host can log.
func ExampleNewPADT() {
	padt := pppoe.NewPADT(mustMAC("02:eb:00:00:02:01"), mustMAC("02:eb:00:00:02:02"), 1, "in arrears")
	b, err := padt.MarshalBinary()
	if err != nil {
		panic(err)
	}
	fmt.Printf("% x\n", b)
	// Output:
	// 02 eb 00 00 02 01 02 eb 00 00 02 02 88 63 11 a7 00 01 00 0e 02 03 00 0a 69 6e 20 61 72 72 65 61 72 73
}

// Insert TR-101 line identification into a PADI, replacing any the
// subscriber sent.
func ExampleDiscovery_SetTR101() {
	padi := pppoe.Discovery{
		Dst: mustMAC("ff:ff:ff:ff:ff:ff"), Src: mustMAC("02:eb:00:00:02:01"),
		Code: pppoe.CodePADI, Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, "")},
	}
	line, err := pppoe.NewTR101("gw1 eth 0/3", "alice")
	if err != nil {
		panic(err)
	}
	if err := padi.SetTR101(line); err != nil {
		panic(err)
	}
	tag, _ := padi.Tag(pppoe.TagVendorSpecific)
	fmt.Printf("% x\n", tag.Value)

	got, _, _ := padi.TR101()
	c, _ := got.CircuitID()
	r, _ := got.RemoteID()
	fmt.Printf("%q %q\n", c, r)
	// Output:
	// 00 00 0d e9 01 0b 67 77 31 20 65 74 68 20 30 2f 33 02 05 61 6c 69 63 65
	// "gw1 eth 0/3" "alice"
}
