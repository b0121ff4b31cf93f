package nas

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// phase is where a session is in RFC 1661 §3.2's link phases.
type phase uint8

const (
	phaseLCP     phase = iota + 1 // Establish: LCP negotiating
	phaseAuth                     // Authenticate: waiting for the peer or RADIUS
	phaseNetwork                  // Network: IPCP negotiating
	phaseUp                       // IPCP opened: traffic flows, accounting runs
	phaseDead                     // ended; kept only by references in flight
)

func (p phase) String() string {
	switch p {
	case phaseLCP:
		return "lcp"
	case phaseAuth:
		return "auth"
	case phaseNetwork:
		return "ipcp"
	case phaseUp:
		return "up"
	case phaseDead:
		return "dead"
	}
	return "unknown"
}

// Terminate causes (RFC 2866 §5.10) nasd reports.
const (
	causeUserRequest    = rfc2866.AcctTerminateCause_Value_UserRequest
	causeLostCarrier    = rfc2866.AcctTerminateCause_Value_LostCarrier
	causeLostService    = rfc2866.AcctTerminateCause_Value_LostService
	causeIdleTimeout    = rfc2866.AcctTerminateCause_Value_IdleTimeout
	causeSessionTimeout = rfc2866.AcctTerminateCause_Value_SessionTimeout
	causeAdminReset     = rfc2866.AcctTerminateCause_Value_AdminReset
	causeAdminReboot    = rfc2866.AcctTerminateCause_Value_AdminReboot
	causeNASError       = rfc2866.AcctTerminateCause_Value_NASError
	causeUserError      = rfc2866.AcctTerminateCause_Value_UserError
)

// maxChallenges is how many CHAP Challenges are sent before giving up.
const maxChallenges = 10

// session is one PPPoE session and the PPP link in it. Every field after
// mu is guarded by it; every method runs with it held.
type session struct {
	srv      *Server
	id       uint16
	peer     [6]byte
	deadline atomic.Int64 // UnixNano of the next timer event; 0 none

	mu         sync.Mutex
	phase      phase
	created    time.Time
	cookie     []byte
	pads       []byte // our PADS, sent again for a repeated PADR
	service    string
	maxPayload uint16
	circuitID  string
	remoteID   string

	lcpPol   ppp.LCPPolicy
	lcp      *ppp.Machine
	ipcpPol  ppp.IPCPPolicy
	ipcp     *ppp.Machine
	ka       ppp.Keepalive
	nextEcho time.Time
	lcpID    uint8
	peerMRU  int

	authID    uint8  // Identifier of the PAP request / our CHAP Challenge
	challenge []byte // CHAP
	authNext  time.Time
	authTries int
	authBusy  bool // Access-Request in flight
	authDone  bool
	authMsg   string
	user      string

	addr           netip.Addr
	fromPool       bool
	class          [][]byte
	sessionTimeout time.Duration
	idleTimeout    time.Duration
	interim        time.Duration
	acctID         string
	upAt           time.Time
	nextInterim    time.Time
	lastInput      time.Time

	inOctets, outOctets, inPkts, outPkts uint64

	acctStarted  bool
	acctTail     <-chan struct{}
	cause        rfc2866.AcctTerminateCause
	padtReceived bool
}

func (s *Server) newSession(id uint16, mac [6]byte, d *pppoe.Discovery, svc string, cookie []byte, now time.Time) *session {
	ss := &session{
		srv: s, id: id, peer: mac, phase: phaseLCP, created: now,
		cookie: append([]byte(nil), cookie...), service: svc, maxPayload: s.maxPayload(d),
		acctID: s.newAcctSessionID(), peerMRU: 1492,
	}
	if tr, ok, err := d.TR101(); ok && err == nil {
		ss.circuitID, _ = tr.CircuitID()
		ss.remoteID, _ = tr.RemoteID()
	}
	return ss
}

func (ss *session) peerMAC() net.HardwareAddr { return net.HardwareAddr(ss.peer[:]) }

func (ss *session) logger() *zap.Logger {
	return ss.srv.log.With(zap.Uint16("session", ss.id), zap.Stringer("mac", ss.peerMAC()))
}

