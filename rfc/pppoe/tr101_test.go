package pppoe_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/rfc/pppoe"
)

// The TR-101 PPPoE Intermediate Agent's Vendor-Specific tag: vendor id
// 0x00000de9 (3561, Broadband Forum), then sub-options type, length, value:
// Agent-Circuit-Id (1), Agent-Remote-Id (2). Built by hand from TR-101's
// tag layout; tshark decodes it as "Vendor id: 3561", "Circuit ID:
// an1 eth 1/1/7:100", "Remote ID: cpe-7" in TestTsharkDecodesOurFrames. The
// 0x81 sub-option (Actual-Data-Rate-Upstream, 4 octets) is kept raw.
func Test_TR101_PPPoEIntermediateAgent_VendorTag(t *testing.T) {
	value := mustHex(t, `00 00 0d e9
		01 11 61 6e 31 20 65 74 68 20 31 2f 31 2f 37 3a 31 30 30
		02 05 63 70 65 2d 37
		81 04 00 00 03 e8`)
	want := pppoe.TR101{Options: []pppoe.SubOption{
		{Type: pppoe.AgentCircuitID, Value: []byte("an1 eth 1/1/7:100")},
		{Type: pppoe.AgentRemoteID, Value: []byte("cpe-7")},
		{Type: 0x81, Value: []byte{0, 0, 3, 0xe8}},
	}}
	var got pppoe.TR101
	if err := got.UnmarshalBinary(value); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UnmarshalBinary (-want +got):\n%s", diff)
	}
	enc, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, value) {
		t.Errorf("MarshalBinary:\n got % x\nwant % x", enc, value)
	}
	out, err := want.AppendBinary([]byte("prefix"))
	if err != nil || !bytes.Equal(out, append([]byte("prefix"), value...)) {
		t.Errorf("AppendBinary onto a prefix = % x, %v", out, err)
	}
	if c, ok := got.CircuitID(); !ok || c != "an1 eth 1/1/7:100" {
		t.Errorf("CircuitID() = %q, %v", c, ok)
	}
	if r, ok := got.RemoteID(); !ok || r != "cpe-7" {
		t.Errorf("RemoteID() = %q, %v", r, ok)
	}
	tag, err := want.Tag()
	if err != nil || tag.Type != pppoe.TagVendorSpecific || !bytes.Equal(tag.Value, value) {
		t.Errorf("Tag() = %v, %v", tag, err)
	}
	// UnmarshalBinary copies.
	value[10] = 'X'
	if c, _ := got.CircuitID(); c != "an1 eth 1/1/7:100" {
		t.Error("TR101 aliases its input")
	}
}

func TestTR101Errors(t *testing.T) {
	tests := []struct {
		name  string
		value []byte
		want  error
	}{
		{"empty", nil, pppoe.ErrNotTR101},
		{"vendor id cut", []byte{0, 0, 0x0d}, pppoe.ErrNotTR101},
		{"other vendor", []byte{0, 0, 0, 9, 1, 0}, pppoe.ErrNotTR101},
		{"sub-option header cut", []byte{0, 0, 0x0d, 0xe9, 1}, pppoe.ErrSubOption},
		{"sub-option value cut", []byte{0, 0, 0x0d, 0xe9, 1, 3, 'a', 'b'}, pppoe.ErrSubOption},
	}
	for _, tt := range tests {
		var v pppoe.TR101
		if err := v.UnmarshalBinary(tt.value); !errors.Is(err, tt.want) {
			t.Errorf("%s: UnmarshalBinary = %v, want %v", tt.name, err, tt.want)
		}
	}
	var v pppoe.TR101
	if err := v.UnmarshalBinary([]byte{0, 0, 0x0d, 0xe9}); err != nil || len(v.Options) != 0 {
		t.Errorf("vendor id alone: %v, %v", v, err)
	}

	if _, err := pppoe.NewTR101(strings.Repeat("c", 64), ""); !errors.Is(err, pppoe.ErrTooLong) {
		t.Errorf("NewTR101 with a 64-octet circuit id = %v, want ErrTooLong", err)
	}
	long := pppoe.TR101{Options: []pppoe.SubOption{{Type: pppoe.AgentRemoteID, Value: make([]byte, 256)}}}
	if out, err := long.AppendBinary([]byte{1}); !errors.Is(err, pppoe.ErrTooLong) || !bytes.Equal(out, []byte{1}) {
		t.Errorf("256-octet sub-option: AppendBinary = % x, %v", out, err)
	}
	if _, err := long.Tag(); !errors.Is(err, pppoe.ErrTooLong) {
		t.Errorf("256-octet sub-option: Tag() = %v", err)
	}
}

// An intermediate agent replaces the line identification a subscriber
// sent with its own and leaves other vendors' tags alone.
func TestSetTR101(t *testing.T) {
	other := pppoe.Tag{Type: pppoe.TagVendorSpecific, Value: []byte{0, 0, 0, 9, 'x'}}
	forged := pppoe.Tag{Type: pppoe.TagVendorSpecific, Value: mustHex(t, "00 00 0d e9 01 01 66")}
	d := pppoe.Discovery{Dst: broadcast, Src: hostMAC, Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{{Type: pppoe.TagServiceName}, forged, other}}

	if _, ok, err := d.TR101(); !ok || err != nil {
		t.Fatalf("TR101() on the forged tag = %v, %v", ok, err)
	}
	v, err := pppoe.NewTR101("an1 eth 1/1/7:100", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetTR101(v); err != nil {
		t.Fatal(err)
	}
	if n := d.Count(pppoe.TagVendorSpecific); n != 2 {
		t.Errorf("%d Vendor-Specific tags, want 2 (ours and the other vendor's)", n)
	}
	got, ok, err := d.TR101()
	if !ok || err != nil {
		t.Fatalf("TR101() = %v, %v", ok, err)
	}
	if c, _ := got.CircuitID(); c != "an1 eth 1/1/7:100" {
		t.Errorf("CircuitID() = %q", c)
	}
	if _, ok := got.RemoteID(); ok {
		t.Error("RemoteID present though NewTR101 got none")
	}
	if !slices.ContainsFunc(d.Tags, func(t pppoe.Tag) bool { return bytes.Equal(t.Value, other.Value) }) {
		t.Error("the other vendor's tag was removed")
	}

	// Absent and malformed.
	d.RemoveTags(pppoe.TagVendorSpecific)
	if _, ok, err := d.TR101(); ok || err != nil {
		t.Errorf("TR101() without the tag = %v, %v", ok, err)
	}
	d.AddTag(pppoe.Tag{Type: pppoe.TagVendorSpecific, Value: mustHex(t, "00 00 0d e9 01 09")})
	if _, ok, err := d.TR101(); !ok || !errors.Is(err, pppoe.ErrSubOption) {
		t.Errorf("TR101() with a bad tag = %v, %v; want true, ErrSubOption", ok, err)
	}
}
