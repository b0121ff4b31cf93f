package nas

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/rfc/pppoe"
)

// AC-Cookie (RFC 2516 Appendix A): stateless, so a PADI costs nasd
// nothing but the PADO. Layout: 4 octets of issue time (Unix seconds),
// then the first 16 octets of HMAC-SHA256(key, time || subject), the
// subject being the client's MAC and its Relay-Session-Id, if any
// (cookieSubject). Neither making nor checking one allocates: the
// subject is read where it lies in the frame, and one keyed hash with
// its scratch space is reused (cookieHash).
const (
	cookieLen    = 20
	cookieMACLen = 16
)

// cookieSubject is what an AC-Cookie is bound to: the client's MAC and,
// behind a relay, the Relay-Session-Id, so subscribers sharing a relay's
// MAC get distinct cookies and one's PADR is not taken for a
// retransmission of another's. It aliases the discovery frame's MAC
// and tag value instead of joining them into a new slice: the HMAC
// reads the two in turn. The MAC is always 6 octets (an Ethernet
// source), so MAC then Relay-Session-Id is an unambiguous encoding of
// the pair.
type cookieSubject struct {
	mac, relay []byte
}

// subjectOf is the cookie subject of a PADI or PADR; it allocates
// nothing and aliases d.
func subjectOf(d *pppoe.Discovery) cookieSubject {
	relay, _ := d.RelaySessionID()
	return cookieSubject{mac: d.Src, relay: relay}
}

// cookieHash is an HMAC-SHA256 keyed with the cookie key, with room for
// its input's time stamp and its sum, so that hashing needs no new
// memory. Server keeps one, made at first use, under a lock: discovery
// runs on the read loop alone, so the lock is never contended there,
// but nothing here relies on that. (A sync.Pool would do as well, but
// drops items at random under the race detector, and one is enough.)
type cookieHash struct {
	h   hash.Hash
	ts  [4]byte
	sum [sha256.Size]byte
}

// lockCookieHash returns the server's cookie hash, locked; unlock it
// with s.cookieMu.Unlock when done with its result.
func (s *Server) lockCookieHash() *cookieHash {
	s.cookieMu.Lock()
	if s.cookieHasher == nil {
		s.cookieHasher = &cookieHash{h: hmac.New(sha256.New, s.cookieKey[:])}
	}
	return s.cookieHasher
}

// cookieMAC returns the first cookieMACLen octets of the HMAC of issue
// time ts and sub; the result lives in ch until ch is used again.
func (ch *cookieHash) cookieMAC(ts uint32, sub cookieSubject) []byte {
	binary.BigEndian.PutUint32(ch.ts[:], ts)
	ch.h.Reset()
	ch.h.Write(ch.ts[:])
	ch.h.Write(sub.mac)
	ch.h.Write(sub.relay)
	return ch.h.Sum(ch.sum[:0])[:cookieMACLen]
}

// appendCookie appends a cookie for sub issued now to dst.
func (s *Server) appendCookie(dst []byte, sub cookieSubject, now time.Time) []byte {
	ts := uint32(now.Unix())
	ch := s.lockCookieHash()
	dst = binary.BigEndian.AppendUint32(dst, ts)
	dst = append(dst, ch.cookieMAC(ts, sub)...)
	s.cookieMu.Unlock()
	return dst
}

// checkCookie reports whether c is a cookie we issued to sub no longer
// than CookieTTL ago.
func (s *Server) checkCookie(c []byte, sub cookieSubject, now time.Time) bool {
	if len(c) != cookieLen {
		return false
	}
	issued := binary.BigEndian.Uint32(c)
	age := now.Unix() - int64(issued)
	if age < 0 || age > int64(s.cfg.CookieTTL/time.Second) {
		return false
	}
	ch := s.lockCookieHash()
	ok := hmac.Equal(c[4:], ch.cookieMAC(issued, sub))
	s.cookieMu.Unlock()
	return ok
}

// serves reports whether nasd offers service name (RFC 2516 §5.1: an
// empty name means any service).
func (s *Server) serves(name string) bool {
	return name == "" || len(s.cfg.ServiceNames) == 0 || slices.Contains(s.cfg.ServiceNames, name)
}