// start runs LCP: our Configure-Request goes out right after the PADS.
func (ss *session) start(now time.Time) {
	cfg := &ss.srv.cfg
	mru := cfg.MRU
	if ss.maxPayload > mru {
		mru = ss.maxPayload // RFC 4638 §5: an MRU above 1492 may now be negotiated
	}
	auth := ppp.AuthCHAPMD5
	if cfg.Auth == AuthPAP {
		auth = ppp.AuthPAP
	}
	ss.lcpPol = ppp.LCPPolicy{
		MRU: mru, MaxPeerMRU: mru, Auth: []ppp.Auth{auth},
		Magic: mrand.Uint32,
	}
	ss.lcp = ppp.NewMachine(ppp.Config{Protocol: ppp.ProtoLCP, Policy: &ss.lcpPol, RestartTimer: cfg.LCPRestart, MRU: int(mru)})
	ss.apply(now, ss.lcp, ss.lcp.Open(now), causeLostService)
	ss.apply(now, ss.lcp, ss.lcp.Up(now), causeLostService)
	ss.rearm(now)
}

// apply carries out a Machine's actions: the packets first, in order,
// then the layer actions, so that a Terminate-Ack leaves before the PADT
// that This-Layer-Down may cause.
func (ss *session) apply(now time.Time, m *ppp.Machine, acts []ppp.Action, cause rfc2866.AcctTerminateCause) {
	for i := range acts {
		if acts[i].Kind.Sends() {
			ss.sendControl(m.Protocol(), &acts[i].Packet)
		}
	}
	for _, a := range acts {
		switch a.Kind {
		case ppp.ActionTLU:
			if m == ss.lcp {
				ss.lcpUp(now)
			} else {
				ss.ipcpUp(now)
			}
		case ppp.ActionTLD, ppp.ActionTLF:
			if m == ss.lcp && a.Kind == ppp.ActionTLD && ss.phase <= phaseAuth {
				// The peer renegotiates LCP before authentication
				// finished (a retransmitted Configure-Request after our
				// Ack was lost): back to the Establish phase (RFC 1661
				// §3.2); a login in flight is forgotten, the peer logs
				// in again once LCP is open.
				ss.phase = phaseLCP
				ss.nextEcho = time.Time{}
				ss.authTries = 0
				continue
			}
			// LCP leaving Opened later or giving up, or IPCP (our only
			// NCP) going away: the session is over (RFC 1661 §3.2).
			if m == ss.ipcp {
				cause = causeUserRequest
			}
			ss.end(now, cause, "")
		}
	}
}

// sendControl sends an LCP or NCP packet.
func (ss *session) sendControl(proto ppp.Protocol, p *ppp.Packet) {
	b := ss.header(proto, p.Len())
	b, err := p.AppendBinary(b)
	if err != nil {
		ss.srv.log.Debug("encode", zap.Error(err))
		return
	}
	ss.send(b)
}

// header returns a new frame with the Ethernet, PPPoE and PPP headers,
// room for n more octets.
func (ss *session) header(proto ppp.Protocol, n int) []byte {
	b := make([]byte, 0, pppoe.FrameHeaderLen+2+n)
	b = append(b, ss.peer[:]...)
	b = append(b, ss.srv.mac...)
	return append(b, 0x88, 0x64, pppoe.VerType, 0, byte(ss.id>>8), byte(ss.id), 0, 0, byte(proto>>8), byte(proto))
}

// send back-patches the PPPoE LENGTH and writes the frame.
func (ss *session) send(b []byte) {
	binary.BigEndian.PutUint16(b[18:20], uint16(len(b)-pppoe.FrameHeaderLen))
	ss.srv.write(b)
}

// onPPP handles one PPP frame of the session; out is scratch space for a
// data-plane reply, returned for reuse.
func (ss *session) onPPP(now time.Time, proto ppp.Protocol, info, out []byte) []byte {
	if ss.phase == phaseDead {
		return out
	}
	switch proto {
	case ppp.ProtoIPv4:
		return ss.onIP(now, info, out)
	case ppp.ProtoLCP:
		ss.onLCP(now, info)
	case ppp.ProtoPAP:
		ss.onPAP(now, info)
	case ppp.ProtoCHAP:
		ss.onCHAP(now, info)
	case ppp.ProtoIPCP:
		// NCP packets before the Network phase are discarded (RFC 1661
		// §3.5); the peer's Restart timer sends them again.
		if ss.ipcp != nil {
			_, acts, _ := ss.ipcp.Receive(now, info)
			ss.apply(now, ss.ipcp, acts, causeUserRequest)
		}
	default:
		if ss.lcp.State() == ppp.StateOpened {
			// RFC 1661 §5.7: an unsupported protocol (IPv6CP, CCP...)
			// is Protocol-Rejected.
			ss.lcpID++
			p := ppp.ProtocolReject(ss.lcpID, proto, info, ss.peerMRU)
			ss.sendControl(ppp.ProtoLCP, &p)
			ss.srv.stats.protoRejects.Add(1)
		}
	}
	ss.rearm(now)
	return out
}

