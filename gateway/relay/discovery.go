package relay

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/rfc/pppoe"
)

// rsidLen is the length of the Relay-Session-Id value the relay adds:
// the subscriber's MAC and 6 octets of HMAC-SHA256 over it with a key
// drawn at start, so the relay keeps no state per PADI and a WAN host
// cannot steer a PADO or PADS to a LAN host of its choosing. RFC 2516
// Appendix A makes every PADI leave room for 12 octets.
const rsidLen = pppoe.MaxRelaySessionIDLen

// maxEthPayload is the Ethernet payload a relayed discovery frame must
// fit (RFC 2516 §5.1 sizes the PADI limit against it).
const maxEthPayload = 1500

// offerTTL is how long a relayed PADO is remembered for the subscriber's
// PADR; maxOffers bounds what is kept per subscriber.
const (
	offerTTL  = 30 * time.Second
	maxOffers = 8
)

// offer is a PADO relayed to a subscriber: the PADR that follows goes to
// the AC that sent it. The subscriber sees every PADO from the relay's
// own MAC, so the AC is found by the AC-Cookie it echoes (or, without
// one, the AC-Name is not echoed in a PADR: the latest offer).
type offer struct {
	ac      [6]byte
	cookie  []byte
	expires time.Time
}

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

func (r *Relay) rsid(sub []byte) []byte {
	m := hmac.New(sha256.New, r.rsidKey[:])
	m.Write(sub)
	v := make([]byte, 0, rsidLen)
	v = append(v, sub[:6]...)
	return m.Sum(v)[:rsidLen]
}

// subscriberOf checks a Relay-Session-Id the relay made and returns the
// subscriber MAC in it.
func (r *Relay) subscriberOf(v []byte) ([6]byte, bool) {
	if len(v) != rsidLen {
		return [6]byte{}, false
	}
	if !hmac.Equal(r.rsid(v[:6]), v) {
		return [6]byte{}, false
	}
	return [6]byte(v[:6]), true
}

func (r *Relay) handleDiscovery(from side, f []byte) {
	if from == lan {
		r.discoveryFromLAN(f)
	} else {
		r.discoveryFromWAN(f)
	}
}

func (r *Relay) discoveryFromLAN(f []byte) {
	src := [6]byte(f[6:12])
	if src[0]&1 != 0 {
		r.ctrs.drop(DropUnexpected) // a group address as source
		return
	}
	code := pppoe.Code(f[15])
	switch code {
	case pppoe.CodePADI, pppoe.CodePADR:
		if code == pppoe.CodePADR && [6]byte(f[0:6]) != r.ports[lan].mac {
			r.ctrs.drop(DropUnexpected)
			return
		}
		now := r.cfg.Now()
		r.mu.Lock()
		ok := r.lim.allow(now, src)
		full := r.count >= r.cfg.MaxSessions
		r.mu.Unlock()
		if !ok {
			r.ctrs.drop(DropPADIRate)
			return
		}
		if full && code == pppoe.CodePADI {
			r.ctrs.drop(DropSessionLimit)
			return
		}
		var d pppoe.Discovery
		if err := d.UnmarshalBinary(f); err != nil {
			if errors.Is(err, pppoe.ErrPADITooLarge) && code == pppoe.CodePADI {
				// RFC 2516 Appendix A, Relay-Session-Id: "If ... there is
				// insufficient room to add a Relay-Session-Id TAG, then it
				// SHOULD return a Generic-Error TAG to the sender."
				r.refuse(code, src, nil, "PADI leaves no room for a Relay-Session-Id")
				return
			}
			r.ctrs.drop(DropMalformed)
			return
		}
		var ac [6]byte
		if code == pppoe.CodePADR {
			cookie, _ := d.ACCookie()
			var found bool
			if ac, found = r.takeOffer(src, cookie, now); !found {
				r.ctrs.drop(DropNoOffer)
				return
			}
		}
		if reason := r.upstream(&d, src); reason != "" {
			r.refuse(code, src, &d, reason)
			return
		}
		if code == pppoe.CodePADI {
			d.Dst = broadcast
		} else {
			d.Dst = net.HardwareAddr(ac[:])
		}
		d.Src = r.ports[wan].MAC
		r.sendDiscovery(wan, &d)
	case pppoe.CodePADT:
		r.relayPADT(lan, f, src)
	default:
		r.ctrs.drop(DropUnexpected)
	}
}