func (s *Server) handleDiscovery(f []byte, broadcast bool) {
	var d pppoe.Discovery
	if err := d.UnmarshalBinary(f); err != nil {
		s.stats.badFrames.Add(1)
		return
	}
	if !s.accepted.Load() {
		return
	}
	now := time.Now()
	switch d.Code {
	case pppoe.CodePADI:
		s.stats.padiIn.Add(1)
		s.onPADI(&d, now)
	case pppoe.CodePADR:
		if broadcast {
			s.stats.badFrames.Add(1)
			return
		}
		s.stats.padrIn.Add(1)
		s.onPADR(&d, now)
	case pppoe.CodePADT:
		if broadcast {
			s.stats.badFrames.Add(1)
			return
		}
		s.stats.padtIn.Add(1)
		if ss := s.lookup(d.SessionID, d.Src); ss != nil {
			ss.mu.Lock()
			ss.padtReceived = true
			ss.end(now, causeUserRequest, "")
			ss.mu.Unlock()
		}
	default: // PADO and PADS are for hosts
		s.stats.badFrames.Add(1)
	}
}

// echoTags copies the tags a reply must carry back: Host-Uniq and
// Relay-Session-Id (RFC 2516 Appendix A).
func echoTags(d *pppoe.Discovery, tags []pppoe.Tag) []pppoe.Tag {
	if v, ok := d.HostUniq(); ok {
		tags = append(tags, pppoe.Tag{Type: pppoe.TagHostUniq, Value: v})
	}
	if v, ok := d.RelaySessionID(); ok {
		tags = append(tags, pppoe.Tag{Type: pppoe.TagRelaySessionID, Value: v})
	}
	return tags
}

// maxPayload returns the PPP-Max-Payload to grant (RFC 4638 §4): the
// host's value, at most what the interface carries; 0 when the host sent
// none or one not above 1492.
func (s *Server) maxPayload(d *pppoe.Discovery) uint16 {
	v, ok := d.PPPMaxPayload()
	if !ok || v <= 1492 || s.maxMRU <= 1492 {
		return 0
	}
	return min(v, s.maxMRU)
}

func (s *Server) onPADI(d *pppoe.Discovery, now time.Time) {
	// Behind a relay every subscriber has the relay's MAC; the
	// Relay-Session-Id tells them apart (RFC 2516 Appendix A).
	relay, _ := d.RelaySessionID()
	if !s.padi.allow(d.Src, relay, now) {
		s.stats.padiLimited.Add(1)
		return
	}
	if err := d.CheckRequiredTags(); err != nil {
		s.stats.badFrames.Add(1)
		return
	}
	svc, _ := d.ServiceName()
	if !s.serves(svc) {
		return // RFC 2516 §5.2: only an AC that can serve the request offers
	}
	tags := []pppoe.Tag{pppoe.NewStringTag(pppoe.TagACName, s.cfg.ACName), pppoe.NewStringTag(pppoe.TagServiceName, svc)}
	if svc == "" {
		for _, n := range s.cfg.ServiceNames {
			tags = append(tags, pppoe.NewStringTag(pppoe.TagServiceName, n))
		}
	}
	tags = append(tags, pppoe.Tag{Type: pppoe.TagACCookie, Value: s.appendCookie(make([]byte, 0, cookieLen), subjectOf(d), now)})
	if mp := s.maxPayload(d); mp != 0 {
		tags = append(tags, pppoe.NewPPPMaxPayloadTag(mp))
	}
	tags = echoTags(d, tags)
	pado := pppoe.Discovery{Dst: d.Src, Src: s.mac, Code: pppoe.CodePADO, Tags: tags}
	b, err := pado.MarshalBinary()
	if err != nil {
		s.log.Debug("PADO", zap.Error(err))
		return
	}
	s.write(b)
	s.stats.padoOut.Add(1)
}

// refusePADR answers a PADR nasd cannot serve with a PADS of session 0
// carrying the error tag (RFC 2516 §5.4).
func (s *Server) refusePADR(d *pppoe.Discovery, svc string, errTag pppoe.TagType, reason string) {
	tags := echoTags(d, []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, svc), pppoe.NewStringTag(errTag, reason)})
	pads := pppoe.Discovery{Dst: d.Src, Src: s.mac, Code: pppoe.CodePADS, Tags: tags}
	if b, err := pads.MarshalBinary(); err == nil {
		s.write(b)
		s.stats.padsRefused.Add(1)
	}
}

