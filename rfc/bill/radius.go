package bill

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"slices"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/rfc/radiusx"
)

// VendorID is the edgebill vendor id of dictionary.edgebill (RFC 5612's
// example enterprise number until one is registered). A test holds it to
// the generated rfc/radiusx/ebattr.
const VendorID = 32473

// Vendor attribute types of the bill in dictionary.edgebill.
const (
	vaBillFormat             = 10
	vaGatewayID              = 11
	vaBillID                 = 12
	vaPPPoESessionID         = 13
	vaBRASMAC                = 14
	vaStartTime              = 15
	vaTariffID               = 16
	vaTariffVersion          = 17
	vaCharge                 = 18
	vaCurrency               = 19
	vaCurrencyScale          = 20
	vaSequence               = 21
	vaPrevHash               = 22
	vaSignature              = 23
	vaStopTime               = 24
	vaSessionTimeMs          = 25
	vaInputPacketsGigawords  = 26
	vaOutputPacketsGigawords = 27
)

// Errors of the RADIUS mapping. Each error names the attribute.
var (
	ErrPacket    = errors.New("bill: not an Accounting-Request Stop")
	ErrMissing   = errors.New("bill: attribute missing")
	ErrDuplicate = errors.New("bill: attribute repeated")
	ErrAttribute = errors.New("bill: malformed attribute")
	ErrMismatch  = errors.New("bill: attributes disagree")
)

// field is a bill attribute of the packet, standard or vendor.
type field uint8

const (
	fStatusType field = iota
	fUserName
	fSessionID
	fNASIdentifier
	fCallingStation
	fFramedIP
	fSessionTime
	fInOctets
	fInGigawords
	fOutOctets
	fOutGigawords
	fInPackets
	fOutPackets
	fTerminateCause
	fEventTimestamp
	fBillFormat
	fGatewayID
	fBillID
	fPPPoESessionID
	fBRASMAC
	fStartTime
	fTariffID
	fTariffVersion
	fCharge
	fCurrency
	fCurrencyScale
	fSequence
	fPrevHash
	fSignature
	fStopTime
	fSessionTimeMs
	fInPacketsGigawords
	fOutPacketsGigawords
	numFields
)

// required are the fields FromPacket needs: all ToPacket writes but
// Framed-IP-Address (absent when no address was assigned), NAS-Identifier
// (checked when present) and Event-Timestamp, which EdgeBill-Stop-Time can
// stand in for.
const required uint64 = (1<<numFields - 1) &^
	(1<<fNASIdentifier | 1<<fFramedIP | 1<<fEventTimestamp | 1<<fStopTime)

// fieldName is the dictionary name of each field and its type number.
var fieldName = [numFields]string{
	fStatusType:          "Acct-Status-Type (40)",
	fUserName:            "User-Name (1)",
	fSessionID:           "Acct-Session-Id (44)",
	fNASIdentifier:       "NAS-Identifier (32)",
	fCallingStation:      "Calling-Station-Id (31)",
	fFramedIP:            "Framed-IP-Address (8)",
	fSessionTime:         "Acct-Session-Time (46)",
	fInOctets:            "Acct-Input-Octets (42)",
	fInGigawords:         "Acct-Input-Gigawords (52)",
	fOutOctets:           "Acct-Output-Octets (43)",
	fOutGigawords:        "Acct-Output-Gigawords (53)",
	fInPackets:           "Acct-Input-Packets (47)",
	fOutPackets:          "Acct-Output-Packets (48)",
	fTerminateCause:      "Acct-Terminate-Cause (49)",
	fEventTimestamp:      "Event-Timestamp (55)",
	fBillFormat:          "EdgeBill-Bill-Format (26.32473.10)",
	fGatewayID:           "EdgeBill-Gateway-Id (26.32473.11)",
	fBillID:              "EdgeBill-Bill-Id (26.32473.12)",
	fPPPoESessionID:      "EdgeBill-PPPoE-Session-Id (26.32473.13)",
	fBRASMAC:             "EdgeBill-BRAS-MAC (26.32473.14)",
	fStartTime:           "EdgeBill-Start-Time (26.32473.15)",
	fTariffID:            "EdgeBill-Tariff-Id (26.32473.16)",
	fTariffVersion:       "EdgeBill-Tariff-Version (26.32473.17)",
	fCharge:              "EdgeBill-Charge (26.32473.18)",
	fCurrency:            "EdgeBill-Currency (26.32473.19)",
	fCurrencyScale:       "EdgeBill-Currency-Scale (26.32473.20)",
	fSequence:            "EdgeBill-Sequence (26.32473.21)",
	fPrevHash:            "EdgeBill-Prev-Hash (26.32473.22)",
	fSignature:           "EdgeBill-Signature (26.32473.23)",
	fStopTime:            "EdgeBill-Stop-Time (26.32473.24)",
	fSessionTimeMs:       "EdgeBill-Session-Time-Ms (26.32473.25)",
	fInPacketsGigawords:  "EdgeBill-Input-Packets-Gigawords (26.32473.26)",
	fOutPacketsGigawords: "EdgeBill-Output-Packets-Gigawords (26.32473.27)",
}

