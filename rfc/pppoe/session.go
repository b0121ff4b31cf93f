package pppoe

import (
	"encoding"
	"fmt"
	"io"
	"net"
	"slices"
)

// Session is a session-stage frame (ethertype 0x8864, CODE 0) carrying one
// PPP frame (RFC 2516 §6). Payload starts with the PPP protocol field;
// rfc/ppp decodes it.
type Session struct {
	Dst, Src  net.HardwareAddr
	SessionID uint16
	Payload   []byte
}

var (
	_ encoding.BinaryAppender    = (*Session)(nil)
	_ encoding.BinaryMarshaler   = (*Session)(nil)
	_ encoding.BinaryUnmarshaler = (*Session)(nil)
)

// AppendBinary appends the frame, Ethernet header included, to b. It
// returns b unchanged and an error if a MAC is not 6 octets or the payload
// exceeds 65535 octets.
func (s *Session) AppendBinary(b []byte) ([]byte, error) {
	if err := checkMAC("destination", s.Dst); err != nil {
		return b, err
	}
	if err := checkMAC("source", s.Src); err != nil {
		return b, err
	}
	if len(s.Payload) > maxLength {
		return b, fmt.Errorf("%w: %d-octet session payload", ErrTooLong, len(s.Payload))
	}
	start := len(b)
	b = slices.Grow(b, FrameHeaderLen+len(s.Payload))
	b = appendFrameHeader(b, s.Dst, s.Src, EtherTypeSession, CodeSession, s.SessionID)
	b = append(b, s.Payload...)
	putLength(b, start, len(s.Payload))
	return b, nil
}

// MarshalBinary returns the encoded frame: AppendBinary(nil).
func (s *Session) MarshalBinary() ([]byte, error) {
	return s.AppendBinary(nil)
}

// UnmarshalBinary parses a session frame that starts with its Ethernet
// header, with the checks of ParseSession. s does not alias b: the MACs
// and payload are copied into one new buffer. A frame with an empty
// payload leaves Payload nil.
func (s *Session) UnmarshalBinary(b []byte) error {
	f, err := ParseSession(b)
	if err != nil {
		return err
	}
	buf := slices.Clone([]byte(f))
	*s = Session{
		Dst:       net.HardwareAddr(buf[0:6:6]),
		Src:       net.HardwareAddr(buf[6:12:12]),
		SessionID: f.SessionID(),
	}
	if len(buf) > FrameHeaderLen {
		s.Payload = buf[FrameHeaderLen:]
	}
	return nil
}

// SessionFrame is a zero-copy view of a session-stage frame, Ethernet
// header included, for a relay's fast path: ParseSession checks it once,
// its getters read the frame in place and its setters write into it.
//
// A SessionFrame aliases the buffer it was parsed from: it is valid only
// while that buffer is not reused, and writes through it (SetDst, SetSrc,
// SetSessionID, or into Payload) change that buffer.
type SessionFrame []byte

// ParseSession checks that b begins with a session-stage frame: at least
// the 20 header octets, ethertype 0x8864, VER/TYPE 1/1, CODE 0, and a
// LENGTH that fits in b. It returns b cut to the end of the PPPoE payload
// (dropping Ethernet padding) as a SessionFrame aliasing b. It allocates
// nothing when the frame is good.
func ParseSession(b []byte) (SessionFrame, error) {
	if len(b) < FrameHeaderLen {
		return nil, errShortSession(len(b))
	}
	if b[12] != 0x88 || b[13] != 0x64 {
		return nil, fmt.Errorf("%w: %v, want %v", ErrEtherType, EtherType(be16(b[12:])), EtherTypeSession)
	}
	if b[14] != VerType {
		return nil, fmt.Errorf("%w: version %d, type %d", ErrVersionType, b[14]>>4, b[14]&0x0f)
	}
	if b[15] != byte(CodeSession) {
		return nil, fmt.Errorf("%w: %v in a session frame", ErrCode, Code(b[15]))
	}
	end := FrameHeaderLen + int(be16(b[18:]))
	if end > len(b) {
		return nil, fmt.Errorf("pppoe: LENGTH %d but %d octets follow the header: %w",
			end-FrameHeaderLen, len(b)-FrameHeaderLen, io.ErrUnexpectedEOF)
	}
	return SessionFrame(b[:end]), nil
}

func errShortSession(n int) error {
	return fmt.Errorf("pppoe: %d-octet frame is shorter than the %d-octet headers: %w",
		n, FrameHeaderLen, io.ErrUnexpectedEOF)
}

// The getters and setters below index a frame ParseSession checked; on a
// SessionFrame made any other way they panic if it is shorter than its
// headers, like any out-of-range slice access.

// Dst returns the destination MAC; it aliases the frame.
func (f SessionFrame) Dst() net.HardwareAddr { return net.HardwareAddr(f[0:6:6]) }

// Src returns the source MAC; it aliases the frame.
func (f SessionFrame) Src() net.HardwareAddr { return net.HardwareAddr(f[6:12:12]) }

// SessionID returns the SESSION_ID.
func (f SessionFrame) SessionID() uint16 { return be16(f[16:18]) }

// Len returns the LENGTH field: the PPP payload's length in octets.
func (f SessionFrame) Len() int { return int(be16(f[18:20])) }

// Payload returns the PPP frame (protocol field first); it aliases the
// frame.
func (f SessionFrame) Payload() []byte { return f[FrameHeaderLen:] }

// SetDst writes the destination MAC in place; mac must be 6 octets (only
// its first 6 are copied).
func (f SessionFrame) SetDst(mac net.HardwareAddr) { copy(f[0:6], mac) }

// SetSrc writes the source MAC in place; mac must be 6 octets (only its
// first 6 are copied).
func (f SessionFrame) SetSrc(mac net.HardwareAddr) { copy(f[6:12], mac) }

// SetSessionID writes the SESSION_ID in place, for a relay that numbers
// sessions differently on its two sides.
func (f SessionFrame) SetSessionID(id uint16) {
	f[16] = byte(id >> 8)
	f[17] = byte(id)
}