func (ss *session) onLCP(now time.Time, info []byte) {
	if len(info) > 0 && ppp.Code(info[0]) == ppp.CodeEchoReply {
		var p ppp.Packet
		if p.UnmarshalBinary(info) == nil {
			ss.ka.Reply(&p)
		}
	}
	ev, acts, err := ss.lcp.Receive(now, info)
	if err != nil {
		if errors.Is(err, ppp.ErrLoopback) {
			ss.logger().Warn("looped-back link")
		} else if len(acts) == 0 {
			return
		}
	}
	cause := causeLostService
	if ev == ppp.EventRTR {
		cause = causeUserRequest
	}
	ss.apply(now, ss.lcp, acts, cause)
}

// lcpUp enters the Authenticate phase (RFC 1661 §3.4).
func (ss *session) lcpUp(now time.Time) {
	if ss.phase != phaseLCP {
		// LCP renegotiated from a later phase: the link must start over.
		ss.end(now, causeLostService, "")
		return
	}
	ss.phase = phaseAuth
	for _, o := range ss.lcp.PeerOptions() {
		if v, err := o.MRU(); err == nil {
			ss.peerMRU = int(v)
		}
	}
	if ss.srv.cfg.EchoInterval > 0 {
		ss.nextEcho = now.Add(ss.srv.cfg.EchoInterval)
		ss.ka.MaxFailures = ss.srv.cfg.EchoFailures
	}
	if ss.srv.cfg.Auth == AuthCHAP {
		ss.challenge = make([]byte, 16)
		_, _ = rand.Read(ss.challenge)
		ss.authID = uint8(mrand.Uint32())
		ss.sendChallenge(now)
	}
}

func (ss *session) sendChallenge(now time.Time) {
	ss.authID++ // RFC 1994 §4.1: a new Identifier for each Challenge
	ss.authTries++
	ss.authNext = now.Add(ss.srv.cfg.LCPRestart)
	p := ppp.CHAPPacket{Code: ppp.CHAPChallenge, Identifier: ss.authID, Value: ss.challenge, Name: ss.srv.cfg.ACName}
	b, err := p.AppendBinary(ss.header(ppp.ProtoCHAP, 5+len(ss.challenge)+len(ss.srv.cfg.ACName)))
	if err == nil {
		ss.send(b)
	}
}

func (ss *session) onPAP(now time.Time, info []byte) {
	if ss.srv.cfg.Auth != AuthPAP || ss.phase < phaseAuth {
		return
	}
	var p ppp.PAPPacket
	if p.UnmarshalBinary(info) != nil || p.Code != ppp.PAPAuthenticateRequest {
		return
	}
	ss.authID = p.Identifier // the answer carries the latest Identifier
	switch {
	case ss.authDone:
		ss.sendPAPReply(ppp.PAPAuthenticateAck, ss.authMsg) // our Ack was lost
		return
	case ss.authBusy || ss.phase != phaseAuth:
		return
	}
	ss.user = p.PeerID
	ss.authBusy = true
	ss.srv.startAuth(ss, ss.papRequest(p.PeerID, p.Password))
}

func (ss *session) onCHAP(now time.Time, info []byte) {
	if ss.srv.cfg.Auth != AuthCHAP || ss.phase < phaseAuth {
		return
	}
	var p ppp.CHAPPacket
	if p.UnmarshalBinary(info) != nil || p.Code != ppp.CHAPResponse || p.Identifier != ss.authID {
		return
	}
	switch {
	case ss.authDone:
		ss.sendCHAPReply(ppp.CHAPSuccess, ss.authMsg)
		return
	case ss.authBusy || ss.phase != phaseAuth:
		return
	}
	if len(p.Value) != 16 {
		ss.authFail(now, "bad CHAP response")
		return
	}
	ss.user = p.Name
	ss.authBusy = true
	ss.srv.startAuth(ss, ss.chapRequest(p.Name, p.Identifier, p.Value))
}

