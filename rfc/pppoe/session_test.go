package pppoe_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/rfc/pppoe"
)

// lcpFrame is a session frame carrying an LCP Configure-Request (MRU 1492,
// Magic-Number 0x01020304), built by hand from the RFC 2516 §6 layout and
// RFC 1661 §5.1; tshark decodes it as "PPP Link Control Protocol,
// Configuration Request" in TestTsharkDecodesOurFrames.
const lcpFrame = `02 eb 00 00 02 02 02 eb 00 00 02 01 88 64 11 00
	00 01 00 10 c0 21 01 01 00 0e 01 04 05 d4 05 06 01 02 03 04`

// RFC 2516 §6: the session stage, ethertype 0x8864, CODE 0, the session id
// from the PADS, LENGTH the PPP payload's, and the PPP frame.
func Test_RFC2516_6_SessionStage(t *testing.T) {
	frame := mustHex(t, lcpFrame)
	want := pppoe.Session{
		Dst:       acMAC,
		Src:       hostMAC,
		SessionID: 1,
		Payload:   mustHex(t, "c0 21 01 01 00 0e 01 04 05 d4 05 06 01 02 03 04"),
	}
	var got pppoe.Session
	if err := got.UnmarshalBinary(frame); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UnmarshalBinary (-want +got):\n%s", diff)
	}
	enc, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, frame) {
		t.Errorf("MarshalBinary:\n got % x\nwant % x", enc, frame)
	}
	prefix := []byte("prefix")
	out, err := want.AppendBinary(slices.Clone(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, append(prefix, frame...)) {
		t.Errorf("AppendBinary onto a prefix:\n got % x", out)
	}

	// The view reads the same fields in place.
	f, err := pppoe.ParseSession(frame)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.Dst(), want.Dst) || !bytes.Equal(f.Src(), want.Src) ||
		f.SessionID() != want.SessionID || f.Len() != len(want.Payload) || !bytes.Equal(f.Payload(), want.Payload) {
		t.Errorf("view: dst %v src %v session %d len %d payload % x", f.Dst(), f.Src(), f.SessionID(), f.Len(), f.Payload())
	}
	// UnmarshalBinary copies.
	frame[20] = 0xff
	if got.Payload[0] != 0xc0 {
		t.Error("Session aliases its input")
	}
}

func TestSessionValidation(t *testing.T) {
	good := mustHex(t, lcpFrame)
	mut := func(i int, v byte) []byte { b := slices.Clone(good); b[i] = v; return b }
	tests := []struct {
		name  string
		frame []byte
		want  error
	}{
		{"good", good, nil},
		{"header cut", good[:19], io.ErrUnexpectedEOF},
		{"payload cut", good[:len(good)-1], io.ErrUnexpectedEOF},
		{"discovery ethertype", mut(13, 0x63), pppoe.ErrEtherType},
		{"IPv4 ethertype", append([]byte{}, slices.Concat(good[:12], []byte{8, 0}, good[14:])...), pppoe.ErrEtherType},
		{"version 2", mut(14, 0x21), pppoe.ErrVersionType},
		{"code PADT", mut(15, 0xa7), pppoe.ErrCode},
		{"padded", append(slices.Clone(good), 0, 0, 0), nil},
		{"empty payload", slices.Concat(good[:18], []byte{0, 0}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := pppoe.ParseSession(tt.frame)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseSession error = %v, want %v", err, tt.want)
			}
			var s pppoe.Session
			if err2 := s.UnmarshalBinary(tt.frame); !errors.Is(err2, tt.want) {
				t.Fatalf("UnmarshalBinary error = %v, want %v", err2, tt.want)
			}
			if err != nil {
				return
			}
			if len(f) != pppoe.FrameHeaderLen+f.Len() {
				t.Errorf("view is %d octets, want headers + LENGTH %d", len(f), f.Len())
			}
			enc, err := s.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, f) {
				t.Errorf("re-encoded % x, want % x", enc, []byte(f))
			}
		})
	}
}

func TestSessionEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		s    pppoe.Session
		want error
	}{
		{"short Dst", pppoe.Session{Dst: acMAC[:5], Src: hostMAC}, pppoe.ErrHardwareAddr},
		{"nil Src", pppoe.Session{Dst: acMAC}, pppoe.ErrHardwareAddr},
		{"65536-octet payload", pppoe.Session{Dst: acMAC, Src: hostMAC, Payload: make([]byte, 65536)}, pppoe.ErrTooLong},
	}
	for _, tt := range tests {
		out, err := tt.s.AppendBinary([]byte{7})
		if !errors.Is(err, tt.want) || !bytes.Equal(out, []byte{7}) {
			t.Errorf("%s: AppendBinary = % x, %v; want [07], %v", tt.name, out, err, tt.want)
		}
	}
}

// The relay rewrites MACs and the session id in place, and the result is
// what encoding the rewritten Session would give.
func TestSessionFrameSetters(t *testing.T) {
	buf := append(mustHex(t, lcpFrame), 0, 0) // with padding
	f, err := pppoe.ParseSession(buf)
	if err != nil {
		t.Fatal(err)
	}
	newDst := net.HardwareAddr{0x02, 0, 0, 0, 0, 0xaa}
	newSrc := net.HardwareAddr{0x02, 0, 0, 0, 0, 0xbb}
	f.SetDst(newDst)
	f.SetSrc(newSrc)
	f.SetSessionID(0xbeef)
	want, err := (&pppoe.Session{Dst: newDst, Src: newSrc, SessionID: 0xbeef,
		Payload: mustHex(t, "c0 21 01 01 00 0e 01 04 05 d4 05 06 01 02 03 04")}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:len(want)], want) {
		t.Errorf("rewritten in place:\n got % x\nwant % x", buf[:len(want)], want)
	}
	if &f[0] != &buf[0] {
		t.Error("SessionFrame does not alias its input")
	}
}

// The fast path allocates nothing: parse, read every field, rewrite.
func TestSessionFrameZeroAlloc(t *testing.T) {
	buf := mustHex(t, lcpFrame)
	dst := net.HardwareAddr{0x02, 0, 0, 0, 0, 0xaa}
	var sink int
	allocs := testing.AllocsPerRun(1000, func() {
		f, err := pppoe.ParseSession(buf)
		if err != nil {
			panic(err)
		}
		sink += int(f.SessionID()) + f.Len() + len(f.Payload()) + len(f.Dst()) + len(f.Src())
		f.SetDst(dst)
		f.SetSrc(dst)
		f.SetSessionID(1)
	})
	if allocs != 0 {
		t.Errorf("ParseSession and the view's methods allocate %v times per frame, want 0", allocs)
	}
	_ = sink
}
