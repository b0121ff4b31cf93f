package pppoe_test

// tshark as an independent decoder: frames our encoders build are written
// to a pcap, tshark dissects them, and what it reads must be what we meant,
// with no malformed packet and no expert warning or error.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// pdmlField is a proto or field element of tshark's PDML output.
type pdmlField struct {
	Name   string      `xml:"name,attr"`
	Show   string      `xml:"show,attr"`
	Value  string      `xml:"value,attr"`
	Size   string      `xml:"size,attr"`
	Fields []pdmlField `xml:"field"`
}

type pdmlPacket struct {
	Protos []pdmlField `xml:"proto"`
}

// flatten lists f and its descendants in document order.
func (f pdmlField) flatten(out []pdmlField) []pdmlField {
	out = append(out, f)
	for _, c := range f.Fields {
		out = c.flatten(out)
	}
	return out
}

// kv is one field tshark decoded, by name and the attribute compared.
type kv struct{ Name, Val string }

// Fields compared with tshark, and which PDML attribute carries the value
// in the form we can compute: raw hex ("value"), tshark's rendering
// ("show"), or the field's length ("size").
var tsharkFields = map[string]string{
	"pppoe.code":                         "value",
	"pppoe.session_id":                   "value",
	"pppoe.payload_length":               "show",
	"pppoed.tag":                         "value",
	"pppoed.tag_length":                  "show",
	"pppoed.tags.service_name":           "show",
	"pppoed.tags.ac_name":                "show",
	"pppoed.tags.host_uniq":              "value",
	"pppoed.tags.ac_cookie":              "value",
	"pppoed.tags.relay_session_id":       "value",
	"pppoed.tags.max_payload":            "value",
	"pppoed.tags.service_name_error":     "show",
	"pppoed.tags.ac_system_error":        "show",
	"pppoed.tags.generic_error":          "show",
	"pppoed.tags.vendor_id":              "show",
	"pppoed.tags.vendor_unspecified":     "value",
	"pppoed.tags.vendorspecific.tag":     "value",
	"pppoed.tags.circuit_id":             "show",
	"pppoed.tags.remote_id":              "show",
	"pppoed.tags.act_data_rate_up":       "show",
	"pppoed.tag.unknown_data":            "size",
	"ppp.protocol":                       "value",
	"pppoed.tags.vendorspecific.tag_len": "show",
}

