package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// Options describe one subscriber's dial.
type Options struct {
	// MAC is the subscriber's Ethernet address; each session on a Mux
	// needs its own. Required.
	MAC net.HardwareAddr
	// User and Password authenticate by PAP or CHAP-MD5, whichever the
	// access concentrator asks for.
	User, Password string
	// ServiceName is requested in PADI and PADR ("" = any service).
	ServiceName string
	// ACName, if set, accepts only PADOs from that access concentrator;
	// otherwise the first PADO wins.
	ACName string
	// MRU we request (default 1492); MaxPayload, if above 1492, is sent
	// as PPP-Max-Payload (RFC 4638) and raises the MRU to it.
	MRU, MaxPayload uint16
	// ExtraTags go into PADI and PADR (e.g. a TR-101 Vendor-Specific tag,
	// as an intermediate agent would insert).
	ExtraTags []pppoe.Tag
	// DiscoveryTimeout is the first PADI/PADR timeout (default 1s); it
	// doubles up to 4s, for DiscoveryTries sends (default 6).
	DiscoveryTimeout time.Duration
	DiscoveryTries   int
	// RestartTimer is the LCP/IPCP Restart timer and the PAP
	// retransmission interval (default 3s, RFC 1661 §4.6).
	RestartTimer time.Duration
	// SetupTimeout bounds the whole dial (default 60s).
	SetupTimeout time.Duration
	// OnIP, if set, is called with every IP packet received while up (in
	// the session's goroutine; the slice is reused afterwards).
	OnIP func(pkt []byte)
	// Queue is the depth of the session's inbound frame queue (default
	// 1024).
	Queue int
}

// Errors a dial or a session ends with.
var (
	ErrNoOffer    = errors.New("client: no access concentrator offered service (no PADO)")
	ErrNoConfirm  = errors.New("client: access concentrator did not confirm the session (no PADS)")
	ErrTimeout    = errors.New("client: session setup timed out")
	ErrTerminated = errors.New("client: session terminated by the access concentrator")
	ErrDropped    = errors.New("client: session dropped")
	ErrNotUp      = errors.New("client: session is not up")
)

// RefusedError is an authentication refusal, with the message the access
// concentrator sent in PAP Authenticate-Nak or CHAP Failure (RFC 1334
// §2.2.2, RFC 1994 §4.2): nasd puts RADIUS's Reply-Message there.
type RefusedError struct {
	Method  string // "PAP" or "CHAP"
	Message string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("client: %s authentication refused: %q", e.Method, e.Message)
}

// DiscoveryError is a PADS refusing the session, or a PADT during
// discovery, with the error tag it carried (RFC 2516 §5.4, Appendix A).
type DiscoveryError struct {
	Tag     pppoe.TagType
	Message string
}

func (e *DiscoveryError) Error() string {
	return fmt.Sprintf("client: access concentrator refused the session: %v %q", e.Tag, e.Message)
}

// Counters count IP packets and octets (the PPP payload, DESIGN.md
// "Usage") the session sent (Tx) and received (Rx).
type Counters struct {
	TxPackets, TxOctets, RxPackets, RxOctets uint64
}

type cstate uint8

const (
	sDiscovery cstate = iota + 1 // PADI sent
	sRequest                     // PADR sent
	sLCP
	sAuth
	sIPCP
	sUp
	sClosing // LCP Terminate-Request sent by us
	sDead
)

// Session is one subscriber's PPPoE session and PPP link.
type Session struct {
	mux  *Mux
	mac  net.HardwareAddr
	opts Options
	log  *zap.Logger

	in       chan *[]byte
	hangup   chan struct{}
	dropCh   chan struct{}
	dropOnce sync.Once
	done     chan struct{}
	upCh     chan struct{}
	upOnce   sync.Once
	dialErr  error
	err      error

	// Fixed once up (read by other goroutines after upCh is closed).
	acMAC    net.HardwareAddr
	acName   string
	sid      uint16
	addr     netip.Addr
	peerAddr netip.Addr
	dns      []netip.Addr
	authMsg  string
	setup    time.Duration

	up                 atomic.Bool
	tx                 sync.Mutex
	txP, txO, rxP, rxO atomic.Uint64

	// Owned by the session goroutine.
	state      cstate
	started    time.Time
	hostUniq   []byte
	cookie     []byte
	relayID    []byte
	tries      int
	tmo        time.Duration
	next       time.Time
	lcpPol     ppp.LCPPolicy
	lcp        *ppp.Machine
	ipcpPol    ppp.IPCPPolicy
	ipcp       *ppp.Machine
	auth       ppp.Auth
	papID      uint8
	papTries   int
	maxPayload uint16
}

