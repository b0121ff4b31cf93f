package bill

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"time"

	"layeh.com/radius/rfc2866"
)

// FormatVersion is the first octet of the canonical encoding and the value
// of EdgeBill-Bill-Format. A change to the layout is a new version.
const FormatVersion = 1

// Sizes of the fixed-size fields.
const (
	IDSize        = 16 // Bill.ID
	HashSize      = 32 // Bill.PrevHash, Hash: SHA-256
	SignatureSize = 64 // Bill.Signature: Ed25519
	MACSize       = 6  // Bill.SubscriberMAC, Bill.BRASMAC: EUI-48
)

// Length limits of the strings. User-Name and Acct-Session-Id are RADIUS
// attributes of their own (RFC 2865 §5: at most 253 octets); the others
// ride in a Vendor-Specific attribute, whose 6 octets of vendor id and
// vendor type and length leave 247 (RFC 2865 §5.26).
const (
	maxAttrString   = 253
	maxVendorString = 247
)

// MaxScale is the largest Scale: 10^18 still fits an int64.
const MaxScale = 18

// Bill is what a gateway bills for one closed PPPoE session. It is signed
// by the gateway with Ed25519 over its canonical encoding and chained to
// the gateway's previous bill by Sequence and PrevHash.
//
// A Bill that passes Validate has exactly one encoding; AppendBinary,
// Sign, Verify, Hash and ToPacket refuse one that does not.
type Bill struct {
	// GatewayID names the gateway, 1 to 247 octets. It is also sent as
	// NAS-Identifier.
	GatewayID string
	// SessionID is the gateway's Acct-Session-Id for the session, 1 to
	// 253 octets.
	SessionID string
	// ID is the bill's unique id, chosen at random by the gateway; not
	// all zero.
	ID [IDSize]byte
	// UserName is the PPP user name (PAP Peer-ID or CHAP Name), 1 to 253
	// octets.
	UserName string
	// SubscriberMAC is the subscriber's Ethernet address (6 octets); it is
	// sent as Calling-Station-Id.
	SubscriberMAC net.HardwareAddr
	// PPPoESessionID is the PPPoE SESSION_ID on the BRAS side (RFC 2516 §4).
	PPPoESessionID uint16
	// BRASMAC is the access concentrator's Ethernet address (6 octets).
	BRASMAC net.HardwareAddr
	// FramedIP is the subscriber's IPv4 address from IPCP; the zero Addr
	// when none was assigned.
	FramedIP netip.Addr

	// Start and Stop bound the session in whole seconds, between 1970 and
	// 2106 (a RADIUS date, RFC 2865 §5). Decoding gives them in UTC.
	Start, Stop time.Time
	// SessionTime is the measured length of the session in whole
	// milliseconds; it is within a second of Stop-Start. SetTimes sets
	// all three consistently.
	SessionTime time.Duration

	// Octets and packets counted from the subscriber's point of view:
	// input is what the subscriber sent (RFC 2866 §5.3).
	InputOctets, OutputOctets   uint64
	InputPackets, OutputPackets uint64
	// TerminateCause is why the session ended (RFC 2866 §5.10); not zero.
	TerminateCause rfc2866.AcctTerminateCause

	// TariffID (1 to 247 octets) and TariffVersion name the tariff the
	// session was priced with.
	TariffID      string
	TariffVersion uint32
	// Charge is the price in minor units, never negative: Charge /
	// 10^Scale units of Currency.
	Charge int64
	// Currency is an ISO 4217 alphabetic code: three letters A to Z.
	Currency string
	// Scale is the number of decimal places of the minor unit, 0 to
	// MaxScale (2 for cents, 4 for 1/10000 CNY).
	Scale uint8

	// Sequence numbers the gateway's bills from 1 with no gaps.
	Sequence uint64
	// PrevHash is Hash of the gateway's bill Sequence-1; all zero for
	// Sequence 1 and only then.
	PrevHash [HashSize]byte
	// Signature is the Ed25519 signature set by Sign; all zero when
	// unsigned.
	Signature [SignatureSize]byte
}

// Errors returned when a Bill is not valid. Each such error matches
// ErrInvalid and one of the others with errors.Is; its message names the
// field and the values.
var (
	ErrInvalid         = errors.New("bill: invalid bill")
	ErrField           = errors.New("bill: field out of range")
	ErrSequence        = errors.New("bill: sequence and previous hash disagree")
	ErrStopBeforeStart = errors.New("bill: stop before start")
	ErrSessionTime     = errors.New("bill: session time disagrees with start and stop")
)

// invalidError is a validation failure: its kind and ErrInvalid.
type invalidError struct {
	kind   error
	detail string
}

