package relay

import (
	"bytes"
	"context"
	"net"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/relay/kernel"
	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// control snoops a PPP control frame (anything but IP) of session s from
// a side and says whether to forward it. f is the whole frame cut to its
// PPPoE LENGTH; info is the PPP information field after the protocol.
func (r *Relay) control(s *session, from side, f []byte, proto uint16, info []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		r.ctrs.drop(DropUnknownSession)
		return false
	}
	s.lastSeen = r.cfg.Now()
	switch ppp.Protocol(proto) {
	case ppp.ProtoLCP:
		return r.snoopLCP(s, from, info)
	case ppp.ProtoPAP:
		return r.snoopPAP(s, from, f, info)
	case ppp.ProtoCHAP:
		return r.snoopCHAP(s, from, f, info)
	case ppp.ProtoIPCP:
		if from == wan && len(info) >= 4 && ppp.Code(info[0]) == ppp.CodeConfigureAck {
			r.snoopAddress(s, info)
		}
	}
	return true
}

// snoopLCP follows Terminate (RFC 1661 §5.5) and Echo (§5.8).
func (r *Relay) snoopLCP(s *session, from side, info []byte) bool {
	if len(info) < 4 {
		return true // the peer will Code-Reject or drop it
	}
	switch ppp.Code(info[0]) {
	case ppp.CodeTerminateRequest:
		if s.cause == 0 {
			s.cause = r.causeFor(s, from)
		}
	case ppp.CodeTerminateAck:
		// The link is down (RFC 1661 §4.3 Terminate-Ack received): the
		// session is over whoever asked. Forward the Ack, then end it
		// with PADT to both sides (RFC 2516 §5.5).
		cause := s.cause
		if cause == 0 {
			cause = r.causeFor(s, from.other())
		}
		r.endLater(from, s, cause)
	case ppp.CodeEchoRequest:
		s.echo[from]++
		if s.echo[from] > r.cfg.EchoFailures {
			r.log.Info("echo silence", zap.Uint16("session", s.id), zap.Stringer("silent", from.other()))
			r.endLater(from, s, gateway.CauseLostCarrier)
		}
	case ppp.CodeEchoReply:
		s.echo[from.other()] = 0
	}
	return true
}

// endLater ends s once the frame being handled, which the pump of side
// from is about to send, has gone out (see afterFlush).
func (r *Relay) endLater(from side, s *session, cause gateway.TerminateCause) {
	if s.pendingEnd == 0 {
		s.pendingEnd = cause
		r.after[from] = append(r.after[from], s)
	}
}

// afterFlush ends the sessions endLater marked; only the pump of side
// from calls it.
func (r *Relay) afterFlush(from side) {
	for i, s := range r.after[from] {
		s.mu.Lock()
		r.endLocked(s, s.pendingEnd, true, true, "session ended")
		s.mu.Unlock()
		r.after[from][i] = nil
	}
	r.after[from] = r.after[from][:0]
}

// causeFor is the Acct-Terminate-Cause when side ends the session.
func (r *Relay) causeFor(s *session, by side) gateway.TerminateCause {
	if s.cause != 0 {
		return s.cause
	}
	if by == lan {
		return gateway.CauseUserRequest
	}
	return gateway.CauseLostService
}

// snoopPAP holds an Authenticate-Request (RFC 1334 §2.2.1) for the
// Authorizer and watches the BRAS's Ack or Nak.
func (r *Relay) snoopPAP(s *session, from side, f, info []byte) bool {
	var p ppp.PAPPacket
	if err := p.UnmarshalBinary(info); err != nil {
		return true
	}
	if from == lan {
		if p.Code != ppp.PAPAuthenticateRequest {
			return true
		}
		return r.credentials(s, ppp.ProtoPAP, p.Identifier, p.PeerID, f)
	}
	switch p.Code {
	case ppp.PAPAuthenticateAck:
		r.bras(s, true)
	case ppp.PAPAuthenticateNak:
		r.bras(s, false)
	}
	return true
}

