package ppp

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/google/go-cmp/cmp"
)

// pppoeSessionFrame wraps a PPP frame in Ethernet and a PPPoE session
// header (RFC 2516 §4: ver/type 0x11, code 0, session id, payload
// length), written by hand so this test does not depend on rfc/pppoe.
func pppoeSessionFrame(session uint16, proto Protocol, pkt []byte) []byte {
	b := []byte{
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // destination
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // source
		0x88, 0x64, // PPPoE session stage
		0x11, 0x00, 0, 0, 0, 0,
	}
	binary.BigEndian.PutUint16(b[16:], session)
	binary.BigEndian.PutUint16(b[18:], uint16(2+len(pkt)))
	b = AppendProtocol(b, proto)
	return append(b, pkt...)
}

// writePcap writes frames as a classic pcap file with LINKTYPE_ETHERNET.
func writePcap(t *testing.T, path string, frames [][]byte) {
	t.Helper()
	var buf bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4) // magic, microsecond timestamps
	le.PutUint16(hdr[4:], 2)          // version 2.4
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535) // snaplen
	le.PutUint32(hdr[20:], 1)     // LINKTYPE_ETHERNET
	buf.Write(hdr)
	for i, f := range frames {
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(1700000000+i))
		le.PutUint32(rec[8:], uint32(len(f)))
		le.PutUint32(rec[12:], uint32(len(f)))
		buf.Write(rec)
		buf.Write(f)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// PDML, as tshark -T pdml writes it.
type pdmlDoc struct {
	Packets []struct {
		Protos []pdmlField `xml:"proto"`
	} `xml:"packet"`
}

type pdmlField struct {
	Name   string      `xml:"name,attr"`
	Show   string      `xml:"show,attr"`
	Value  string      `xml:"value,attr"`
	Fields []pdmlField `xml:"field"`
}

// decoded is one packet as tshark saw it: its protocols, and each field
// name's values in document order ("show"; "name#raw" holds the raw hex
// value).
type decoded struct {
	protos  []string
	fields  map[string][]string
	experts []string // "severity: message"
}

func (d *decoded) walk(fs []pdmlField) {
	for _, f := range fs {
		if f.Name == "_ws.expert" {
			var sev, msg string
			for _, c := range f.Fields {
				switch c.Name {
				case "_ws.expert.severity":
					sev = c.Show
				case "_ws.expert.message":
					msg = c.Show
				}
			}
			d.experts = append(d.experts, sev+": "+msg)
		}
		if f.Name != "" {
			d.fields[f.Name] = append(d.fields[f.Name], f.Show)
			d.fields[f.Name+"#raw"] = append(d.fields[f.Name+"#raw"], f.Value)
		}
		d.walk(f.Fields)
	}
}

// Expert severities (epan/proto.h PI_WARN, PI_ERROR).
const (
	expertWarn  = 0x00600000
	expertError = 0x00800000
)

// problems lists what makes tshark's decode of a packet suspect: a
// malformed-packet marker or an expert item at warning level or above.
func (d *decoded) problems() []string {
	var out []string
	for _, p := range d.protos {
		if p == "_ws.malformed" {
			out = append(out, "malformed")
		}
	}
	for _, e := range d.experts {
		var sev int
		fmt.Sscan(e, &sev)
		if sev >= expertWarn {
			out = append(out, "expert "+e)
		}
	}
	if len(d.fields["_ws.malformed"]) > 0 {
		out = append(out, "malformed field")
	}
	return out
}

func runTshark(t *testing.T, frames [][]byte) []decoded {
	t.Helper()
	bin := testenv.Binary(t, "tshark")
	dir := t.TempDir()
	path := filepath.Join(dir, "ppp.pcap")
	writePcap(t, path, frames)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, "-n", "-r", path, "-T", "pdml")
	cmd.Env = append(os.Environ(), "HOME="+dir) // no user preferences
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var doc pdmlDoc
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("parsing tshark's PDML: %v", err)
	}
	if len(doc.Packets) != len(frames) {
		t.Fatalf("tshark decoded %d packets, want %d", len(doc.Packets), len(frames))
	}
	res := make([]decoded, len(doc.Packets))
	for i, p := range doc.Packets {
		d := decoded{fields: map[string][]string{}}
		for _, pr := range p.Protos {
			d.protos = append(d.protos, pr.Name)
		}
		d.walk(p.Protos)
		res[i] = d
	}
	return res
}

// tsharkCase is a frame our encoders built and the fields tshark must
// read from it, derived from our own values.
type tsharkCase struct {
	name  string
	proto Protocol
	pkt   []byte
	want  map[string][]string
}

