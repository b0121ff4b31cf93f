package nas

import (
	"encoding/binary"
	"time"

	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// handleSession handles a session-stage frame (RFC 2516 §6).
func (s *Server) handleSession(f, out []byte) []byte {
	sf, err := pppoe.ParseSession(f)
	if err != nil {
		s.stats.badFrames.Add(1)
		return out
	}
	ss := s.lookup(sf.SessionID(), sf.Src())
	if ss == nil {
		s.stats.unknownSession.Add(1)
		return out
	}
	proto, info, err := ppp.SplitProtocol(sf.Payload())
	if err != nil {
		s.stats.badFrames.Add(1)
		return out
	}
	now := time.Now()
	ss.mu.Lock()
	out = ss.onPPP(now, proto, info, out)
	ss.mu.Unlock()
	return out
}

// onIP counts an IP packet from the subscriber (the PPP information
// field: DESIGN.md "Usage", input = from the subscriber) and answers it
// when it is an ICMP echo request or a datagram to the UDP echo port,
// counting the answer as output. Anything else is sunk.
func (ss *session) onIP(now time.Time, ip, out []byte) []byte {
	s := ss.srv
	if ss.phase != phaseUp {
		s.stats.ipDropped.Add(1)
		return out
	}
	ss.inOctets += uint64(len(ip))
	ss.inPkts++
	ss.lastInput = now
	s.stats.ipIn.Add(1)

	out = append(out[:0], ss.peer[:]...)
	out = append(out, s.mac...)
	out = append(out, 0x88, 0x64, pppoe.VerType, 0, byte(ss.id>>8), byte(ss.id), 0, 0, 0x00, 0x21)
	start := len(out)
	out = append(out, ip...)
	if !echoReply(out[start:], s.cfg.EchoPort) {
		return out
	}
	binary.BigEndian.PutUint16(out[18:20], uint16(len(out)-pppoe.FrameHeaderLen))
	ss.outOctets += uint64(len(ip))
	ss.outPkts++
	s.stats.ipOut.Add(1)
	s.write(out)
	return out
}

// echoReply turns p, an IPv4 packet, into its answer in place: an ICMP
// echo reply (RFC 792) to an echo request, or the datagram sent back to a
// UDP echo port (RFC 862). It reports false for anything else. Swapping
// addresses and ports changes neither the IP header checksum nor the UDP
// checksum (both are sums over the swapped fields); the ICMP checksum is
// computed again.
func echoReply(p []byte, echoPort uint16) bool {
	if len(p) < 20 || p[0]>>4 != 4 {
		return false
	}
	ihl := int(p[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(p[2:4]))
	if ihl < 20 || total < ihl || total > len(p) {
		return false
	}
	if binary.BigEndian.Uint16(p[6:8])&0x3fff != 0 {
		return false // a fragment: sunk
	}
	body := p[ihl:total]
	switch p[9] {
	case 1: // ICMP
		if len(body) < 8 || body[0] != 8 || body[1] != 0 {
			return false
		}
		body[0] = 0
		body[2], body[3] = 0, 0
		binary.BigEndian.PutUint16(body[2:4], checksum(body))
	case 17: // UDP
		if len(body) < 8 || binary.BigEndian.Uint16(body[2:4]) != echoPort {
			return false
		}
		body[0], body[1], body[2], body[3] = body[2], body[3], body[0], body[1]
	default:
		return false
	}
	var a [4]byte
	copy(a[:], p[12:16])
	copy(p[12:16], p[16:20])
	copy(p[16:20], a[:])
	return true
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var sum uint32
	for len(b) >= 2 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