// upstream adds the Relay-Session-Id and the TR-101 line identification
// to a PADI or PADR; it returns why it cannot.
func (r *Relay) upstream(d *pppoe.Discovery, sub [6]byte) string {
	if err := d.AddRelaySessionID(r.rsid(sub[:])); err != nil {
		// RFC 2516 Appendix A: "A Relay-Session-Id TAG MUST NOT be added
		// if the discovery packet already contains one. In that case the
		// intermediate agent SHOULD use the existing Relay-Session-Id
		// TAG. If it can not use the existing TAG ... it SHOULD return a
		// Generic-Error TAG to the sender." The relay finds the
		// subscriber of a PADO by its own tag, so it cannot.
		return "Relay-Session-Id already present"
	}
	if r.tr101 != nil {
		v := *r.tr101
		if strings.Contains(r.cfg.RemoteID, "{mac}") {
			id := strings.ReplaceAll(r.cfg.RemoteID, "{mac}", net.HardwareAddr(sub[:]).String())
			if nv, err := pppoe.NewTR101(r.cfg.CircuitID, id); err == nil {
				v = nv
			}
		}
		if err := d.SetTR101(v); err != nil {
			return "cannot add the line identification"
		}
	}
	if d.Len()-pppoe.EthernetHeaderLen > maxEthPayload {
		return "no room for a Relay-Session-Id"
	}
	return ""
}

// refuse answers a PADI with a PADO, or a PADR with a PADS for session
// 0, carrying a Generic-Error (RFC 2516 Appendix A), the Service-Name
// and Host-Uniq of the request (§5.2, §5.4), and for the PADO an
// AC-Name (§5.2), so that the host reports the reason.
func (r *Relay) refuse(code pppoe.Code, sub [6]byte, req *pppoe.Discovery, reason string) {
	resp := &pppoe.Discovery{Dst: net.HardwareAddr(sub[:]), Src: r.ports[lan].MAC}
	if code == pppoe.CodePADI {
		resp.Code = pppoe.CodePADO
	} else {
		resp.Code = pppoe.CodePADS
	}
	svc := ""
	if req != nil {
		svc, _ = req.ServiceName()
	}
	resp.Tags = append(resp.Tags, pppoe.NewStringTag(pppoe.TagServiceName, svc))
	if code == pppoe.CodePADI {
		resp.Tags = append(resp.Tags, pppoe.NewStringTag(pppoe.TagACName, r.cfg.ACName))
	}
	if req != nil {
		if hu, ok := req.HostUniq(); ok {
			resp.Tags = append(resp.Tags, pppoe.Tag{Type: pppoe.TagHostUniq, Value: hu})
		}
	}
	resp.Tags = append(resp.Tags, pppoe.NewStringTag(pppoe.TagGenericError, reason))
	r.ctrs.genericErrors.Add(1)
	r.log.Debug("discovery refused", zap.Stringer("code", code),
		zap.Stringer("subscriber", net.HardwareAddr(sub[:])), zap.String("reason", reason))
	r.sendDiscovery(lan, resp)
}

func (r *Relay) sendDiscovery(to side, d *pppoe.Discovery) {
	b, err := d.MarshalBinary()
	if err != nil {
		r.ctrs.drop(DropMalformed)
		return
	}
	if err := r.ports[to].send(b); err != nil {
		r.ctrs.drop(DropLinkRefused)
	}
}