func (s *Server) onPADR(d *pppoe.Discovery, now time.Time) {
	cookie, _ := d.ACCookie()
	if !s.checkCookie(cookie, subjectOf(d), now) {
		// Missing, stale or forged: allocate nothing, answer nothing.
		s.stats.padrBadCookie.Add(1)
		return
	}
	if err := d.CheckRequiredTags(); err != nil {
		s.stats.badFrames.Add(1)
		return
	}
	svc, _ := d.ServiceName()
	if !s.serves(svc) {
		s.refusePADR(d, svc, pppoe.TagServiceNameError, "service not offered")
		return
	}
	var mac [6]byte
	copy(mac[:], d.Src)

	s.mu.Lock()
	// A PADR sent again because our PADS was lost: the same cookie finds
	// the session it made, and gets the same PADS.
	for _, ss := range s.byMAC[mac] {
		if string(ss.cookie) == string(cookie) {
			s.mu.Unlock()
			ss.mu.Lock()
			if ss.pads != nil {
				s.write(ss.pads)
			}
			ss.mu.Unlock()
			return
		}
	}
	if s.stopping {
		s.mu.Unlock()
		return
	}
	if len(s.sessions) >= s.cfg.MaxSessions {
		s.mu.Unlock()
		s.refusePADR(d, svc, pppoe.TagACSystemError, "session limit reached")
		return
	}
	id := s.allocID()
	ss := s.newSession(id, mac, d, svc, cookie, now)
	s.sessions[id] = ss
	s.byMAC[mac] = append(s.byMAC[mac], ss)
	ss.mu.Lock() // before it is reachable by other goroutines' lookups
	s.mu.Unlock()
	defer ss.mu.Unlock()

	tags := []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, svc), pppoe.NewStringTag(pppoe.TagACName, s.cfg.ACName)}
	if ss.maxPayload != 0 {
		tags = append(tags, pppoe.NewPPPMaxPayloadTag(ss.maxPayload))
	}
	tags = echoTags(d, tags)
	pads := pppoe.Discovery{Dst: d.Src, Src: s.mac, Code: pppoe.CodePADS, SessionID: id, Tags: tags}
	b, err := pads.MarshalBinary()
	if err != nil {
		s.log.Debug("PADS", zap.Error(err))
		ss.end(now, causeNASError, "")
		return
	}
	ss.pads = b
	s.write(b)
	s.stats.padsOut.Add(1)
	ss.start(now)
}

// allocID returns a free session id; s.mu is held and a free one exists
// (MaxSessions is below 65534). Ids 0 and 0xffff are reserved (RFC 2516
// §4).
func (s *Server) allocID() uint16 {
	for {
		s.nextID++
		if s.nextID == 0 || s.nextID == 0xffff {
			continue
		}
		if _, used := s.sessions[s.nextID]; !used {
			return s.nextID
		}
	}
}

// padiLimiter holds token buckets for PADIs: one for the interface, one
// per source (MAC, and Relay-Session-Id when a relay added one; at most
// maxMACs of them: past that a flood from random MACs meets the interface
// bucket alone).
type padiLimiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	perRate float64
	perMax  float64
	all     bucket
	macs    map[string]*bucket
	swept   time.Time
}

const maxMACs = 1 << 16

type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) take(now time.Time, rate, burst float64) bool {
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func newPADILimiter(c Config) *padiLimiter {
	return &padiLimiter{
		rate: c.PADIRate, burst: float64(c.PADIBurst),
		perRate: c.PADIRatePerMAC, perMax: float64(c.PADIBurstPerMAC),
		macs: map[string]*bucket{},
	}
}

func (l *padiLimiter) allow(mac net.HardwareAddr, relay []byte, now time.Time) bool {
	k := string(mac) + string(relay)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.macs[k]
	if b == nil && len(l.macs) < maxMACs {
		b = &bucket{}
		l.macs[k] = b
	}
	if b != nil && !b.take(now, l.perRate, l.perMax) {
		return false
	}
	return l.all.take(now, l.rate, l.burst)
}

// sweep forgets MACs whose bucket is full again, once a second.
func (l *padiLimiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.macs) == 0 || now.Sub(l.swept) < time.Second {
		return
	}
	l.swept = now
	full := time.Duration(l.perMax/l.perRate*float64(time.Second)) + time.Second
	for k, b := range l.macs {
		if now.Sub(b.last) > full {
			delete(l.macs, k)
		}
	}
}