func itoa[T ~uint8 | ~uint16 | ~int](v T) string { return strconv.Itoa(int(v)) }

// wantControl derives tshark's view of an LCP or IPCP packet from ours.
func wantControl(t *testing.T, proto Protocol, p Packet) map[string][]string {
	t.Helper()
	w := map[string][]string{
		"ppp.code":       {itoa(p.Code)},
		"ppp.identifier": {itoa(p.Identifier)},
		"ppp.length":     {itoa(p.Len())},
	}
	pre := "lcp.opt."
	if proto == ProtoIPCP {
		pre = "ipcp.opt."
	}
	add := func(k, v string) { w[k] = append(w[k], v) }
	for _, o := range p.Options {
		add(pre+"type", itoa(o.Type))
		add(pre+"length", itoa(2+len(o.Data)))
		if proto == ProtoIPCP {
			a, err := o.Addr()
			if err != nil {
				continue
			}
			switch IPCPOptionType(o.Type) {
			case IPCPIPAddress:
				add("ipcp.opt.ip_address", a.String())
			case IPCPPrimaryDNS:
				add("ipcp.opt.pri_dns_address", a.String())
			case IPCPSecondaryDNS:
				add("ipcp.opt.sec_dns_address", a.String())
			}
			continue
		}
		switch LCPOptionType(o.Type) {
		case LCPMRU:
			v, _ := o.MRU()
			add("lcp.opt.mru", itoa(v))
		case LCPAuthProtocol:
			a, _ := o.Auth()
			add("lcp.opt.auth_protocol", fmt.Sprintf("0x%04x", uint16(a.Protocol)))
			if a.Protocol == ProtoCHAP {
				add("lcp.opt.algorithm", itoa(a.Algorithm))
			}
		case LCPMagicNumber:
			v, _ := o.MagicNumber()
			add("lcp.opt.magic_number", fmt.Sprintf("0x%08x", v))
		}
	}
	switch p.Code {
	case CodeTerminateRequest, CodeTerminateAck, CodeCodeReject:
		if len(p.Data) > 0 {
			add("ppp.data#raw", hex.EncodeToString(p.Data))
		}
	case CodeEchoRequest, CodeEchoReply, CodeDiscardRequest:
		m, data, err := p.Magic()
		if err != nil {
			t.Fatal(err)
		}
		add("lcp.magic_number", fmt.Sprintf("0x%08x", m))
		if len(data) > 0 {
			add("lcp.data#raw", hex.EncodeToString(data))
		}
	case CodeProtocolReject:
		rp, _, err := p.RejectedProtocol()
		if err != nil {
			t.Fatal(err)
		}
		add("lcp.rej_proto", fmt.Sprintf("0x%04x", uint16(rp)))
	}
	return w
}

func controlCase(t *testing.T, name string, proto Protocol, p Packet) tsharkCase {
	return tsharkCase{name: name, proto: proto, pkt: encode(t, p), want: wantControl(t, proto, p)}
}

func papCase(t *testing.T, name string, p PAPPacket) tsharkCase {
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	w := map[string][]string{
		"pap.code":       {itoa(p.Code)},
		"pap.identifier": {itoa(p.Identifier)},
		"pap.length":     {itoa(len(b))},
	}
	if p.Code == PAPAuthenticateRequest {
		w["pap.peer_id.length"] = []string{itoa(len(p.PeerID))}
		w["pap.peer_id"] = []string{p.PeerID}
		w["pap.password.length"] = []string{itoa(len(p.Password))}
		w["pap.password"] = []string{string(p.Password)}
	} else {
		w["pap.message.length"] = []string{itoa(len(p.Message))}
		w["pap.message"] = []string{p.Message}
	}
	return tsharkCase{name: name, proto: ProtoPAP, pkt: b, want: w}
}

func chapCase(t *testing.T, name string, p CHAPPacket) tsharkCase {
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	w := map[string][]string{
		"chap.code":       {itoa(p.Code)},
		"chap.identifier": {itoa(p.Identifier)},
		"chap.length":     {itoa(len(b))},
	}
	if p.Code == CHAPChallenge || p.Code == CHAPResponse {
		w["chap.value_size"] = []string{itoa(len(p.Value))}
		w["chap.value#raw"] = []string{hex.EncodeToString(p.Value)}
		w["chap.name"] = []string{p.Name}
	} else if p.Message != "" {
		w["chap.message"] = []string{p.Message}
	}
	return tsharkCase{name: name, proto: ProtoCHAP, pkt: b, want: w}
}