// standardField maps a standard attribute type to its field.
func standardField(t radius.Type) (field, bool) {
	switch t {
	case rfc2866.AcctStatusType_Type:
		return fStatusType, true
	case rfc2865.UserName_Type:
		return fUserName, true
	case rfc2866.AcctSessionID_Type:
		return fSessionID, true
	case rfc2865.NASIdentifier_Type:
		return fNASIdentifier, true
	case rfc2865.CallingStationID_Type:
		return fCallingStation, true
	case rfc2865.FramedIPAddress_Type:
		return fFramedIP, true
	case rfc2866.AcctSessionTime_Type:
		return fSessionTime, true
	case rfc2866.AcctInputOctets_Type:
		return fInOctets, true
	case rfc2869.AcctInputGigawords_Type:
		return fInGigawords, true
	case rfc2866.AcctOutputOctets_Type:
		return fOutOctets, true
	case rfc2869.AcctOutputGigawords_Type:
		return fOutGigawords, true
	case rfc2866.AcctInputPackets_Type:
		return fInPackets, true
	case rfc2866.AcctOutputPackets_Type:
		return fOutPackets, true
	case rfc2866.AcctTerminateCause_Type:
		return fTerminateCause, true
	case rfc2869.EventTimestamp_Type:
		return fEventTimestamp, true
	}
	return 0, false
}

// vendorField maps an edgebill vendor type to its field.
func vendorField(t byte) (field, bool) {
	if t < vaBillFormat || t > vaOutputPacketsGigawords {
		return 0, false // not part of the bill: tariff, credit, progress
	}
	return fBillFormat + field(t-vaBillFormat), true
}

// fields collects the bill attributes of a packet, one value per field.
type fields struct {
	val  [numFields][]byte // aliases the packet
	seen uint64
}

func (fs *fields) has(f field) bool { return fs.seen&(1<<f) != 0 }

// collect walks the packet's attributes once, in whatever order they come,
// and keeps the value of each bill attribute; the others are skipped.
func (fs *fields) collect(attrs radius.Attributes) error {
	for _, avp := range attrs {
		if avp.Type == rfc2865.VendorSpecific_Type {
			if err := fs.collectVendor(avp.Attribute); err != nil {
				return err
			}
			continue
		}
		if f, ok := standardField(avp.Type); ok {
			if err := fs.put(f, avp.Attribute); err != nil {
				return err
			}
		}
	}
	return nil
}

// collectVendor reads a Vendor-Specific attribute (RFC 2865 §5.26); one
// of the edgebill vendor may hold several sub-attributes.
func (fs *fields) collectVendor(a []byte) error {
	if len(a) < 4 || binary.BigEndian.Uint32(a) != VendorID {
		return nil // another vendor's
	}
	for v := a[4:]; len(v) > 0; {
		if len(v) < 2 || v[1] < 2 || int(v[1]) > len(v) {
			return fmt.Errorf("%w: edgebill Vendor-Specific overruns its attribute", ErrAttribute)
		}
		if f, ok := vendorField(v[0]); ok {
			if err := fs.put(f, v[2:v[1]]); err != nil {
				return err
			}
		}
		v = v[v[1]:]
	}
	return nil
}