// Dial brings a session up: discovery, LCP, PAP or CHAP, IPCP. It
// returns when IPCP is open, or with the reason it failed (*RefusedError
// for a refused login, *DiscoveryError, ErrNoOffer, ErrTimeout, or ctx's
// error). The Mux must be running.
func (m *Mux) Dial(ctx context.Context, opts Options) (*Session, error) {
	if len(opts.MAC) != 6 {
		return nil, errors.New("client: Options.MAC must be 6 octets")
	}
	if opts.MRU == 0 {
		opts.MRU = 1492
	}
	if opts.DiscoveryTimeout <= 0 {
		opts.DiscoveryTimeout = time.Second
	}
	if opts.DiscoveryTries <= 0 {
		opts.DiscoveryTries = 6
	}
	if opts.RestartTimer <= 0 {
		opts.RestartTimer = ppp.DefaultRestartTimer
	}
	if opts.SetupTimeout <= 0 {
		opts.SetupTimeout = time.Minute
	}
	if opts.Queue <= 0 {
		opts.Queue = 1024
	}
	s := &Session{
		mux: m, mac: slices.Clone(opts.MAC), opts: opts,
		log: m.log.With(zap.Stringer("mac", opts.MAC)),
		in:  make(chan *[]byte, opts.Queue), hangup: make(chan struct{}, 1), dropCh: make(chan struct{}),
		done: make(chan struct{}), upCh: make(chan struct{}),
	}
	if err := m.register(s); err != nil {
		return nil, err
	}
	go s.run()
	select {
	case <-s.upCh:
		if s.dialErr != nil {
			return nil, s.dialErr
		}
		return s, nil
	case <-ctx.Done():
		s.abort()
		return nil, ctx.Err()
	}
}

// SessionID returns the PPPoE session id.
func (s *Session) SessionID() uint16 { return s.sid }

// MAC returns the subscriber's MAC.
func (s *Session) MAC() net.HardwareAddr { return s.mac }

// ACMAC returns the access concentrator's MAC.
func (s *Session) ACMAC() net.HardwareAddr { return s.acMAC }

// ACName returns the access concentrator's AC-Name.
func (s *Session) ACName() string { return s.acName }

// Addr returns the address IPCP gave us.
func (s *Session) Addr() netip.Addr { return s.addr }

// PeerAddr returns the access concentrator's IPCP address.
func (s *Session) PeerAddr() netip.Addr { return s.peerAddr }

// DNS returns the DNS servers IPCP gave us (RFC 1877).
func (s *Session) DNS() []netip.Addr { return s.dns }

// AuthMessage returns the message of the PAP Ack or CHAP Success.
func (s *Session) AuthMessage() string { return s.authMsg }

// SetupTime returns how long the dial took, PADI to IPCP open.
func (s *Session) SetupTime() time.Duration { return s.setup }

// Counters returns what the session sent and received so far.
func (s *Session) Counters() Counters {
	return Counters{TxPackets: s.txP.Load(), TxOctets: s.txO.Load(), RxPackets: s.rxP.Load(), RxOctets: s.rxO.Load()}
}

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err returns why the session ended: nil after Hangup, ErrTerminated
// when the access concentrator ended it, ErrDropped after Drop.
func (s *Session) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		return nil
	}
}

// SendIP sends one IP packet in the session and counts it.
func (s *Session) SendIP(pkt []byte) error {
	if !s.up.Load() {
		return ErrNotUp
	}
	bp := s.mux.bufs.Get().(*[]byte)
	b := append((*bp)[:0], s.acMAC...)
	b = append(b, s.mac...)
	b = append(b, 0x88, 0x64, pppoe.VerType, 0, byte(s.sid>>8), byte(s.sid), 0, 0, 0x00, 0x21)
	b = append(b, pkt...)
	binary.BigEndian.PutUint16(b[18:20], uint16(len(b)-pppoe.FrameHeaderLen))
	// Counted under tx so that Hangup, which takes it too, sees every
	// packet that went out before the Terminate-Request.
	s.tx.Lock()
	var err error
	if s.up.Load() {
		if err = s.mux.write(b); err == nil {
			s.txP.Add(1)
			s.txO.Add(uint64(len(pkt)))
		}
	} else {
		err = ErrNotUp
	}
	s.tx.Unlock()
	*bp = b
	s.mux.bufs.Put(bp)
	return err
}

