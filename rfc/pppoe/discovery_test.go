package pppoe_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/rfc/pppoe"
)

// checkDiscoveryVector parses frame, compares it with want, and encodes
// want back to frame, both alone and after a prefix.
func checkDiscoveryVector(t *testing.T, frame []byte, want pppoe.Discovery) {
	t.Helper()
	var got pppoe.Discovery
	if err := got.UnmarshalBinary(frame); err != nil {
		t.Fatalf("UnmarshalBinary: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UnmarshalBinary (-want +got):\n%s", diff)
	}
	enc, err := want.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	if !bytes.Equal(enc, frame) {
		t.Errorf("MarshalBinary:\n got % x\nwant % x", enc, frame)
	}
	if n := want.Len(); n != len(frame) {
		t.Errorf("Len() = %d, want %d", n, len(frame))
	}
	prefix := []byte("prefix")
	out, err := want.AppendBinary(slices.Clone(prefix))
	if err != nil {
		t.Fatalf("AppendBinary: %v", err)
	}
	if !bytes.HasPrefix(out, prefix) || !bytes.Equal(out[len(prefix):], frame) {
		t.Errorf("AppendBinary onto a prefix:\n got % x\nwant %q + % x", out, prefix, frame)
	}
}

var (
	broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	hostMAC   = net.HardwareAddr{0x02, 0xeb, 0x00, 0x00, 0x02, 0x01}
	acMAC     = net.HardwareAddr{0x02, 0xeb, 0x00, 0x00, 0x02, 0x02}
)

// Source: testdata/pcap/rp-pppoe-discovery.pcap frame 1, the PADI of
// rp-pppoe 3.15 `pppoe -I h0 -A`: one empty Service-Name, no Host-Uniq.
// tshark: "Active Discovery Initiation (PADI)", Payload Length 4.
func Test_RFC2516_5_1_PADI(t *testing.T) {
	frame := mustHex(t, `ff ff ff ff ff ff 02 eb 00 00 00 01 88 63 11 09
		00 00 00 04 01 01 00 00`)
	checkDiscoveryVector(t, frame, pppoe.Discovery{
		Dst:  broadcast,
		Src:  mac(t, "02:eb:00:00:00:01"),
		Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{{Type: pppoe.TagServiceName}},
	})
}

// Source: testdata/pcap/rp-pppoe-full-discovery.pcap frame 1, the PADI of
// `pppoe -I h0 -d -U`: empty Service-Name and a Host-Uniq (the pid, "29cc").
func Test_RFC2516_5_1_PADI_HostUniq(t *testing.T) {
	frame := mustHex(t, `ff ff ff ff ff ff 02 eb 00 00 02 01 88 63 11 09
		00 00 00 0c 01 01 00 00 01 03 00 04 32 39 63 63`)
	checkDiscoveryVector(t, frame, pppoe.Discovery{
		Dst:  broadcast,
		Src:  hostMAC,
		Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{
			{Type: pppoe.TagServiceName},
			{Type: pppoe.TagHostUniq, Value: []byte("29cc")},
		},
	})
}

// Source: testdata/pcap/rp-pppoe-full-discovery.pcap frame 2, the PADO of
// `pppoe-server -I a0 -C edgebill-ac -F`: AC-Name, the empty Service-Name,
// a 20-octet AC-Cookie and the echoed Host-Uniq. tshark: "AC-Name:
// edgebill-ac", "AC-Cookie: 6ca41982ed59d6d86a2924804d15c1f9a9290000".
func Test_RFC2516_5_2_PADO(t *testing.T) {
	frame := mustHex(t, `02 eb 00 00 02 01 02 eb 00 00 02 02 88 63 11 07
		00 00 00 33 01 02 00 0b 65 64 67 65 62 69 6c 6c 2d 61 63 01 01 00 00 01
		04 00 14 6c a4 19 82 ed 59 d6 d8 6a 29 24 80 4d 15 c1 f9 a9 29 00 00 01
		03 00 04 32 39 63 63`)
	checkDiscoveryVector(t, frame, pppoe.Discovery{
		Dst:  hostMAC,
		Src:  acMAC,
		Code: pppoe.CodePADO,
		Tags: []pppoe.Tag{
			{Type: pppoe.TagACName, Value: []byte("edgebill-ac")},
			{Type: pppoe.TagServiceName},
			{Type: pppoe.TagACCookie, Value: mustHex(t, "6c a4 19 82 ed 59 d6 d8 6a 29 24 80 4d 15 c1 f9 a9 29 00 00")},
			{Type: pppoe.TagHostUniq, Value: []byte("29cc")},
		},
	})
}