func (ss *session) sendPAPReply(code ppp.PAPCode, msg string) {
	if len(msg) > 255 {
		msg = msg[:255]
	}
	p := ppp.PAPPacket{Code: code, Identifier: ss.authID, Message: msg}
	if b, err := p.AppendBinary(ss.header(ppp.ProtoPAP, 5+len(msg))); err == nil {
		ss.send(b)
	}
}

func (ss *session) sendCHAPReply(code ppp.CHAPCode, msg string) {
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	p := ppp.CHAPPacket{Code: code, Identifier: ss.authID, Message: msg}
	if b, err := p.AppendBinary(ss.header(ppp.ProtoCHAP, 4+len(msg))); err == nil {
		ss.send(b)
	}
}

// authFail refuses the peer with msg (the RADIUS Reply-Message, RFC 1334
// §2.2.2, RFC 1994 §4.2) and ends the link.
func (ss *session) authFail(now time.Time, msg string) {
	if ss.srv.cfg.Auth == AuthPAP {
		ss.sendPAPReply(ppp.PAPAuthenticateNak, msg)
	} else {
		ss.sendCHAPReply(ppp.CHAPFailure, msg)
	}
	ss.end(now, causeUserError, msg)
}

// authAccept finishes authentication and starts IPCP.
func (ss *session) authAccept(now time.Time, msg string) {
	ss.authDone = true
	ss.authMsg = msg
	if ss.srv.cfg.Auth == AuthPAP {
		ss.sendPAPReply(ppp.PAPAuthenticateAck, msg)
	} else {
		ss.sendCHAPReply(ppp.CHAPSuccess, msg)
	}
	ss.phase = phaseNetwork
	cfg := &ss.srv.cfg
	ss.ipcpPol = ppp.IPCPPolicy{Local: cfg.LocalAddress, Peer: ss.addr}
	if len(cfg.DNS) > 0 {
		ss.ipcpPol.PrimaryDNS = cfg.DNS[0]
	}
	if len(cfg.DNS) > 1 {
		ss.ipcpPol.SecondaryDNS = cfg.DNS[1]
	}
	ss.ipcp = ppp.NewMachine(ppp.Config{Protocol: ppp.ProtoIPCP, Policy: &ss.ipcpPol, RestartTimer: cfg.LCPRestart, MRU: ss.peerMRU})
	ss.apply(now, ss.ipcp, ss.ipcp.Open(now), causeUserRequest)
	ss.apply(now, ss.ipcp, ss.ipcp.Up(now), causeUserRequest)
}

// ipcpUp: the session is up; accounting starts.
func (ss *session) ipcpUp(now time.Time) {
	if ss.phase != phaseNetwork {
		ss.end(now, causeLostService, "") // IPCP renegotiated
		return
	}
	ss.phase = phaseUp
	ss.upAt = now
	ss.lastInput = now
	if ss.interim > 0 {
		ss.nextInterim = now.Add(ss.interim)
	}
	ss.pads = nil
	ss.acctStarted = true
	ss.acctTail = ss.srv.acct.submit(nil, ss.acctPacket(rfc2866.AcctStatusType_Value_Start, now))
	ss.srv.stats.sessionsUp.Add(1)
	ss.logger().Info("session up", zap.String("user", ss.user), zap.Stringer("addr", ss.addr),
		zap.String("acct_session_id", ss.acctID), zap.Duration("setup", now.Sub(ss.created)))
}

