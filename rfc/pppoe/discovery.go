package pppoe

import (
	"encoding"
	"fmt"
	"io"
	"net"
	"slices"
)

// Discovery is a discovery-stage frame (ethertype 0x8863): PADI, PADO,
// PADR, PADS or PADT (RFC 2516 §5) with its Ethernet addresses.
//
// Tags are kept in wire order, unknown ones included, so parsing and
// re-encoding a frame reproduces it byte for byte. Lookups (Tag,
// ServiceName, ...) stop at an End-Of-List tag, as RFC 2516 Appendix A
// says a receiver must; tags after it are kept but not looked at.
//
// The editing methods (AddTag, SetTag, RemoveTags, ...) work on the Tags
// slice in place: a copy of a Discovery shares its tags until one of them
// gets a fresh slice (slices.Clone(d.Tags)).
type Discovery struct {
	Dst, Src  net.HardwareAddr
	Code      Code
	SessionID uint16
	Tags      []Tag
}

var (
	_ encoding.BinaryAppender    = (*Discovery)(nil)
	_ encoding.BinaryMarshaler   = (*Discovery)(nil)
	_ encoding.BinaryUnmarshaler = (*Discovery)(nil)
)

// Len returns the length in octets of the encoded frame, headers included.
func (d *Discovery) Len() int {
	n := FrameHeaderLen
	for _, t := range d.Tags {
		n += tagHeaderLen + len(t.Value)
	}
	return n
}

// Validate reports whether d can be encoded and would be accepted by
// UnmarshalBinary: 6-octet MACs, a discovery code, SESSION_ID 0 on PADI,
// PADO and PADR, tag values and payload within their 16-bit lengths, no
// value on End-Of-List, at most one Relay-Session-Id, and a PADI within
// 1484 octets.
//
// The PADI limit leaves room for a relay's Relay-Session-Id (RFC 2516
// §5.1), so a PADI that already carries one is measured without it: a
// relay may add its tag to a 1484-octet PADI and the result still
// validates.
func (d *Discovery) Validate() error {
	if err := checkMAC("destination", d.Dst); err != nil {
		return err
	}
	if err := checkMAC("source", d.Src); err != nil {
		return err
	}
	if err := checkCode(d.Code, d.SessionID); err != nil {
		return err
	}
	var payload, relays, relayLen int
	for _, t := range d.Tags {
		n := len(t.Value)
		if n > maxLength {
			return fmt.Errorf("%w: %v tag of %d octets", ErrTooLong, t.Type, n)
		}
		if t.Type == TagEndOfList && n != 0 {
			return fmt.Errorf("%w: End-Of-List with a %d-octet value", ErrTagLength, n)
		}
		if t.Type == TagRelaySessionID {
			relays++
			relayLen += tagHeaderLen + n
		}
		payload += tagHeaderLen + n
	}
	if payload > maxLength {
		return fmt.Errorf("%w: %d octets of tags", ErrTooLong, payload)
	}
	return checkTagTotals(d.Code, payload, relays, relayLen)
}

// checkCode applies the per-code header rules (RFC 2516 §5.1 to §5.5).
func checkCode(c Code, session uint16) error {
	if !c.isDiscovery() {
		return fmt.Errorf("%w: %v in a discovery frame", ErrCode, c)
	}
	if c.zeroSession() && session != 0 {
		return fmt.Errorf("%w: %v with session 0x%04x", ErrSessionID, c, session)
	}
	return nil
}

// checkTagTotals applies the rules over the whole tag list: at most one
// Relay-Session-Id (Appendix A) and the PADI size limit (§5.1), measured
// without a relay's tag.
func checkTagTotals(c Code, payload, relays, relayLen int) error {
	if relays > 1 {
		return fmt.Errorf("%w: %d of them", ErrDuplicateRelaySessionID, relays)
	}
	if c == CodePADI && HeaderLen+payload-relayLen > MaxPADILen {
		return fmt.Errorf("%w: %d octets", ErrPADITooLarge, HeaderLen+payload-relayLen)
	}
	return nil
}