// Source: testdata/pcap/rp-pppoe-full-discovery.pcap frame 3, the PADR of
// `pppoe -d -U`, sent to the AC's unicast MAC with the cookie echoed.
func Test_RFC2516_5_3_PADR(t *testing.T) {
	frame := mustHex(t, `02 eb 00 00 02 02 02 eb 00 00 02 01 88 63 11 19
		00 00 00 24 01 01 00 00 01 03 00 04 32 39 63 63 01 04 00 14 6c a4 19 82
		ed 59 d6 d8 6a 29 24 80 4d 15 c1 f9 a9 29 00 00`)
	checkDiscoveryVector(t, frame, pppoe.Discovery{
		Dst:  acMAC,
		Src:  hostMAC,
		Code: pppoe.CodePADR,
		Tags: []pppoe.Tag{
			{Type: pppoe.TagServiceName},
			{Type: pppoe.TagHostUniq, Value: []byte("29cc")},
			{Type: pppoe.TagACCookie, Value: mustHex(t, "6c a4 19 82 ed 59 d6 d8 6a 29 24 80 4d 15 c1 f9 a9 29 00 00")},
		},
	})
}

// Source: testdata/pcap/rp-pppoe-full-discovery.pcap frame 4, the PADS of
// pppoe-server: session 0x0001. tshark: "Session ID: 0x0001".
func Test_RFC2516_5_4_PADS(t *testing.T) {
	frame := mustHex(t, `02 eb 00 00 02 01 02 eb 00 00 02 02 88 63 11 65
		00 01 00 0c 01 01 00 00 01 03 00 04 32 39 63 63`)
	checkDiscoveryVector(t, frame, pppoe.Discovery{
		Dst:       hostMAC,
		Src:       acMAC,
		Code:      pppoe.CodePADS,
		SessionID: 1,
		Tags: []pppoe.Tag{
			{Type: pppoe.TagServiceName},
			{Type: pppoe.TagHostUniq, Value: []byte("29cc")},
		},
	})
}

// Source: testdata/pcap/rp-pppoe-full-discovery.pcap frame 5, the PADT
// pppoe-server sends when its pppd child fails. tshark: "Generic-Error:
// RP-PPPoE: Child pppd process terminated".
func Test_RFC2516_5_5_PADT(t *testing.T) {
	frame := mustHex(t, `02 eb 00 00 02 01 02 eb 00 00 02 02 88 63 11 a7
		00 01 00 2b 02 03 00 27 52 50 2d 50 50 50 6f 45 3a 20 43 68 69 6c 64 20
		70 70 70 64 20 70 72 6f 63 65 73 73 20 74 65 72 6d 69 6e 61 74 65 64`)
	want := pppoe.NewPADT(hostMAC, acMAC, 1, "RP-PPPoE: Child pppd process terminated")
	checkDiscoveryVector(t, frame, *want)
}

// Source: testdata/pcap/rp-pppoe-relay-wan.pcap frame 1: the PADI of
// `pppoe -A` after `pppoe-relay -C lan0 -S wan0 -F` put its 10-octet
// Relay-Session-Id first. tshark: "Relay-Session-Id: 0000000002eb00000101".
func Test_RFC2516_AppendixA_RelaySessionID(t *testing.T) {
	frame := mustHex(t, `ff ff ff ff ff ff 02 eb 00 00 01 03 88 63 11 09
		00 00 00 12 01 10 00 0a 00 00 00 00 02 eb 00 00 01 01 01 01 00 00`)
	want := pppoe.Discovery{
		Dst:  broadcast,
		Src:  mac(t, "02:eb:00:00:01:03"),
		Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{
			{Type: pppoe.TagRelaySessionID, Value: mustHex(t, "00 00 00 00 02 eb 00 00 01 01")},
			{Type: pppoe.TagServiceName},
		},
	}
	checkDiscoveryVector(t, frame, want)
	id, ok := want.RelaySessionID()
	if !ok || !bytes.Equal(id, want.Tags[0].Value) {
		t.Errorf("RelaySessionID() = % x, %v", id, ok)
	}
}