// snoopCHAP holds a Response (RFC 1994 §4.1), which carries the Name,
// and watches the BRAS's Success or Failure (§4.2).
func (r *Relay) snoopCHAP(s *session, from side, f, info []byte) bool {
	var p ppp.CHAPPacket
	if err := p.UnmarshalBinary(info); err != nil {
		return true
	}
	if from == lan {
		if p.Code != ppp.CHAPResponse {
			return true
		}
		return r.credentials(s, ppp.ProtoCHAP, p.Identifier, p.Name, f)
	}
	switch p.Code {
	case ppp.CHAPSuccess:
		r.bras(s, true)
	case ppp.CHAPFailure:
		r.bras(s, false)
	}
	return true
}

// credentials decides about a subscriber's PAP request or CHAP response:
// forward it, or hold it and ask the Authorizer.
func (r *Relay) credentials(s *session, proto ppp.Protocol, id uint8, user string, f []byte) bool {
	if r.cfg.Authorizer == nil {
		s.user, s.authProt = user, proto
		return true
	}
	switch s.authSt {
	case authAccepted:
		if user == s.user {
			s.authProt, s.authID = proto, id
			return true // sent again, or a new CHAP round: already decided
		}
	case authPending:
		// Sent again while the Authorizer thinks: the held frame goes
		// when it answers (the peer's retransmission timer covers it).
		r.ctrs.drop(DropHeld)
		return false
	case authRefused:
		r.ctrs.drop(DropHeld)
		return false
	}
	s.user, s.authProt, s.authID = user, proto, id
	s.authSt = authPending
	s.held = bytes.Clone(f)
	r.authWG.Add(1)
	go r.authorize(s, user, s.subMAC())
	return false
}

func (r *Relay) authorize(s *session, user string, mac net.HardwareAddr) {
	defer r.authWG.Done()
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.AuthTimeout)
	start := time.Now()
	d, err := r.cfg.Authorizer.Authorize(ctx, user, mac)
	cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.authSt != authPending || s.user != user {
		return
	}
	log := r.log.With(zap.Uint16("session", s.id), zap.String("user", user),
		zap.Stringer("subscriber", mac), zap.Duration("took", time.Since(start)))
	if err != nil {
		r.ctrs.authErrors.Add(1)
		log.Warn("authorisation failed: refusing", zap.Error(err))
		d = gateway.Decision{ReplyMessage: r.cfg.UnavailableMessage}
	}
	held := s.held
	s.held = nil
	if !d.Accept {
		s.authSt = authRefused
		r.ctrs.refused.Add(1)
		log.Info("dial refused", zap.String("reply", d.ReplyMessage))
		r.refuseDial(s, d.ReplyMessage)
		return
	}
	s.authSt = authAccepted
	s.auth = d.Auth
	r.ctrs.accepted.Add(1)
	log.Debug("dial authorised", zap.String("tariff", d.Auth.Tariff))
	copy(held[0:6], s.ac[:])
	copy(held[6:12], r.ports[wan].MAC)
	if err := r.ports[wan].send(held); err != nil {
		r.ctrs.drop(DropLinkRefused)
	}
}

// refuseDial ends a dial the Authorizer refused: the subscriber gets a
// PAP Authenticate-Nak (RFC 1334 §2.2.2) or CHAP Failure (RFC 1994
// §4.2) with the message, an LCP Terminate-Request (RFC 1661 §5.5) and
// a PADT; the BRAS gets a PADT (RFC 2516 §5.5). The credentials never
// went upstream.
func (r *Relay) refuseDial(s *session, msg string) {
	if len(msg) > 255 {
		msg = msg[:255]
	}
	var pkt []byte
	if s.authProt == ppp.ProtoPAP {
		p := ppp.PAPPacket{Code: ppp.PAPAuthenticateNak, Identifier: s.authID, Message: msg}
		pkt, _ = p.MarshalBinary()
	} else {
		p := ppp.CHAPPacket{Code: ppp.CHAPFailure, Identifier: s.authID, Message: msg}
		pkt, _ = p.MarshalBinary()
	}
	r.sendPPP(s, s.authProt, pkt)
	r.sendTerminate(s, msg)
	r.endLocked(s, 0, true, true, msg)
}