// AppendBinary appends the frame, Ethernet header included, to b. It
// returns b unchanged and an error wrapping a sentinel if Validate fails.
func (d *Discovery) AppendBinary(b []byte) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return b, err
	}
	start := len(b)
	b = slices.Grow(b, d.Len())
	b = appendFrameHeader(b, d.Dst, d.Src, EtherTypeDiscovery, d.Code, d.SessionID)
	for _, t := range d.Tags {
		b = appendTag(b, t)
	}
	putLength(b, start, len(b)-start-FrameHeaderLen)
	return b, nil
}

// MarshalBinary returns the encoded frame: AppendBinary(nil).
func (d *Discovery) MarshalBinary() ([]byte, error) {
	return d.AppendBinary(nil)
}

// UnmarshalBinary parses a discovery frame that starts with its Ethernet
// header. d does not alias b: the MACs and tag values are copied into one
// new buffer. Octets after the PPPoE LENGTH (Ethernet padding) are
// ignored. Errors wrap io.ErrUnexpectedEOF or a sentinel; d is unchanged
// on error.
func (d *Discovery) UnmarshalBinary(b []byte) error {
	code, session, payload, err := parseFrame(b, EtherTypeDiscovery)
	if err != nil {
		return err
	}
	if err := checkCode(code, session); err != nil {
		return err
	}
	ntags, relays, relayLen, err := scanTags(payload)
	if err != nil {
		return err
	}
	if err := checkTagTotals(code, len(payload), relays, relayLen); err != nil {
		return err
	}

	buf := make([]byte, 12+len(payload))
	copy(buf, b[:12])
	copy(buf[12:], payload)
	var tags []Tag
	if ntags > 0 {
		tags = make([]Tag, 0, ntags)
		for p := buf[12:]; len(p) > 0; {
			n := int(be16(p[2:]))
			t := Tag{Type: TagType(be16(p))}
			if n > 0 {
				t.Value = p[tagHeaderLen : tagHeaderLen+n : tagHeaderLen+n]
			}
			tags = append(tags, t)
			p = p[tagHeaderLen+n:]
		}
	}
	*d = Discovery{
		Dst:       net.HardwareAddr(buf[0:6:6]),
		Src:       net.HardwareAddr(buf[6:12:12]),
		Code:      code,
		SessionID: session,
		Tags:      tags,
	}
	return nil
}

// parseFrame checks the Ethernet and PPPoE headers common to both stages
// and returns the PPPoE payload, without the padding after LENGTH.
func parseFrame(b []byte, want EtherType) (code Code, session uint16, payload []byte, err error) {
	if len(b) < FrameHeaderLen {
		return 0, 0, nil, fmt.Errorf("pppoe: %d-octet frame is shorter than the %d-octet headers: %w",
			len(b), FrameHeaderLen, io.ErrUnexpectedEOF)
	}
	if et := EtherType(be16(b[12:])); et != want {
		return 0, 0, nil, fmt.Errorf("%w: %v, want %v", ErrEtherType, et, want)
	}
	if b[14] != VerType {
		return 0, 0, nil, fmt.Errorf("%w: version %d, type %d", ErrVersionType, b[14]>>4, b[14]&0x0f)
	}
	n := int(be16(b[18:]))
	if n > len(b)-FrameHeaderLen {
		return 0, 0, nil, fmt.Errorf("pppoe: LENGTH %d but %d octets follow the header: %w",
			n, len(b)-FrameHeaderLen, io.ErrUnexpectedEOF)
	}
	return Code(b[15]), be16(b[16:]), b[FrameHeaderLen : FrameHeaderLen+n], nil
}

