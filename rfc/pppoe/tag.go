package pppoe

import (
	"fmt"
)

// TagType is a discovery tag's TAG_TYPE (RFC 2516 Appendix A).
//
// Its zero value is End-Of-List, a wire value, not an invalid one.
type TagType uint16

// Tag types of RFC 2516 Appendix A and RFC 4638 §4. Any other value is
// kept as a raw tag.
const (
	TagEndOfList        TagType = 0x0000 // no further tags; length 0
	TagServiceName      TagType = 0x0101 // UTF-8 service name; empty means any
	TagACName           TagType = 0x0102 // UTF-8 access concentrator name
	TagHostUniq         TagType = 0x0103 // opaque, echoed by the AC
	TagACCookie         TagType = 0x0104 // opaque, echoed by the host in PADR
	TagVendorSpecific   TagType = 0x0105 // 4-octet vendor id, then vendor data
	TagRelaySessionID   TagType = 0x0110 // opaque, added by a relay, echoed
	TagPPPMaxPayload    TagType = 0x0120 // RFC 4638 §4: 2-octet max PPP payload
	TagServiceNameError TagType = 0x0201 // UTF-8 reason, may be empty
	TagACSystemError    TagType = 0x0202 // UTF-8 reason, may be empty
	TagGenericError     TagType = 0x0203 // UTF-8 reason, may be empty
)

// String returns the tag's name as RFC 2516 spells it, or the value in hex.
func (t TagType) String() string {
	switch t {
	case TagEndOfList:
		return "End-Of-List"
	case TagServiceName:
		return "Service-Name"
	case TagACName:
		return "AC-Name"
	case TagHostUniq:
		return "Host-Uniq"
	case TagACCookie:
		return "AC-Cookie"
	case TagVendorSpecific:
		return "Vendor-Specific"
	case TagRelaySessionID:
		return "Relay-Session-Id"
	case TagPPPMaxPayload:
		return "PPP-Max-Payload"
	case TagServiceNameError:
		return "Service-Name-Error"
	case TagACSystemError:
		return "AC-System-Error"
	case TagGenericError:
		return "Generic-Error"
	}
	return fmt.Sprintf("TagType(0x%04x)", uint16(t))
}

// Tag is one discovery tag. Value is the TAG_VALUE as sent; its length is
// TAG_LENGTH. A parsed tag with no value has a nil Value.
type Tag struct {
	Type  TagType
	Value []byte
}

// String formats t for logs: Service-Name="isp" for the tags whose value
// is text, Host-Uniq=cafe (hex) for the others.
func (t Tag) String() string {
	switch t.Type {
	case TagServiceName, TagACName, TagServiceNameError, TagACSystemError, TagGenericError:
		return fmt.Sprintf("%v=%q", t.Type, t.Value)
	}
	return fmt.Sprintf("%v=%x", t.Type, t.Value)
}

// NewStringTag returns a tag whose value is s: for Service-Name, AC-Name
// and the three error tags, whose values are UTF-8 strings, not
// NUL-terminated (RFC 2516 Appendix A).
func NewStringTag(t TagType, s string) Tag {
	if s == "" {
		return Tag{Type: t}
	}
	return Tag{Type: t, Value: []byte(s)}
}

// NewPPPMaxPayloadTag returns a PPP-Max-Payload tag offering the largest
// PPP payload (protocol field and information, the PPP MRU) the sender
// can take (RFC 4638 §4).
func NewPPPMaxPayloadTag(n uint16) Tag {
	return Tag{Type: TagPPPMaxPayload, Value: []byte{byte(n >> 8), byte(n)}}
}

// PPPMaxPayload returns the value of a PPP-Max-Payload tag; ok is false if
// t is another tag or its value is not 2 octets (RFC 4638 §4).
func (t Tag) PPPMaxPayload() (n uint16, ok bool) {
	if t.Type != TagPPPMaxPayload || len(t.Value) != 2 {
		return 0, false
	}
	return be16(t.Value), true
}

// VendorID returns the vendor id of a Vendor-Specific tag: the first four
// octets, high octet 0 and an IANA enterprise number below (RFC 2516
// Appendix A). ok is false if t is another tag or too short.
func (t Tag) VendorID() (id uint32, ok bool) {
	if t.Type != TagVendorSpecific || len(t.Value) < 4 {
		return 0, false
	}
	v := t.Value
	return uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3]), true
}

// appendTag appends one tag; the caller has checked the value's length.
func appendTag(b []byte, t Tag) []byte {
	n := len(t.Value)
	b = append(b, byte(t.Type>>8), byte(t.Type), byte(n>>8), byte(n))
	return append(b, t.Value...)
}
