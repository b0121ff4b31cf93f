package relay

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
	"go.uber.org/zap"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/relay/kernel"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// Relay is a PPPoE relay between a LAN and a WAN port. Make one with New
// (AF_PACKET sockets on named interfaces) or NewWithPorts, then Run it.
type Relay struct {
	cfg   Config
	log   *zap.Logger
	ports [2]*port
	off   *kernel.Offload

	tbl     *[1 << 16]atomic.Pointer[session]
	rsidKey [32]byte
	tr101   *pppoe.TR101

	mu     sync.Mutex
	count  int
	byKey  map[uint64]*session
	offers map[[6]byte][]offer
	lim    limiter

	keyNext     atomic.Uint64
	ctrs        counters
	spoofedGone atomic.Uint64 // the kernel's spoofed counts of ended sessions

	// after holds, per pump, sessions to end after its next flush.
	after [2][]*session

	ctx    context.Context // ends when Run ends: auth calls use it
	cancel context.CancelFunc
	authWG sync.WaitGroup
}

var _ gateway.Counters = (*Relay)(nil)

// New opens AF_PACKET sockets on cfg.LAN and cfg.WAN and, unless
// cfg.Mode is ModeUser, loads and attaches the kernel offload (ModeAuto
// falls back to user space if that fails). Call it in the network
// namespace of the interfaces; Run may be called from anywhere.
func New(cfg Config) (*Relay, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if cfg.LAN == "" || cfg.WAN == "" {
		return nil, errors.New("relay: LAN and WAN interfaces are required")
	}
	log := cfg.Logger.Named("relay")
	var off *kernel.Offload
	if cfg.Mode != ModeUser {
		var err error
		off, err = loadOffload(cfg)
		if err != nil {
			if cfg.Mode == ModeKernel {
				return nil, err
			}
			log.Warn("kernel offload unavailable: forwarding in user space", zap.Error(err))
			off = nil
		}
	}
	lanP, err := openPort(cfg.LAN, off != nil)
	if err != nil {
		closeOffload(off)
		return nil, err
	}
	wanP, err := openPort(cfg.WAN, off != nil)
	if err != nil {
		lanP.Link.Close()
		closeOffload(off)
		return nil, err
	}
	if off != nil {
		if err := off.Attach(lanP.Ifindex, wanP.Ifindex); err != nil {
			closeOffload(off)
			off = nil
			if cfg.Mode == ModeKernel {
				lanP.Link.Close()
				wanP.Link.Close()
				return nil, err
			}
			log.Warn("kernel offload does not attach: forwarding in user space", zap.Error(err))
			// The sockets filter out IP frames for the offload: reopen.
			lanP.Link.Close()
			wanP.Link.Close()
			if lanP, err = openPort(cfg.LAN, false); err != nil {
				return nil, err
			}
			if wanP, err = openPort(cfg.WAN, false); err != nil {
				lanP.Link.Close()
				return nil, err
			}
		}
	}
	r, err := newRelay(cfg, lanP, wanP)
	if err != nil {
		return nil, err
	}
	r.off = off
	r.log.Info("relay ready", zap.String("lan", cfg.LAN), zap.String("wan", cfg.WAN),
		zap.Bool("offload", off != nil))
	return r, nil
}

func loadOffload(cfg Config) (*kernel.Offload, error) {
	return kernel.Load(cfg.MaxSessions)
}

func closeOffload(o *kernel.Offload) {
	if o != nil {
		_ = o.Close()
	}
}

// NewWithPorts makes a relay over given links (tests, other transports).
// Every frame goes through user space; cfg.LAN, cfg.WAN and cfg.Mode are
// ignored.
func NewWithPorts(cfg Config, lanPort, wanPort Port) (*Relay, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	for _, p := range []Port{lanPort, wanPort} {
		if p.Link == nil || len(p.MAC) != 6 {
			return nil, errors.New("relay: a port needs a link and a 6-octet MAC")
		}
	}
	return newRelay(cfg, newPort(lanPort), newPort(wanPort))
}

func newPort(p Port) *port {
	q := &port{Port: p, addr: &packet.Addr{HardwareAddr: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}}
	copy(q.mac[:], p.MAC)
	return q
}