// scanTags walks a discovery payload and checks that every tag fits. It
// returns the number of tags, of Relay-Session-Id tags, and the octets
// those take (headers included).
func scanTags(p []byte) (ntags, relays, relayLen int, err error) {
	for off := 0; off < len(p); {
		if len(p)-off < tagHeaderLen {
			return 0, 0, 0, fmt.Errorf("%w: %d octets left at offset %d, less than a tag header",
				ErrTagLength, len(p)-off, off)
		}
		typ := TagType(be16(p[off:]))
		n := int(be16(p[off+2:]))
		if n > len(p)-off-tagHeaderLen {
			return 0, 0, 0, fmt.Errorf("%w: %v at offset %d claims %d octets, %d left",
				ErrTagLength, typ, off, n, len(p)-off-tagHeaderLen)
		}
		switch typ {
		case TagEndOfList:
			if n != 0 {
				return 0, 0, 0, fmt.Errorf("%w: End-Of-List with a %d-octet value", ErrTagLength, n)
			}
		case TagRelaySessionID:
			relays++
			relayLen += tagHeaderLen + n
		}
		ntags++
		off += tagHeaderLen + n
	}
	return ntags, relays, relayLen, nil
}

// live returns the tags a receiver looks at: those before the first
// End-Of-List (RFC 2516 Appendix A).
func (d *Discovery) live() []Tag {
	for i, t := range d.Tags {
		if t.Type == TagEndOfList {
			return d.Tags[:i]
		}
	}
	return d.Tags
}

// Tag returns the first tag of type t before any End-Of-List.
func (d *Discovery) Tag(t TagType) (Tag, bool) {
	for _, tag := range d.live() {
		if tag.Type == t {
			return tag, true
		}
	}
	return Tag{}, false
}

// Count returns how many tags of type t come before any End-Of-List.
func (d *Discovery) Count(t TagType) int {
	n := 0
	for _, tag := range d.live() {
		if tag.Type == t {
			n++
		}
	}
	return n
}

// value returns the first t tag's value.
func (d *Discovery) value(t TagType) ([]byte, bool) {
	tag, ok := d.Tag(t)
	return tag.Value, ok
}

// ServiceName returns the first Service-Name; "" with ok means any
// service (RFC 2516 Appendix A).
func (d *Discovery) ServiceName() (string, bool) {
	v, ok := d.value(TagServiceName)
	return string(v), ok
}

// ACName returns the AC-Name.
func (d *Discovery) ACName() (string, bool) {
	v, ok := d.value(TagACName)
	return string(v), ok
}

// HostUniq returns the Host-Uniq value; it aliases d.Tags.
func (d *Discovery) HostUniq() ([]byte, bool) { return d.value(TagHostUniq) }

// ACCookie returns the AC-Cookie value; it aliases d.Tags.
func (d *Discovery) ACCookie() ([]byte, bool) { return d.value(TagACCookie) }

// RelaySessionID returns the Relay-Session-Id value; it aliases d.Tags.
func (d *Discovery) RelaySessionID() ([]byte, bool) { return d.value(TagRelaySessionID) }

// PPPMaxPayload returns the PPP-Max-Payload (RFC 4638 §4); ok is false if
// the tag is absent or its value is not 2 octets.
func (d *Discovery) PPPMaxPayload() (uint16, bool) {
	t, ok := d.Tag(TagPPPMaxPayload)
	if !ok {
		return 0, false
	}
	return t.PPPMaxPayload()
}

// ErrorTag returns the first Service-Name-Error, AC-System-Error or
// Generic-Error tag, which RFC 2516 Appendix A says a receiver should
// report (its value may be empty).
func (d *Discovery) ErrorTag() (Tag, bool) {
	for _, t := range d.live() {
		switch t.Type {
		case TagServiceNameError, TagACSystemError, TagGenericError:
			return t, true
		}
	}
	return Tag{}, false
}

// AddTag adds t after the last tag, or before the first End-Of-List if
// there is one, so that receivers see it.
func (d *Discovery) AddTag(t Tag) {
	i := len(d.live())
	d.Tags = slices.Insert(d.Tags, i, t)
}

