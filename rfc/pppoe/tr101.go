package pppoe

import (
	"encoding"
	"fmt"
)

// EnterpriseBBF is the IANA enterprise number of the Broadband Forum
// (formerly ADSL Forum, DSL Forum), the vendor id of the TR-101 PPPoE
// Intermediate Agent's Vendor-Specific tag (0x00000de9).
const EnterpriseBBF uint32 = 3561

// MaxAgentIDLen is the longest Agent-Circuit-Id or Agent-Remote-Id TR-101
// allows. The codec itself only enforces the 255 octets the wire allows;
// NewTR101 enforces this.
const MaxAgentIDLen = 63

// SubOptionType is the type octet of a TR-101 sub-option inside the
// Broadband Forum Vendor-Specific tag.
type SubOptionType uint8

// TR-101 sub-options (the numbering TR-101 shares with DHCP option 82
// sub-options, RFC 3046 §3). Access-loop characteristics (0x81 and up)
// and any other sub-option are kept raw.
const (
	AgentCircuitID SubOptionType = 0x01
	AgentRemoteID  SubOptionType = 0x02
)

// String returns "Agent-Circuit-Id", "Agent-Remote-Id" or the value in hex.
func (t SubOptionType) String() string {
	switch t {
	case AgentCircuitID:
		return "Agent-Circuit-Id"
	case AgentRemoteID:
		return "Agent-Remote-Id"
	}
	return fmt.Sprintf("SubOptionType(0x%02x)", uint8(t))
}

// SubOption is one TR-101 sub-option: a type octet, a length octet, and
// Value.
type SubOption struct {
	Type  SubOptionType
	Value []byte
}

// TR101 is the line identification a TR-101 PPPoE Intermediate Agent (an
// access node, or edgebill's relay) inserts in PADI and PADR: a
// Vendor-Specific tag whose value is the vendor id 3561 followed by
// sub-options, kept in order so parsing and encoding round-trip byte for
// byte.
//
//	+--------+--------+--------+--------+
//	|  0x00  |   0x00000de9 (3561)      |  vendor id
//	+--------+--------+--------+--------+
//	|  0x01  | length | Agent-Circuit-Id ...
//	+--------+--------+--------+--------+
//	|  0x02  | length | Agent-Remote-Id ...
//	+--------+--------+--------+--------+
type TR101 struct {
	Options []SubOption
}

var (
	_ encoding.BinaryAppender    = (*TR101)(nil)
	_ encoding.BinaryMarshaler   = (*TR101)(nil)
	_ encoding.BinaryUnmarshaler = (*TR101)(nil)
)

// NewTR101 returns the sub-options for a circuit id and a remote id,
// leaving out an empty one. Either longer than MaxAgentIDLen is an error
// wrapping ErrTooLong.
func NewTR101(circuitID, remoteID string) (TR101, error) {
	var v TR101
	for _, o := range []struct {
		t SubOptionType
		s string
	}{{AgentCircuitID, circuitID}, {AgentRemoteID, remoteID}} {
		if o.s == "" {
			continue
		}
		if len(o.s) > MaxAgentIDLen {
			return TR101{}, fmt.Errorf("%w: %d-octet %v, TR-101 allows %d", ErrTooLong, len(o.s), o.t, MaxAgentIDLen)
		}
		v.Options = append(v.Options, SubOption{Type: o.t, Value: []byte(o.s)})
	}
	return v, nil
}

// option returns the first sub-option of type t.
func (v *TR101) option(t SubOptionType) (string, bool) {
	for _, o := range v.Options {
		if o.Type == t {
			return string(o.Value), true
		}
	}
	return "", false
}

// CircuitID returns the first Agent-Circuit-Id.
func (v *TR101) CircuitID() (string, bool) { return v.option(AgentCircuitID) }

// RemoteID returns the first Agent-Remote-Id.
func (v *TR101) RemoteID() (string, bool) { return v.option(AgentRemoteID) }

// AppendBinary appends the Vendor-Specific tag's value (vendor id, then the
// sub-options) to b. A sub-option longer than 255 octets is an error
// wrapping ErrTooLong, and b is returned unchanged.
func (v *TR101) AppendBinary(b []byte) ([]byte, error) {
	for _, o := range v.Options {
		if len(o.Value) > 0xff {
			return b, fmt.Errorf("%w: %d-octet %v sub-option", ErrTooLong, len(o.Value), o.Type)
		}
	}
	id := EnterpriseBBF
	b = append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	for _, o := range v.Options {
		b = append(b, byte(o.Type), byte(len(o.Value)))
		b = append(b, o.Value...)
	}
	return b, nil
}

// MarshalBinary returns the tag value: AppendBinary(nil).
func (v *TR101) MarshalBinary() ([]byte, error) { return v.AppendBinary(nil) }

// UnmarshalBinary parses a Vendor-Specific tag's value. It returns an
// error wrapping ErrNotTR101 if the vendor id is not 3561, and one
// wrapping ErrSubOption if a sub-option runs past the end. v does not
// alias b. A sub-option with no value has a nil Value.
func (v *TR101) UnmarshalBinary(b []byte) error {
	if len(b) < 4 {
		return fmt.Errorf("%w: %d-octet value has no vendor id", ErrNotTR101, len(b))
	}
	if id := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]); id != EnterpriseBBF {
		return fmt.Errorf("%w: vendor id %d", ErrNotTR101, id)
	}
	n := 0
	for p := b[4:]; len(p) > 0; n++ {
		if len(p) < 2 || int(p[1]) > len(p)-2 {
			return fmt.Errorf("%w: at offset %d", ErrSubOption, len(b)-len(p))
		}
		p = p[2+int(p[1]):]
	}
	var opts []SubOption
	if n > 0 {
		buf := append([]byte(nil), b[4:]...)
		opts = make([]SubOption, 0, n)
		for p := buf; len(p) > 0; {
			l := int(p[1])
			o := SubOption{Type: SubOptionType(p[0])}
			if l > 0 {
				o.Value = p[2 : 2+l : 2+l]
			}
			opts = append(opts, o)
			p = p[2+l:]
		}
	}
	*v = TR101{Options: opts}
	return nil
}

// Tag returns v as a Vendor-Specific tag.
func (v *TR101) Tag() (Tag, error) {
	b, err := v.AppendBinary(nil)
	if err != nil {
		return Tag{}, err
	}
	return Tag{Type: TagVendorSpecific, Value: b}, nil
}

// isBBF reports whether t is a Vendor-Specific tag of the Broadband Forum.
func isBBF(t Tag) bool {
	id, ok := t.VendorID()
	return ok && id == EnterpriseBBF
}

// TR101 returns the line identification in the first Broadband Forum
// Vendor-Specific tag. ok is false if there is none; err is not nil if
// there is one and it is malformed.
func (d *Discovery) TR101() (v TR101, ok bool, err error) {
	for _, t := range d.live() {
		if isBBF(t) {
			err = v.UnmarshalBinary(t.Value)
			return v, true, err
		}
	}
	return TR101{}, false, nil
}

// SetTR101 replaces every Broadband Forum Vendor-Specific tag by one
// carrying v, as a TR-101 intermediate agent must not pass on the line
// identification a subscriber sent; other vendors' tags stay.
func (d *Discovery) SetTR101(v TR101) error {
	t, err := v.Tag()
	if err != nil {
		return err
	}
	d.RemoveTagsFunc(isBBF)
	d.AddTag(t)
	return nil
}