// sendTerminate sends the subscriber an LCP Terminate-Request (RFC 1661
// §5.5) with msg as its data: its PPP layer learns the link is going
// down, and why, before the PADT.
func (r *Relay) sendTerminate(s *session, msg string) {
	if len(msg) > 255 {
		msg = msg[:255]
	}
	term := ppp.Packet{Code: ppp.CodeTerminateRequest, Identifier: 0xed, Data: []byte(msg)}
	if b, err := term.MarshalBinary(); err == nil {
		r.sendPPP(s, ppp.ProtoLCP, b)
	}
}

// sendPPP sends a PPP packet to the subscriber in session s.
func (r *Relay) sendPPP(s *session, proto ppp.Protocol, pkt []byte) {
	fr := pppoe.Session{Dst: s.subMAC(), Src: r.ports[lan].MAC, SessionID: s.id,
		Payload: ppp.AppendProtocol(nil, proto)}
	fr.Payload = append(fr.Payload, pkt...)
	b, err := fr.MarshalBinary()
	if err != nil {
		return
	}
	if err := r.ports[lan].send(b); err != nil {
		r.ctrs.drop(DropLinkRefused)
	}
}

// bras notes the BRAS's verdict on the credentials: an Ack or Success
// brings the session up (if the gateway authorised it, or asks no one).
func (r *Relay) bras(s *session, ok bool) {
	if !ok {
		r.log.Info("BRAS refused the credentials", zap.Uint16("session", s.id), zap.String("user", s.user))
		return
	}
	if s.key != 0 || (r.cfg.Authorizer != nil && s.authSt != authAccepted) {
		return
	}
	now := r.cfg.Now()
	if r.off != nil {
		lp, wp := r.ports[lan], r.ports[wan]
		err := r.off.Add(s.id,
			kernel.Side{Ifindex: lp.Ifindex, Src: s.subMAC(), Dst: s.acMAC(), NewSrc: wp.MAC, Out: wp.Ifindex},
			kernel.Side{Ifindex: wp.Ifindex, Src: s.acMAC(), Dst: s.subMAC(), NewSrc: lp.MAC, Out: lp.Ifindex})
		if err != nil {
			// The sockets leave IP frames to the kernel: without the
			// offload this session cannot carry traffic.
			r.log.Error("offload install failed", zap.Uint16("session", s.id), zap.Error(err))
			r.endLocked(s, gateway.CauseNASError, true, true, "relay error")
			return
		}
		s.offloaded = true
	}
	if r.cfg.NewKey != nil {
		s.key = r.cfg.NewKey()
	} else {
		s.key = r.keyNext.Add(1)
	}
	s.started = now
	s.lastSeen = now
	s.up.Store(true)
	r.mu.Lock()
	r.byKey[s.key] = s
	r.mu.Unlock()
	r.log.Info("session up", zap.Uint16("session", s.id), zap.Uint64("key", s.key), zap.String("user", s.user),
		zap.Stringer("subscriber", net.HardwareAddr(s.sub[:])), zap.Bool("offloaded", s.offloaded))
	if r.cfg.Sessions != nil {
		r.cfg.Sessions.Opened(gateway.Session{
			Key:            s.key,
			AcctSessionID:  r.cfg.AcctSessionID(s.key),
			PPPoESessionID: s.id,
			SubscriberMAC:  s.subMAC(),
			BRASMAC:        s.acMAC(),
			User:           s.user,
			Started:        now,
			Auth:           s.auth,
		})
	}
}

// snoopAddress reads the subscriber's address from the BRAS's IPCP
// Configure-Ack (RFC 1332 §3.3: it acknowledges the IP-Address the
// subscriber asked for).
func (r *Relay) snoopAddress(s *session, info []byte) {
	var p ppp.Packet
	if err := p.UnmarshalBinary(info); err != nil {
		return
	}
	o, ok := p.Option(uint8(ppp.IPCPIPAddress))
	if !ok {
		return
	}
	ip, err := o.Addr()
	if err != nil || !ip.IsValid() || ip.IsUnspecified() || ip == s.ip {
		return
	}
	s.ip = ip
	if s.key != 0 && r.cfg.Sessions != nil {
		r.cfg.Sessions.Addressed(s.key, ip)
	}
}