func newRelay(cfg Config, lanP, wanP *port) (*Relay, error) {
	r := &Relay{
		cfg:    cfg,
		log:    cfg.Logger.Named("relay"),
		ports:  [2]*port{lanP, wanP},
		tbl:    new([1 << 16]atomic.Pointer[session]),
		byKey:  make(map[uint64]*session),
		offers: make(map[[6]byte][]offer),
	}
	r.lim.init(cfg)
	if _, err := rand.Read(r.rsidKey[:]); err != nil {
		return nil, err
	}
	if cfg.CircuitID != "" || cfg.RemoteID != "" {
		v, err := pppoe.NewTR101(cfg.CircuitID, cfg.RemoteID)
		if err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		r.tr101 = &v
	}
	r.keyNext.Store(uint64(cfg.Now().UnixNano()))
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Run relays until ctx ends, then ends every session (PADT to both
// sides, Sessions.Closed with Admin-Reboot), closes the sockets and
// detaches the offload. It returns nil after ctx ends, or the error that
// stopped a socket.
func (r *Relay) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	var pumps sync.WaitGroup
	for _, from := range []side{lan, wan} {
		pumps.Add(1)
		go func() {
			defer pumps.Done()
			errc <- r.pump(from)
		}()
	}
	tick := time.NewTicker(r.reapEvery())
	defer tick.Stop()
	var err error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-errc:
			r.log.Error("socket failed", zap.Error(err))
			break loop
		case <-tick.C:
			r.reap()
		}
	}
	r.cancel()
	r.authWG.Wait()
	r.endAll(gateway.CauseAdminReboot)
	for _, p := range r.ports {
		p.Link.Close()
	}
	pumps.Wait()
	closeOffload(r.off)
	return err
}

func (r *Relay) reapEvery() time.Duration {
	d := r.cfg.HandshakeTimeout / 4
	if i := r.cfg.IdleTimeout / 4; i < d {
		d = i
	}
	if d > time.Second {
		d = time.Second
	}
	if d < 10*time.Millisecond {
		d = 10 * time.Millisecond
	}
	return d
}

// pump reads frames from one side and forwards them to the other.
func (r *Relay) pump(from side) error {
	rd := newReader(r.ports[from])
	w := newWriter(r.ports[from.other()])
	for {
		n, err := rd.read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || r.ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("relay: read %s: %w", from, err)
		}
		for i := 0; i < n; i++ {
			f := rd.bufs[i][:rd.lens[i]]
			if r.handle(from, f) {
				w.add(f)
			}
		}
		if d := w.flush(); d > 0 {
			r.ctrs.drops[DropLinkRefused].Add(uint64(d))
		}
		if len(r.after[from]) > 0 {
			r.afterFlush(from)
		}
	}
}

// handle takes one frame from a side. It returns true when the frame,
// rewritten in place, is to go out of the other side; anything else it
// has dealt with (sent, held, or dropped and counted). It allocates
// nothing for the session frames of a session that is up.
func (r *Relay) handle(from side, f []byte) bool {
	if len(f) < pppoe.FrameHeaderLen {
		r.ctrs.drop(DropMalformed)
		return false
	}
	if f[12] == 0x88 && f[13] == 0x64 {
		return r.handleSession(from, f)
	}
	if f[12] == 0x88 && f[13] == 0x63 {
		r.handleDiscovery(from, f)
		return false
	}
	r.ctrs.drop(DropUnexpected)
	return false
}

// handleSession is the fast path: RFC 2516 §6 session frames.
func (r *Relay) handleSession(from side, f []byte) bool {
	if f[14] != pppoe.VerType || f[15] != byte(pppoe.CodeSession) {
		r.ctrs.drop(DropMalformed)
		return false
	}
	n := int(f[18])<<8 | int(f[19])
	if n < 1 || pppoe.FrameHeaderLen+n > len(f) {
		r.ctrs.drop(DropMalformed)
		return false
	}
	// Session ids are unique only per pair of MACs (RFC 2516 §4): a
	// frame flooded to us, or broadcast, with a session id of ours may
	// belong to another host's session, and must be neither relayed nor
	// billed.
	if [6]byte(f[0:6]) != r.ports[from].mac {
		r.ctrs.drop(DropNotForUs)
		return false
	}
	s := r.tbl[int(f[16])<<8|int(f[17])].Load()
	if s == nil {
		r.ctrs.drop(DropUnknownSession)
		return false
	}
	peer, dst := &s.sub, &s.ac
	if from == wan {
		peer, dst = &s.ac, &s.sub
	}
	if [6]byte(f[6:12]) != *peer {
		s.spoofed.Add(1)
		r.ctrs.drop(DropSpoofed)
		return false
	}
	// The PPP protocol field, two octets or one (RFC 1661 §6.5 PFC).
	p := f[pppoe.FrameHeaderLen : pppoe.FrameHeaderLen+n]
	proto, hdr := uint16(p[0]), 1
	if p[0]&1 == 0 {
		if n < 2 {
			r.ctrs.drop(DropMalformed)
			return false
		}
		proto, hdr = uint16(p[0])<<8|uint16(p[1]), 2
	}
	if proto == 0x0021 || proto == 0x0057 {
		if !s.up.Load() {
			r.ctrs.drop(DropNotUp)
			return false
		}
		t := &s.traffic[from]
		t.octets.Add(uint64(n - hdr))
		t.packets.Add(1)
	} else if !r.control(s, from, f[:pppoe.FrameHeaderLen+n], proto, p[hdr:]) {
		return false
	}
	*(*[6]byte)(f[0:6]) = *dst
	*(*[6]byte)(f[6:12]) = r.ports[from.other()].mac
	r.ctrs.frames[from].n.Add(1)
	return true
}