// Hangup ends the session cleanly: LCP Terminate-Request, then, on the
// Terminate-Ack (or after the Restart timer ran out), PADT (RFC 1661
// §5.5, RFC 2516 §5.5). Packets received until then are still counted.
func (s *Session) Hangup(ctx context.Context) error {
	s.tx.Lock()
	s.up.Store(false)
	s.tx.Unlock()
	select {
	case s.hangup <- struct{}{}:
	default:
	}
	select {
	case <-s.done:
		if errors.Is(s.err, ErrTerminated) {
			return nil // the AC hung up first; the session is over either way
		}
		return s.err
	case <-ctx.Done():
		s.Drop()
		return ctx.Err()
	}
}

// Drop ends the session abruptly: nothing more is sent or answered, as
// if the subscriber's line went dead. The access concentrator finds out
// by its echo keepalive.
func (s *Session) Drop() {
	s.up.Store(false)
	s.dropOnce.Do(func() { close(s.dropCh) })
	<-s.done
}

// abort gives up a dial in progress, telling the AC with a PADT if a
// session id was assigned.
func (s *Session) abort() {
	s.up.Store(false)
	s.dropOnce.Do(func() { close(s.dropCh) })
	<-s.done
	if s.sid != 0 && s.acMAC != nil {
		if b, err := pppoe.NewPADT(s.acMAC, s.mac, s.sid, "").MarshalBinary(); err == nil {
			_ = s.mux.write(b)
		}
	}
}

func (s *Session) run() {
	defer func() {
		s.mux.unregister(s)
		close(s.done)
	}()
	now := time.Now()
	s.started = now
	s.hostUniq = make([]byte, 8)
	_, _ = rand.Read(s.hostUniq)
	s.maxPayload = s.opts.MaxPayload
	if s.maxPayload <= 1492 {
		s.maxPayload = 0
	}
	s.state = sDiscovery
	s.tmo = s.opts.DiscoveryTimeout
	s.sendPADI(now)

	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for s.state != sDead {
		if d := s.deadline(); !d.IsZero() {
			t.Reset(max(time.Until(d), 0))
		} else {
			t.Reset(time.Hour)
		}
		select {
		case bp := <-s.in:
			s.onFrame(time.Now(), *bp)
			s.mux.bufs.Put(bp)
		case <-t.C:
			s.onTimer(time.Now())
		case <-s.hangup:
			s.startHangup(time.Now())
		case <-s.dropCh:
			s.finish(ErrDropped)
		}
	}
}

// finish ends the session with err (nil: a clean hang-up).
func (s *Session) finish(err error) {
	if s.state == sDead {
		return
	}
	s.state = sDead
	s.up.Store(false)
	s.err = err
	s.upOnce.Do(func() {
		s.dialErr = err
		if err == nil {
			s.dialErr = ErrDropped
		}
		close(s.upCh)
	})
}

func (s *Session) deadline() time.Time {
	d := s.next
	at := func(t time.Time, ok bool) {
		if ok && (d.IsZero() || t.Before(d)) {
			d = t
		}
	}
	if s.lcp != nil {
		at(s.lcp.Deadline())
	}
	if s.ipcp != nil {
		at(s.ipcp.Deadline())
	}
	if s.state < sUp {
		at(s.started.Add(s.opts.SetupTimeout), true)
	}
	return d
}

func (s *Session) onTimer(now time.Time) {
	if s.state < sUp && !now.Before(s.started.Add(s.opts.SetupTimeout)) {
		s.finish(ErrTimeout)
		s.sendPADT()
		return
	}
	if !s.next.IsZero() && !now.Before(s.next) {
		s.next = time.Time{}
		switch s.state {
		case sDiscovery, sRequest:
			if s.tries >= s.opts.DiscoveryTries {
				if s.state == sDiscovery {
					s.finish(ErrNoOffer)
				} else {
					s.finish(ErrNoConfirm)
				}
				return
			}
			s.tmo = min(2*s.tmo, 4*time.Second)
			if s.state == sDiscovery {
				s.sendPADI(now)
			} else {
				s.sendPADR(now)
			}
		case sAuth:
			if s.auth.Protocol == ppp.ProtoPAP {
				if s.papTries >= 10 {
					s.finish(&RefusedError{Method: "PAP", Message: "no answer"})
					s.sendPADT()
					return
				}
				s.sendPAP(now)
			}
		}
	}
	if s.lcp != nil {
		s.apply(now, s.lcp, s.lcp.Timeout(now))
	}
	if s.ipcp != nil && s.state != sDead {
		s.apply(now, s.ipcp, s.ipcp.Timeout(now))
	}
}

