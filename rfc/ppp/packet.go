package ppp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Errors for protocol violations. Truncated input is reported as
// io.ErrUnexpectedEOF; all errors are wrapped with the package prefix.
var (
	// ErrInvalidProtocol is a Protocol field that breaks RFC 1661 §2.
	ErrInvalidProtocol = errors.New("ppp: invalid protocol field")
	// ErrBadLength is a packet Length field below the header size
	// (RFC 1661 §5: such a packet is silently discarded).
	ErrBadLength = errors.New("ppp: bad length field")
	// ErrBadOptionLength is a Configuration Option whose Length is below
	// 2 or runs past the packet (RFC 1661 §6).
	ErrBadOptionLength = errors.New("ppp: bad option length")
	// ErrOptionData is an option whose data has the wrong size for its
	// type (RFC 1661 §6.1-6.6, RFC 1332 §3.3, RFC 1877 §1).
	ErrOptionData = errors.New("ppp: bad option data")
	// ErrUnknownCode is a PAP or CHAP packet with a code the RFC does
	// not define.
	ErrUnknownCode = errors.New("ppp: unknown code")
	// ErrTooLong is a value that does not fit its length field when
	// encoding.
	ErrTooLong = errors.New("ppp: value too long for its length field")
	// ErrMalformed is a packet whose fields are inconsistent with each
	// other (a PAP or CHAP length octet running past the packet).
	ErrMalformed = errors.New("ppp: malformed packet")
)

// headerLen is the size of Code, Identifier and Length (RFC 1661 §5).
const headerLen = 4

// Code is the Code field of an LCP or NCP packet (RFC 1661 §5; IPCP uses
// codes 1-7, RFC 1332 §2). Zero is not a defined code.
type Code uint8

// Control protocol codes (RFC 1661 §5).
const (
	CodeConfigureRequest Code = 1  // §5.1
	CodeConfigureAck     Code = 2  // §5.2
	CodeConfigureNak     Code = 3  // §5.3
	CodeConfigureReject  Code = 4  // §5.4
	CodeTerminateRequest Code = 5  // §5.5
	CodeTerminateAck     Code = 6  // §5.5
	CodeCodeReject       Code = 7  // §5.6
	CodeProtocolReject   Code = 8  // §5.7, LCP only
	CodeEchoRequest      Code = 9  // §5.8, LCP only
	CodeEchoReply        Code = 10 // §5.8, LCP only
	CodeDiscardRequest   Code = 11 // §5.9, LCP only
)

// String returns the code's RFC 1661 name.
func (c Code) String() string {
	switch c {
	case CodeConfigureRequest:
		return "Configure-Request"
	case CodeConfigureAck:
		return "Configure-Ack"
	case CodeConfigureNak:
		return "Configure-Nak"
	case CodeConfigureReject:
		return "Configure-Reject"
	case CodeTerminateRequest:
		return "Terminate-Request"
	case CodeTerminateAck:
		return "Terminate-Ack"
	case CodeCodeReject:
		return "Code-Reject"
	case CodeProtocolReject:
		return "Protocol-Reject"
	case CodeEchoRequest:
		return "Echo-Request"
	case CodeEchoReply:
		return "Echo-Reply"
	case CodeDiscardRequest:
		return "Discard-Request"
	}
	return fmt.Sprintf("Code(%d)", uint8(c))
}

// HasOptions reports whether packets with this code carry Configuration
// Options (Configure-Request, -Ack, -Nak, -Reject; RFC 1661 §5.1-5.4).
func (c Code) HasOptions() bool { return c >= CodeConfigureRequest && c <= CodeConfigureReject }

// Option is one Configuration Option (RFC 1661 §6): Type, Length and Data,
// where Length is implied by len(Data). Options are kept raw so that a
// parsed packet re-encodes byte for byte; a Configure-Reject or
// Configure-Ack is built from the options as received. The meaning of
// Type depends on the protocol: see LCPOptionType and IPCPOptionType, and
// the typed constructors and accessors in lcp.go and ipcp.go.
type Option struct {
	Type uint8
	Data []byte
}

// Equal reports whether o and x are the same option, byte for byte.
func (o Option) Equal(x Option) bool { return o.Type == x.Type && bytes.Equal(o.Data, x.Data) }

// maxOptionData is the largest Data an option's one-octet Length allows.
const maxOptionData = 255 - 2

