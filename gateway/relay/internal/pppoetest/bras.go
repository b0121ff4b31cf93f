package pppoetest

import (
	"crypto/rand"
	"net"
	"net/netip"
	"sync"

	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// Usage is what a BRAS counted for a session: IP octets (the PPP
// payload without its protocol field) and packets, in = from the
// subscriber.
type Usage struct {
	InOctets, OutOctets, InPackets, OutPackets uint64
}

// BRAS is a scripted access concentrator: it answers discovery, LCP,
// PAP or CHAP (accepting any password; refusing users in Refuse), IPCP
// (handing out 10.64.0.N), LCP echo and Terminate, and counts IP.
type BRAS struct {
	endpoint
	ACName string
	// Auth is what it asks in LCP: ppp.AuthPAP or ppp.AuthCHAPMD5.
	Auth ppp.Auth
	// Echo sends every IP packet back to the subscriber.
	Echo bool
	// Refuse lists user names it refuses (PAP-Nak, CHAP-Failure).
	Refuse map[string]bool
	// CountIP off leaves IP frames uncounted and unread (benchmarks:
	// the BRAS's socket filter should then drop them).
	CountIP bool

	mu       sync.Mutex
	next     uint16
	sessions map[uint16]*brasSession
	// Recorded for tests.
	PADIs, PADRs, PADTs []*pppoe.Discovery
	Users               []string // every user name credentials came for
	Garbage             int      // frames it could not make sense of
}

type brasSession struct {
	peer       net.HardwareAddr
	usage      Usage
	lcpSent    bool
	ipcpSent   bool
	challenge  []byte
	addr       netip.Addr
	terminated bool
}

// NewBRAS starts a BRAS on link with MAC mac.
func NewBRAS(link Link, mac net.HardwareAddr, auth ppp.Auth) *BRAS {
	b := &BRAS{endpoint: endpoint{link: link, mac: mac}, ACName: "test-bras", Auth: auth,
		CountIP: true, next: 0x0100, sessions: make(map[uint16]*brasSession)}
	b.start(b.handle)
	return b
}

// Close closes the link and waits for the reader.
func (b *BRAS) Close() {
	b.link.Close()
	b.wg.Wait()
}

// Usage returns what the BRAS counted for a session.
func (b *BRAS) Usage(id uint16) Usage {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.sessions[id]; s != nil {
		return s.usage
	}
	return Usage{}
}

// SawUser reports whether credentials for user reached the BRAS.
func (b *BRAS) SawUser(user string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.Users {
		if u == user {
			return true
		}
	}
	return false
}

// Sessions returns how many sessions the BRAS holds.
func (b *BRAS) Sessions() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sessions)
}

// Snapshot copies the recorded discovery frames.
func (b *BRAS) Snapshot() (padis, padrs, padts []*pppoe.Discovery) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append(padis, b.PADIs...), append(padrs, b.PADRs...), append(padts, b.PADTs...)
}

// SendPPP sends a PPP packet to the subscriber of session id.
func (b *BRAS) SendPPP(id uint16, proto ppp.Protocol, pkt []byte) {
	b.mu.Lock()
	s := b.sessions[id]
	b.mu.Unlock()
	if s != nil {
		b.send(SessionFrame(s.peer, b.mac, id, proto, pkt))
	}
}

// SendIP sends n octets of IPv4 to the subscriber of session id.
func (b *BRAS) SendIP(id uint16, n int) {
	b.mu.Lock()
	s := b.sessions[id]
	b.mu.Unlock()
	if s != nil {
		b.send(IPFrame(s.peer, b.mac, id, n))
	}
}

// SendPADT ends session id from the BRAS side.
func (b *BRAS) SendPADT(id uint16) {
	b.mu.Lock()
	s := b.sessions[id]
	delete(b.sessions, id)
	b.mu.Unlock()
	if s != nil {
		f, _ := pppoe.NewPADT(s.peer, b.mac, id, "bye").MarshalBinary()
		b.send(f)
	}
}