func (s *Session) discoveryTags() []pppoe.Tag {
	tags := []pppoe.Tag{
		pppoe.NewStringTag(pppoe.TagServiceName, s.opts.ServiceName),
		{Type: pppoe.TagHostUniq, Value: s.hostUniq},
	}
	if s.maxPayload != 0 {
		tags = append(tags, pppoe.NewPPPMaxPayloadTag(s.maxPayload))
	}
	return append(tags, s.opts.ExtraTags...)
}

func (s *Session) sendDiscovery(d *pppoe.Discovery) {
	b, err := d.MarshalBinary()
	if err != nil {
		s.log.Debug("discovery", zap.Error(err))
		return
	}
	_ = s.mux.write(b)
}

func (s *Session) sendPADI(now time.Time) {
	s.tries++
	s.next = now.Add(s.tmo)
	s.sendDiscovery(&pppoe.Discovery{
		Dst: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, Src: s.mac, Code: pppoe.CodePADI, Tags: s.discoveryTags(),
	})
}

func (s *Session) sendPADR(now time.Time) {
	s.tries++
	s.next = now.Add(s.tmo)
	tags := s.discoveryTags()
	if s.cookie != nil {
		tags = append(tags, pppoe.Tag{Type: pppoe.TagACCookie, Value: s.cookie})
	}
	if s.relayID != nil {
		tags = append(tags, pppoe.Tag{Type: pppoe.TagRelaySessionID, Value: s.relayID})
	}
	s.sendDiscovery(&pppoe.Discovery{Dst: s.acMAC, Src: s.mac, Code: pppoe.CodePADR, Tags: tags})
}

func (s *Session) sendPADT() {
	if s.sid == 0 || s.acMAC == nil {
		return
	}
	s.sendDiscovery(pppoe.NewPADT(s.acMAC, s.mac, s.sid, ""))
}

func (s *Session) onFrame(now time.Time, f []byte) {
	if len(f) < pppoe.FrameHeaderLen || s.state == sDead {
		return
	}
	switch pppoe.EtherType(binary.BigEndian.Uint16(f[12:14])) {
	case pppoe.EtherTypeDiscovery:
		var d pppoe.Discovery
		if d.UnmarshalBinary(f) == nil {
			s.onDiscovery(now, &d)
		}
	case pppoe.EtherTypeSession:
		sf, err := pppoe.ParseSession(f)
		if err != nil || s.state < sLCP || sf.SessionID() != s.sid || string(sf.Src()) != string(s.acMAC) {
			return
		}
		proto, info, err := ppp.SplitProtocol(sf.Payload())
		if err != nil {
			return
		}
		s.onPPP(now, proto, info)
	}
}

func (s *Session) onDiscovery(now time.Time, d *pppoe.Discovery) {
	if d.Code == pppoe.CodePADT {
		if s.state >= sLCP && d.SessionID == s.sid && string(d.Src) == string(s.acMAC) {
			msg := ""
			if t, ok := d.ErrorTag(); ok {
				msg = string(t.Value)
			}
			s.log.Debug("PADT", zap.String("message", msg))
			if s.state == sClosing {
				s.finish(nil)
				return
			}
			s.finish(ErrTerminated)
		}
		return
	}
	if hu, _ := d.HostUniq(); string(hu) != string(s.hostUniq) {
		return
	}
	switch {
	case d.Code == pppoe.CodePADO && s.state == sDiscovery:
		name, _ := d.ACName()
		if s.opts.ACName != "" && name != s.opts.ACName {
			return
		}
		if t, ok := d.ErrorTag(); ok {
			s.log.Debug("PADO with error", zap.Stringer("tag", t.Type), zap.ByteString("value", t.Value))
			return
		}
		s.acMAC = slices.Clone(d.Src)
		s.acName = name
		if c, ok := d.ACCookie(); ok {
			s.cookie = slices.Clone(c)
		}
		if r, ok := d.RelaySessionID(); ok {
			s.relayID = slices.Clone(r)
		}
		if v, ok := d.PPPMaxPayload(); !ok || v < s.maxPayload {
			s.maxPayload = 0 // RFC 4638 §4: not granted, stay at 1492
		}
		s.state = sRequest
		s.tries = 0
		s.tmo = s.opts.DiscoveryTimeout
		s.sendPADR(now)
	case d.Code == pppoe.CodePADS && s.state == sRequest && string(d.Src) == string(s.acMAC):
		if t, ok := d.ErrorTag(); ok || d.SessionID == 0 {
			s.finish(&DiscoveryError{Tag: t.Type, Message: string(t.Value)})
			return
		}
		s.sid = d.SessionID
		s.next = time.Time{}
		s.startLCP(now)
	}
}