// wantDiscovery lists what tshark should read in d, computed from the
// struct, not from our encoder's bytes.
func wantDiscovery(t *testing.T, d *pppoe.Discovery) []kv {
	t.Helper()
	payload := d.Len() - pppoe.FrameHeaderLen
	want := []kv{
		{"pppoe.code", fmt.Sprintf("%02x", uint8(d.Code))},
		{"pppoe.session_id", fmt.Sprintf("%04x", d.SessionID)},
		{"pppoe.payload_length", strconv.Itoa(payload)},
	}
	for _, tag := range d.Tags {
		want = append(want,
			kv{"pppoed.tag", fmt.Sprintf("%04x", uint16(tag.Type))},
			kv{"pppoed.tag_length", strconv.Itoa(len(tag.Value))})
		if len(tag.Value) == 0 {
			continue // tshark shows no value field for an empty tag
		}
		s, x := string(tag.Value), hex.EncodeToString(tag.Value)
		switch tag.Type {
		case pppoe.TagServiceName:
			want = append(want, kv{"pppoed.tags.service_name", s})
		case pppoe.TagACName:
			want = append(want, kv{"pppoed.tags.ac_name", s})
		case pppoe.TagHostUniq:
			want = append(want, kv{"pppoed.tags.host_uniq", x})
		case pppoe.TagACCookie:
			want = append(want, kv{"pppoed.tags.ac_cookie", x})
		case pppoe.TagRelaySessionID:
			want = append(want, kv{"pppoed.tags.relay_session_id", x})
		case pppoe.TagPPPMaxPayload:
			want = append(want, kv{"pppoed.tags.max_payload", x})
		case pppoe.TagServiceNameError:
			want = append(want, kv{"pppoed.tags.service_name_error", s})
		case pppoe.TagACSystemError:
			want = append(want, kv{"pppoed.tags.ac_system_error", s})
		case pppoe.TagGenericError:
			want = append(want, kv{"pppoed.tags.generic_error", s})
		case pppoe.TagVendorSpecific:
			id, _ := tag.VendorID()
			want = append(want, kv{"pppoed.tags.vendor_id", strconv.Itoa(int(id))})
			if id != pppoe.EnterpriseBBF {
				want = append(want, kv{"pppoed.tags.vendor_unspecified", hex.EncodeToString(tag.Value[4:])})
				continue
			}
			var v pppoe.TR101
			if err := v.UnmarshalBinary(tag.Value); err != nil {
				t.Fatal(err)
			}
			for _, o := range v.Options {
				want = append(want, kv{"pppoed.tags.vendorspecific.tag", fmt.Sprintf("%02x", uint8(o.Type))})
				switch o.Type {
				case pppoe.AgentCircuitID:
					want = append(want, kv{"pppoed.tags.circuit_id", string(o.Value)})
				case pppoe.AgentRemoteID:
					want = append(want, kv{"pppoed.tags.remote_id", string(o.Value)})
				case 0x81:
					n := uint32(o.Value[0])<<24 | uint32(o.Value[1])<<16 | uint32(o.Value[2])<<8 | uint32(o.Value[3])
					want = append(want, kv{"pppoed.tags.act_data_rate_up", strconv.Itoa(int(n))})
				}
			}
		default:
			// Only the length: tshark 4.0 shows an unknown tag's data from
			// the TAG_LENGTH field on (two octets early), though it walks
			// the tags correctly. Our bytes are checked by the vectors.
			want = append(want, kv{"pppoed.tag.unknown_data", strconv.Itoa(len(tag.Value))})
		}
	}
	return want
}

// tsharkFrames are the frames we ask tshark about: every discovery code,
// every tag type including TR-101, Relay-Session-Id and PPP-Max-Payload,
// and a session frame.
func tsharkFrames(t *testing.T) []any {
	t.Helper()
	tr101, err := pppoe.NewTR101("an1 eth 1/1/7:100", "cpe-7")
	if err != nil {
		t.Fatal(err)
	}
	// A rate sub-option (0x81, Actual-Data-Rate-Upstream in kbit/s) kept raw.
	tr101.Options = append(tr101.Options, pppoe.SubOption{Type: 0x81, Value: []byte{0, 0, 0x03, 0xe8}})
	bbf, err := tr101.Tag()
	if err != nil {
		t.Fatal(err)
	}
	relay := pppoe.Tag{Type: pppoe.TagRelaySessionID, Value: []byte("gw1:00000042")}
	hu := pppoe.Tag{Type: pppoe.TagHostUniq, Value: []byte{0xde, 0xad, 0xbe, 0xef}}
	cookie := pppoe.Tag{Type: pppoe.TagACCookie, Value: bytes.Repeat([]byte{0x5a}, 20)}
	svc := pppoe.NewStringTag(pppoe.TagServiceName, "internet")
	mtu := pppoe.NewPPPMaxPayloadTag(1500)

	return []any{
		&pppoe.Discovery{Dst: broadcast, Src: hostMAC, Code: pppoe.CodePADI,
			Tags: []pppoe.Tag{svc, hu, mtu, bbf, relay}},
		&pppoe.Discovery{Dst: hostMAC, Src: acMAC, Code: pppoe.CodePADO,
			Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagACName, "edgebill-nas"), svc,
				pppoe.NewStringTag(pppoe.TagServiceName, "video"), {Type: pppoe.TagServiceName},
				cookie, hu, mtu, relay,
				{Type: pppoe.TagVendorSpecific, Value: []byte{0, 0, 0x7e, 0xd9, 1, 2, 3}}}},
		&pppoe.Discovery{Dst: acMAC, Src: hostMAC, Code: pppoe.CodePADR,
			Tags: []pppoe.Tag{svc, hu, cookie, mtu, bbf, relay}},
		&pppoe.Discovery{Dst: hostMAC, Src: acMAC, Code: pppoe.CodePADS, SessionID: 0x1234,
			Tags: []pppoe.Tag{svc, hu, mtu, relay}},
		&pppoe.Discovery{Dst: hostMAC, Src: acMAC, Code: pppoe.CodePADS,
			Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceNameError, "no such service"),
				pppoe.NewStringTag(pppoe.TagACSystemError, "out of sessions"), hu, relay,
				{Type: 0x0abc, Value: []byte{1, 2, 3}}, {Type: pppoe.TagEndOfList}}},
		pppoe.NewPADT(hostMAC, acMAC, 0x1234, "in arrears"),
		&pppoe.Session{Dst: acMAC, Src: hostMAC, SessionID: 0x1234,
			Payload: mustHex(t, "c0 21 01 01 00 0e 01 04 05 d4 05 06 01 02 03 04")},
	}
}