// end ends the session: LCP Terminate-Request and PADT to the peer
// (unless it is gone), its address back to the pool, Accounting Stop if
// it was started. It is idempotent.
func (ss *session) end(now time.Time, cause rfc2866.AcctTerminateCause, msg string) {
	if ss.phase == phaseDead {
		return
	}
	prev := ss.phase
	ss.phase = phaseDead
	ss.cause = cause
	ss.deadline.Store(0)
	if !ss.padtReceived {
		if ss.lcp != nil {
			switch ss.lcp.State() {
			case ppp.StateOpened, ppp.StateReqSent, ppp.StateAckRcvd, ppp.StateAckSent:
				reason := msg
				if reason == "" {
					reason = cause.String()
				}
				for _, a := range ss.lcp.Close(now, reason) {
					if a.Kind.Sends() {
						ss.sendControl(ppp.ProtoLCP, &a.Packet)
					}
				}
			}
		}
		padt := pppoe.NewPADT(ss.peerMAC(), ss.srv.mac, ss.id, msg)
		if b, err := padt.MarshalBinary(); err == nil {
			ss.srv.write(b)
			ss.srv.stats.padtOut.Add(1)
		}
	}
	// The Stop is queued before the session leaves the table, so that
	// whoever sees it gone sees its Stop pending or sent.
	if ss.acctStarted {
		ss.acctTail = ss.srv.acct.submit(ss.acctTail, ss.acctPacket(rfc2866.AcctStatusType_Value_Stop, now))
	}
	ss.srv.remove(ss)
	if ss.fromPool {
		ss.srv.pool.release(ss.addr)
	}
	if prev == phaseUp {
		ss.srv.stats.sessionsDown.Add(1)
	}
	ss.logger().Info("session end", zap.String("user", ss.user), zap.Stringer("cause", cause),
		zap.Stringer("phase", prev), zap.Uint64("in_octets", ss.inOctets), zap.Uint64("out_octets", ss.outOctets))
}

// onTimer fires whatever is due.
func (ss *session) onTimer(now time.Time) {
	if ss.phase == phaseDead {
		return
	}
	cfg := &ss.srv.cfg
	if ss.lcp != nil {
		ss.apply(now, ss.lcp, ss.lcp.Timeout(now), causeLostCarrier)
	}
	if ss.ipcp != nil && ss.phase != phaseDead {
		ss.apply(now, ss.ipcp, ss.ipcp.Timeout(now), causeLostCarrier)
	}
	if ss.phase == phaseDead {
		return
	}
	if ss.phase < phaseUp && !now.Before(ss.created.Add(cfg.SetupTimeout)) {
		ss.end(now, causeLostService, "setup timeout")
		return
	}
	if ss.phase == phaseAuth && cfg.Auth == AuthCHAP && !ss.authBusy && !now.Before(ss.authNext) {
		if ss.authTries >= maxChallenges {
			ss.end(now, causeLostCarrier, "no CHAP response")
			return
		}
		ss.sendChallenge(now)
	}
	if !ss.nextEcho.IsZero() && !now.Before(ss.nextEcho) && ss.lcp.State() == ppp.StateOpened {
		req, dead := ss.ka.Tick(ss.lcpPol.MagicNumber())
		if dead {
			ss.end(now, causeLostCarrier, "echo timeout")
			return
		}
		ss.sendControl(ppp.ProtoLCP, &req)
		ss.nextEcho = now.Add(cfg.EchoInterval)
	}
	if ss.phase == phaseUp {
		switch {
		case ss.sessionTimeout > 0 && !now.Before(ss.upAt.Add(ss.sessionTimeout)):
			ss.end(now, causeSessionTimeout, "session timeout")
			return
		case ss.idleTimeout > 0 && !now.Before(ss.lastInput.Add(ss.idleTimeout)):
			ss.end(now, causeIdleTimeout, "idle timeout")
			return
		}
		if ss.interim > 0 && !now.Before(ss.nextInterim) {
			ss.sendInterim(now)
			ss.nextInterim = now.Add(ss.interim)
		}
	}
	ss.rearm(now)
}

// rearm sets the deadline to the earliest pending timer.
func (ss *session) rearm(now time.Time) {
	if ss.phase == phaseDead {
		ss.deadline.Store(0)
		return
	}
	var next time.Time
	at := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if ss.lcp != nil {
		if d, ok := ss.lcp.Deadline(); ok {
			at(d)
		}
	}
	if ss.ipcp != nil {
		if d, ok := ss.ipcp.Deadline(); ok {
			at(d)
		}
	}
	if ss.phase < phaseUp {
		at(ss.created.Add(ss.srv.cfg.SetupTimeout))
	}
	if ss.phase == phaseAuth && ss.srv.cfg.Auth == AuthCHAP && !ss.authBusy {
		at(ss.authNext)
	}
	at(ss.nextEcho)
	if ss.phase == phaseUp {
		if ss.sessionTimeout > 0 {
			at(ss.upAt.Add(ss.sessionTimeout))
		}
		if ss.idleTimeout > 0 {
			at(ss.lastInput.Add(ss.idleTimeout))
		}
		if ss.interim > 0 {
			at(ss.nextInterim)
		}
	}
	if next.IsZero() {
		ss.deadline.Store(0)
		return
	}
	ss.deadline.Store(next.UnixNano())
}