// Every tag of RFC 2516 Appendix A and RFC 4638 §4 in one PADS, an unknown
// tag (0x0106, RFC 5578 Credits, which this package does not decode) kept
// raw, and tags after an End-Of-List kept but not looked up. Built by hand
// from the Appendix A layout; tshark decodes the same frame in
// TestTsharkDecodesOurFrames.
func Test_RFC2516_AppendixA_AllTags(t *testing.T) {
	frame := mustHex(t, `02 eb 00 00 02 01 02 eb 00 00 02 02 88 63 11 65
		12 34 00 59
		01 01 00 03 69 73 70
		01 02 00 02 61 63
		01 03 00 02 68 75
		01 04 00 03 63 6f 6f
		01 05 00 0a 00 00 0d e9 01 04 63 69 72 63
		01 10 00 02 72 73
		01 20 00 02 05 dc
		02 01 00 01 73
		02 02 00 00
		02 03 00 03 65 72 72
		01 06 00 04 00 01 00 02
		00 00 00 00
		01 02 00 05 6c 61 74 65 72`)
	want := pppoe.Discovery{
		Dst: hostMAC, Src: acMAC, Code: pppoe.CodePADS, SessionID: 0x1234,
		Tags: []pppoe.Tag{
			{Type: pppoe.TagServiceName, Value: []byte("isp")},
			{Type: pppoe.TagACName, Value: []byte("ac")},
			{Type: pppoe.TagHostUniq, Value: []byte("hu")},
			{Type: pppoe.TagACCookie, Value: []byte("coo")},
			{Type: pppoe.TagVendorSpecific, Value: mustHex(t, "00 00 0d e9 01 04 63 69 72 63")},
			{Type: pppoe.TagRelaySessionID, Value: []byte("rs")},
			{Type: pppoe.TagPPPMaxPayload, Value: []byte{0x05, 0xdc}},
			{Type: pppoe.TagServiceNameError, Value: []byte("s")},
			{Type: pppoe.TagACSystemError},
			{Type: pppoe.TagGenericError, Value: []byte("err")},
			{Type: 0x0106, Value: []byte{0, 1, 0, 2}},
			{Type: pppoe.TagEndOfList},
			{Type: pppoe.TagACName, Value: []byte("later")},
		},
	}
	checkDiscoveryVector(t, frame, want)

	if s, ok := want.ServiceName(); !ok || s != "isp" {
		t.Errorf("ServiceName() = %q, %v", s, ok)
	}
	if s, ok := want.ACName(); !ok || s != "ac" {
		t.Errorf("ACName() = %q, %v; the AC-Name after End-Of-List must be ignored", s, ok)
	}
	if n := want.Count(pppoe.TagACName); n != 1 {
		t.Errorf("Count(AC-Name) = %d, want 1 (before End-Of-List)", n)
	}
	if v, ok := want.HostUniq(); !ok || string(v) != "hu" {
		t.Errorf("HostUniq() = %q, %v", v, ok)
	}
	if v, ok := want.ACCookie(); !ok || string(v) != "coo" {
		t.Errorf("ACCookie() = %q, %v", v, ok)
	}
	if v, ok := want.RelaySessionID(); !ok || string(v) != "rs" {
		t.Errorf("RelaySessionID() = %q, %v", v, ok)
	}
	if n, ok := want.PPPMaxPayload(); !ok || n != 1500 {
		t.Errorf("PPPMaxPayload() = %d, %v", n, ok)
	}
	if e, ok := want.ErrorTag(); !ok || e.Type != pppoe.TagServiceNameError || string(e.Value) != "s" {
		t.Errorf("ErrorTag() = %v, %v", e, ok)
	}
	if id, ok := want.Tags[4].VendorID(); !ok || id != pppoe.EnterpriseBBF {
		t.Errorf("VendorID() = %d, %v", id, ok)
	}
	v, ok, err := want.TR101()
	if err != nil || !ok {
		t.Fatalf("TR101() = %v, %v, %v", v, ok, err)
	}
	if c, ok := v.CircuitID(); !ok || c != "circ" {
		t.Errorf("CircuitID() = %q, %v", c, ok)
	}
}

