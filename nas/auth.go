package nas

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc4603"
	"layeh.com/radius/rfc4679"

	"github.com/edgebill/edgebill/rfc/radiusx"
)

// authTimeout bounds one authentication (every server's retransmissions).
const authTimeout = 2 * time.Minute

// nasPortID names the session's port: interface (or AC name) and session id.
func (ss *session) nasPortID() string {
	ifname := ss.srv.cfg.Interface
	if ifname == "" {
		ifname = ss.srv.cfg.ACName
	}
	return fmt.Sprintf("%s:%d", ifname, ss.id)
}

// commonAttrs adds what every Access-Request and Accounting-Request of the
// session carries (RFC 2865 §5, RFC 2866 §5, RFC 4679 §3).
func (ss *session) commonAttrs(p *radius.Packet) {
	cfg := &ss.srv.cfg
	rfc2865.UserName_SetString(p, ss.user)
	rfc2865.ServiceType_Set(p, rfc2865.ServiceType_Value_FramedUser)
	rfc2865.FramedProtocol_Set(p, rfc2865.FramedProtocol_Value_PPP)
	rfc2865.NASIdentifier_SetString(p, cfg.NASIdentifier)
	rfc2865.NASIPAddress_Set(p, cfg.NASIPAddress.AsSlice())
	rfc2865.NASPort_Set(p, rfc2865.NASPort(ss.id))
	rfc2869.NASPortID_SetString(p, ss.nasPortID())
	rfc2865.NASPortType_Set(p, rfc4603.NASPortType_Value_PPPoEoE)
	rfc2865.CallingStationID_SetString(p, radiusx.CallingStationID(ss.peer[:]))
	rfc2865.CalledStationID_SetString(p, radiusx.CallingStationID(ss.srv.mac))
	rfc2866.AcctSessionID_SetString(p, ss.acctID)
	if ss.circuitID != "" {
		rfc4679.ADSLAgentCircuitID_SetString(p, ss.circuitID)
	}
	if ss.remoteID != "" {
		rfc4679.ADSLAgentRemoteID_SetString(p, ss.remoteID)
	}
}

func (ss *session) papRequest(user string, password []byte) *radius.Packet {
	ss.user = user
	p := radius.New(radius.CodeAccessRequest, ss.srv.pwKey)
	ss.commonAttrs(p)
	if len(password) > 128 {
		password = password[:128]
	}
	rfc2865.UserPassword_Set(p, password)
	return p
}

func (ss *session) chapRequest(user string, id uint8, response []byte) *radius.Packet {
	ss.user = user
	p := radius.New(radius.CodeAccessRequest, ss.srv.pwKey)
	ss.commonAttrs(p)
	// RFC 2865 §5.3: CHAP Ident then the 16-octet response; §5.40: the
	// challenge, since ours is not the Request Authenticator.
	rfc2865.CHAPPassword_Set(p, append([]byte{id}, response...))
	rfc2865.CHAPChallenge_Set(p, ss.challenge)
	return p
}

// startAuth asks RADIUS in the background; the answer comes back under
// the session's lock.
func (s *Server) startAuth(ss *session, p *radius.Packet) {
	s.wg.Add(1)
	s.acct.gate.enterAuth()
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.runCtx, authTimeout)
		resp, err := s.auth.Exchange(ctx, p)
		cancel()
		s.acct.gate.leaveAuth()
		now := time.Now()
		ss.mu.Lock()
		defer ss.mu.Unlock()
		ss.onAuthResult(now, resp, err)
		ss.rearm(now)
	}()
}

func (ss *session) onAuthResult(now time.Time, resp *radius.Packet, err error) {
	ss.authBusy = false
	if ss.phase != phaseAuth {
		return // ended meanwhile
	}
	s := ss.srv
	if err != nil {
		s.stats.authError.Add(1)
		ss.logger().Warn("RADIUS", zap.String("user", ss.user), zap.Error(err))
		ss.authFail(now, "authentication service unavailable")
		return
	}
	msg := rfc2865.ReplyMessage_GetString(resp)
	if resp.Code != radius.CodeAccessAccept {
		s.stats.authReject.Add(1)
		if msg == "" {
			msg = "authentication failed"
		}
		ss.logger().Info("access rejected", zap.String("user", ss.user), zap.String("reply_message", msg))
		ss.authFail(now, msg)
		return
	}
	s.stats.authAccept.Add(1)
	cfg := &s.cfg

	// Framed-IP-Address (RFC 2865 §5.8): 255.255.255.254 or absent means
	// the NAS chooses, 255.255.255.255 that the user may (we choose too).
	if ip := rfc2865.FramedIPAddress_Get(resp); ip != nil {
		if a, ok := netip.AddrFromSlice(ip.To4()); ok && a.Is4() && a != netip.AddrFrom4([4]byte{255, 255, 255, 254}) &&
			a != netip.AddrFrom4([4]byte{255, 255, 255, 255}) && !a.IsUnspecified() {
			ss.addr = a
		}
	}
	if !ss.addr.IsValid() {
		a, ok := s.pool.alloc()
		if !ok {
			ss.logger().Warn("address pool exhausted")
			ss.authFail(now, "no address available")
			return
		}
		ss.addr, ss.fromPool = a, true
	}
	ss.sessionTimeout = cfg.SessionTimeout
	if v, err := rfc2865.SessionTimeout_Lookup(resp); err == nil && v > 0 {
		ss.sessionTimeout = time.Duration(v) * time.Second
	}
	ss.idleTimeout = cfg.IdleTimeout
	if v, err := rfc2865.IdleTimeout_Lookup(resp); err == nil && v > 0 {
		ss.idleTimeout = time.Duration(v) * time.Second
	}
	ss.interim = cfg.InterimInterval
	if v, err := rfc2869.AcctInterimInterval_Lookup(resp); err == nil && v > 0 {
		ss.interim = time.Duration(v) * time.Second
	}
	if cfg.InterimOverride != 0 {
		ss.interim = cfg.InterimOverride
	}
	// Class (RFC 2865 §5.25) goes back unchanged in accounting.
	for _, a := range resp.Attributes {
		if a.Type == rfc2865.Class_Type {
			ss.class = append(ss.class, append([]byte(nil), a.Attribute...))
		}
	}
	ss.authAccept(now, msg)
}
