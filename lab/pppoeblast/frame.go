package pppoeblast

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
)

// Ethertypes (RFC 2516 §4).
const (
	EtherTypeDiscovery = 0x8863
	EtherTypeSession   = 0x8864
)

// Discovery codes (RFC 2516 §5).
const (
	CodePADI = 0x09
	CodePADO = 0x07
	CodePADR = 0x19
	CodePADS = 0x65
	CodePADT = 0xa7
)

// Tag types (RFC 2516 Appendix A).
const (
	TagEndOfList      = 0x0000
	TagServiceName    = 0x0101
	TagACName         = 0x0102
	TagHostUniq       = 0x0103
	TagACCookie       = 0x0104
	TagRelaySessionID = 0x0110
)

const (
	ethHeaderLen   = 14
	pppoeHeaderLen = 6
	// SeqOffset is where a session frame's sequence number sits: after
	// the Ethernet, PPPoE, PPP, IPv4 and UDP headers.
	SeqOffset = ethHeaderLen + pppoeHeaderLen + 2 + 20 + 8
	// MinFrame is the smallest session frame Blast sends.
	MinFrame = SeqOffset + 8
	// MaxFrame is the largest: a 1500-octet PPPoE MTU (RFC 2516 §7).
	MaxFrame = ethHeaderLen + 1500
)

// Errors.
var (
	ErrNotPPPoE = errors.New("pppoeblast: not a PPPoE frame")
	ErrBadTags  = errors.New("pppoeblast: malformed tags")
)

// Broadcast is the Ethernet broadcast address PADI goes to.
var Broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// Tag is one discovery tag.
type Tag struct {
	Type  uint16
	Value []byte
}

// Discovery is a parsed discovery frame; its slices alias the frame.
type Discovery struct {
	Dst, Src net.HardwareAddr
	Code     uint8
	Session  uint16
	Tags     []Tag
}

// Tag returns the first tag of type typ.
func (d *Discovery) Tag(typ uint16) (Tag, bool) {
	for _, t := range d.Tags {
		if t.Type == typ {
			return t, true
		}
	}
	return Tag{}, false
}

// AppendDiscovery appends a discovery frame to b.
func AppendDiscovery(b []byte, dst, src net.HardwareAddr, code uint8, session uint16, tags []Tag) []byte {
	b = append(b, dst[:6]...)
	b = append(b, src[:6]...)
	b = binary.BigEndian.AppendUint16(b, EtherTypeDiscovery)
	b = append(b, 0x11, code)
	b = binary.BigEndian.AppendUint16(b, session)
	lenAt := len(b)
	b = append(b, 0, 0)
	for _, t := range tags {
		b = binary.BigEndian.AppendUint16(b, t.Type)
		b = binary.BigEndian.AppendUint16(b, uint16(len(t.Value)))
		b = append(b, t.Value...)
	}
	binary.BigEndian.PutUint16(b[lenAt:], uint16(len(b)-lenAt-2))
	return b
}

// ParseDiscovery parses a discovery frame; the result aliases b.
func ParseDiscovery(b []byte) (Discovery, error) {
	var d Discovery
	if len(b) < ethHeaderLen+pppoeHeaderLen {
		return d, io.ErrUnexpectedEOF
	}
	if binary.BigEndian.Uint16(b[12:]) != EtherTypeDiscovery || b[14] != 0x11 {
		return d, ErrNotPPPoE
	}
	d.Dst, d.Src = net.HardwareAddr(b[0:6]), net.HardwareAddr(b[6:12])
	d.Code = b[15]
	d.Session = binary.BigEndian.Uint16(b[16:])
	n := int(binary.BigEndian.Uint16(b[18:]))
	p := b[ethHeaderLen+pppoeHeaderLen:]
	if len(p) < n {
		return d, io.ErrUnexpectedEOF
	}
	p = p[:n]
	for len(p) > 0 {
		if len(p) < 4 {
			return d, ErrBadTags
		}
		typ, l := binary.BigEndian.Uint16(p), int(binary.BigEndian.Uint16(p[2:]))
		if len(p) < 4+l {
			return d, ErrBadTags
		}
		if typ == TagEndOfList {
			break
		}
		d.Tags = append(d.Tags, Tag{Type: typ, Value: p[4 : 4+l]})
		p = p[4+l:]
	}
	return d, nil
}

// AppendSessionFrame appends a session frame of size octets (MinFrame to
// MaxFrame) for session from src to dst, carrying PPP protocol 0x0021 and
// an IPv4/UDP packet with sequence number seq at SeqOffset.
func AppendSessionFrame(b []byte, dst, src net.HardwareAddr, session uint16, size int, seq uint64) []byte {
	size = max(MinFrame, min(size, MaxFrame))
	start := len(b)
	b = append(b, dst[:6]...)
	b = append(b, src[:6]...)
	b = binary.BigEndian.AppendUint16(b, EtherTypeSession)
	b = append(b, 0x11, 0x00)
	b = binary.BigEndian.AppendUint16(b, session)
	b = binary.BigEndian.AppendUint16(b, uint16(size-ethHeaderLen-pppoeHeaderLen))
	b = append(b, 0x00, 0x21) // PPP: IPv4
	ipLen := size - ethHeaderLen - pppoeHeaderLen - 2
	ip := len(b)
	b = append(b,
		0x45, 0x00, byte(ipLen>>8), byte(ipLen), // version, IHL, TOS, total length
		0x00, 0x00, 0x40, 0x00, // id, don't fragment
		0x40, 0x11, 0x00, 0x00, // TTL 64, UDP, checksum (below)
		100, 64, 0, 2, // from a CGNAT subscriber address
		198, 51, 100, 1, // to a documentation address (RFC 5737)
	)
	binary.BigEndian.PutUint16(b[ip+10:], ipChecksum(b[ip:ip+20]))
	udpLen := ipLen - 20
	b = append(b, 0x9c, 0x40, 0x00, 0x09, byte(udpLen>>8), byte(udpLen), 0, 0) // 40000 -> discard, no checksum
	b = binary.BigEndian.AppendUint64(b, seq)
	for len(b)-start < size {
		b = append(b, 0)
	}
	return b
}

// SetSeq rewrites the sequence number of a frame made by
// AppendSessionFrame.
func SetSeq(frame []byte, seq uint64) {
	binary.BigEndian.PutUint64(frame[SeqOffset:], seq)
}

// ParseSessionFrame returns a session frame's session id and, if it is
// one of ours (IPv4 long enough), its sequence number.
func ParseSessionFrame(b []byte) (session uint16, seq uint64, ours bool, err error) {
	if len(b) < ethHeaderLen+pppoeHeaderLen {
		return 0, 0, false, io.ErrUnexpectedEOF
	}
	if binary.BigEndian.Uint16(b[12:]) != EtherTypeSession || b[14] != 0x11 || b[15] != 0 {
		return 0, 0, false, ErrNotPPPoE
	}
	session = binary.BigEndian.Uint16(b[16:])
	if len(b) < MinFrame || b[20] != 0x00 || b[21] != 0x21 {
		return session, 0, false, nil
	}
	return session, binary.BigEndian.Uint64(b[SeqOffset:]), true, nil
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}