// TestTsharkDecodes has tshark, an independent decoder, read frames our
// encoders built inside Ethernet + PPPoE session headers: it must find no
// malformed or expert-warning fields, and read the same codes,
// identifiers, lengths and option types and values that we encoded.
func TestTsharkDecodes(t *testing.T) {
	testenv.Binary(t, "tshark")
	sum := CHAPMD5Response(0x2a, []byte("testing123"), mustHex(t, challengeHex))
	echo := EchoRequest(9, 0x0a0b0c0d, []byte("keepalive"))
	cases := []tsharkCase{
		controlCase(t, "LCP Configure-Request", ProtoLCP, Packet{Code: CodeConfigureRequest, Identifier: 1, Options: confReqOptions()}),
		controlCase(t, "LCP Configure-Request PAP", ProtoLCP, Packet{Code: CodeConfigureRequest, Identifier: 2, Options: LCPConfig{MRU: 1492, Auth: AuthPAP, MagicNumber: 0xfeedface}.Options()}),
		controlCase(t, "LCP Configure-Ack", ProtoLCP, Packet{Code: CodeConfigureAck, Identifier: 1, Options: confReqOptions()}),
		controlCase(t, "LCP Configure-Nak", ProtoLCP, Packet{Code: CodeConfigureNak, Identifier: 3, Options: []Option{MRUOption(1492), AuthPAP.Option(), MagicNumberOption(0x01020304)}}),
		controlCase(t, "LCP Configure-Reject", ProtoLCP, Packet{Code: CodeConfigureReject, Identifier: 4, Options: []Option{PFCOption(), ACFCOption()}}),
		controlCase(t, "LCP Terminate-Request", ProtoLCP, Packet{Code: CodeTerminateRequest, Identifier: 5, Data: []byte("User request")}),
		controlCase(t, "LCP Terminate-Ack", ProtoLCP, Packet{Code: CodeTerminateAck, Identifier: 5}),
		controlCase(t, "LCP Code-Reject", ProtoLCP, CodeReject(6, mustHex(t, "0c 01 00 06 aa bb"), DefaultMRU)),
		controlCase(t, "LCP Protocol-Reject", ProtoLCP, ProtocolReject(7, ProtoIPv6CP, mustHex(t, "01 01 00 04"), DefaultMRU)),
		controlCase(t, "LCP Echo-Request", ProtoLCP, echo),
		controlCase(t, "LCP Echo-Reply", ProtoLCP, EchoReply(&echo, 0x01020304)),
		controlCase(t, "LCP Discard-Request", ProtoLCP, DiscardRequest(10, 0x0a0b0c0d, nil)),
		papCase(t, "PAP Authenticate-Request", PAPPacket{Code: PAPAuthenticateRequest, Identifier: 1, PeerID: "alice", Password: []byte("secret")}),
		papCase(t, "PAP Authenticate-Ack", PAPPacket{Code: PAPAuthenticateAck, Identifier: 1, Message: "Welcome"}),
		papCase(t, "PAP Authenticate-Nak", PAPPacket{Code: PAPAuthenticateNak, Identifier: 1, Message: "in arrears"}),
		chapCase(t, "CHAP Challenge", CHAPPacket{Code: CHAPChallenge, Identifier: 0x2a, Value: mustHex(t, challengeHex), Name: "bras"}),
		chapCase(t, "CHAP Response", CHAPPacket{Code: CHAPResponse, Identifier: 0x2a, Value: sum[:], Name: "alice"}),
		chapCase(t, "CHAP Success", CHAPPacket{Code: CHAPSuccess, Identifier: 0x2a, Message: "Welcome"}),
		chapCase(t, "CHAP Failure", CHAPPacket{Code: CHAPFailure, Identifier: 0x2a, Message: "in arrears"}),
		controlCase(t, "IPCP Configure-Request", ProtoIPCP, Packet{Code: CodeConfigureRequest, Identifier: 1, Options: IPCPConfig{
			Address: mustAddr("0.0.0.0"), PrimaryDNS: mustAddr("0.0.0.0"), SecondaryDNS: mustAddr("0.0.0.0"),
		}.Options()}),
		controlCase(t, "IPCP Configure-Nak", ProtoIPCP, Packet{Code: CodeConfigureNak, Identifier: 1, Options: IPCPConfig{
			Address: mustAddr("10.0.0.2"), PrimaryDNS: mustAddr("192.0.2.53"), SecondaryDNS: mustAddr("192.0.2.54"),
		}.Options()}),
		controlCase(t, "IPCP Configure-Ack", ProtoIPCP, Packet{Code: CodeConfigureAck, Identifier: 2, Options: IPCPConfig{
			Address: mustAddr("10.0.0.2"), PrimaryDNS: mustAddr("192.0.2.53"), SecondaryDNS: mustAddr("192.0.2.54"),
		}.Options()}),
		controlCase(t, "IPCP Configure-Reject NBNS", ProtoIPCP, Packet{Code: CodeConfigureReject, Identifier: 3, Options: []Option{
			AddrOption(IPCPPrimaryNBNS, mustAddr("0.0.0.0")), AddrOption(IPCPSecondaryNBNS, mustAddr("0.0.0.0")),
		}}),
		controlCase(t, "IPCP Terminate-Request", ProtoIPCP, Packet{Code: CodeTerminateRequest, Identifier: 4}),
	}
	// Every packet two Machines exchanged negotiating LCP and IPCP.
	for _, f := range machineConversationFrames(t) {
		var p Packet
		if err := p.UnmarshalBinary(f.b); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, controlCase(t, fmt.Sprintf("Machine %v %s", f.proto, describe(f.proto, p)), f.proto, p))
	}
	// A control: a malformed option, which the checks must catch.
	control := tsharkCase{name: "control: MRU option of length 1", proto: ProtoLCP, pkt: mustHex(t, "01 01 00 06 01 01")}

	frames := make([][]byte, 0, len(cases)+1)
	for _, c := range cases {
		frames = append(frames, pppoeSessionFrame(0x1234, c.proto, c.pkt))
	}
	frames = append(frames, pppoeSessionFrame(0x1234, control.proto, control.pkt))
	got := runTshark(t, frames)

	if len(got[len(cases)].problems()) == 0 {
		t.Errorf("%s: tshark reported no problem, so the checks below prove nothing", control.name)
	}
	for i, c := range cases {
		d := got[i]
		if p := d.problems(); len(p) > 0 {
			t.Errorf("%s: tshark found problems: %v\nframe % x", c.name, p, frames[i])
		}
		gotFields := map[string][]string{}
		for k := range c.want {
			gotFields[k] = d.fields[k]
		}
		if diff := cmp.Diff(c.want, gotFields); diff != "" {
			t.Errorf("%s: fields (-ours +tshark):\n%s", c.name, diff)
		}
		wantProto := map[Protocol]string{ProtoLCP: "lcp", ProtoPAP: "pap", ProtoCHAP: "chap", ProtoIPCP: "ipcp"}[c.proto]
		if n := len(d.protos); n == 0 || d.protos[n-1] != wantProto {
			t.Errorf("%s: tshark's protocol stack %v, want it to end in %s", c.name, d.protos, wantProto)
		}
		if fmt.Sprint(d.fields["pppoe.payload_length"]) != fmt.Sprintf("[%d]", 2+len(c.pkt)) {
			t.Errorf("%s: PPPoE payload length %v", c.name, d.fields["pppoe.payload_length"])
		}
	}
}

