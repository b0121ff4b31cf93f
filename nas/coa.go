package nas

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3576"
	"layeh.com/radius/rfc5176"

	"github.com/edgebill/edgebill/rfc/radiusx"
)

// coaLoop serves Disconnect-Request and CoA-Request (RFC 5176).
func (s *Server) coaLoop(ctx context.Context) error {
	buf := make([]byte, radius.MaxPacketLength)
	for {
		n, from, err := s.coa.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		s.stats.coaIn.Add(1)
		if resp := s.handleCoA(buf[:n], from, time.Now()); resp != nil {
			_, _ = s.coa.WriteTo(resp, from)
		}
	}
}

// handleCoA answers one request, or returns nil to drop it silently: a
// bad Request Authenticator or Message-Authenticator (required, RFC 5176
// §3.3 and RFC 5080 §2.2.2), an Event-Timestamp outside the window (RFC
// 5176 §3.5), or a code other than Disconnect-Request and CoA-Request. A
// request seen before (same code, Identifier and Request Authenticator,
// which is a hash over the whole packet and the secret) gets the answer it
// got then, without being carried out again: RFC 5080 §2.2.2 duplicate
// detection, and, since the cache outlives the Event-Timestamp window, no
// replay from any address is ever carried out twice.
func (s *Server) handleCoA(b []byte, from net.Addr, now time.Time) []byte {
	secret := []byte(s.cfg.CoASecret)
	if err := radiusx.VerifyRequest(b, secret); err != nil {
		s.stats.coaDropped.Add(1)
		s.log.Debug("CoA dropped", zap.Stringer("from", from), zap.Error(err))
		return nil
	}
	code := radius.Code(b[0])
	if code != radius.CodeDisconnectRequest && code != radius.CodeCoARequest {
		s.stats.coaDropped.Add(1)
		return nil
	}
	key := string(b[0:2]) + string(b[4:20])
	if r, ok := s.coaReplay.get(key); ok {
		return r
	}
	p, err := radius.Parse(b, secret)
	if err != nil {
		s.stats.coaDropped.Add(1)
		return nil
	}
	if ts, err := rfc2869.EventTimestamp_Lookup(p); err == nil {
		if d := now.Sub(ts); d > s.cfg.EventTimestampWindow || -d > s.cfg.EventTimestampWindow {
			s.stats.coaDropped.Add(1)
			s.log.Info("CoA dropped: Event-Timestamp outside the window", zap.Time("event_timestamp", ts))
			return nil
		}
	} else if s.cfg.RequireEventTimestamp {
		s.stats.coaDropped.Add(1)
		return nil
	}
	resp := s.dynamicAuth(p, now)
	wire, err := radiusx.Encode(resp)
	if err != nil {
		return nil
	}
	s.coaReplay.put(key, wire, now.Add(s.cfg.EventTimestampWindow))
	return wire
}