func (e *invalidError) Error() string   { return e.kind.Error() + ": " + e.detail }
func (e *invalidError) Unwrap() []error { return []error{e.kind, ErrInvalid} }

func invalid(kind error, format string, args ...any) error {
	return &invalidError{kind: kind, detail: fmt.Sprintf(format, args...)}
}

// Validate reports the first field that makes b unfit to encode.
func (b *Bill) Validate() error {
	switch {
	case b.Sequence == 0:
		return invalid(ErrSequence, "sequence 0 (sequences start at 1)")
	case b.Sequence == 1 && b.PrevHash != [HashSize]byte{}:
		return invalid(ErrSequence, "sequence 1 names a previous bill")
	case b.Sequence > 1 && b.PrevHash == [HashSize]byte{}:
		return invalid(ErrSequence, "sequence %d has no previous hash", b.Sequence)
	}
	if b.ID == [IDSize]byte{} {
		return invalid(ErrField, "bill id is zero")
	}
	if err := checkString("gateway id", b.GatewayID, maxVendorString); err != nil {
		return err
	}
	if err := checkString("session id", b.SessionID, maxAttrString); err != nil {
		return err
	}
	if err := checkString("user name", b.UserName, maxAttrString); err != nil {
		return err
	}
	if len(b.SubscriberMAC) != MACSize {
		return invalid(ErrField, "subscriber MAC of %d octets, want %d", len(b.SubscriberMAC), MACSize)
	}
	if len(b.BRASMAC) != MACSize {
		return invalid(ErrField, "BRAS MAC of %d octets, want %d", len(b.BRASMAC), MACSize)
	}
	if b.FramedIP.IsValid() && !b.FramedIP.Is4() {
		return invalid(ErrField, "framed IP %v is not IPv4", b.FramedIP)
	}
	if err := checkTime("start", b.Start); err != nil {
		return err
	}
	if err := checkTime("stop", b.Stop); err != nil {
		return err
	}
	if b.Stop.Before(b.Start) {
		return invalid(ErrStopBeforeStart, "start %v, stop %v", b.Start.UTC(), b.Stop.UTC())
	}
	if b.SessionTime < 0 || b.SessionTime%time.Millisecond != 0 {
		return invalid(ErrSessionTime, "session time %v is not whole non-negative milliseconds", b.SessionTime)
	}
	// Both times are whole seconds within 2^32 s of 1970, so the
	// difference cannot overflow a Duration.
	if d := b.Stop.Sub(b.Start) - b.SessionTime; d <= -time.Second || d >= time.Second {
		return invalid(ErrSessionTime, "session time %v, stop-start %v", b.SessionTime, b.Stop.Sub(b.Start))
	}
	if b.TerminateCause == 0 {
		return invalid(ErrField, "terminate cause is zero")
	}
	if err := checkString("tariff id", b.TariffID, maxVendorString); err != nil {
		return err
	}
	if b.Charge < 0 {
		return invalid(ErrField, "charge %d is negative", b.Charge)
	}
	if !isCurrency(b.Currency) {
		return invalid(ErrField, "currency %q is not three letters A to Z", b.Currency)
	}
	if b.Scale > MaxScale {
		return invalid(ErrField, "scale %d is over %d", b.Scale, MaxScale)
	}
	return nil
}

func checkString(name, s string, max int) error {
	if s == "" {
		return invalid(ErrField, "%s is empty", name)
	}
	if len(s) > max {
		return invalid(ErrField, "%s of %d octets is over %d", name, len(s), max)
	}
	return nil
}

func checkTime(name string, t time.Time) error {
	if s := t.Unix(); s < 0 || s > math.MaxUint32 {
		return invalid(ErrField, "%s %v is outside 1970 to 2106", name, t.UTC())
	}
	if t.Nanosecond() != 0 {
		return invalid(ErrField, "%s %v is not a whole second", name, t.UTC())
	}
	return nil
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range len(s) {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// SetTimes sets Start, Stop and SessionTime from the session's wall-clock
// start and its measured duration (from a monotonic clock), so that they
// pass Validate: Start is start cut to the second, SessionTime is d cut to
// the millisecond, and Stop is start+SessionTime cut to the second. Stop
// comes from the duration, not from a second wall-clock reading, so a
// clock stepped during the session does not make the bill inconsistent.
func (b *Bill) SetTimes(start time.Time, d time.Duration) {
	d = d.Truncate(time.Millisecond)
	b.Start = start.Truncate(time.Second).UTC()
	b.Stop = start.Add(d).Truncate(time.Second).UTC()
	b.SessionTime = d
}
