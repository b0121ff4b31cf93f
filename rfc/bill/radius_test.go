package bill

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
)

var secret = []byte("testing123")

// packetOf puts b in a new Accounting-Request the way the gateway sends
// it, with Acct-Delay-Time and NAS-IP-Address beside the bill.
func packetOf(t testing.TB, b *Bill) *radius.Packet {
	t.Helper()
	p := radius.New(radius.CodeAccountingRequest, secret)
	if err := rfc2865.NASIPAddress_Add(p, net.IPv4(192, 0, 2, 1)); err != nil {
		t.Fatal(err)
	}
	if err := ToPacket(b, p); err != nil {
		t.Fatal(err)
	}
	if err := rfc2866.AcctDelayTime_Add(p, 3); err != nil {
		t.Fatal(err)
	}
	return p
}

// wire encodes p as radiusx does, checks the request, and parses it back.
func wire(t testing.TB, p *radius.Packet) (*radius.Packet, int) {
	t.Helper()
	raw, err := radiusx.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := radiusx.VerifyRequest(raw, secret); err != nil {
		t.Fatal(err)
	}
	q, err := radius.Parse(raw, secret)
	if err != nil {
		t.Fatal(err)
	}
	return q, len(raw)
}

// TestRADIUSRoundTrip sends bills through the wire with their attributes
// shuffled (fixed seed) and checks the same signed bill comes out.
func TestRADIUSRoundTrip(t *testing.T) {
	pub, priv := testKey()
	noIP := sampleBill()
	noIP.FramedIP = netip.Addr{}
	first := sampleBill()
	first.Sequence, first.PrevHash = 1, [HashSize]byte{}
	r := rand.New(rand.NewPCG(2866, 2869))
	for _, tc := range []struct {
		name string
		b    *Bill
	}{
		{"sample", sampleBill()},
		{"no framed IP", noIP},
		{"first bill", first},
		{"longest", longestBill()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.b.Sign(priv); err != nil {
				t.Fatal(err)
			}
			q, size := wire(t, packetOf(t, tc.b))
			if size > 2048 {
				t.Errorf("packet of %d octets: not within half the RADIUS limit", size)
			}
			for i := range 50 {
				r.Shuffle(len(q.Attributes), func(i, j int) {
					q.Attributes[i], q.Attributes[j] = q.Attributes[j], q.Attributes[i]
				})
				got, err := FromPacket(q)
				if err != nil {
					t.Fatalf("shuffle %d: %v", i, err)
				}
				if err := got.Verify(pub); err != nil {
					t.Fatalf("shuffle %d: %v", i, err)
				}
				if diff := cmp.Diff(tc.b, got, cmpBill); diff != "" {
					t.Fatalf("shuffle %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

// TestRADIUSWorstCase checks the largest bill, with what a gateway and a
// proxy add around it, fits the 4096-octet limit of RFC 2865 §3 with room
// to spare.
func TestRADIUSWorstCase(t *testing.T) {
	b := longestBill()
	_, priv := testKey()
	if err := b.Sign(priv); err != nil {
		t.Fatal(err)
	}
	p := packetOf(t, b)
	// A proxy adds Proxy-State; FreeRADIUS may add Acct-Unique-Session-Id
	// sized things. Leave room for several.
	for range 4 {
		p.Add(33, radius.Attribute(strings.Repeat("p", 253)))
	}
	_, size := wire(t, p)
	t.Logf("worst case with 4 full Proxy-States: %d octets", size)
	if size > radius.MaxPacketLength-1024 {
		t.Errorf("worst case of %d octets leaves under 1 KiB of the %d", size, radius.MaxPacketLength)
	}
}

// TestFromPacketIgnores adds what is not part of the bill: it changes
// nothing.
func TestFromPacketIgnores(t *testing.T) {
	pub, _ := testKey()
	want := signedSample(t)
	p := packetOf(t, want)
	p.Add(33, radius.Attribute("proxy state"))                        // Proxy-State
	p.Add(radiusx.MessageAuthenticatorType, make([]byte, 16))         // Message-Authenticator
	other, _ := radius.NewVendorSpecific(9, []byte{1, 6, 1, 2, 3, 4}) // Cisco
	p.Add(rfc2865.VendorSpecific_Type, other)
	if err := ebattr.EdgeBillRunningCharge_Add(p, 99); err != nil {
		t.Fatal(err)
	}
	if err := ebattr.EdgeBillTariff_AddString(p, "t=1"); err != nil {
		t.Fatal(err)
	}
	if err := rfc2865.ServiceType_Add(p, rfc2865.ServiceType_Value_FramedUser); err != nil {
		t.Fatal(err)
	}
	got, err := FromPacket(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(pub); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpBill); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestFromPacketOptional checks the attributes FromPacket can do without
// or that must agree when present.
func TestFromPacketOptional(t *testing.T) {
	pub, _ := testKey()
	want := signedSample(t)

	// EdgeBill-Stop-Time stands in for Event-Timestamp, or agrees with it.
	p := packetOf(t, want)
	if err := ebattr.EdgeBillStopTime_Add(p, want.Stop); err != nil {
		t.Fatal(err)
	}
	if _, err := FromPacket(p); err != nil {
		t.Errorf("Stop-Time beside Event-Timestamp: %v", err)
	}
	rfc2869.EventTimestamp_Del(p)
	got, err := FromPacket(p)
	if err != nil {
		t.Fatalf("Stop-Time alone: %v", err)
	}
	if err := got.Verify(pub); err != nil {
		t.Errorf("Stop-Time alone: %v", err)
	}

	// NAS-Identifier is checked but not needed.
	p = packetOf(t, want)
	rfc2865.NASIdentifier_Del(p)
	if _, err := FromPacket(p); err != nil {
		t.Errorf("without NAS-Identifier: %v", err)
	}

	// Several edgebill sub-attributes in one Vendor-Specific
	// (RFC 2865 §5.26 allows it).
	p = packetOf(t, want)
	var joined []byte
	p.Attributes = slices.DeleteFunc(p.Attributes, func(a *radius.AVP) bool {
		if a.Type != rfc2865.VendorSpecific_Type || binary.BigEndian.Uint32(a.Attribute) != VendorID {
			return false
		}
		if t := a.Attribute[4]; t == vaSequence || t == vaCharge || t == vaPrevHash {
			joined = append(joined, a.Attribute[4:]...)
			return true
		}
		return false
	})
	vsa, err := radius.NewVendorSpecific(VendorID, joined)
	if err != nil {
		t.Fatal(err)
	}
	p.Add(rfc2865.VendorSpecific_Type, vsa)
	if got, err := FromPacket(p); err != nil || got.Verify(pub) != nil {
		t.Errorf("joined Vendor-Specific: %v", err)
	}
}

// TestFromPacketErrors removes, repeats and alters attributes.
func TestFromPacketErrors(t *testing.T) {
	b := signedSample(t)
	base := packetOf(t, b)

	// Every bill attribute is required but Framed-IP-Address and
	// NAS-Identifier; each is refused when repeated.
	for i, a := range base.Attributes {
		f, ok := classify(a)
		if !ok {
			continue
		}
		p := clonePacket(base)
		p.Attributes = slices.Delete(p.Attributes, i, i+1)
		_, err := FromPacket(p)
		switch f {
		case fFramedIP, fNASIdentifier:
			if err != nil {
				t.Errorf("without %s: %v", fieldName[f], err)
			}
		default:
			if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), fieldName[f]) {
				t.Errorf("without %s: %v, want ErrMissing naming it", fieldName[f], err)
			}
		}
		p = clonePacket(base)
		p.Attributes = append(p.Attributes, &radius.AVP{Type: a.Type, Attribute: a.Attribute})
		if _, err := FromPacket(p); !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), fieldName[f]) {
			t.Errorf("%s twice: %v, want ErrDuplicate naming it", fieldName[f], err)
		}
	}

	set := func(typ radius.Type, v []byte) func(p *radius.Packet) {
		return func(p *radius.Packet) { p.Attributes.Set(typ, v) }
	}
	vendor := func(vt byte, v []byte) func(p *radius.Packet) {
		return func(p *radius.Packet) {
			for _, a := range p.Attributes {
				if a.Type == rfc2865.VendorSpecific_Type && a.Attribute[4] == vt {
					a.Attribute = append(append(a.Attribute[:4:4], vt, byte(2+len(v))), v...)
				}
			}
		}
	}
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	tests := []struct {
		name string
		mod  func(p *radius.Packet)
		want error // nil: FromPacket succeeds, Verify fails
	}{
		{"Access-Request", func(p *radius.Packet) { p.Code = radius.CodeAccessRequest }, ErrPacket},
		{"Interim-Update", set(rfc2866.AcctStatusType_Type, u32(3)), ErrPacket},
		{"status of 2 octets", set(rfc2866.AcctStatusType_Type, []byte{0, 2}), ErrAttribute},
		{"NAS-Identifier differs", set(rfc2865.NASIdentifier_Type, []byte("gw-0002")), ErrMismatch},
		{"Acct-Session-Time differs", set(rfc2866.AcctSessionTime_Type, u32(3724)), ErrMismatch},
		{"Stop-Time differs", func(p *radius.Packet) {
			ebattr.EdgeBillStopTime_Add(p, b.Stop.Add(time.Second))
		}, ErrMismatch},
		{"format 2", vendor(vaBillFormat, u32(2)), ErrFormat},
		{"format of 1 octet", vendor(vaBillFormat, []byte{1}), ErrAttribute},
		{"Calling-Station-Id not a MAC", set(rfc2865.CallingStationID_Type, []byte("02005e100001")), ErrAttribute},
		{"BRAS MAC with a bad digit", vendor(vaBRASMAC, []byte("02-00-5E-00-00-FG")), ErrAttribute},
		{"bill id of 15", vendor(vaBillID, make([]byte, 15)), ErrAttribute},
		{"prev hash of 31", vendor(vaPrevHash, make([]byte, 31)), ErrAttribute},
		{"signature of 63", vendor(vaSignature, make([]byte, 63)), ErrAttribute},
		{"signature zero", vendor(vaSignature, make([]byte, 64)), ErrUnsigned},
		{"framed IP of 16", set(rfc2865.FramedIPAddress_Type, make([]byte, 16)), ErrAttribute},
		{"PPPoE session id over 16 bits", vendor(vaPPPoESessionID, u32(65536)), ErrAttribute},
		{"charge over 2^63", vendor(vaCharge, u64(1<<63)), ErrAttribute},
		{"charge of 4 octets", vendor(vaCharge, u32(1)), ErrAttribute},
		{"scale 19", vendor(vaCurrencyScale, u32(19)), ErrAttribute},
		{"session ms overflows", vendor(vaSessionTimeMs, u64(1<<62)), ErrAttribute},
		{"vendor sub-attribute overruns", func(p *radius.Packet) {
			p.Add(rfc2865.VendorSpecific_Type, radius.Attribute{0, 0, 0x7e, 0xd9, 40, 9, 0})
		}, ErrAttribute},
		{"stop before start", func(p *radius.Packet) {
			p.Attributes.Set(rfc2869.EventTimestamp_Type, u32(uint32(b.Start.Unix()-1)))
		}, ErrStopBeforeStart},
		{"empty user name", set(rfc2865.UserName_Type, nil), ErrField},
		// Valid but altered: only the signature catches these.
		{"user name altered", set(rfc2865.UserName_Type, []byte("mallory")), nil},
		{"charge altered", vendor(vaCharge, u64(1)), nil},
		{"octets altered", set(rfc2866.AcctInputOctets_Type, u32(1)), nil},
		{"gigawords altered", set(rfc2869.AcctOutputGigawords_Type, u32(0)), nil},
		{"calling station altered", set(rfc2865.CallingStationID_Type, []byte("02-00-5E-10-00-02")), nil},
		{"framed IP removed", func(p *radius.Packet) { rfc2865.FramedIPAddress_Del(p) }, nil},
		{"sequence altered", vendor(vaSequence, u64(43)), nil},
	}
	pub, _ := testKey()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := clonePacket(base)
			tt.mod(p)
			got, err := FromPacket(p)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("FromPacket = %v, want %v", err, tt.want)
				}
				if !strings.HasPrefix(err.Error(), "bill: ") {
					t.Errorf("message %q lacks the package prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromPacket = %v", err)
			}
			if err := got.Verify(pub); !errors.Is(err, ErrSignature) {
				t.Fatalf("Verify = %v, want ErrSignature", err)
			}
		})
	}
}

