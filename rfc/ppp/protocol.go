package ppp

import (
	"fmt"
	"io"
)

// Protocol is the PPP Protocol field (RFC 1661 §2), which identifies the
// datagram in a frame's Information field. Zero is reserved and invalid.
type Protocol uint16

// Protocol numbers edgebill speaks or recognises (IANA "PPP DLL Protocol
// Numbers"; each cites the RFC that assigned it).
const (
	ProtoIPv4   Protocol = 0x0021 // Internet Protocol version 4 (RFC 1332 §1)
	ProtoIPv6   Protocol = 0x0057 // Internet Protocol version 6 (RFC 5072 §2)
	ProtoIPCP   Protocol = 0x8021 // IP Control Protocol (RFC 1332 §2)
	ProtoIPv6CP Protocol = 0x8057 // IPv6 Control Protocol (RFC 5072 §3)
	ProtoLCP    Protocol = 0xc021 // Link Control Protocol (RFC 1661 §5)
	ProtoPAP    Protocol = 0xc023 // Password Authentication Protocol (RFC 1334 §2.2)
	ProtoLQR    Protocol = 0xc025 // Link Quality Report (RFC 1989)
	ProtoCHAP   Protocol = 0xc223 // Challenge Handshake Authentication Protocol (RFC 1994 §4)
)

// String returns the protocol's name, or its number in hex.
func (p Protocol) String() string {
	switch p {
	case ProtoIPv4:
		return "IPv4"
	case ProtoIPv6:
		return "IPv6"
	case ProtoIPCP:
		return "IPCP"
	case ProtoIPv6CP:
		return "IPv6CP"
	case ProtoLCP:
		return "LCP"
	case ProtoPAP:
		return "PAP"
	case ProtoLQR:
		return "LQR"
	case ProtoCHAP:
		return "CHAP"
	}
	return fmt.Sprintf("Protocol(0x%04x)", uint16(p))
}

// Valid reports whether p is a well-formed Protocol value: RFC 1661 §2
// requires the least significant bit of the most significant octet to be
// 0 and the least significant bit of the least significant octet to be 1.
func (p Protocol) Valid() bool { return p&0x0100 == 0 && p&0x0001 == 1 }

// IsControl reports whether p is a control protocol run by the option
// negotiation automaton or an authentication protocol: values 0x8000 and
// above (RFC 1661 §2: 8xxx-bxxx are NCPs, cxxx-fxxx link-layer control).
func (p Protocol) IsControl() bool { return p >= 0x8000 }

// AppendProtocol appends p as the two-octet Protocol field. That is the
// only form edgebill sends: RFC 2516 §7 makes Protocol-Field-Compression
// NOT RECOMMENDED over PPPoE and RFC 1661 §6.5 forbids it for LCP.
func AppendProtocol(b []byte, p Protocol) []byte {
	return append(b, byte(p>>8), byte(p))
}

// SplitProtocol reads the Protocol field at the start of a PPP frame in
// the form PPPoE carries it (RFC 2516 §4: the payload begins with the
// Protocol field, no Address, Control or FCS). It accepts the one-octet
// form of Protocol-Field-Compression (RFC 1661 §6.6): a first octet with
// its least significant bit set is a whole Protocol value 0x00XX.
//
// The returned information field aliases b. SplitProtocol allocates
// nothing, so the relay may call it per frame.
func SplitProtocol(b []byte) (p Protocol, info []byte, err error) {
	if len(b) == 0 {
		return 0, nil, fmt.Errorf("ppp: protocol field: %w", io.ErrUnexpectedEOF)
	}
	if b[0]&1 == 1 {
		return Protocol(b[0]), b[1:], nil
	}
	if len(b) < 2 {
		return 0, nil, fmt.Errorf("ppp: protocol field: %w", io.ErrUnexpectedEOF)
	}
	p = Protocol(b[0])<<8 | Protocol(b[1])
	if !p.Valid() {
		return 0, nil, fmt.Errorf("%w: 0x%04x", ErrInvalidProtocol, uint16(p))
	}
	return p, b[2:], nil
}

// Frame is a PPP frame as carried in a PPPoE session payload (RFC 2516
// §4): the Protocol field and the Information field.
type Frame struct {
	Protocol Protocol
	// Compressed records that the Protocol field was (or is to be) sent
	// in its one-octet form (RFC 1661 §6.6). It only takes effect for
	// protocols below 0x0100.
	Compressed  bool
	Information []byte
}

// AppendBinary appends the frame to b.
func (f Frame) AppendBinary(b []byte) ([]byte, error) {
	if !f.Protocol.Valid() {
		return b, fmt.Errorf("%w: 0x%04x", ErrInvalidProtocol, uint16(f.Protocol))
	}
	if f.Compressed && f.Protocol < 0x100 {
		b = append(b, byte(f.Protocol))
	} else {
		b = AppendProtocol(b, f.Protocol)
	}
	return append(b, f.Information...), nil
}

// MarshalBinary encodes the frame.
func (f Frame) MarshalBinary() ([]byte, error) { return f.AppendBinary(nil) }

// UnmarshalBinary decodes a frame, copying its Information field.
func (f *Frame) UnmarshalBinary(b []byte) error {
	p, info, err := SplitProtocol(b)
	if err != nil {
		return err
	}
	*f = Frame{Protocol: p, Compressed: len(b)-len(info) == 1}
	if len(info) > 0 {
		f.Information = append([]byte(nil), info...)
	}
	return nil
}