func (s *Session) startLCP(now time.Time) {
	s.state = sLCP
	mru := s.opts.MRU
	if s.maxPayload > mru {
		mru = s.maxPayload
	}
	s.lcpPol = ppp.LCPPolicy{
		MRU: mru, MaxPeerMRU: max(mru, 1492),
		AcceptAuth: []ppp.Auth{ppp.AuthCHAPMD5, ppp.AuthPAP},
		Magic:      mrand.Uint32,
	}
	s.lcp = ppp.NewMachine(ppp.Config{Protocol: ppp.ProtoLCP, Policy: &s.lcpPol, RestartTimer: s.opts.RestartTimer, MRU: int(mru)})
	s.apply(now, s.lcp, s.lcp.Open(now))
	s.apply(now, s.lcp, s.lcp.Up(now))
}

// apply carries out a Machine's actions: packets first, then layer
// actions.
func (s *Session) apply(now time.Time, m *ppp.Machine, acts []ppp.Action) {
	for i := range acts {
		if acts[i].Kind.Sends() {
			s.sendControl(m.Protocol(), &acts[i].Packet)
		}
	}
	for _, a := range acts {
		if s.state == sDead {
			return
		}
		switch a.Kind {
		case ppp.ActionTLU:
			if m == s.lcp {
				s.lcpUp(now)
			} else {
				s.ipcpUp(now)
			}
		case ppp.ActionTLD, ppp.ActionTLF:
			if m == s.lcp && s.state == sClosing {
				if a.Kind == ppp.ActionTLF {
					s.sendPADT()
					s.finish(nil)
				}
				continue
			}
			if m == s.lcp && a.Kind == ppp.ActionTLD && (s.state == sLCP || s.state == sAuth) {
				// The AC renegotiates LCP before authentication is
				// over (it resent its Configure-Request, our Ack was
				// lost): back to the Establish phase (RFC 1661 §3.2).
				s.state = sLCP
				s.next = time.Time{}
				s.papTries = 0
				continue
			}
			if m == s.lcp || a.Kind == ppp.ActionTLF {
				s.finish(ErrTerminated)
			}
		}
	}
}

func (s *Session) header(proto ppp.Protocol, n int) []byte {
	b := make([]byte, 0, pppoe.FrameHeaderLen+2+n)
	b = append(b, s.acMAC...)
	b = append(b, s.mac...)
	return append(b, 0x88, 0x64, pppoe.VerType, 0, byte(s.sid>>8), byte(s.sid), 0, 0, byte(proto>>8), byte(proto))
}

func (s *Session) send(b []byte) {
	binary.BigEndian.PutUint16(b[18:20], uint16(len(b)-pppoe.FrameHeaderLen))
	_ = s.mux.write(b)
}

func (s *Session) sendControl(proto ppp.Protocol, p *ppp.Packet) {
	if b, err := p.AppendBinary(s.header(proto, p.Len())); err == nil {
		s.send(b)
	}
}

func (s *Session) onPPP(now time.Time, proto ppp.Protocol, info []byte) {
	switch proto {
	case ppp.ProtoIPv4:
		if s.state == sUp || s.state == sClosing {
			s.rxP.Add(1)
			s.rxO.Add(uint64(len(info)))
			if s.opts.OnIP != nil {
				s.opts.OnIP(info)
			}
		}
	case ppp.ProtoLCP:
		_, acts, _ := s.lcp.Receive(now, info)
		s.apply(now, s.lcp, acts)
	case ppp.ProtoPAP:
		s.onPAP(now, info)
	case ppp.ProtoCHAP:
		s.onCHAP(now, info)
	case ppp.ProtoIPCP:
		if s.ipcp != nil {
			_, acts, _ := s.ipcp.Receive(now, info)
			s.apply(now, s.ipcp, acts)
		}
	}
}