func TestTsharkDecodesOurFrames(t *testing.T) {
	tshark := testenv.Binary(t, "tshark")

	objs := tsharkFrames(t)
	var frames [][]byte
	var want [][]kv
	for _, o := range objs {
		var b []byte
		var err error
		switch o := o.(type) {
		case *pppoe.Discovery:
			b, err = o.MarshalBinary()
			want = append(want, wantDiscovery(t, o))
		case *pppoe.Session:
			b, err = o.MarshalBinary()
			want = append(want, []kv{
				{"pppoe.code", "00"},
				{"pppoe.session_id", fmt.Sprintf("%04x", o.SessionID)},
				{"pppoe.payload_length", strconv.Itoa(len(o.Payload))},
				{"ppp.protocol", hex.EncodeToString(o.Payload[:2])},
			})
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, b)
	}
	path := filepath.Join(t.TempDir(), "ours.pcap")
	writePcap(t, path, frames)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tshark, "-n", "-r", path, "-T", "pdml",
		"-o", "pppoed.show_tags_and_lengths:TRUE")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}

	packets, err := decodePDML(stdout.Bytes())
	if err != nil {
		t.Fatalf("PDML: %v", err)
	}
	if len(packets) != len(frames) {
		t.Fatalf("tshark read %d packets, we wrote %d", len(packets), len(frames))
	}
	for i, p := range packets {
		var all []pdmlField
		for _, proto := range p.Protos {
			all = proto.flatten(all)
		}
		var got []kv
		for _, f := range all {
			switch {
			case f.Name == "_ws.malformed":
				t.Errorf("frame %d (%T): tshark says malformed: %s\n% x", i+1, objs[i], f.Show, frames[i])
			case f.Name == "_ws.expert":
				for _, c := range f.flatten(nil) {
					// Severity: 0x00400000 note, 0x00600000 warn, 0x00800000 error.
					if c.Name == "_ws.expert.severity" {
						if sev, _ := strconv.Atoi(c.Show); sev >= 0x00600000 {
							t.Errorf("frame %d (%T): tshark expert info (severity %#x): %+v", i+1, objs[i], sev, f)
						}
					}
				}
			}
			if attr, ok := tsharkFields[f.Name]; ok {
				v := f.Value
				switch attr {
				case "show":
					v = f.Show
				case "size":
					v = f.Size
				}
				got = append(got, kv{f.Name, v})
			}
		}
		if diff := cmp.Diff(want[i], got); diff != "" {
			t.Errorf("frame %d (%T): tshark fields (-ours +tshark):\n%s", i+1, objs[i], diff)
		}
	}
}

func decodePDML(b []byte) ([]pdmlPacket, error) {
	var doc struct {
		Packets []pdmlPacket `xml:"packet"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return doc.Packets, nil
}