// dynamicAuth carries out a Disconnect or CoA request and returns the
// ACK or NAK (RFC 5176 §3).
func (s *Server) dynamicAuth(p *radius.Packet, now time.Time) *radius.Packet {
	disconnect := p.Code == radius.CodeDisconnectRequest
	nak := func(cause rfc3576.ErrorCause) *radius.Packet {
		c := radius.CodeCoANAK
		if disconnect {
			c = radius.CodeDisconnectNAK
		}
		r := p.Response(c)
		rfc3576.ErrorCause_Set(r, cause)
		s.log.Info("dynamic authorization refused", zap.Stringer("code", p.Code), zap.Stringer("error_cause", cause))
		return r
	}

	// What a request may carry (RFC 5176 §3.5): NAS and session
	// identification, and for CoA the attributes nasd can change.
	var sel selector
	for _, a := range p.Attributes {
		switch a.Type {
		case rfc2865.NASIPAddress_Type:
			if ip, err := radius.IPAddr(a.Attribute); err != nil || !ip.Equal(s.cfg.NASIPAddress.AsSlice()) {
				return nak(rfc3576.ErrorCause_Value_NASIdentificationMismatch)
			}
		case rfc2865.NASIdentifier_Type:
			if string(a.Attribute) != s.cfg.NASIdentifier {
				return nak(rfc3576.ErrorCause_Value_NASIdentificationMismatch)
			}
		case rfc2865.UserName_Type:
			sel.user, sel.any = string(a.Attribute), true
			sel.hasUser = true
		case rfc2866.AcctSessionID_Type:
			sel.acctID, sel.any = string(a.Attribute), true
		case rfc2865.CallingStationID_Type:
			sel.calling, sel.any = string(a.Attribute), true
		case rfc2869.NASPortID_Type:
			sel.portID, sel.any = string(a.Attribute), true
		case rfc2865.FramedIPAddress_Type:
			ip, err := radius.IPAddr(a.Attribute)
			if err != nil {
				return nak(rfc3576.ErrorCause(rfc5176.ErrorCause_Value_InvalidAttributeValue))
			}
			sel.framed, _ = netip.AddrFromSlice(ip.To4())
			sel.any = true
		case rfc2869.EventTimestamp_Type, radiusx.MessageAuthenticatorType, rfc2865.ReplyMessage_Type,
			rfc2866.AcctTerminateCause_Type:
		case rfc2865.SessionTimeout_Type, rfc2865.IdleTimeout_Type, rfc2869.AcctInterimInterval_Type:
			if disconnect {
				return nak(rfc3576.ErrorCause_Value_UnsupportedAttribute)
			}
		default:
			return nak(rfc3576.ErrorCause_Value_UnsupportedAttribute)
		}
	}
	if !sel.any {
		return nak(rfc3576.ErrorCause_Value_MissingAttribute)
	}
	matches := s.selectSessions(&sel)
	if len(matches) == 0 {
		return nak(rfc3576.ErrorCause_Value_SessionContextNotFound)
	}
	for _, ss := range matches {
		ss.mu.Lock()
		if disconnect {
			ss.end(now, causeAdminReset, "disconnected by the operator")
		} else {
			if v, err := rfc2865.SessionTimeout_Lookup(p); err == nil {
				ss.sessionTimeout = time.Duration(v) * time.Second
			}
			if v, err := rfc2865.IdleTimeout_Lookup(p); err == nil {
				ss.idleTimeout = time.Duration(v) * time.Second
			}
			if v, err := rfc2869.AcctInterimInterval_Lookup(p); err == nil {
				ss.interim = time.Duration(v) * time.Second
				if ss.interim > 0 {
					ss.nextInterim = now.Add(ss.interim)
				}
			}
			ss.rearm(now)
		}
		ss.mu.Unlock()
	}
	code := radius.CodeCoAACK
	if disconnect {
		code = radius.CodeDisconnectACK
	}
	s.log.Info("dynamic authorization", zap.Stringer("code", p.Code), zap.Int("sessions", len(matches)))
	return p.Response(code)
}

// selector is the session identification of a Disconnect or CoA request:
// every attribute given must match.
type selector struct {
	any                           bool
	hasUser                       bool
	user, acctID, calling, portID string
	framed                        netip.Addr
}

func (s *Server) selectSessions(sel *selector) []*session {
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	var out []*session
	for _, ss := range all {
		ss.mu.Lock()
		ok := ss.phase != phaseDead &&
			(!sel.hasUser || ss.user == sel.user) &&
			(sel.acctID == "" || ss.acctID == sel.acctID) &&
			(sel.calling == "" || equalFoldMAC(sel.calling, radiusx.CallingStationID(ss.peer[:]))) &&
			(sel.portID == "" || sel.portID == ss.nasPortID()) &&
			(!sel.framed.IsValid() || sel.framed == ss.addr)
		ss.mu.Unlock()
		if ok {
			out = append(out, ss)
		}
	}
	return out
}

// equalFoldMAC compares two MAC spellings, ignoring case and separators.
func equalFoldMAC(a, b string) bool {
	norm := func(s string) string {
		out := make([]byte, 0, 12)
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
				out = append(out, c)
			case c >= 'A' && c <= 'F':
				out = append(out, c+'a'-'A')
			}
		}
		return string(out)
	}
	return norm(a) == norm(b)
}

// replayCache remembers the answers to recent requests.
type replayCache struct {
	mu      sync.Mutex
	entries map[string]replayEntry
	last    time.Time
}

type replayEntry struct {
	resp    []byte
	expires time.Time
}

const maxReplayEntries = 1 << 14

func newReplayCache() *replayCache { return &replayCache{entries: map[string]replayEntry{}} }

func (c *replayCache) get(k string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || time.Now().After(e.expires) {
		return nil, false
	}
	return e.resp, true
}

func (c *replayCache) put(k string, resp []byte, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxReplayEntries {
		for k := range c.entries { // evict an arbitrary one
			delete(c.entries, k)
			break
		}
	}
	c.entries[k] = replayEntry{resp: resp, expires: expires}
}

func (c *replayCache) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.last) < time.Second {
		return
	}
	c.last = now
	for k, e := range c.entries {
		if now.After(e.expires) {
			delete(c.entries, k)
		}
	}
}
