package pppoe

import (
	"errors"
	"fmt"
	"net"
)

// EtherType is the Ethernet II type field of a PPPoE frame (RFC 2516 §4).
type EtherType uint16

// PPPoE ethertypes (RFC 2516 §4).
const (
	EtherTypeDiscovery EtherType = 0x8863 // Discovery Stage
	EtherTypeSession   EtherType = 0x8864 // PPP Session Stage
)

// String returns "PPPoE-Discovery", "PPPoE-Session" or the value in hex.
func (e EtherType) String() string {
	switch e {
	case EtherTypeDiscovery:
		return "PPPoE-Discovery"
	case EtherTypeSession:
		return "PPPoE-Session"
	}
	return fmt.Sprintf("EtherType(0x%04x)", uint16(e))
}

// Code is the PPPoE header's CODE field (RFC 2516 §4, §5).
//
// Unlike most enums in edgebill its zero value is meaningful on the wire:
// CODE 0x00 marks a session-stage frame (RFC 2516 §6).
type Code uint8

// PPPoE codes (RFC 2516 §5.1 to §5.5 and §6).
const (
	CodeSession Code = 0x00 // session data (§6)
	CodePADO    Code = 0x07 // Active Discovery Offer (§5.2)
	CodePADI    Code = 0x09 // Active Discovery Initiation (§5.1)
	CodePADR    Code = 0x19 // Active Discovery Request (§5.3)
	CodePADS    Code = 0x65 // Active Discovery Session-confirmation (§5.4)
	CodePADT    Code = 0xa7 // Active Discovery Terminate (§5.5)
)

// String returns the packet's RFC 2516 name ("PADI", ..., "Session"), or
// the value in hex for a code RFC 2516 does not define.
func (c Code) String() string {
	switch c {
	case CodeSession:
		return "Session"
	case CodePADO:
		return "PADO"
	case CodePADI:
		return "PADI"
	case CodePADR:
		return "PADR"
	case CodePADS:
		return "PADS"
	case CodePADT:
		return "PADT"
	}
	return fmt.Sprintf("Code(0x%02x)", uint8(c))
}

// isDiscovery reports whether c is one of the five discovery codes.
func (c Code) isDiscovery() bool {
	switch c {
	case CodePADI, CodePADO, CodePADR, CodePADS, CodePADT:
		return true
	}
	return false
}

// zeroSession reports whether RFC 2516 requires SESSION_ID 0 for c
// (§5.1 PADI, §5.2 PADO, §5.3 PADR).
func (c Code) zeroSession() bool {
	return c == CodePADI || c == CodePADO || c == CodePADR
}

// Sizes and fixed values (RFC 2516 §4, §5.1).
const (
	// VerType is the VER (high nibble) and TYPE (low nibble) octet: both
	// MUST be 1 (§4).
	VerType = 0x11

	// EthernetHeaderLen is the Ethernet II header: destination, source,
	// ethertype.
	EthernetHeaderLen = 14

	// HeaderLen is the PPPoE header: VER/TYPE, CODE, SESSION_ID, LENGTH.
	HeaderLen = 6

	// FrameHeaderLen is the Ethernet II header plus the PPPoE header: where
	// the payload starts in a frame.
	FrameHeaderLen = EthernetHeaderLen + HeaderLen

	// MaxPADILen is the largest PADI allowed, counted from the PPPoE header
	// to the end of the payload, which leaves room in a 1500-octet Ethernet
	// payload for a relay to add a Relay-Session-Id (§5.1).
	MaxPADILen = 1484

	// MaxRelaySessionIDLen is the Relay-Session-Id value length every PADI
	// must leave room for (Appendix A). Longer values are legal.
	MaxRelaySessionIDLen = 12

	// tagHeaderLen is TAG_TYPE plus TAG_LENGTH (Appendix A).
	tagHeaderLen = 4

	// maxLength is the largest value of a 16-bit length field.
	maxLength = 0xffff
)