// RFC 4638 §4: PPP-Max-Payload is a 2-octet value, the largest PPP payload
// the sender can take; a PADI carrying 1500 as a client asking for a
// full-size MRU would send it.
func Test_RFC4638_4_PPPMaxPayload(t *testing.T) {
	frame := mustHex(t, `ff ff ff ff ff ff 02 eb 00 00 02 01 88 63 11 09
		00 00 00 0a 01 01 00 00 01 20 00 02 05 dc`)
	checkDiscoveryVector(t, frame, pppoe.Discovery{
		Dst: broadcast, Src: hostMAC, Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{{Type: pppoe.TagServiceName}, pppoe.NewPPPMaxPayloadTag(1500)},
	})
	for _, tag := range []pppoe.Tag{
		{Type: pppoe.TagPPPMaxPayload, Value: []byte{5}},
		{Type: pppoe.TagPPPMaxPayload, Value: []byte{5, 0xdc, 0}},
		{Type: pppoe.TagHostUniq, Value: []byte{5, 0xdc}},
	} {
		if n, ok := tag.PPPMaxPayload(); ok {
			t.Errorf("%v % x: PPPMaxPayload() = %d, true; want false", tag.Type, tag.Value, n)
		}
	}
}

// frame builds a discovery frame from its parts, for the validation table.
func frame(ethertype uint16, verType, code byte, session uint16, length int, payload []byte) []byte {
	b := []byte{2, 0xeb, 0, 0, 2, 2, 2, 0xeb, 0, 0, 2, 1,
		byte(ethertype >> 8), byte(ethertype), verType, code,
		byte(session >> 8), byte(session), byte(length >> 8), byte(length)}
	return append(b, payload...)
}

func tagBytes(typ uint16, value []byte) []byte {
	return append([]byte{byte(typ >> 8), byte(typ), byte(len(value) >> 8), byte(len(value))}, value...)
}