func (r *Relay) discoveryFromWAN(f []byte) {
	if [6]byte(f[0:6]) != r.ports[wan].mac {
		r.ctrs.drop(DropUnexpected)
		return
	}
	src := [6]byte(f[6:12])
	code := pppoe.Code(f[15])
	switch code {
	case pppoe.CodePADO, pppoe.CodePADS:
		var d pppoe.Discovery
		if err := d.UnmarshalBinary(f); err != nil {
			r.ctrs.drop(DropMalformed)
			return
		}
		v, _ := d.RelaySessionID()
		sub, ok := r.subscriberOf(v)
		if !ok {
			r.ctrs.drop(DropRelayID)
			return
		}
		d.StripRelaySessionID()
		d.Dst, d.Src = net.HardwareAddr(sub[:]), r.ports[lan].MAC
		if code == pppoe.CodePADO {
			cookie, _ := d.ACCookie()
			r.addOffer(sub, src, cookie)
		} else if d.SessionID != 0 {
			if reason := r.newSession(d.SessionID, sub, src); reason != "" {
				// Tell the AC the session is gone, and the host that
				// discovery failed (a PADS for session 0, §5.4).
				r.sendDiscovery(wan, pppoe.NewPADT(net.HardwareAddr(src[:]), r.ports[wan].MAC, d.SessionID, reason))
				r.refuse(pppoe.CodePADR, sub, &d, reason)
				return
			}
		}
		r.sendDiscovery(lan, &d)
	case pppoe.CodePADT:
		r.relayPADT(wan, f, src)
	default:
		r.ctrs.drop(DropUnexpected)
	}
}

func (r *Relay) addOffer(sub, ac [6]byte, cookie []byte) {
	now := r.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.offers[sub]
	if list == nil && len(r.offers) >= maxHosts {
		return
	}
	if len(list) >= maxOffers {
		list = list[1:]
	}
	r.offers[sub] = append(list, offer{ac: ac, cookie: bytes.Clone(cookie), expires: now.Add(offerTTL)})
}

// takeOffer finds the AC a PADR is for: the offer whose AC-Cookie it
// echoes, else the latest.
func (r *Relay) takeOffer(sub [6]byte, cookie []byte, now time.Time) ([6]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	list := r.offers[sub]
	for i := len(list) - 1; i >= 0; i-- {
		o := list[i]
		if now.After(o.expires) {
			continue
		}
		if cookie == nil || bytes.Equal(cookie, o.cookie) {
			return o.ac, true
		}
	}
	return [6]byte{}, false
}

// newSession enters a session learnt from a PADS; it returns why not.
func (r *Relay) newSession(id uint16, sub, ac [6]byte) string {
	now := r.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.tbl[id].Load(); old != nil {
		if old.sub == sub && old.ac == ac {
			return "" // a PADS sent again
		}
		return "session id in use at the relay"
	}
	if r.count >= r.cfg.MaxSessions {
		r.ctrs.drop(DropSessionLimit)
		return "session limit reached"
	}
	s := &session{id: id, sub: sub, ac: ac, created: now, lastSeen: now}
	r.tbl[id].Store(s)
	r.count++
	delete(r.offers, sub)
	r.log.Debug("session", zap.Uint16("session", id), zap.Stringer("subscriber", net.HardwareAddr(sub[:])),
		zap.Stringer("bras", net.HardwareAddr(ac[:])))
	return ""
}

// relayPADT passes a PADT that came in on side from, sent by src, to the
// other side and ends the session (RFC 2516 §5.5). Only the session's own
// peer on that side may end it.
func (r *Relay) relayPADT(from side, f []byte, src [6]byte) {
	id := uint16(f[16])<<8 | uint16(f[17])
	s := r.tbl[id].Load()
	if s == nil {
		r.ctrs.drop(DropUnknownSession)
		return
	}
	peer := s.sub
	if from == wan {
		peer = s.ac
	}
	if peer != src {
		s.spoofed.Add(1)
		r.ctrs.drop(DropSpoofed)
		return
	}
	var d pppoe.Discovery
	if err := d.UnmarshalBinary(f); err != nil {
		r.ctrs.drop(DropMalformed)
		return
	}
	d.StripRelaySessionID()
	out := from.other()
	if out == wan {
		d.Dst = s.acMAC()
	} else {
		d.Dst = s.subMAC()
	}
	d.Src = r.ports[out].MAC
	r.sendDiscovery(out, &d)
	s.mu.Lock()
	r.endLocked(s, r.causeFor(s, from), false, false, "")
	s.mu.Unlock()
}