func (b *BRAS) handle(rv Received) {
	if d := rv.Discovery; d != nil {
		b.discovery(d)
		return
	}
	b.mu.Lock()
	s := b.sessions[rv.Session]
	if s == nil || string(s.peer) != string(rv.Src) {
		b.Garbage++
		b.mu.Unlock()
		return
	}
	if rv.Proto == ppp.ProtoIPv4 || rv.Proto == ppp.ProtoIPv6 {
		if !b.CountIP {
			b.mu.Unlock()
			return
		}
		s.usage.InOctets += uint64(len(rv.Info))
		s.usage.InPackets++
		echo := b.Echo
		if echo {
			s.usage.OutOctets += uint64(len(rv.Info))
			s.usage.OutPackets++
		}
		b.mu.Unlock()
		if echo {
			b.send(SessionFrame(s.peer, b.mac, rv.Session, rv.Proto, rv.Info))
		}
		return
	}
	b.mu.Unlock()
	b.control(rv.Session, s, rv)
}

func (b *BRAS) discovery(d *pppoe.Discovery) {
	reply := &pppoe.Discovery{Dst: d.Src, Src: b.mac}
	echo := func() {
		svc, _ := d.ServiceName()
		reply.Tags = append(reply.Tags, pppoe.NewStringTag(pppoe.TagServiceName, svc))
		if hu, ok := d.HostUniq(); ok {
			reply.Tags = append(reply.Tags, pppoe.Tag{Type: pppoe.TagHostUniq, Value: hu})
		}
		if rs, ok := d.RelaySessionID(); ok {
			reply.Tags = append(reply.Tags, pppoe.Tag{Type: pppoe.TagRelaySessionID, Value: rs})
		}
	}
	b.mu.Lock()
	switch d.Code {
	case pppoe.CodePADI:
		b.PADIs = append(b.PADIs, d)
		reply.Code = pppoe.CodePADO
		reply.Tags = append(reply.Tags, pppoe.NewStringTag(pppoe.TagACName, b.ACName))
		echo()
		ck := make([]byte, 8)
		rand.Read(ck)
		reply.Tags = append(reply.Tags, pppoe.Tag{Type: pppoe.TagACCookie, Value: ck})
	case pppoe.CodePADR:
		b.PADRs = append(b.PADRs, d)
		reply.Code = pppoe.CodePADS
		b.next++
		reply.SessionID = b.next
		b.sessions[b.next] = &brasSession{peer: append(net.HardwareAddr(nil), d.Src...)}
		echo()
	case pppoe.CodePADT:
		b.PADTs = append(b.PADTs, d)
		if s := b.sessions[d.SessionID]; s != nil && string(s.peer) == string(d.Src) {
			delete(b.sessions, d.SessionID)
		}
		b.mu.Unlock()
		return
	default:
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	f, err := reply.MarshalBinary()
	if err == nil {
		b.send(f)
	}
}

func (b *BRAS) control(id uint16, s *brasSession, rv Received) {
	sendPkt := func(proto ppp.Protocol, p interface{ MarshalBinary() ([]byte, error) }) {
		pkt, err := p.MarshalBinary()
		if err == nil {
			b.send(SessionFrame(s.peer, b.mac, id, proto, pkt))
		}
	}
	switch rv.Proto {
	case ppp.ProtoLCP:
		var p ppp.Packet
		if p.UnmarshalBinary(rv.Info) != nil {
			return
		}
		switch p.Code {
		case ppp.CodeConfigureRequest:
			ack := p
			ack.Code = ppp.CodeConfigureAck
			sendPkt(ppp.ProtoLCP, &ack)
			b.mu.Lock()
			first := !s.lcpSent
			s.lcpSent = true
			b.mu.Unlock()
			if first {
				opts := []ppp.Option{ppp.MRUOption(1492), ppp.MagicNumberOption(0x0b0a5000 + uint32(id))}
				if b.Auth.Protocol != 0 {
					opts = append(opts, b.Auth.Option())
				}
				sendPkt(ppp.ProtoLCP, &ppp.Packet{Code: ppp.CodeConfigureRequest, Identifier: 1, Options: opts})
			}
		case ppp.CodeConfigureAck:
			if b.Auth.Protocol == ppp.ProtoCHAP {
				ch := make([]byte, 16)
				rand.Read(ch)
				b.mu.Lock()
				s.challenge = ch
				b.mu.Unlock()
				sendPkt(ppp.ProtoCHAP, &ppp.CHAPPacket{Code: ppp.CHAPChallenge, Identifier: 7, Value: ch, Name: b.ACName})
			}
		case ppp.CodeEchoRequest:
			rep := ppp.EchoReply(&p, 0x0b0a5000+uint32(id))
			sendPkt(ppp.ProtoLCP, &rep)
		case ppp.CodeTerminateRequest:
			b.mu.Lock()
			s.terminated = true
			b.mu.Unlock()
			sendPkt(ppp.ProtoLCP, &ppp.Packet{Code: ppp.CodeTerminateAck, Identifier: p.Identifier})
		}
	case ppp.ProtoPAP:
		var p ppp.PAPPacket
		if p.UnmarshalBinary(rv.Info) != nil || p.Code != ppp.PAPAuthenticateRequest {
			return
		}
		b.mu.Lock()
		b.Users = append(b.Users, p.PeerID)
		refuse := b.Refuse[p.PeerID]
		b.mu.Unlock()
		if refuse {
			sendPkt(ppp.ProtoPAP, &ppp.PAPPacket{Code: ppp.PAPAuthenticateNak, Identifier: p.Identifier, Message: "BRAS says no"})
			return
		}
		sendPkt(ppp.ProtoPAP, &ppp.PAPPacket{Code: ppp.PAPAuthenticateAck, Identifier: p.Identifier, Message: "welcome"})
	case ppp.ProtoCHAP:
		var p ppp.CHAPPacket
		if p.UnmarshalBinary(rv.Info) != nil || p.Code != ppp.CHAPResponse {
			return
		}
		b.mu.Lock()
		b.Users = append(b.Users, p.Name)
		refuse := b.Refuse[p.Name]
		b.mu.Unlock()
		if refuse {
			sendPkt(ppp.ProtoCHAP, &ppp.CHAPPacket{Code: ppp.CHAPFailure, Identifier: p.Identifier, Message: "BRAS says no"})
			return
		}
		sendPkt(ppp.ProtoCHAP, &ppp.CHAPPacket{Code: ppp.CHAPSuccess, Identifier: p.Identifier, Message: "welcome"})
	case ppp.ProtoIPCP:
		var p ppp.Packet
		if p.UnmarshalBinary(rv.Info) != nil {
			return
		}
		switch p.Code {
		case ppp.CodeConfigureRequest:
			b.mu.Lock()
			if !s.addr.IsValid() {
				s.addr = netip.AddrFrom4([4]byte{10, 64, byte(id >> 8), byte(id)})
			}
			want := s.addr
			first := !s.ipcpSent
			s.ipcpSent = true
			b.mu.Unlock()
			if first {
				sendPkt(ppp.ProtoIPCP, &ppp.Packet{Code: ppp.CodeConfigureRequest, Identifier: 1,
					Options: []ppp.Option{ppp.AddrOption(ppp.IPCPIPAddress, netip.AddrFrom4([4]byte{10, 64, 0, 1}))}})
			}
			if o, ok := p.Option(uint8(ppp.IPCPIPAddress)); ok {
				if a, err := o.Addr(); err == nil && a != want {
					sendPkt(ppp.ProtoIPCP, &ppp.Packet{Code: ppp.CodeConfigureNak, Identifier: p.Identifier,
						Options: []ppp.Option{ppp.AddrOption(ppp.IPCPIPAddress, want)}})
					return
				}
			}
			ack := p
			ack.Code = ppp.CodeConfigureAck
			sendPkt(ppp.ProtoIPCP, &ack)
		}
	}
}