// RFC 2516 §4, §5 and Appendix A: what UnmarshalBinary must refuse, and a
// few edge cases it must accept.
func Test_RFC2516_Validation(t *testing.T) {
	svc := tagBytes(0x0101, nil)
	relay := func(n int) []byte { return tagBytes(0x0110, make([]byte, n)) }
	// padi returns a PADI payload of exactly n octets: Service-Name and a
	// Host-Uniq filling the rest.
	padi := func(n int) []byte { return append(slices.Clone(svc), tagBytes(0x0103, make([]byte, n-8))...) }
	ok := frame(0x8863, 0x11, 0x09, 0, 4, svc)

	tests := []struct {
		name  string
		frame []byte
		want  error // nil means accepted
	}{
		{"good PADI", ok, nil},
		{"empty", nil, io.ErrUnexpectedEOF},
		{"header cut", ok[:19], io.ErrUnexpectedEOF},
		{"LENGTH past the frame", frame(0x8863, 0x11, 0x09, 0, 5, svc), io.ErrUnexpectedEOF},
		{"session ethertype", frame(0x8864, 0x11, 0x09, 0, 4, svc), pppoe.ErrEtherType},
		{"802.1Q tagged", frame(0x8100, 0x11, 0x09, 0, 4, svc), pppoe.ErrEtherType},
		{"version 2", frame(0x8863, 0x21, 0x09, 0, 4, svc), pppoe.ErrVersionType},
		{"type 2", frame(0x8863, 0x12, 0x09, 0, 4, svc), pppoe.ErrVersionType},
		{"code 0 on discovery", frame(0x8863, 0x11, 0x00, 1, 4, svc), pppoe.ErrCode},
		{"unknown code", frame(0x8863, 0x11, 0x42, 0, 4, svc), pppoe.ErrCode},
		{"PADI session 1", frame(0x8863, 0x11, 0x09, 1, 4, svc), pppoe.ErrSessionID},
		{"PADO session 1", frame(0x8863, 0x11, 0x07, 1, 4, svc), pppoe.ErrSessionID},
		{"PADR session 0xffff", frame(0x8863, 0x11, 0x19, 0xffff, 4, svc), pppoe.ErrSessionID},
		{"PADS session 0 (Service-Name-Error case)", frame(0x8863, 0x11, 0x65, 0, 4, svc), nil},
		{"PADT session 7", frame(0x8863, 0x11, 0xa7, 7, 0, nil), nil},
		{"PADI of 1484 octets", frame(0x8863, 0x11, 0x09, 0, 1478, padi(1478)), nil},
		{"PADI of 1485 octets", frame(0x8863, 0x11, 0x09, 0, 1479, padi(1479)), pppoe.ErrPADITooLarge},
		{"PADI of 1484 octets plus a relay's 12-octet tag",
			frame(0x8863, 0x11, 0x09, 0, 1494, append(padi(1478), relay(12)...)), nil},
		{"PADI of 1485 octets plus a relay's tag",
			frame(0x8863, 0x11, 0x09, 0, 1495, append(padi(1479), relay(12)...)), pppoe.ErrPADITooLarge},
		{"PADO of 1485 octets", frame(0x8863, 0x11, 0x07, 0, 1479, padi(1479)), nil},
		{"tag runs past payload", frame(0x8863, 0x11, 0x09, 0, 4, []byte{1, 1, 0, 1}), pppoe.ErrTagLength},
		{"tag runs past payload, frame longer", frame(0x8863, 0x11, 0x09, 0, 4, []byte{1, 1, 0, 1, 0x41}), pppoe.ErrTagLength},
		{"3 stray octets", frame(0x8863, 0x11, 0x09, 0, 7, append(slices.Clone(svc), 1, 2, 3)), pppoe.ErrTagLength},
		{"End-Of-List with a value", frame(0x8863, 0x11, 0x09, 0, 9, append(slices.Clone(svc), 0, 0, 0, 1, 0)), pppoe.ErrTagLength},
		{"two Relay-Session-Id", frame(0x8863, 0x11, 0x19, 0, 12, append(relay(2), relay(2)...)), pppoe.ErrDuplicateRelaySessionID},
		{"Relay-Session-Id after End-Of-List still counts",
			frame(0x8863, 0x11, 0x19, 0, 16, slices.Concat(relay(2), []byte{0, 0, 0, 0}, relay(2))), pppoe.ErrDuplicateRelaySessionID},
		{"no tags", frame(0x8863, 0x11, 0xa7, 1, 0, nil), nil},
		{"padded to 60 octets", append(slices.Clone(ok), make([]byte, 60-len(ok))...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d pppoe.Discovery
			err := d.UnmarshalBinary(tt.frame)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("UnmarshalBinary: %v", err)
				}
				// What parses must encode back, without the padding.
				enc, err := d.MarshalBinary()
				if err != nil {
					t.Fatalf("MarshalBinary: %v", err)
				}
				n := 20 + (int(tt.frame[18])<<8 | int(tt.frame[19]))
				if !bytes.Equal(enc, tt.frame[:n]) {
					t.Errorf("re-encoded:\n got % x\nwant % x", enc, tt.frame[:n])
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("UnmarshalBinary error = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "pppoe: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// The encoder refuses what the parser would refuse, and leaves b alone.
func TestDiscoveryValidate(t *testing.T) {
	good := func() pppoe.Discovery {
		return pppoe.Discovery{Dst: broadcast, Src: hostMAC, Code: pppoe.CodePADI,
			Tags: []pppoe.Tag{{Type: pppoe.TagServiceName}}}
	}
	tests := []struct {
		name   string
		mutate func(*pppoe.Discovery)
		want   error
	}{
		{"good", func(*pppoe.Discovery) {}, nil},
		{"nil Dst", func(d *pppoe.Discovery) { d.Dst = nil }, pppoe.ErrHardwareAddr},
		{"8-octet Src", func(d *pppoe.Discovery) { d.Src = make(net.HardwareAddr, 8) }, pppoe.ErrHardwareAddr},
		{"zero Code", func(d *pppoe.Discovery) { d.Code = 0 }, pppoe.ErrCode},
		{"PADI with session", func(d *pppoe.Discovery) { d.SessionID = 9 }, pppoe.ErrSessionID},
		{"PADO with session", func(d *pppoe.Discovery) { d.Code, d.SessionID = pppoe.CodePADO, 9 }, pppoe.ErrSessionID},
		{"PADS with session", func(d *pppoe.Discovery) { d.Code, d.SessionID = pppoe.CodePADS, 9 }, nil},
		{"65536-octet tag", func(d *pppoe.Discovery) {
			d.Code = pppoe.CodePADO
			d.Tags = append(d.Tags, pppoe.Tag{Type: pppoe.TagACCookie, Value: make([]byte, 65536)})
		}, pppoe.ErrTooLong},
		{"tags over 65535 octets", func(d *pppoe.Discovery) {
			d.Code = pppoe.CodePADO
			d.Tags = append(d.Tags, pppoe.Tag{Type: pppoe.TagACCookie, Value: make([]byte, 65532)})
		}, pppoe.ErrTooLong},
		{"End-Of-List with value", func(d *pppoe.Discovery) {
			d.Tags = append(d.Tags, pppoe.Tag{Type: pppoe.TagEndOfList, Value: []byte{1}})
		}, pppoe.ErrTagLength},
		{"two Relay-Session-Id", func(d *pppoe.Discovery) {
			d.Tags = append(d.Tags, pppoe.Tag{Type: pppoe.TagRelaySessionID}, pppoe.Tag{Type: pppoe.TagRelaySessionID})
		}, pppoe.ErrDuplicateRelaySessionID},
		{"PADI too large", func(d *pppoe.Discovery) {
			d.Tags = append(d.Tags, pppoe.Tag{Type: pppoe.TagHostUniq, Value: make([]byte, 1471)})
		}, pppoe.ErrPADITooLarge},
		{"PADI at the limit", func(d *pppoe.Discovery) {
			d.Tags = append(d.Tags, pppoe.Tag{Type: pppoe.TagHostUniq, Value: make([]byte, 1470)})
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := good()
			tt.mutate(&d)
			prefix := []byte{1, 2, 3}
			out, err := d.AppendBinary(prefix)
			if !errors.Is(err, tt.want) {
				t.Fatalf("AppendBinary error = %v, want %v", err, tt.want)
			}
			if !errors.Is(d.Validate(), tt.want) {
				t.Errorf("Validate() = %v, want %v", d.Validate(), tt.want)
			}
			if err != nil {
				if !bytes.Equal(out, prefix) {
					t.Errorf("AppendBinary changed b on error: % x", out)
				}
				return
			}
			var back pppoe.Discovery
			if err := back.UnmarshalBinary(out[len(prefix):]); err != nil {
				t.Errorf("what Validate accepts does not parse: %v", err)
			}
		})
	}
}

// UnmarshalBinary copies: changing the input afterwards changes nothing.
func TestDiscoveryUnmarshalCopies(t *testing.T) {
	b := mustHex(t, `02 eb 00 00 02 01 02 eb 00 00 02 02 88 63 11 65
		00 01 00 0c 01 01 00 00 01 03 00 04 32 39 63 63`)
	var d pppoe.Discovery
	if err := d.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	want := pppoe.Discovery{Dst: slices.Clone(d.Dst), Src: slices.Clone(d.Src), Code: d.Code,
		SessionID: d.SessionID, Tags: []pppoe.Tag{{Type: pppoe.TagServiceName}, {Type: pppoe.TagHostUniq, Value: []byte("29cc")}}}
	for i := range b {
		b[i] = 0xaa
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("parsed value changed with its input (-want +got):\n%s", diff)
	}
	// A failed parse leaves d as it was.
	if err := d.UnmarshalBinary(b); err == nil {
		t.Fatal("0xaa frame parsed")
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("failed parse changed d (-want +got):\n%s", diff)
	}
}

func TestTagEditing(t *testing.T) {
	d := pppoe.Discovery{Dst: broadcast, Src: hostMAC, Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{
			{Type: pppoe.TagServiceName},
			{Type: pppoe.TagHostUniq, Value: []byte("a")},
			{Type: pppoe.TagEndOfList},
			{Type: pppoe.TagHostUniq, Value: []byte("after")},
		}}

	// AddTag goes before End-Of-List, where receivers look.
	d.AddTag(pppoe.NewPPPMaxPayloadTag(1500))
	if got := d.Tags[2].Type; got != pppoe.TagPPPMaxPayload {
		t.Fatalf("AddTag put %v at index 2, want PPP-Max-Payload before End-Of-List", got)
	}
	// SetTag replaces the first live one in place.
	d.SetTag(pppoe.Tag{Type: pppoe.TagHostUniq, Value: []byte("b")})
	if v, _ := d.HostUniq(); string(v) != "b" || string(d.Tags[1].Value) != "b" || string(d.Tags[4].Value) != "after" {
		t.Fatalf("SetTag: tags now %v", d.Tags)
	}
	// SetTag of an absent type adds it.
	d.SetTag(pppoe.NewStringTag(pppoe.TagACName, "x"))
	if s, ok := d.ACName(); !ok || s != "x" {
		t.Fatalf("SetTag of a new type: ACName() = %q, %v", s, ok)
	}
	// RemoveTags removes all of a type, even after End-Of-List.
	if n := d.RemoveTags(pppoe.TagHostUniq); n != 2 {
		t.Fatalf("RemoveTags(Host-Uniq) = %d, want 2", n)
	}
	want := []pppoe.Tag{
		{Type: pppoe.TagServiceName},
		pppoe.NewPPPMaxPayloadTag(1500),
		{Type: pppoe.TagACName, Value: []byte("x")},
		{Type: pppoe.TagEndOfList},
	}
	if diff := cmp.Diff(want, d.Tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	if n := d.RemoveTags(pppoe.TagGenericError); n != 0 {
		t.Errorf("RemoveTags of an absent type = %d", n)
	}
}

// Appendix A: a relay adds one Relay-Session-Id upstream, never a second,
// and strips it downstream.
func TestRelaySessionIDHelpers(t *testing.T) {
	d := pppoe.Discovery{Dst: broadcast, Src: hostMAC, Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{{Type: pppoe.TagServiceName}}}
	id := []byte{0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if err := d.AddRelaySessionID(id); err != nil {
		t.Fatalf("AddRelaySessionID: %v", err)
	}
	if err := d.AddRelaySessionID([]byte{9}); !errors.Is(err, pppoe.ErrDuplicateRelaySessionID) {
		t.Fatalf("second AddRelaySessionID = %v, want ErrDuplicateRelaySessionID", err)
	}
	b, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := mustHex(t, `ff ff ff ff ff ff 02 eb 00 00 02 01 88 63 11 09 00 00 00 14
		01 01 00 00 01 10 00 0c 00 00 00 01 02 03 04 05 06 07 08 09`)
	if !bytes.Equal(b, want) {
		t.Errorf("PADI with Relay-Session-Id:\n got % x\nwant % x", b, want)
	}
	got, ok := d.StripRelaySessionID()
	if !ok || !bytes.Equal(got, id) {
		t.Errorf("StripRelaySessionID() = % x, %v", got, ok)
	}
	if _, ok := d.RelaySessionID(); ok || len(d.Tags) != 1 {
		t.Errorf("after strip: tags %v", d.Tags)
	}
	if _, ok := d.StripRelaySessionID(); ok {
		t.Error("StripRelaySessionID on a frame without one reported ok")
	}
}

func TestNewPADT(t *testing.T) {
	d := pppoe.NewPADT(acMAC, hostMAC, 0x0042, "")
	b, err := d.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := mustHex(t, "02 eb 00 00 02 02 02 eb 00 00 02 01 88 63 11 a7 00 42 00 00")
	if !bytes.Equal(b, want) {
		t.Errorf("PADT without reason:\n got % x\nwant % x", b, want)
	}
	d = pppoe.NewPADT(acMAC, hostMAC, 0x0042, "in arrears")
	if e, ok := d.ErrorTag(); !ok || e.Type != pppoe.TagGenericError || string(e.Value) != "in arrears" {
		t.Errorf("ErrorTag() = %v, %v", e, ok)
	}
}

// RFC 2516 §5.1 to §5.5: the tags each code must carry.
func Test_RFC2516_5_RequiredTags(t *testing.T) {
	svc := pppoe.Tag{Type: pppoe.TagServiceName}
	ac := pppoe.NewStringTag(pppoe.TagACName, "ac")
	sne := pppoe.Tag{Type: pppoe.TagServiceNameError}
	eol := pppoe.Tag{Type: pppoe.TagEndOfList}
	tests := []struct {
		code    pppoe.Code
		session uint16
		tags    []pppoe.Tag
		want    error
	}{
		{pppoe.CodePADI, 0, []pppoe.Tag{svc}, nil},
		{pppoe.CodePADI, 0, nil, pppoe.ErrMissingTag},
		{pppoe.CodePADI, 0, []pppoe.Tag{svc, svc}, pppoe.ErrExtraTag},
		{pppoe.CodePADI, 0, []pppoe.Tag{eol, svc}, pppoe.ErrMissingTag},
		{pppoe.CodePADI, 0, []pppoe.Tag{svc, eol, svc}, nil},
		{pppoe.CodePADO, 0, []pppoe.Tag{ac, svc, svc}, nil},
		{pppoe.CodePADO, 0, []pppoe.Tag{svc}, pppoe.ErrMissingTag},
		{pppoe.CodePADO, 0, []pppoe.Tag{ac}, pppoe.ErrMissingTag},
		{pppoe.CodePADO, 0, []pppoe.Tag{ac, ac, svc}, pppoe.ErrExtraTag},
		{pppoe.CodePADR, 0, []pppoe.Tag{svc}, nil},
		{pppoe.CodePADR, 0, []pppoe.Tag{}, pppoe.ErrMissingTag},
		{pppoe.CodePADS, 1, []pppoe.Tag{svc}, nil},
		{pppoe.CodePADS, 1, []pppoe.Tag{sne}, pppoe.ErrMissingTag},
		{pppoe.CodePADS, 0, []pppoe.Tag{sne}, nil},
		{pppoe.CodePADS, 0, []pppoe.Tag{svc}, pppoe.ErrMissingTag},
		{pppoe.CodePADT, 1, nil, nil},
	}
	for _, tt := range tests {
		d := pppoe.Discovery{Code: tt.code, SessionID: tt.session, Tags: tt.tags}
		if err := d.CheckRequiredTags(); !errors.Is(err, tt.want) {
			t.Errorf("%v session %d tags %v: CheckRequiredTags() = %v, want %v", tt.code, tt.session, tt.tags, err, tt.want)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got  interface{ String() string }
		want string
	}{
		{pppoe.CodePADI, "PADI"},
		{pppoe.CodePADO, "PADO"},
		{pppoe.CodePADR, "PADR"},
		{pppoe.CodePADS, "PADS"},
		{pppoe.CodePADT, "PADT"},
		{pppoe.CodeSession, "Session"},
		{pppoe.Code(0xd3), "Code(0xd3)"},
		{pppoe.EtherTypeDiscovery, "PPPoE-Discovery"},
		{pppoe.EtherTypeSession, "PPPoE-Session"},
		{pppoe.EtherType(0x0800), "EtherType(0x0800)"},
		{pppoe.TagEndOfList, "End-Of-List"},
		{pppoe.TagServiceName, "Service-Name"},
		{pppoe.TagACName, "AC-Name"},
		{pppoe.TagHostUniq, "Host-Uniq"},
		{pppoe.TagACCookie, "AC-Cookie"},
		{pppoe.TagVendorSpecific, "Vendor-Specific"},
		{pppoe.TagRelaySessionID, "Relay-Session-Id"},
		{pppoe.TagPPPMaxPayload, "PPP-Max-Payload"},
		{pppoe.TagServiceNameError, "Service-Name-Error"},
		{pppoe.TagACSystemError, "AC-System-Error"},
		{pppoe.TagGenericError, "Generic-Error"},
		{pppoe.TagType(0x0106), "TagType(0x0106)"},
		{pppoe.AgentCircuitID, "Agent-Circuit-Id"},
		{pppoe.AgentRemoteID, "Agent-Remote-Id"},
		{pppoe.SubOptionType(0x81), "SubOptionType(0x81)"},
		{pppoe.NewStringTag(pppoe.TagACName, "isp"), `AC-Name="isp"`},
		{pppoe.Tag{Type: pppoe.TagHostUniq, Value: []byte{0xca, 0xfe}}, "Host-Uniq=cafe"},
		{pppoe.Tag{Type: 0x0abc}, "TagType(0x0abc)="},
	}
	for _, tt := range tests {
		if s := tt.got.String(); s != tt.want {
			t.Errorf("String() = %q, want %q", s, tt.want)
		}
	}
}