func TestToPacketErrors(t *testing.T) {
	b := signedSample(t)
	p := radius.New(radius.CodeAccessRequest, secret)
	if err := ToPacket(b, p); !errors.Is(err, ErrPacket) {
		t.Errorf("Access-Request: %v", err)
	}
	p = radius.New(radius.CodeAccountingRequest, secret)
	rfc2865.UserName_SetString(p, "bob")
	if err := ToPacket(b, p); !errors.Is(err, ErrDuplicate) || !strings.Contains(err.Error(), "User-Name") {
		t.Errorf("packet with a User-Name: %v", err)
	}
	p = radius.New(radius.CodeAccountingRequest, secret)
	u := sampleBill()
	if err := ToPacket(u, p); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
	u.Currency = "cny"
	if err := ToPacket(u, p); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid: %v", err)
	}
	if len(p.Attributes) != 0 {
		t.Errorf("failed ToPacket left %d attributes", len(p.Attributes))
	}
}

// TestDictionary holds the vendor id and attribute numbers to the
// generated rfc/radiusx/ebattr and the standard ones to layeh's: each
// value ToPacket writes reads back through them.
func TestDictionary(t *testing.T) {
	b := signedSample(t)
	p := packetOf(t, b)
	in, out := radiusx.GetOctets64(p)
	got := map[string]any{
		"User-Name":         rfc2865.UserName_GetString(p),
		"Acct-Session-Id":   rfc2866.AcctSessionID_GetString(p),
		"NAS-Identifier":    rfc2865.NASIdentifier_GetString(p),
		"Calling-Station":   rfc2865.CallingStationID_GetString(p),
		"Framed-IP":         rfc2865.FramedIPAddress_Get(p).String(),
		"Acct-Session-Time": uint32(rfc2866.AcctSessionTime_Get(p)),
		"Octets":            [2]uint64{in, out},
		"Packets":           [2]uint32{uint32(rfc2866.AcctInputPackets_Get(p)), uint32(rfc2866.AcctOutputPackets_Get(p))},
		"Terminate-Cause":   rfc2866.AcctTerminateCause_Get(p),
		"Event-Timestamp":   rfc2869.EventTimestamp_Get(p).Unix(),
		"Status":            rfc2866.AcctStatusType_Get(p),
		"Format":            uint32(ebattr.EdgeBillBillFormat_Get(p)),
		"Gateway-Id":        ebattr.EdgeBillGatewayID_GetString(p),
		"Bill-Id":           string(ebattr.EdgeBillBillID_Get(p)),
		"PPPoE-Session-Id":  uint32(ebattr.EdgeBillPPPoESessionID_Get(p)),
		"BRAS-MAC":          ebattr.EdgeBillBRASMAC_GetString(p),
		"Start-Time":        ebattr.EdgeBillStartTime_Get(p).Unix(),
		"Tariff-Id":         ebattr.EdgeBillTariffID_GetString(p),
		"Tariff-Version":    uint32(ebattr.EdgeBillTariffVersion_Get(p)),
		"Charge":            uint64(ebattr.EdgeBillCharge_Get(p)),
		"Currency":          ebattr.EdgeBillCurrency_GetString(p),
		"Currency-Scale":    uint32(ebattr.EdgeBillCurrencyScale_Get(p)),
		"Sequence":          uint64(ebattr.EdgeBillSequence_Get(p)),
		"Prev-Hash":         string(ebattr.EdgeBillPrevHash_Get(p)),
		"Signature":         string(ebattr.EdgeBillSignature_Get(p)),
		"Session-Time-Ms":   uint64(ebattr.EdgeBillSessionTimeMs_Get(p)),
		"Packets-Gigawords": [2]uint32{uint32(ebattr.EdgeBillInputPacketsGigawords_Get(p)), uint32(ebattr.EdgeBillOutputPacketsGigawords_Get(p))},
	}
	want := map[string]any{
		"User-Name":         b.UserName,
		"Acct-Session-Id":   b.SessionID,
		"NAS-Identifier":    b.GatewayID,
		"Calling-Station":   "02-00-5E-10-00-01",
		"Framed-IP":         b.FramedIP.String(),
		"Acct-Session-Time": uint32(3723),
		"Octets":            [2]uint64{b.InputOctets, b.OutputOctets},
		"Packets":           [2]uint32{uint32(b.InputPackets), uint32(b.OutputPackets)},
		"Terminate-Cause":   b.TerminateCause,
		"Event-Timestamp":   b.Stop.Unix(),
		"Status":            rfc2866.AcctStatusType_Value_Stop,
		"Format":            uint32(FormatVersion),
		"Gateway-Id":        b.GatewayID,
		"Bill-Id":           string(b.ID[:]),
		"PPPoE-Session-Id":  uint32(b.PPPoESessionID),
		"BRAS-MAC":          "02-00-5E-00-00-FE",
		"Start-Time":        b.Start.Unix(),
		"Tariff-Id":         b.TariffID,
		"Tariff-Version":    b.TariffVersion,
		"Charge":            uint64(b.Charge),
		"Currency":          b.Currency,
		"Currency-Scale":    uint32(b.Scale),
		"Sequence":          b.Sequence,
		"Prev-Hash":         string(b.PrevHash[:]),
		"Signature":         string(b.Signature[:]),
		"Session-Time-Ms":   uint64(3723450),
		"Packets-Gigawords": [2]uint32{0, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// And the other way: attributes ebattr writes are read here.
	q := radius.New(radius.CodeAccountingRequest, secret)
	ebattr.EdgeBillInputPacketsGigawords_Add(q, 7)
	ebattr.EdgeBillOutputPacketsGigawords_Add(q, 9)
	var fs fields
	if err := fs.collect(q.Attributes); err != nil {
		t.Fatal(err)
	}
	if fs.seen != 1<<fInPacketsGigawords|1<<fOutPacketsGigawords {
		t.Errorf("ebattr's packet gigawords read as fields %b", fs.seen)
	}
}

func TestMAC(t *testing.T) {
	want := net.HardwareAddr{0x00, 0x10, 0xa4, 0x23, 0x19, 0xc0}
	for _, s := range []string{"00-10-A4-23-19-C0", "00-10-a4-23-19-c0", "00:10:A4:23:19:C0"} {
		got := make(net.HardwareAddr, 6)
		if !parseMAC(got, []byte(s)) || !slices.Equal(got, want) {
			t.Errorf("parseMAC(%q) = %v", s, got)
		}
	}
	for _, s := range []string{"", "00-10-A4-23-19", "00-10-A4-23-19-C0-", "00-10:A4-23-19-C0", "0010.A423.19C0x", "00-10-A4-23-19-CG", "00 10 A4 23 19 C0"} {
		if parseMAC(make(net.HardwareAddr, 6), []byte(s)) {
			t.Errorf("parseMAC(%q) accepted", s)
		}
	}
}

func TestFromPacketAllocs(t *testing.T) {
	q, _ := wire(t, packetOf(t, signedSample(t)))
	// The Bill, five strings and the two MACs.
	if got := testing.AllocsPerRun(100, func() { FromPacket(q) }); got > 7 {
		t.Errorf("FromPacket allocates %v times", got)
	}
}

// classify names the bill field an attribute carries, if any.
func classify(a *radius.AVP) (field, bool) {
	var fs fields
	if err := fs.collect(radius.Attributes{a}); err != nil || fs.seen == 0 {
		return 0, false
	}
	for f := range numFields {
		if fs.has(f) {
			return f, true
		}
	}
	return 0, false
}

// clonePacket copies p deeply enough that changing its attributes leaves
// p alone.
func clonePacket(p *radius.Packet) *radius.Packet {
	q := *p
	q.Attributes = nil
	for _, a := range p.Attributes {
		q.Attributes = append(q.Attributes, &radius.AVP{Type: a.Type, Attribute: slices.Clone(a.Attribute)})
	}
	return &q
}