// Sentinel errors. Parsers and encoders wrap them with details, so test
// with errors.Is. A frame shorter than its headers or than its LENGTH
// field says is io.ErrUnexpectedEOF instead.
var (
	// ErrEtherType: the frame's ethertype is not the one expected
	// (0x8863 for discovery, 0x8864 for session).
	ErrEtherType = errors.New("pppoe: wrong ethertype")

	// ErrVersionType: VER or TYPE is not 1 (RFC 2516 §4).
	ErrVersionType = errors.New("pppoe: version/type is not 1/1")

	// ErrCode: the CODE is not allowed with the frame's ethertype: not one
	// of PADI, PADO, PADR, PADS, PADT on 0x8863, not 0 on 0x8864.
	ErrCode = errors.New("pppoe: code not valid for the ethertype")

	// ErrSessionID: a PADI, PADO or PADR with a non-zero SESSION_ID
	// (RFC 2516 §5.1 to §5.3).
	ErrSessionID = errors.New("pppoe: non-zero session id on PADI, PADO or PADR")

	// ErrPADITooLarge: a PADI longer than 1484 octets from the PPPoE header
	// on (RFC 2516 §5.1).
	ErrPADITooLarge = errors.New("pppoe: PADI exceeds 1484 octets")

	// ErrTagLength: a tag runs past the end of the payload, the payload ends
	// inside a tag header, or an End-Of-List tag has a value (RFC 2516
	// Appendix A).
	ErrTagLength = errors.New("pppoe: tag length does not fit the payload")

	// ErrDuplicateRelaySessionID: more than one Relay-Session-Id tag
	// (RFC 2516 Appendix A: a relay MUST NOT add one when one is there).
	ErrDuplicateRelaySessionID = errors.New("pppoe: more than one Relay-Session-Id tag")

	// ErrTooLong: a value does not fit its 16-bit (tag, payload) or 8-bit
	// (TR-101 sub-option) length field.
	ErrTooLong = errors.New("pppoe: value too long for its length field")

	// ErrHardwareAddr: a source or destination MAC is not 6 octets.
	ErrHardwareAddr = errors.New("pppoe: MAC address is not 6 octets")

	// ErrMissingTag: a tag RFC 2516 §5 requires for the code is absent.
	ErrMissingTag = errors.New("pppoe: required tag missing")

	// ErrExtraTag: a tag RFC 2516 §5 allows once appears more than once.
	ErrExtraTag = errors.New("pppoe: tag appears more than once")

	// ErrNotTR101: a Vendor-Specific tag value is shorter than its vendor
	// id or belongs to a vendor other than the Broadband Forum (3561).
	ErrNotTR101 = errors.New("pppoe: not a TR-101 Vendor-Specific tag")

	// ErrSubOption: a TR-101 sub-option runs past the end of its tag.
	ErrSubOption = errors.New("pppoe: TR-101 sub-option does not fit the tag")
)

// checkMAC returns ErrHardwareAddr unless a is 6 octets.
func checkMAC(which string, a net.HardwareAddr) error {
	if len(a) != 6 {
		return fmt.Errorf("%w: %s has %d octets", ErrHardwareAddr, which, len(a))
	}
	return nil
}

// appendFrameHeader appends the Ethernet II and PPPoE headers with LENGTH
// 0, for the caller to back-patch with putLength.
func appendFrameHeader(b []byte, dst, src net.HardwareAddr, et EtherType, code Code, session uint16) []byte {
	b = append(b, dst...)
	b = append(b, src...)
	return append(b, byte(et>>8), byte(et), VerType, byte(code), byte(session>>8), byte(session), 0, 0)
}

// putLength back-patches LENGTH of the frame that starts at b[start:].
func putLength(b []byte, start, n int) {
	b[start+18] = byte(n >> 8)
	b[start+19] = byte(n)
}

// be16 reads a big-endian uint16; b must hold two octets.
func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
