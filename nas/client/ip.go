package client

import (
	"encoding/binary"
	"net/netip"
)

// UDPPacket returns an IPv4 packet of size octets in total (at least 28)
// carrying a UDP datagram from src:sport to dst:dport, with valid IP and
// UDP checksums. The payload is a counter pattern.
func UDPPacket(src, dst netip.Addr, sport, dport uint16, size int) []byte {
	size = max(size, 28)
	p := make([]byte, size)
	ipHeader(p, src, dst, 17)
	u := p[20:]
	binary.BigEndian.PutUint16(u[0:2], sport)
	binary.BigEndian.PutUint16(u[2:4], dport)
	binary.BigEndian.PutUint16(u[4:6], uint16(len(u)))
	for i := 8; i < len(u); i++ {
		u[i] = byte(i)
	}
	// Checksum over the pseudo-header (RFC 768) and the datagram.
	var sum uint32
	s4, d4 := src.As4(), dst.As4()
	sum += uint32(binary.BigEndian.Uint16(s4[0:2])) + uint32(binary.BigEndian.Uint16(s4[2:4]))
	sum += uint32(binary.BigEndian.Uint16(d4[0:2])) + uint32(binary.BigEndian.Uint16(d4[2:4]))
	sum += 17 + uint32(len(u))
	c := fold(sum + partial(u))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:8], c)
	return p
}

// ICMPEcho returns an IPv4 ICMP echo request (RFC 792) of size octets in
// total (at least 28).
func ICMPEcho(src, dst netip.Addr, id, seq uint16, size int) []byte {
	size = max(size, 28)
	p := make([]byte, size)
	ipHeader(p, src, dst, 1)
	m := p[20:]
	m[0] = 8
	binary.BigEndian.PutUint16(m[4:6], id)
	binary.BigEndian.PutUint16(m[6:8], seq)
	for i := 8; i < len(m); i++ {
		m[i] = byte(i)
	}
	binary.BigEndian.PutUint16(m[2:4], fold(partial(m)))
	return p
}

func ipHeader(p []byte, src, dst netip.Addr, proto byte) {
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:4], uint16(len(p)))
	p[8] = 64
	p[9] = proto
	s4, d4 := src.As4(), dst.As4()
	copy(p[12:16], s4[:])
	copy(p[16:20], d4[:])
	binary.BigEndian.PutUint16(p[10:12], fold(partial(p[:20])))
}

func partial(b []byte) uint32 {
	var sum uint32
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