func (fs *fields) put(f field, v []byte) error {
	if fs.has(f) {
		return fmt.Errorf("%w: %s", ErrDuplicate, fieldName[f])
	}
	fs.seen |= 1 << f
	fs.val[f] = v
	return nil
}

func (fs *fields) malformed(f field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrAttribute, fieldName[f], fmt.Sprintf(format, args...))
}

func (fs *fields) uint32(f field) (uint32, error) {
	v := fs.val[f]
	if len(v) != 4 {
		return 0, fs.malformed(f, "%d octets, want 4", len(v))
	}
	return binary.BigEndian.Uint32(v), nil
}

func (fs *fields) uint64(f field) (uint64, error) {
	v := fs.val[f]
	if len(v) != 8 {
		return 0, fs.malformed(f, "%d octets, want 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// bytes copies a value of exactly n octets into dst.
func (fs *fields) bytes(f field, dst []byte) error {
	if v := fs.val[f]; len(v) != len(dst) {
		return fs.malformed(f, "%d octets, want %d", len(v), len(dst))
	}
	copy(dst, fs.val[f])
	return nil
}

func (fs *fields) date(f field) (time.Time, error) {
	s, err := fs.uint32(f)
	return time.Unix(int64(s), 0).UTC(), err
}

func (fs *fields) mac(f field, dst net.HardwareAddr) error {
	if !parseMAC(dst, fs.val[f]) {
		return fs.malformed(f, "%q is not a MAC address like 00-10-A4-23-19-C0", fs.val[f])
	}
	return nil
}

// FromPacket recovers the bill an Accounting-Request Stop carries, from
// its attributes alone and in any order. Attributes that are not part of
// the bill (Acct-Delay-Time, NAS-IP-Address, Proxy-State,
// Message-Authenticator, other vendors', ...) are ignored. It fails, with
// an error naming the attribute, when a bill attribute is missing
// (ErrMissing), repeated (ErrDuplicate) or malformed (ErrAttribute), when
// two attributes disagree (ErrMismatch), when the bill is unsigned
// (ErrUnsigned) or when it fails Validate. It does not check the
// signature: call Verify with the gateway's key.
func FromPacket(p *radius.Packet) (*Bill, error) {
	if p.Code != radius.CodeAccountingRequest {
		return nil, fmt.Errorf("%w: code %v", ErrPacket, p.Code)
	}
	var fs fields
	if err := fs.collect(p.Attributes); err != nil {
		return nil, err
	}
	if !fs.has(fStatusType) {
		return nil, fmt.Errorf("%w: %s", ErrMissing, fieldName[fStatusType])
	}
	st, err := fs.uint32(fStatusType)
	if err != nil {
		return nil, err
	}
	if rfc2866.AcctStatusType(st) != rfc2866.AcctStatusType_Value_Stop {
		return nil, fmt.Errorf("%w: Acct-Status-Type %v", ErrPacket, rfc2866.AcctStatusType(st))
	}
	if missing := required &^ fs.seen; missing != 0 {
		for f := range numFields {
			if missing&(1<<f) != 0 {
				return nil, fmt.Errorf("%w: %s", ErrMissing, fieldName[f])
			}
		}
	}
	if !fs.has(fEventTimestamp) && !fs.has(fStopTime) {
		return nil, fmt.Errorf("%w: %s", ErrMissing, fieldName[fEventTimestamp])
	}
	b, err := fs.bill()
	if err != nil {
		return nil, err
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if b.Signature == [SignatureSize]byte{} {
		return nil, fmt.Errorf("%w: %s is all zero", ErrUnsigned, fieldName[fSignature])
	}
	return b, nil
}

// bill decodes the collected values; the required ones are all there.
func (fs *fields) bill() (*Bill, error) {
	var b Bill
	v, err := fs.uint32(fBillFormat)
	if err != nil {
		return nil, err
	}
	if v != FormatVersion {
		return nil, fmt.Errorf("%w %d in %s", ErrFormat, v, fieldName[fBillFormat])
	}

	b.UserName = string(fs.val[fUserName])
	b.SessionID = string(fs.val[fSessionID])
	b.GatewayID = string(fs.val[fGatewayID])
	b.TariffID = string(fs.val[fTariffID])
	b.Currency = string(fs.val[fCurrency])
	if fs.has(fNASIdentifier) && string(fs.val[fNASIdentifier]) != b.GatewayID {
		return nil, fmt.Errorf("%w: %s %q, %s %q", ErrMismatch,
			fieldName[fNASIdentifier], fs.val[fNASIdentifier], fieldName[fGatewayID], b.GatewayID)
	}

	macs := make(net.HardwareAddr, 2*MACSize)
	b.SubscriberMAC, b.BRASMAC = macs[:MACSize:MACSize], macs[MACSize:]
	if err := fs.mac(fCallingStation, b.SubscriberMAC); err != nil {
		return nil, err
	}
	if err := fs.mac(fBRASMAC, b.BRASMAC); err != nil {
		return nil, err
	}
	if err := fs.bytes(fBillID, b.ID[:]); err != nil {
		return nil, err
	}
	if err := fs.bytes(fPrevHash, b.PrevHash[:]); err != nil {
		return nil, err
	}
	if err := fs.bytes(fSignature, b.Signature[:]); err != nil {
		return nil, err
	}
	if fs.has(fFramedIP) {
		var a [4]byte
		if err := fs.bytes(fFramedIP, a[:]); err != nil {
			return nil, err
		}
		b.FramedIP = netip.AddrFrom4(a)
	}

	if b.Start, err = fs.date(fStartTime); err != nil {
		return nil, err
	}
	if fs.has(fEventTimestamp) {
		if b.Stop, err = fs.date(fEventTimestamp); err != nil {
			return nil, err
		}
	}
	if fs.has(fStopTime) {
		stop, err := fs.date(fStopTime)
		if err != nil {
			return nil, err
		}
		if fs.has(fEventTimestamp) && !stop.Equal(b.Stop) {
			return nil, fmt.Errorf("%w: %s %d, %s %d", ErrMismatch,
				fieldName[fEventTimestamp], b.Stop.Unix(), fieldName[fStopTime], stop.Unix())
		}
		b.Stop = stop
	}
	ms, err := fs.uint64(fSessionTimeMs)
	if err != nil {
		return nil, err
	}
	if ms > math.MaxInt64/uint64(time.Millisecond) {
		return nil, fs.malformed(fSessionTimeMs, "%d ms overflows", ms)
	}
	b.SessionTime = time.Duration(ms) * time.Millisecond
	if v, err = fs.uint32(fSessionTime); err != nil {
		return nil, err
	}
	if uint64(v) != ms/1000 {
		return nil, fmt.Errorf("%w: %s %d s, %s %d ms", ErrMismatch,
			fieldName[fSessionTime], v, fieldName[fSessionTimeMs], ms)
	}

	// The 32-bit values, in one sweep.
	ints := [...]field{
		fInOctets, fInGigawords, fOutOctets, fOutGigawords,
		fInPackets, fInPacketsGigawords, fOutPackets, fOutPacketsGigawords,
		fPPPoESessionID, fTerminateCause, fTariffVersion, fCurrencyScale,
	}
	var c [len(ints)]uint32
	for i, f := range ints {
		if c[i], err = fs.uint32(f); err != nil {
			return nil, err
		}
	}
	b.InputOctets = uint64(c[1])<<32 | uint64(c[0])
	b.OutputOctets = uint64(c[3])<<32 | uint64(c[2])
	b.InputPackets = uint64(c[5])<<32 | uint64(c[4])
	b.OutputPackets = uint64(c[7])<<32 | uint64(c[6])
	if c[8] > math.MaxUint16 {
		return nil, fs.malformed(fPPPoESessionID, "%d is over 65535", c[8])
	}
	b.PPPoESessionID = uint16(c[8])
	b.TerminateCause = rfc2866.AcctTerminateCause(c[9])
	b.TariffVersion = c[10]
	if c[11] > MaxScale {
		return nil, fs.malformed(fCurrencyScale, "%d is over %d", c[11], MaxScale)
	}
	b.Scale = uint8(c[11])

	charge, err := fs.uint64(fCharge)
	if err != nil {
		return nil, err
	}
	if charge > math.MaxInt64 {
		return nil, fs.malformed(fCharge, "%d is over 2^63-1", charge)
	}
	b.Charge = int64(charge)
	if b.Sequence, err = fs.uint64(fSequence); err != nil {
		return nil, err
	}
	return &b, nil
}

// ToPacket adds to p, an Accounting-Request, the attributes that carry b:
// Acct-Status-Type Stop and the standard attributes of RFC 2865, 2866 and
// 2869 where one fits, the edgebill vendor attributes for the rest (doc.go
// has the table). b must be valid and signed. p must not already hold any
// of these attributes. The caller adds what is not part of the bill
// (NAS-IP-Address, Acct-Delay-Time, ...) and encodes p with
// radiusx.Encode.
func ToPacket(b *Bill, p *radius.Packet) error {
	if p.Code != radius.CodeAccountingRequest {
		return fmt.Errorf("%w: code %v", ErrPacket, p.Code)
	}
	if err := b.Validate(); err != nil {
		return err
	}
	if b.Signature == [SignatureSize]byte{} {
		return ErrUnsigned
	}
	var fs fields
	if err := fs.collect(p.Attributes); err != nil {
		return err
	}
	if fs.seen != 0 {
		for f := range numFields {
			if fs.has(f) {
				return fmt.Errorf("%w: packet already holds %s", ErrDuplicate, fieldName[f])
			}
		}
	}

	w := attrWriter{
		buf:  make([]byte, 0, valuesLen(b)),
		avps: make([]radius.AVP, 0, maxAttrs),
	}
	inO, inG := uint32(b.InputOctets), uint32(b.InputOctets>>32)
	outO, outG := uint32(b.OutputOctets), uint32(b.OutputOctets>>32)

	w.uint32(rfc2866.AcctStatusType_Type, uint32(rfc2866.AcctStatusType_Value_Stop))
	w.string(rfc2865.UserName_Type, b.UserName)
	w.string(rfc2866.AcctSessionID_Type, b.SessionID)
	w.string(rfc2865.NASIdentifier_Type, b.GatewayID)
	w.begin()
	w.buf = radiusx.AppendCallingStationID(w.buf, b.SubscriberMAC)
	w.end(rfc2865.CallingStationID_Type)
	if b.FramedIP.IsValid() {
		a := b.FramedIP.As4()
		w.begin()
		w.buf = append(w.buf, a[:]...)
		w.end(rfc2865.FramedIPAddress_Type)
	}
	w.uint32(rfc2866.AcctSessionTime_Type, uint32(b.SessionTime/time.Second))
	w.uint32(rfc2866.AcctInputOctets_Type, inO)
	w.uint32(rfc2869.AcctInputGigawords_Type, inG)
	w.uint32(rfc2866.AcctOutputOctets_Type, outO)
	w.uint32(rfc2869.AcctOutputGigawords_Type, outG)
	w.uint32(rfc2866.AcctInputPackets_Type, uint32(b.InputPackets))
	w.uint32(rfc2866.AcctOutputPackets_Type, uint32(b.OutputPackets))
	w.uint32(rfc2866.AcctTerminateCause_Type, uint32(b.TerminateCause))
	w.uint32(rfc2869.EventTimestamp_Type, uint32(b.Stop.Unix()))

	w.vendorUint32(vaBillFormat, FormatVersion)
	w.vendorString(vaGatewayID, b.GatewayID)
	w.vendor(vaBillID, b.ID[:])
	w.vendorUint32(vaPPPoESessionID, uint32(b.PPPoESessionID))
	w.vendorMAC(vaBRASMAC, b.BRASMAC)
	w.vendorUint32(vaStartTime, uint32(b.Start.Unix()))
	w.vendorUint64(vaSessionTimeMs, uint64(b.SessionTime/time.Millisecond))
	w.vendorUint32(vaInputPacketsGigawords, uint32(b.InputPackets>>32))
	w.vendorUint32(vaOutputPacketsGigawords, uint32(b.OutputPackets>>32))
	w.vendorString(vaTariffID, b.TariffID)
	w.vendorUint32(vaTariffVersion, b.TariffVersion)
	w.vendorUint64(vaCharge, uint64(b.Charge))
	w.vendorString(vaCurrency, b.Currency)
	w.vendorUint32(vaCurrencyScale, uint32(b.Scale))
	w.vendorUint64(vaSequence, b.Sequence)
	w.vendor(vaPrevHash, b.PrevHash[:])
	w.vendor(vaSignature, b.Signature[:])

	p.Attributes = slices.Grow(p.Attributes, len(w.avps))
	for i := range w.avps {
		p.Attributes = append(p.Attributes, &w.avps[i])
	}
	return nil
}

// maxAttrs is how many attributes ToPacket writes at most.
const maxAttrs = 32

// valuesLen is the total length of the attribute values ToPacket writes
// for b, so that one allocation holds them all.
func valuesLen(b *Bill) int {
	const (
		mac = len("00-10-A4-23-19-C0")
		vsa = 6 // vendor id, vendor type, vendor length
	)
	n := 4 + len(b.UserName) + len(b.SessionID) + len(b.GatewayID) + mac + 4 + 4*9
	n += vsa*17 + 4 + len(b.GatewayID) + IDSize + 4 + mac + 4 + 8 + 4 + 4 +
		len(b.TariffID) + 4 + 8 + len(b.Currency) + 4 + 8 + HashSize + SignatureSize
	return n
}

// attrWriter appends attribute values to one buffer and slices each
// attribute out of it. A value's slice is capped at its end, so an append
// that moves the buffer leaves the earlier values intact.
type attrWriter struct {
	buf   []byte
	avps  []radius.AVP
	start int
}

func (w *attrWriter) begin() { w.start = len(w.buf) }

func (w *attrWriter) end(t radius.Type) {
	w.avps = append(w.avps, radius.AVP{Type: t, Attribute: w.buf[w.start:len(w.buf):len(w.buf)]})
}

func (w *attrWriter) uint32(t radius.Type, v uint32) {
	w.begin()
	w.buf = binary.BigEndian.AppendUint32(w.buf, v)
	w.end(t)
}

func (w *attrWriter) string(t radius.Type, s string) {
	w.begin()
	w.buf = append(w.buf, s...)
	w.end(t)
}

// beginVendor starts a Vendor-Specific attribute with one sub-attribute of
// type t and n octets (RFC 2865 §5.26).
func (w *attrWriter) beginVendor(t byte, n int) {
	w.begin()
	w.buf = binary.BigEndian.AppendUint32(w.buf, VendorID)
	w.buf = append(w.buf, t, byte(2+n))
}

func (w *attrWriter) endVendor() { w.end(rfc2865.VendorSpecific_Type) }

func (w *attrWriter) vendor(t byte, v []byte) {
	w.beginVendor(t, len(v))
	w.buf = append(w.buf, v...)
	w.endVendor()
}

func (w *attrWriter) vendorString(t byte, s string) {
	w.beginVendor(t, len(s))
	w.buf = append(w.buf, s...)
	w.endVendor()
}

func (w *attrWriter) vendorUint32(t byte, v uint32) {
	w.beginVendor(t, 4)
	w.buf = binary.BigEndian.AppendUint32(w.buf, v)
	w.endVendor()
}

func (w *attrWriter) vendorUint64(t byte, v uint64) {
	w.beginVendor(t, 8)
	w.buf = binary.BigEndian.AppendUint64(w.buf, v)
	w.endVendor()
}

func (w *attrWriter) vendorMAC(t byte, mac net.HardwareAddr) {
	w.beginVendor(t, 3*len(mac)-1)
	w.buf = radiusx.AppendCallingStationID(w.buf, mac)
	w.endVendor()
}

// parseMAC reads an EUI-48 written as six hex pairs separated all by "-"
// or all by ":", in either case, into dst (6 octets).
func parseMAC(dst net.HardwareAddr, s []byte) bool {
	if len(s) != 3*MACSize-1 || len(dst) != MACSize {
		return false
	}
	sep := s[2]
	if sep != '-' && sep != ':' {
		return false
	}
	for i := range MACSize {
		if i > 0 && s[3*i-1] != sep {
			return false
		}
		hi, ok1 := unhex(s[3*i])
		lo, ok2 := unhex(s[3*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