// AppendOptions appends opts in wire form to b.
func AppendOptions(b []byte, opts []Option) ([]byte, error) {
	for _, o := range opts {
		if len(o.Data) > maxOptionData {
			return b, fmt.Errorf("%w: option %d has %d octets of data", ErrTooLong, o.Type, len(o.Data))
		}
		b = append(b, o.Type, byte(2+len(o.Data)))
		b = append(b, o.Data...)
	}
	return b, nil
}

// ParseOptions decodes a Configuration Options field. The returned options
// alias b; nil is returned for an empty field.
func ParseOptions(b []byte) ([]Option, error) {
	n, err := countOptions(b)
	if err != nil || n == 0 {
		return nil, err
	}
	return fillOptions(make([]Option, 0, n), b), nil
}

// fillOptions appends the options in b, already checked by countOptions,
// to opts; their Data alias b.
func fillOptions(opts []Option, b []byte) []Option {
	for len(b) > 0 {
		l := int(b[1])
		o := Option{Type: b[0]}
		if l > 2 {
			o.Data = b[2:l:l]
		}
		opts = append(opts, o)
		b = b[l:]
	}
	return opts
}

// countOptions validates the option framing in b and counts the options.
func countOptions(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if len(b) < 2 {
			return 0, fmt.Errorf("%w: option header truncated", ErrBadOptionLength)
		}
		l := int(b[1])
		if l < 2 || l > len(b) {
			return 0, fmt.Errorf("%w: option %d length %d with %d octets left", ErrBadOptionLength, b[0], l, len(b))
		}
		b = b[l:]
		n++
	}
	return n, nil
}

// Packet is an LCP or NCP (IPCP) packet (RFC 1661 §5): the shape every
// control protocol run by the option negotiation automaton shares.
//
// For the Configure codes (1-4) the body is Options; for every other code
// it is Data, kept raw: Terminate data, the rejected packet of a
// Code-Reject, the Rejected-Protocol and information of a Protocol-Reject,
// the Magic-Number and data of an Echo or Discard (see the accessors
// below), or the body of a code this package does not know, so that a
// Code-Reject can be built from it.
type Packet struct {
	Code       Code
	Identifier uint8
	Options    []Option
	Data       []byte
}

// Len returns the packet's encoded length, the value of its Length field.
func (p *Packet) Len() int {
	n := headerLen + len(p.Data)
	for _, o := range p.Options {
		n += 2 + len(o.Data)
	}
	return n
}

// AppendBinary appends the encoded packet to b. The Length field is
// back-patched after the body.
func (p *Packet) AppendBinary(b []byte) ([]byte, error) {
	if p.Code.HasOptions() && len(p.Data) > 0 {
		return b, fmt.Errorf("ppp: %v carries options, not data", p.Code)
	}
	if !p.Code.HasOptions() && len(p.Options) > 0 {
		return b, fmt.Errorf("ppp: %v carries data, not options", p.Code)
	}
	start := len(b)
	b = append(b, byte(p.Code), p.Identifier, 0, 0)
	var err error
	if b, err = AppendOptions(b, p.Options); err != nil {
		return b[:start], err
	}
	b = append(b, p.Data...)
	n := len(b) - start
	if n > 0xffff {
		return b[:start], fmt.Errorf("%w: packet of %d octets", ErrTooLong, n)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(n))
	return b, nil
}

// MarshalBinary encodes the packet.
func (p *Packet) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// UnmarshalBinary decodes a packet, copying what it keeps from b. Octets
// beyond the Length field are padding and ignored (RFC 1661 §5).
func (p *Packet) UnmarshalBinary(b []byte) error {
	body, err := splitHeader(b)
	if err != nil {
		return err
	}
	*p = Packet{Code: Code(b[0]), Identifier: b[1]}
	if len(body) == 0 {
		return nil
	}
	if !p.Code.HasOptions() {
		p.Data = append([]byte(nil), body...)
		return nil
	}
	n, err := countOptions(body)
	if err != nil {
		return err
	}
	// One copy of the body backs every option's Data, and the slice is
	// sized once: two allocations per packet however many options.
	p.Options = fillOptions(make([]Option, 0, n), append([]byte(nil), body...))
	return nil
}

