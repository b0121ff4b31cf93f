package pppoe_test

import (
	"testing"

	"github.com/edgebill/edgebill/rfc/pppoe"
)

// benchPADI is a client's PADI as pppd's rp-pppoe plugin sends it: an empty
// Service-Name, a Host-Uniq, and PPP-Max-Payload.
func benchPADI() *pppoe.Discovery {
	return &pppoe.Discovery{
		Dst:  broadcast,
		Src:  hostMAC,
		Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{
			{Type: pppoe.TagServiceName},
			{Type: pppoe.TagHostUniq, Value: []byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}},
			pppoe.NewPPPMaxPayloadTag(1500),
		},
	}
}

// Target (issue 2): 0 allocations, under 10 ns per frame.
func BenchmarkParseSession(b *testing.B) {
	buf := mustHex(b, lcpFrame)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	var sum int
	for b.Loop() {
		f, err := pppoe.ParseSession(buf)
		if err != nil {
			b.Fatal(err)
		}
		sum += int(f.SessionID()) + len(f.Payload())
	}
	_ = sum
}

// The relay's per-frame work on the session path: check, rewrite both
// MACs and the session id in place.
func BenchmarkSessionRewrite(b *testing.B) {
	buf := mustHex(b, lcpFrame)
	dst, src := acMAC, hostMAC
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		f, err := pppoe.ParseSession(buf)
		if err != nil {
			b.Fatal(err)
		}
		f.SetDst(dst)
		f.SetSrc(src)
		f.SetSessionID(f.SessionID())
	}
}

// Target (issue 2): under 300 ns.
func BenchmarkPADIEncode(b *testing.B) {
	d := benchPADI()
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = d.AppendBinary(buf[:0])
		if err != nil {
			b.Fatal(err)
		}
	}
}

// Target (issue 2): under 300 ns.
func BenchmarkPADIParse(b *testing.B) {
	frame, err := benchPADI().MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	var d pppoe.Discovery
	for b.Loop() {
		if err := d.UnmarshalBinary(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// The relay's upstream discovery path: parse a PADI, add a
// Relay-Session-Id, encode it for the other side.
func BenchmarkPADIRelay(b *testing.B) {
	frame, err := benchPADI().MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	id := []byte("gw1:00000042")
	out := make([]byte, 0, 128)
	b.ReportAllocs()
	var d pppoe.Discovery
	for b.Loop() {
		if err := d.UnmarshalBinary(frame); err != nil {
			b.Fatal(err)
		}
		if err := d.AddRelaySessionID(id); err != nil {
			b.Fatal(err)
		}
		if out, err = d.AppendBinary(out[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