// Usage returns the live usage of the session with that key, while it
// is up (gateway.Counters).
func (r *Relay) Usage(key uint64) (gateway.Usage, bool) {
	r.mu.Lock()
	s := r.byKey[key]
	r.mu.Unlock()
	if s == nil {
		return gateway.Usage{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return r.usageLocked(s), true
}

// usageLocked adds the kernel's counters, if any, to user space's.
func (r *Relay) usageLocked(s *session) gateway.Usage {
	u := gateway.Usage{
		InOctets: s.traffic[lan].octets.Load(), InPackets: s.traffic[lan].packets.Load(),
		OutOctets: s.traffic[wan].octets.Load(), OutPackets: s.traffic[wan].packets.Load(),
	}
	if s.offloaded {
		if c, err := r.off.Counters(r.ports[lan].Ifindex, s.id); err == nil {
			u.InOctets += c.Octets
			u.InPackets += c.Packets
		}
		if c, err := r.off.Counters(r.ports[wan].Ifindex, s.id); err == nil {
			u.OutOctets += c.Octets
			u.OutPackets += c.Packets
		}
	}
	return u
}

var _ gateway.Ender = (*Relay)(nil)

// End ends the session with that key as the gateway's own decision
// (gateway.Ender): the subscriber gets an LCP Terminate-Request (RFC 1661
// §5.5) with reason as its data, then both sides a PADT (RFC 2516 §5.5)
// with reason as Generic-Error, as for a refused dial; Sessions.Closed
// follows with the final usage and cause. It reports whether the session
// was up. The BRAS gets no LCP of ours: it is the subscriber's PPP peer,
// and the PADT ends its session.
func (r *Relay) End(key uint64, cause gateway.TerminateCause, reason string) bool {
	r.mu.Lock()
	s := r.byKey[key]
	r.mu.Unlock()
	if s == nil {
		return false
	}
	if reason == "" {
		reason = "session ended by the gateway"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		r.sendTerminate(s, reason)
	}
	r.endLocked(s, cause, true, true, reason)
	return true
}

// Stats returns the counters.
func (r *Relay) Stats() Stats {
	var st Stats
	st.FromLAN = r.ctrs.frames[lan].n.Load()
	st.FromWAN = r.ctrs.frames[wan].n.Load()
	for i := range st.Drops {
		st.Drops[i] = r.ctrs.drops[i].Load()
	}
	st.Accepted = r.ctrs.accepted.Load()
	st.Refused = r.ctrs.refused.Load()
	st.AuthErrors = r.ctrs.authErrors.Load()
	st.GenericErrors = r.ctrs.genericErrors.Load()
	r.mu.Lock()
	st.Sessions, st.Up = r.count, len(r.byKey)
	r.mu.Unlock()
	if r.off != nil {
		st.Offloaded = true
		st.Drops[DropUnknownSession] += r.off.Stat(kernel.StatUnknown)
		st.Drops[DropMalformed] += r.off.Stat(kernel.StatMalformed)
		st.Drops[DropSpoofed] += r.kernelSpoofed()
	}
	return st
}

// kernelSpoofed sums the spoofed counters of offloaded sessions.
func (r *Relay) kernelSpoofed() uint64 {
	var n uint64
	for _, s := range r.sessions() {
		s.mu.Lock()
		if s.offloaded {
			for _, sd := range []side{lan, wan} {
				if c, err := r.off.Counters(r.ports[sd].Ifindex, s.id); err == nil {
					n += c.Spoofed
				}
			}
		}
		s.mu.Unlock()
	}
	return n + r.spoofedGone.Load()
}

// sessions returns every session in the table.
func (r *Relay) sessions() []*session {
	var out []*session
	r.mu.Lock()
	n := r.count
	r.mu.Unlock()
	if n == 0 {
		return nil
	}
	for i := range r.tbl {
		if s := r.tbl[i].Load(); s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Spoofed returns how many frames claiming the session with that key
// came from a MAC other than its subscriber's (or its BRAS's), dropped.
func (r *Relay) Spoofed(key uint64) uint64 {
	r.mu.Lock()
	s := r.byKey[key]
	r.mu.Unlock()
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.spoofed.Load()
	if s.offloaded {
		for _, sd := range []side{lan, wan} {
			if c, err := r.off.Counters(r.ports[sd].Ifindex, s.id); err == nil {
				n += c.Spoofed
			}
		}
	}
	return n
}