// SetTag replaces the value of the first tag of t's type, in place, or
// adds t as AddTag does if there is none.
func (d *Discovery) SetTag(t Tag) {
	live := d.live()
	for i := range live {
		if live[i].Type == t.Type {
			d.Tags[i].Value = t.Value
			return
		}
	}
	d.AddTag(t)
}

// RemoveTags removes every tag of type t, End-Of-List or not, and returns
// how many it removed.
func (d *Discovery) RemoveTags(t TagType) int {
	return d.RemoveTagsFunc(func(tag Tag) bool { return tag.Type == t })
}

// RemoveTagsFunc removes every tag for which del returns true and returns
// how many it removed.
func (d *Discovery) RemoveTagsFunc(del func(Tag) bool) int {
	n := len(d.Tags)
	d.Tags = slices.DeleteFunc(d.Tags, del)
	if len(d.Tags) == 0 {
		d.Tags = nil
	}
	return n - len(d.Tags)
}

// AddRelaySessionID adds a Relay-Session-Id tag with value id, as a relay
// does to PADI and PADR on their way to the access concentrator (RFC 2516
// Appendix A). If the frame carries one already it adds nothing and
// returns ErrDuplicateRelaySessionID: the RFC says the relay should then
// use the existing one, or answer the sender with a Generic-Error.
func (d *Discovery) AddRelaySessionID(id []byte) error {
	for _, t := range d.Tags {
		if t.Type == TagRelaySessionID {
			return fmt.Errorf("%w: frame already carries one", ErrDuplicateRelaySessionID)
		}
	}
	d.AddTag(Tag{Type: TagRelaySessionID, Value: id})
	return nil
}

// StripRelaySessionID removes the Relay-Session-Id tags, as a relay does
// to PADO, PADS and PADT on their way back to the host, and returns the
// first one's value.
func (d *Discovery) StripRelaySessionID() (id []byte, ok bool) {
	id, ok = d.RelaySessionID()
	d.RemoveTags(TagRelaySessionID)
	return id, ok
}

// CheckRequiredTags checks the tags RFC 2516 §5 requires for d's code,
// before any End-Of-List: exactly one Service-Name in PADI (§5.1) and PADR
// (§5.3); one AC-Name and at least one Service-Name in PADO (§5.2); in a
// PADS, exactly one Service-Name, or a Service-Name-Error when the session
// is 0 (§5.4). PADT needs no tags (§5.5). Parsing does not call it, so a
// relay can forward what a strict access concentrator would refuse.
func (d *Discovery) CheckRequiredTags() error {
	exactlyOne := func(t TagType) error {
		switch n := d.Count(t); {
		case n == 0:
			return fmt.Errorf("%w: %v has no %v", ErrMissingTag, d.Code, t)
		case n > 1:
			return fmt.Errorf("%w: %v has %d %v tags", ErrExtraTag, d.Code, n, t)
		}
		return nil
	}
	switch d.Code {
	case CodePADI, CodePADR:
		return exactlyOne(TagServiceName)
	case CodePADO:
		if err := exactlyOne(TagACName); err != nil {
			return err
		}
		if d.Count(TagServiceName) == 0 {
			return fmt.Errorf("%w: PADO has no Service-Name", ErrMissingTag)
		}
	case CodePADS:
		if d.SessionID == 0 {
			if d.Count(TagServiceNameError) == 0 {
				return fmt.Errorf("%w: PADS with session 0 has no Service-Name-Error", ErrMissingTag)
			}
			return nil
		}
		return exactlyOne(TagServiceName)
	}
	return nil
}

// NewPADT returns a PADT ending session id (RFC 2516 §5.5). A non-empty
// reason is carried in a Generic-Error tag, as rp-pppoe does.
func NewPADT(dst, src net.HardwareAddr, session uint16, reason string) *Discovery {
	d := &Discovery{Dst: dst, Src: src, Code: CodePADT, SessionID: session}
	if reason != "" {
		d.Tags = []Tag{NewStringTag(TagGenericError, reason)}
	}
	return d
}
