package ppp

import (
	"bytes"
	"encoding"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// mustHex decodes "% x"-style hex, ignoring spaces and newlines.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// binaryCodec is what every message type here implements.
type binaryCodec interface {
	AppendBinary([]byte) ([]byte, error)
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// checkVector decodes wire into a fresh value (made by zero), compares it
// with want, re-encodes it and compares the bytes, then encodes want onto
// a non-empty prefix.
func checkVector[T any, P interface {
	*T
	binaryCodec
}](t *testing.T, wire []byte, want T) {
	t.Helper()
	var got T
	if err := P(&got).UnmarshalBinary(wire); err != nil {
		t.Fatalf("UnmarshalBinary(% x): %v", wire, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("decoded (-want +got):\n%s", diff)
	}
	b, err := P(&want).MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	if !bytes.Equal(b, wire) {
		t.Fatalf("encoded:\n got % x\nwant % x", b, wire)
	}
	prefix := []byte("prefix")
	b, err = P(&want).AppendBinary(append([]byte(nil), prefix...))
	if err != nil {
		t.Fatalf("AppendBinary: %v", err)
	}
	if !bytes.Equal(b, append(prefix, wire...)) {
		t.Fatalf("AppendBinary onto prefix:\n got % x\nwant % x", b, append(prefix, wire...))
	}
}

// Vectors in this file are built from the packet figures of the RFC named
// by each test, field by field; TestTsharkDecodes has tshark 4.0 decode
// the same encoders' output independently.

func Test_RFC1661_2_ProtocolField(t *testing.T) {
	tests := []struct {
		name     string
		wire     string
		proto    Protocol
		info     string
		wantErr  error
		compress bool
	}{
		{name: "LCP", wire: "c0 21 09 01 00 08", proto: ProtoLCP, info: "09 01 00 08"},
		{name: "PAP", wire: "c0 23 01", proto: ProtoPAP, info: "01"},
		{name: "CHAP", wire: "c2 23", proto: ProtoCHAP, info: ""},
		{name: "IPCP", wire: "80 21 01", proto: ProtoIPCP, info: "01"},
		{name: "IPv4", wire: "00 21 45 00", proto: ProtoIPv4, info: "45 00"},
		{name: "IPv6", wire: "00 57 60", proto: ProtoIPv6, info: "60"},
		{name: "IPv6CP", wire: "80 57 01", proto: ProtoIPv6CP, info: "01"},
		// §6.6: one octet with its low bit set is a compressed field.
		{name: "compressed IPv4", wire: "21 45 00", proto: ProtoIPv4, info: "45 00", compress: true},
		{name: "empty", wire: "", wantErr: io.ErrUnexpectedEOF},
		{name: "one even octet", wire: "c0", wantErr: io.ErrUnexpectedEOF},
		{name: "low octet even", wire: "00 20 45", wantErr: ErrInvalidProtocol},
		{name: "high octet odd", wire: "c2 20", wantErr: ErrInvalidProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := mustHex(t, tt.wire)
			p, info, err := SplitProtocol(wire)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SplitProtocol err = %v, want %v", err, tt.wantErr)
				}
				var f Frame
				if err := f.UnmarshalBinary(wire); !errors.Is(err, tt.wantErr) {
					t.Fatalf("Frame.UnmarshalBinary err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || p != tt.proto || !bytes.Equal(info, mustHex(t, tt.info)) {
				t.Fatalf("SplitProtocol = %v, % x, %v; want %v, %s", p, info, err, tt.proto, tt.info)
			}
			want := Frame{Protocol: tt.proto, Compressed: tt.compress}
			if len(info) > 0 {
				want.Information = mustHex(t, tt.info)
			}
			checkVector(t, wire, want)
		})
	}
}

func TestProtocolString(t *testing.T) {
	for p, want := range map[Protocol]string{
		ProtoLCP: "LCP", ProtoPAP: "PAP", ProtoCHAP: "CHAP", ProtoIPCP: "IPCP",
		ProtoIPv4: "IPv4", ProtoIPv6: "IPv6", ProtoIPv6CP: "IPv6CP", 0x8281: "Protocol(0x8281)",
	} {
		if got := p.String(); got != want {
			t.Errorf("Protocol(%#04x).String() = %q, want %q", uint16(p), got, want)
		}
	}
	if !ProtoLCP.IsControl() || ProtoIPv4.IsControl() {
		t.Error("IsControl wrong for LCP or IPv4")
	}
}

func TestFrameAppendProtocol(t *testing.T) {
	b := AppendProtocol([]byte{0xaa}, ProtoLCP)
	if !bytes.Equal(b, []byte{0xaa, 0xc0, 0x21}) {
		t.Fatalf("AppendProtocol = % x", b)
	}
	if _, err := (Frame{Protocol: 0x0020}).MarshalBinary(); !errors.Is(err, ErrInvalidProtocol) {
		t.Fatalf("Frame with invalid protocol: err = %v", err)
	}
}

// Four options, as a BRAS sends them: MRU 1492, CHAP with MD5,
// Magic-Number 0x0a0b0c0d and Protocol-Field-Compression.
const confReqHex = "01 01 00 15  01 04 05 d4  03 05 c2 23 05  05 06 0a 0b 0c 0d  07 02"

func confReqOptions() []Option {
	return []Option{MRUOption(1492), AuthCHAPMD5.Option(), MagicNumberOption(0x0a0b0c0d), PFCOption()}
}

func Test_RFC1661_5_1_ConfigureRequest(t *testing.T) {
	wire := mustHex(t, confReqHex)
	want := Packet{Code: CodeConfigureRequest, Identifier: 1, Options: confReqOptions()}
	checkVector(t, wire, want)

	c, err := ParseLCPConfig(want.Options)
	if err != nil {
		t.Fatal(err)
	}
	wantC := LCPConfig{MRU: 1492, Auth: AuthCHAPMD5, MagicNumber: 0x0a0b0c0d, PFC: true}
	if diff := cmp.Diff(wantC, c); diff != "" {
		t.Fatalf("ParseLCPConfig (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.Options, c.Options()); diff != "" {
		t.Fatalf("LCPConfig.Options (-want +got):\n%s", diff)
	}
}

func Test_RFC1661_5_2_ConfigureAck(t *testing.T) {
	wire := mustHex(t, "02 01 00 15  01 04 05 d4  03 05 c2 23 05  05 06 0a 0b 0c 0d  07 02")
	checkVector(t, wire, Packet{Code: CodeConfigureAck, Identifier: 1, Options: confReqOptions()})
}

func Test_RFC1661_5_3_ConfigureNak(t *testing.T) {
	// Nak MRU down to 1492 and ask for PAP instead of CHAP.
	wire := mustHex(t, "03 02 00 0c  01 04 05 d4  03 04 c0 23")
	checkVector(t, wire, Packet{Code: CodeConfigureNak, Identifier: 2, Options: []Option{MRUOption(1492), AuthPAP.Option()}})
}

func Test_RFC1661_5_4_ConfigureReject(t *testing.T) {
	// PFC and ACFC rejected (RFC 2516 §7), and an unknown option (type
	// 13, Callback, RFC 1570 §2.3) copied back unchanged.
	wire := mustHex(t, "04 03 00 0b  07 02  08 02  0d 03 06")
	checkVector(t, wire, Packet{Code: CodeConfigureReject, Identifier: 3, Options: []Option{
		PFCOption(), ACFCOption(), {Type: 13, Data: []byte{6}},
	}})
}

func Test_RFC1661_5_5_TerminateRequest(t *testing.T) {
	wire := mustHex(t, "05 04 00 10  55 73 65 72 20 72 65 71 75 65 73 74") // "User request"
	checkVector(t, wire, Packet{Code: CodeTerminateRequest, Identifier: 4, Data: []byte("User request")})
}

func Test_RFC1661_5_5_TerminateAck(t *testing.T) {
	checkVector(t, mustHex(t, "06 04 00 04"), Packet{Code: CodeTerminateAck, Identifier: 4})
}

func Test_RFC1661_5_6_CodeReject(t *testing.T) {
	// Rejects a packet of code 12 (unknown to RFC 1661).
	wire := mustHex(t, "07 05 00 0a  0c 01 00 06 aa bb")
	want := Packet{Code: CodeCodeReject, Identifier: 5, Data: mustHex(t, "0c 01 00 06 aa bb")}
	checkVector(t, wire, want)
	got := CodeReject(5, mustHex(t, "0c 01 00 06 aa bb"), DefaultMRU)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("CodeReject (-want +got):\n%s", diff)
	}
	if got := CodeReject(5, make([]byte, 100), 10); got.Len() != 10 {
		t.Fatalf("CodeReject truncated to MRU 10: length %d", got.Len())
	}
}

func Test_RFC1661_5_7_ProtocolReject(t *testing.T) {
	// Rejects an IPv6CP Configure-Request.
	wire := mustHex(t, "08 06 00 0a  80 57  01 01 00 04")
	want := Packet{Code: CodeProtocolReject, Identifier: 6, Data: mustHex(t, "80 57 01 01 00 04")}
	checkVector(t, wire, want)
	if got := ProtocolReject(6, ProtoIPv6CP, mustHex(t, "01 01 00 04"), DefaultMRU); !cmp.Equal(want, got) {
		t.Fatalf("ProtocolReject = %+v", got)
	}
	p, info, err := want.RejectedProtocol()
	if err != nil || p != ProtoIPv6CP || !bytes.Equal(info, mustHex(t, "01 01 00 04")) {
		t.Fatalf("RejectedProtocol = %v, % x, %v", p, info, err)
	}
}

func Test_RFC1661_5_8_EchoRequestReply(t *testing.T) {
	req := mustHex(t, "09 07 00 0a  0a 0b 0c 0d  68 69") // data "hi"
	wantReq := Packet{Code: CodeEchoRequest, Identifier: 7, Data: mustHex(t, "0a 0b 0c 0d 68 69")}
	checkVector(t, req, wantReq)
	if got := EchoRequest(7, 0x0a0b0c0d, []byte("hi")); !cmp.Equal(wantReq, got) {
		t.Fatalf("EchoRequest = %+v", got)
	}
	rep := mustHex(t, "0a 07 00 0a  01 02 03 04  68 69")
	wantRep := Packet{Code: CodeEchoReply, Identifier: 7, Data: mustHex(t, "01 02 03 04 68 69")}
	checkVector(t, rep, wantRep)
	if got := EchoReply(&wantReq, 0x01020304); !cmp.Equal(wantRep, got) {
		t.Fatalf("EchoReply = %+v", got)
	}
	m, data, err := wantRep.Magic()
	if err != nil || m != 0x01020304 || string(data) != "hi" {
		t.Fatalf("Magic = %#x, %q, %v", m, data, err)
	}
}

func Test_RFC1661_5_9_DiscardRequest(t *testing.T) {
	wire := mustHex(t, "0b 08 00 08  00 00 00 00")
	want := Packet{Code: CodeDiscardRequest, Identifier: 8, Data: mustHex(t, "00 00 00 00")}
	checkVector(t, wire, want)
	if got := DiscardRequest(8, 0, nil); !cmp.Equal(want, got) {
		t.Fatalf("DiscardRequest = %+v", got)
	}
}

func Test_RFC1661_5_Padding(t *testing.T) {
	// §5: octets outside the Length field are padding, ignored.
	var p Packet
	if err := p.UnmarshalBinary(mustHex(t, "06 04 00 04  00 00 00")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Packet{Code: CodeTerminateAck, Identifier: 4}, p); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func Test_RFC1661_6_LCPOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		wire string
	}{
		{"6.1 MRU", MRUOption(1492), "01 04 05 d4"},
		{"6.2 PAP", AuthPAP.Option(), "03 04 c0 23"},
		{"6.2 CHAP MD5 (RFC 1994 §3)", AuthCHAPMD5.Option(), "03 05 c2 23 05"},
		{"6.4 Magic-Number", MagicNumberOption(0xdeadbeef), "05 06 de ad be ef"},
		{"6.5 PFC", PFCOption(), "07 02"},
		{"6.6 ACFC", ACFCOption(), "08 02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendOptions([]byte{0xff}, []Option{tt.opt})
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]byte{0xff}, mustHex(t, tt.wire)...); !bytes.Equal(b, want) {
				t.Fatalf("AppendOptions = % x, want % x", b, want)
			}
			opts, err := ParseOptions(b[1:])
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]Option{tt.opt}, opts); diff != "" {
				t.Fatalf("ParseOptions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLCPOptionAccessors(t *testing.T) {
	if _, err := (Option{Type: 1, Data: []byte{5}}).MRU(); !errors.Is(err, ErrOptionData) {
		t.Errorf("short MRU: %v", err)
	}
	if _, err := MRUOption(1).MagicNumber(); !errors.Is(err, ErrOptionData) {
		t.Errorf("MagicNumber of MRU option: %v", err)
	}
	if _, err := (Option{Type: 3, Data: mustHex(t, "c2 23")}).Auth(); !errors.Is(err, ErrOptionData) {
		t.Errorf("CHAP without algorithm: %v", err)
	}
	if _, err := (Option{Type: 3, Data: mustHex(t, "c0 23 00")}).Auth(); !errors.Is(err, ErrOptionData) {
		t.Errorf("PAP with data: %v", err)
	}
	if a, err := (Option{Type: 3, Data: mustHex(t, "c0 27 01 02")}).Auth(); err != nil || a.Protocol != 0xc027 {
		t.Errorf("other protocol: %v, %v", a, err)
	}
	if _, err := ParseLCPConfig([]Option{{Type: 7, Data: []byte{1}}}); !errors.Is(err, ErrOptionData) {
		t.Errorf("PFC with data: %v", err)
	}
	if got := AuthCHAPMD5.String(); got != "CHAP/MD5" {
		t.Errorf("AuthCHAPMD5.String() = %q", got)
	}
}

func TestPacketErrors(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want error
	}{
		{"empty", "", io.ErrUnexpectedEOF},
		{"short header", "01 01 00", io.ErrUnexpectedEOF},
		{"length below header", "01 01 00 03", ErrBadLength},
		{"length past end", "01 01 00 08 01 04", io.ErrUnexpectedEOF},
		{"option length 1", "01 01 00 06 01 01", ErrBadOptionLength},
		{"option length 0", "01 01 00 06 01 00", ErrBadOptionLength},
		{"option past packet", "01 01 00 07 01 04 05", ErrBadOptionLength},
		{"lone option type", "02 01 00 05 01", ErrBadOptionLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			err := p.UnmarshalBinary(mustHex(t, tt.wire))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "ppp: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		})
	}
	var p Packet
	if err := p.UnmarshalBinary(mustHex(t, "09 01 00 06 00 00")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Magic(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short echo Magic: %v", err)
	}
	if _, _, err := p.RejectedProtocol(); err == nil {
		t.Fatal("RejectedProtocol of an echo: no error")
	}
}

func TestPacketEncodeErrors(t *testing.T) {
	for _, p := range []Packet{
		{Code: CodeConfigureRequest, Data: []byte{1}},
		{Code: CodeTerminateRequest, Options: []Option{PFCOption()}},
		{Code: CodeConfigureRequest, Options: []Option{{Type: 1, Data: make([]byte, 254)}}},
		{Code: CodeTerminateRequest, Data: make([]byte, 0x10000)},
	} {
		b, err := p.AppendBinary([]byte("x"))
		if err == nil || string(b) != "x" {
			t.Errorf("%v: AppendBinary = % x, %v; want the prefix untouched and an error", p.Code, b, err)
		}
	}
}

func Test_RFC1334_2_2_1_AuthenticateRequest(t *testing.T) {
	wire := mustHex(t, "01 01 00 11  05 61 6c 69 63 65  06 73 65 63 72 65 74") // "alice", "secret"
	checkVector(t, wire, PAPPacket{Code: PAPAuthenticateRequest, Identifier: 1, PeerID: "alice", Password: []byte("secret")})
}

func Test_RFC1334_2_2_2_AuthenticateAck(t *testing.T) {
	wire := mustHex(t, "02 01 00 07  02 4f 4b") // "OK"
	checkVector(t, wire, PAPPacket{Code: PAPAuthenticateAck, Identifier: 1, Message: "OK"})
}

func Test_RFC1334_2_2_2_AuthenticateNak(t *testing.T) {
	wire := mustHex(t, "03 01 00 0f  0a 69 6e 20 61 72 72 65 61 72 73") // "in arrears"
	checkVector(t, wire, PAPPacket{Code: PAPAuthenticateNak, Identifier: 1, Message: "in arrears"})
}

func TestPAPLenient(t *testing.T) {
	// An Ack without the Msg-Length octet, as some peers send.
	var p PAPPacket
	if err := p.UnmarshalBinary(mustHex(t, "02 09 00 04")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(PAPPacket{Code: PAPAuthenticateAck, Identifier: 9}, p); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestPAPErrors(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want error
	}{
		{"truncated", "01 01 00 10 05", io.ErrUnexpectedEOF},
		{"no Peer-ID length", "01 01 00 04", io.ErrUnexpectedEOF},
		{"Peer-ID past length", "01 01 00 06 05 61", ErrMalformed},
		{"no password length", "01 01 00 06 01 61", io.ErrUnexpectedEOF},
		{"password past length", "01 01 00 08 01 61 03 62", ErrMalformed},
		{"message past length", "03 01 00 06 05 61", ErrMalformed},
		{"unknown code", "04 01 00 04", ErrUnknownCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p PAPPacket
			if err := p.UnmarshalBinary(mustHex(t, tt.wire)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	for _, p := range []PAPPacket{
		{Code: PAPAuthenticateRequest, PeerID: strings.Repeat("a", 256)},
		{Code: PAPAuthenticateNak, Message: strings.Repeat("a", 256)},
		{Code: 9},
	} {
		if b, err := p.AppendBinary([]byte("x")); err == nil || string(b) != "x" {
			t.Errorf("%v: AppendBinary = % x, %v", p.Code, b, err)
		}
	}
}

// challengeValue is the 16-octet challenge of the CHAP vectors.
const challengeHex = "01 23 45 67 89 ab cd ef fe dc ba 98 76 54 32 10"

func Test_RFC1994_4_1_Challenge(t *testing.T) {
	wire := mustHex(t, "01 2a 00 19  10 "+challengeHex+"  62 72 61 73") // name "bras"
	checkVector(t, wire, CHAPPacket{Code: CHAPChallenge, Identifier: 0x2a, Value: mustHex(t, challengeHex), Name: "bras"})
}

func Test_RFC1994_4_1_Response(t *testing.T) {
	// The Value is MD5(0x2a || "testing123" || challenge), computed
	// independently with Python's hashlib:
	// hashlib.md5(bytes([0x2a]) + b"testing123" + challenge).hexdigest()
	const md5Hex = "50 7e 45 53 2a ae f9 f3 d9 6e 4b 34 9f fa d3 cf"
	sum := CHAPMD5Response(0x2a, []byte("testing123"), mustHex(t, challengeHex))
	if !bytes.Equal(sum[:], mustHex(t, md5Hex)) {
		t.Fatalf("CHAPMD5Response = % x, want %s", sum, md5Hex)
	}
	wire := mustHex(t, "02 2a 00 1a  10 "+md5Hex+"  61 6c 69 63 65") // name "alice"
	checkVector(t, wire, CHAPPacket{Code: CHAPResponse, Identifier: 0x2a, Value: sum[:], Name: "alice"})

	// A second vector: id 1, secret "secret", challenge 00..0f.
	sum = CHAPMD5Response(1, []byte("secret"), mustHex(t, "00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f"))
	if want := mustHex(t, "74 0e 86 46 3b da 3a 4d 70 17 d6 e0 fb a0 69 9d"); !bytes.Equal(sum[:], want) {
		t.Fatalf("CHAPMD5Response = % x, want % x", sum, want)
	}
}

func Test_RFC1994_4_2_Success(t *testing.T) {
	wire := mustHex(t, "03 2a 00 0b  57 65 6c 63 6f 6d 65") // "Welcome"
	checkVector(t, wire, CHAPPacket{Code: CHAPSuccess, Identifier: 0x2a, Message: "Welcome"})
}

func Test_RFC1994_4_2_Failure(t *testing.T) {
	wire := mustHex(t, "04 2a 00 0e  69 6e 20 61 72 72 65 61 72 73") // "in arrears"
	checkVector(t, wire, CHAPPacket{Code: CHAPFailure, Identifier: 0x2a, Message: "in arrears"})
	checkVector(t, mustHex(t, "04 2b 00 04"), CHAPPacket{Code: CHAPFailure, Identifier: 0x2b})
}

func TestCHAPErrors(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want error
	}{
		{"truncated", "01 01 00 09 04", io.ErrUnexpectedEOF},
		{"no Value-Size", "01 01 00 04", io.ErrUnexpectedEOF},
		{"value past length", "02 01 00 06 05 61", ErrMalformed},
		{"unknown code", "05 01 00 04", ErrUnknownCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p CHAPPacket
			if err := p.UnmarshalBinary(mustHex(t, tt.wire)); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	for _, p := range []CHAPPacket{
		{Code: CHAPChallenge, Value: make([]byte, 256)},
		{Code: CHAPSuccess, Message: strings.Repeat("a", 0x10000)},
		{Code: 7},
	} {
		if b, err := p.AppendBinary([]byte("x")); err == nil || string(b) != "x" {
			t.Errorf("%v: AppendBinary = % x, %v", p.Code, len(b), err)
		}
	}
}

func Test_RFC1332_3_3_IPAddress(t *testing.T) {
	// A client asks for an address: IP-Address 0.0.0.0.
	wire := mustHex(t, "01 01 00 0a  03 06 00 00 00 00")
	want := Packet{Code: CodeConfigureRequest, Identifier: 1, Options: []Option{AddrOption(IPCPIPAddress, netip.Addr{})}}
	checkVector(t, wire, want)
	c, err := ParseIPCPConfig(want.Options)
	if err != nil || c.Address != netip.IPv4Unspecified() {
		t.Fatalf("ParseIPCPConfig = %+v, %v", c, err)
	}
}

func Test_RFC1877_1_DNSOptions(t *testing.T) {
	// The BRAS Naks with the address and both DNS servers.
	wire := mustHex(t, "03 01 00 16  03 06 0a 00 00 02  81 06 08 08 08 08  83 06 08 08 04 04")
	want := IPCPConfig{
		Address:      netip.MustParseAddr("10.0.0.2"),
		PrimaryDNS:   netip.MustParseAddr("8.8.8.8"),
		SecondaryDNS: netip.MustParseAddr("8.8.4.4"),
	}
	checkVector(t, wire, Packet{Code: CodeConfigureNak, Identifier: 1, Options: want.Options()})
	got, err := ParseIPCPConfig(want.Options())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Fatalf("ParseIPCPConfig (-want +got):\n%s", diff)
	}
}

func Test_RFC1877_1_NBNSKeptRaw(t *testing.T) {
	// NBNS (130, 132) and IP-Compression-Protocol (2) are kept raw.
	wire := mustHex(t, "04 02 00 16  82 06 0a 00 00 05  84 06 0a 00 00 06  02 06 00 2d 0f 01")
	opts := []Option{
		{Type: 130, Data: mustHex(t, "0a 00 00 05")},
		{Type: 132, Data: mustHex(t, "0a 00 00 06")},
		{Type: 2, Data: mustHex(t, "00 2d 0f 01")},
	}
	checkVector(t, wire, Packet{Code: CodeConfigureReject, Identifier: 2, Options: opts})
	c, err := ParseIPCPConfig(opts)
	if err != nil || len(c.Other) != 3 || c.Address.IsValid() {
		t.Fatalf("ParseIPCPConfig = %+v, %v", c, err)
	}
	if a, err := opts[0].Addr(); err != nil || a != netip.MustParseAddr("10.0.0.5") {
		t.Fatalf("NBNS Addr = %v, %v", a, err)
	}
	if _, err := (Option{Type: 3, Data: []byte{1, 2, 3}}).Addr(); !errors.Is(err, ErrOptionData) {
		t.Fatalf("short IP-Address: %v", err)
	}
	if _, err := ParseIPCPConfig([]Option{{Type: 129}}); !errors.Is(err, ErrOptionData) {
		t.Fatalf("empty DNS option: %v", err)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{CodeConfigureRequest.String(), "Configure-Request"},
		{CodeDiscardRequest.String(), "Discard-Request"},
		{Code(12).String(), "Code(12)"},
		{LCPMagicNumber.String(), "Magic-Number"},
		{LCPOptionType(99).String(), "LCPOption(99)"},
		{IPCPPrimaryDNS.String(), "Primary-DNS-Address"},
		{IPCPOptionType(99).String(), "IPCPOption(99)"},
		{PAPAuthenticateNak.String(), "Authenticate-Nak"},
		{PAPCode(0).String(), "PAPCode(0)"},
		{CHAPFailure.String(), "Failure"},
		{CHAPCode(0).String(), "CHAPCode(0)"},
		{CHAPMD5.String(), "MD5"},
		{StateAckRcvd.String(), "Ack-Rcvd"},
		{State(10).String(), "State(10)"},
		{EventRCRPlus.String(), "RCR+"},
		{Event(0).String(), "Event(0)"},
		{ActionSCR.String(), "scr"},
		{ActionKind(0).String(), "ActionKind(0)"},
		{Action{Kind: ActionTLU}.String(), "tlu"},
		{Action{Kind: ActionSCR, Packet: Packet{Code: CodeConfigureRequest, Identifier: 3}}.String(), "scr(Configure-Request id=3)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