// splitHeader checks the Length field of a control packet (RFC 1661 §5)
// and returns the body it delimits.
func splitHeader(b []byte) ([]byte, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("ppp: packet header: %w", io.ErrUnexpectedEOF)
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if n < headerLen {
		return nil, fmt.Errorf("%w: %d", ErrBadLength, n)
	}
	if n > len(b) {
		return nil, fmt.Errorf("ppp: packet length %d with %d octets: %w", n, len(b), io.ErrUnexpectedEOF)
	}
	return b[headerLen:n], nil
}

// Option returns the first option of type t and whether there is one.
func (p *Packet) Option(t uint8) (Option, bool) {
	for _, o := range p.Options {
		if o.Type == t {
			return o, true
		}
	}
	return Option{}, false
}

// Magic returns the Magic-Number of an Echo-Request, Echo-Reply or
// Discard-Request (RFC 1661 §5.8, §5.9) and the data after it.
func (p *Packet) Magic() (magic uint32, data []byte, err error) {
	switch p.Code {
	case CodeEchoRequest, CodeEchoReply, CodeDiscardRequest:
	default:
		return 0, nil, fmt.Errorf("ppp: %v has no Magic-Number", p.Code)
	}
	if len(p.Data) < 4 {
		return 0, nil, fmt.Errorf("ppp: %v magic number: %w", p.Code, io.ErrUnexpectedEOF)
	}
	return binary.BigEndian.Uint32(p.Data), p.Data[4:], nil
}

// RejectedProtocol returns the Rejected-Protocol of a Protocol-Reject and
// the Rejected-Information after it (RFC 1661 §5.7).
func (p *Packet) RejectedProtocol() (Protocol, []byte, error) {
	if p.Code != CodeProtocolReject {
		return 0, nil, fmt.Errorf("ppp: %v has no Rejected-Protocol", p.Code)
	}
	if len(p.Data) < 2 {
		return 0, nil, fmt.Errorf("ppp: Protocol-Reject: %w", io.ErrUnexpectedEOF)
	}
	return Protocol(binary.BigEndian.Uint16(p.Data)), p.Data[2:], nil
}

// EchoRequest builds an LCP Echo-Request (RFC 1661 §5.8). magic is the
// sender's negotiated Magic-Number, or zero when none was negotiated.
func EchoRequest(id uint8, magic uint32, data []byte) Packet {
	return Packet{Code: CodeEchoRequest, Identifier: id, Data: magicData(magic, data)}
}

// EchoReply builds the LCP Echo-Reply to req (RFC 1661 §5.8): the same
// Identifier and data, with our own Magic-Number.
func EchoReply(req *Packet, magic uint32) Packet {
	var data []byte
	if len(req.Data) > 4 {
		data = req.Data[4:]
	}
	return Packet{Code: CodeEchoReply, Identifier: req.Identifier, Data: magicData(magic, data)}
}

// DiscardRequest builds an LCP Discard-Request (RFC 1661 §5.9).
func DiscardRequest(id uint8, magic uint32, data []byte) Packet {
	return Packet{Code: CodeDiscardRequest, Identifier: id, Data: magicData(magic, data)}
}

// ProtocolReject builds an LCP Protocol-Reject (RFC 1661 §5.7) for a
// frame of protocol proto whose information field is info; info is
// truncated so the packet fits mru octets.
func ProtocolReject(id uint8, proto Protocol, info []byte, mru int) Packet {
	d := make([]byte, 2, 2+len(info))
	binary.BigEndian.PutUint16(d, uint16(proto))
	d = append(d, info...)
	return Packet{Code: CodeProtocolReject, Identifier: id, Data: truncate(d, mru-headerLen)}
}

// CodeReject builds a Code-Reject (RFC 1661 §5.6) carrying the rejected
// packet (from its Code field on), truncated so the packet fits mru octets.
func CodeReject(id uint8, rejected []byte, mru int) Packet {
	return Packet{Code: CodeCodeReject, Identifier: id, Data: append([]byte(nil), truncate(rejected, mru-headerLen)...)}
}

func truncate(b []byte, n int) []byte {
	if n < 0 {
		n = 0
	}
	if len(b) > n {
		return b[:n]
	}
	return b
}

func magicData(magic uint32, data []byte) []byte {
	d := make([]byte, 4, 4+len(data))
	binary.BigEndian.PutUint32(d, magic)
	return append(d, data...)
}