// lcpUp starts authentication with the method the AC asked for in its
// Configure-Request (RFC 1661 §6.2), or IPCP when it asked for none.
func (s *Session) lcpUp(now time.Time) {
	if s.state != sLCP {
		return
	}
	for _, o := range s.lcp.PeerOptions() {
		if a, err := o.Auth(); err == nil {
			s.auth = a
		}
	}
	switch s.auth.Protocol {
	case ppp.ProtoPAP:
		s.state = sAuth
		s.papID = uint8(mrand.Uint32())
		s.sendPAP(now)
	case ppp.ProtoCHAP:
		s.state = sAuth // wait for the Challenge
	default:
		s.startIPCP(now)
	}
}

func (s *Session) sendPAP(now time.Time) {
	s.papID++
	s.papTries++
	s.next = now.Add(s.opts.RestartTimer)
	p := ppp.PAPPacket{Code: ppp.PAPAuthenticateRequest, Identifier: s.papID, PeerID: s.opts.User, Password: []byte(s.opts.Password)}
	if b, err := p.AppendBinary(s.header(ppp.ProtoPAP, 6+len(s.opts.User)+len(s.opts.Password))); err == nil {
		s.send(b)
	}
}

func (s *Session) onPAP(now time.Time, info []byte) {
	var p ppp.PAPPacket
	if s.state != sAuth || s.auth.Protocol != ppp.ProtoPAP || p.UnmarshalBinary(info) != nil || p.Identifier != s.papID {
		return
	}
	switch p.Code {
	case ppp.PAPAuthenticateAck:
		s.authMsg = p.Message
		s.next = time.Time{}
		s.startIPCP(now)
	case ppp.PAPAuthenticateNak:
		s.finish(&RefusedError{Method: "PAP", Message: p.Message})
	}
}

func (s *Session) onCHAP(now time.Time, info []byte) {
	var p ppp.CHAPPacket
	if s.state != sAuth || s.auth.Protocol != ppp.ProtoCHAP || p.UnmarshalBinary(info) != nil {
		return
	}
	switch p.Code {
	case ppp.CHAPChallenge:
		sum := ppp.CHAPMD5Response(p.Identifier, []byte(s.opts.Password), p.Value)
		r := ppp.CHAPPacket{Code: ppp.CHAPResponse, Identifier: p.Identifier, Value: sum[:], Name: s.opts.User}
		if b, err := r.AppendBinary(s.header(ppp.ProtoCHAP, 21+len(s.opts.User))); err == nil {
			s.send(b)
		}
	case ppp.CHAPSuccess:
		s.authMsg = p.Message
		s.startIPCP(now)
	case ppp.CHAPFailure:
		s.finish(&RefusedError{Method: "CHAP", Message: p.Message})
	}
}

func (s *Session) startIPCP(now time.Time) {
	s.state = sIPCP
	s.ipcpPol = ppp.IPCPPolicy{RequestDNS: true}
	s.ipcp = ppp.NewMachine(ppp.Config{Protocol: ppp.ProtoIPCP, Policy: &s.ipcpPol, RestartTimer: s.opts.RestartTimer})
	s.apply(now, s.ipcp, s.ipcp.Open(now))
	s.apply(now, s.ipcp, s.ipcp.Up(now))
}

func (s *Session) ipcpUp(now time.Time) {
	if s.state != sIPCP {
		return
	}
	local, err := ppp.ParseIPCPConfig(s.ipcp.LocalOptions())
	if err != nil || !local.Address.Is4() || local.Address.IsUnspecified() {
		s.finish(fmt.Errorf("client: IPCP gave no address (%v)", err))
		return
	}
	if peer, err := ppp.ParseIPCPConfig(s.ipcp.PeerOptions()); err == nil {
		s.peerAddr = peer.Address
	}
	s.addr = local.Address
	for _, a := range []netip.Addr{local.PrimaryDNS, local.SecondaryDNS} {
		if a.Is4() && !a.IsUnspecified() {
			s.dns = append(s.dns, a)
		}
	}
	s.setup = now.Sub(s.started)
	s.state = sUp
	s.up.Store(true)
	s.upOnce.Do(func() { close(s.upCh) })
}

// startHangup sends LCP Terminate-Request; the PADT follows the Ack.
func (s *Session) startHangup(now time.Time) {
	switch {
	case s.state == sDead || s.state == sClosing:
		return
	case s.state < sLCP:
		s.finish(nil)
		return
	}
	s.state = sClosing
	s.apply(now, s.lcp, s.lcp.Close(now, "User request"))
	if s.state == sClosing {
		if _, ok := s.lcp.Deadline(); !ok {
			// LCP was not negotiating: nothing to wait for.
			s.sendPADT()
			s.finish(nil)
		}
	}
}