// endLocked ends s (its lock held): out of the table and the kernel,
// PADT to the subscriber and/or the BRAS when asked, and Closed with the
// final usage if it was up.
func (r *Relay) endLocked(s *session, cause gateway.TerminateCause, padtSub, padtBRAS bool, reason string) {
	if s.closed {
		return
	}
	s.closed = true
	s.up.Store(false)
	r.mu.Lock()
	if r.tbl[s.id].Load() == s {
		r.tbl[s.id].Store(nil)
	}
	r.count--
	if s.key != 0 {
		delete(r.byKey, s.key)
	}
	r.mu.Unlock()
	if s.offloaded {
		for _, sd := range []side{lan, wan} {
			c, err := r.off.Remove(r.ports[sd].Ifindex, s.id)
			if err != nil {
				r.log.Error("offload remove", zap.Uint16("session", s.id), zap.Error(err))
				continue
			}
			s.traffic[sd].octets.Add(c.Octets)
			s.traffic[sd].packets.Add(c.Packets)
			r.spoofedGone.Add(c.Spoofed)
		}
		s.offloaded = false
	}
	if padtSub {
		r.sendDiscovery(lan, pppoe.NewPADT(s.subMAC(), r.ports[lan].MAC, s.id, reason))
	}
	if padtBRAS {
		r.sendDiscovery(wan, pppoe.NewPADT(s.acMAC(), r.ports[wan].MAC, s.id, reason))
	}
	if s.key == 0 {
		return
	}
	if cause == 0 {
		cause = gateway.CauseNASRequest
	}
	u := gateway.Usage{
		InOctets: s.traffic[lan].octets.Load(), InPackets: s.traffic[lan].packets.Load(),
		OutOctets: s.traffic[wan].octets.Load(), OutPackets: s.traffic[wan].packets.Load(),
	}
	r.log.Info("session down", zap.Uint16("session", s.id), zap.Uint64("key", s.key), zap.String("user", s.user),
		zap.Uint32("cause", uint32(cause)), zap.Uint64("in_octets", u.InOctets), zap.Uint64("out_octets", u.OutOctets))
	if r.cfg.Sessions != nil {
		r.cfg.Sessions.Closed(s.key, r.cfg.Now(), u, cause)
	}
}

// reap ends sessions that never came up, and sessions from which
// nothing was heard for IdleTimeout; it forgets stale offers and
// rate-limit state.
func (r *Relay) reap() {
	now := r.cfg.Now()
	for _, s := range r.sessions() {
		s.mu.Lock()
		switch {
		case s.closed:
		case s.key == 0 && now.Sub(s.created) > r.cfg.HandshakeTimeout:
			r.endLocked(s, 0, true, true, "session setup timed out")
		case s.key != 0:
			u := r.usageLocked(s)
			if t := u.InPackets + u.OutPackets; t != s.lastTotal {
				s.lastTotal, s.lastSeen = t, now
			}
			if now.Sub(s.lastSeen) > r.cfg.IdleTimeout {
				r.endLocked(s, gateway.CauseIdleTimeout, true, true, "idle")
			}
		}
		s.mu.Unlock()
	}
	r.mu.Lock()
	for k, list := range r.offers {
		if len(list) == 0 || now.After(list[len(list)-1].expires) {
			delete(r.offers, k)
		}
	}
	r.lim.sweep(now)
	r.mu.Unlock()
}

// endAll ends every session (shutdown).
func (r *Relay) endAll(cause gateway.TerminateCause) {
	for _, s := range r.sessions() {
		s.mu.Lock()
		r.endLocked(s, cause, true, true, "gateway shutting down")
		s.mu.Unlock()
	}
}