type protoFrame struct {
	proto Protocol
	b     []byte
}

// machineConversationFrames runs the LCP "nak" conversation and an IPCP
// negotiation and returns every packet sent.
func machineConversationFrames(t *testing.T) []protoFrame {
	var out []protoFrame
	record := func(p *pipe) {
		for _, f := range p.sent {
			out = append(out, protoFrame{proto: f.from.m.Protocol(), b: f.b})
		}
	}
	bras := lcpEnd("B", &LCPPolicy{MRU: 1492, MaxPeerMRU: 1492, Auth: []Auth{AuthCHAPMD5, AuthPAP}, Magic: magicSeq(0xb0b0b0b0)})
	cli := lcpEnd("C", &LCPPolicy{MRU: 1500, AcceptAuth: []Auth{AuthPAP}, PFC: true, Magic: magicSeq(0xc0c0c0c0)})
	connect(bras, cli)
	p := newPipe(t, bras, cli)
	p.start()
	p.run()
	wantOpened(t, bras, cli)
	record(p)

	ipB := &end{name: "B", m: NewMachine(Config{Protocol: ProtoIPCP, Policy: &IPCPPolicy{
		Local: mustAddr("10.0.0.1"), Peer: mustAddr("10.0.0.2"), PrimaryDNS: mustAddr("192.0.2.53"), SecondaryDNS: mustAddr("192.0.2.54"),
	}})}
	ipC := &end{name: "C", m: NewMachine(Config{Protocol: ProtoIPCP, Policy: &IPCPPolicy{RequestDNS: true}})}
	connect(ipB, ipC)
	p = newPipe(t, ipB, ipC)
	p.start()
	p.run()
	wantOpened(t, ipB, ipC)
	p.act(ipB, ipB.m.Close(p.now, "bye"))
	p.run()
	record(p)
	return out
}
