package pppoeblast

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
)

// Conn is the part of an AF_PACKET socket (*packet.Conn, in Raw mode)
// the access concentrator and dialer use.
type Conn interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	WriteTo(b []byte, addr net.Addr) (int, error)
	SetReadDeadline(t time.Time) error
}

var _ Conn = (*packet.Conn)(nil)

// AC is a minimal access concentrator: it answers PADI with PADO and PADR
// with PADS (echoing Host-Uniq and Relay-Session-Id, as RFC 2516 §5 asks,
// so relays can route the answers), forgets a session on PADT, and, given
// a session socket, counts the session frames that arrive.
type AC struct {
	// Name is the AC-Name tag (default "pppoe-blast").
	Name string
	// MAC is the AC's address, the source of its PADO and PADS.
	MAC net.HardwareAddr
	// Discovery carries discovery frames (ethertype 0x8863).
	Discovery Conn
	// Session, if set, carries session frames (0x8864) to count.
	Session Conn
	// MaxSessions bounds the sessions held (default 4096); closed ones
	// are forgotten when room is needed.
	MaxSessions int

	once     sync.Once
	cookey   []byte
	mu       sync.Mutex
	sessions map[uint16]*acSession
	next     uint16

	padi, pado, padr, pads, padt, bad atomic.Uint64
	frames, octets, foreign           atomic.Uint64
}

type acSession struct {
	peer             net.HardwareAddr
	closed           bool // by PADT; frames still in flight are counted
	frames           uint64
	maxSeq           uint64
	outOfOrder, dups uint64
}

// ACStats are an AC's counts so far.
type ACStats struct {
	PADI, PADO, PADR, PADS, PADT uint64
	Malformed                    uint64 // discovery frames not understood
	Sessions                     int    // open now
	// Session frames: Frames and Octets for our sessions (open, or
	// closed by PADT and still remembered), Foreign for the others.
	Frames, Octets, Foreign uint64
	// Over those sessions: MaxSeq+1-Frames were lost (when there are no
	// duplicates), OutOfOrder arrived after a later one.
	Lost, OutOfOrder uint64
}

func (ac *AC) init() {
	ac.once.Do(func() {
		if ac.Name == "" {
			ac.Name = "pppoe-blast"
		}
		if ac.MaxSessions == 0 {
			ac.MaxSessions = 4096
		}
		ac.cookey = make([]byte, 16)
		rand.Read(ac.cookey)
		var b [2]byte
		rand.Read(b[:])
		ac.next = binary.BigEndian.Uint16(b[:])
		ac.sessions = map[uint16]*acSession{}
	})
}

// Stats returns the counts so far.
func (ac *AC) Stats() ACStats {
	ac.init()
	s := ACStats{
		PADI: ac.padi.Load(), PADO: ac.pado.Load(), PADR: ac.padr.Load(), PADS: ac.pads.Load(), PADT: ac.padt.Load(),
		Malformed: ac.bad.Load(), Frames: ac.frames.Load(), Octets: ac.octets.Load(), Foreign: ac.foreign.Load(),
	}
	ac.mu.Lock()
	defer ac.mu.Unlock()
	for _, se := range ac.sessions {
		if !se.closed {
			s.Sessions++
		}
		if se.frames > 0 && se.maxSeq+1 > se.frames {
			s.Lost += se.maxSeq + 1 - se.frames
		}
		s.OutOfOrder += se.outOfOrder
	}
	return s
}

// Run serves until ctx is done; it polls ctx every 200 ms, so it returns
// that soon after. It does not close the sockets.
func (ac *AC) Run(ctx context.Context) error {
	ac.init()
	errc := make(chan error, 2)
	n := 1
	go func() { errc <- ac.serveDiscovery(ctx) }()
	if ac.Session != nil {
		n++
		go func() { errc <- ac.countSessions(ctx) }()
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// readLoop reads c until ctx is done, calling fn with each frame.
func readLoop(ctx context.Context, c Conn, fn func([]byte)) error {
	buf := make([]byte, 2048)
	for ctx.Err() == nil {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		fn(buf[:n])
	}
	return nil
}

func (ac *AC) serveDiscovery(ctx context.Context) error {
	out := make([]byte, 0, 1514)
	return readLoop(ctx, ac.Discovery, func(b []byte) {
		d, err := ParseDiscovery(b)
		if err != nil {
			ac.bad.Add(1)
			return
		}
		if bytes.Equal(d.Src, ac.MAC) {
			return // our own, looped back
		}
		switch d.Code {
		case CodePADI:
			ac.padi.Add(1)
			tags := []Tag{{TagACName, []byte(ac.Name)}, serviceName(&d), {TagACCookie, ac.cookie(d.Src)}}
			tags = appendEchoed(tags, &d)
			out = AppendDiscovery(out[:0], d.Src, ac.MAC, CodePADO, 0, tags)
			if _, err := ac.Discovery.WriteTo(out, &packet.Addr{HardwareAddr: d.Src}); err == nil {
				ac.pado.Add(1)
			}
		case CodePADR:
			ac.padr.Add(1)
			if c, ok := d.Tag(TagACCookie); !ok || !hmac.Equal(c.Value, ac.cookie(d.Src)) {
				ac.bad.Add(1)
				return // not from our PADO (RFC 2516 §5.3 lets an AC drop it)
			}
			id, ok := ac.open(d.Src)
			if !ok {
				return
			}
			tags := appendEchoed([]Tag{serviceName(&d), {TagACName, []byte(ac.Name)}}, &d)
			out = AppendDiscovery(out[:0], d.Src, ac.MAC, CodePADS, id, tags)
			if _, err := ac.Discovery.WriteTo(out, &packet.Addr{HardwareAddr: d.Src}); err == nil {
				ac.pads.Add(1)
			}
		case CodePADT:
			ac.padt.Add(1)
			ac.mu.Lock()
			if se := ac.sessions[d.Session]; se != nil && bytes.Equal(se.peer, d.Src) {
				se.closed = true
			}
			ac.mu.Unlock()
		}
	})
}

// open allocates a session id for peer.
func (ac *AC) open(peer net.HardwareAddr) (uint16, bool) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if len(ac.sessions) >= ac.MaxSessions {
		for id, se := range ac.sessions {
			if se.closed {
				delete(ac.sessions, id)
			}
		}
	}
	if len(ac.sessions) >= ac.MaxSessions {
		return 0, false
	}
	for i := 0; i < 1<<16; i++ {
		ac.next++
		id := ac.next
		if id == 0 || id == 0xffff { // reserved, RFC 2516 §4
			continue
		}
		if _, used := ac.sessions[id]; !used {
			ac.sessions[id] = &acSession{peer: append(net.HardwareAddr(nil), peer...)}
			return id, true
		}
	}
	return 0, false
}

func (ac *AC) countSessions(ctx context.Context) error {
	return readLoop(ctx, ac.Session, func(b []byte) {
		id, seq, ours, err := ParseSessionFrame(b)
		if err != nil {
			return
		}
		ac.mu.Lock()
		se := ac.sessions[id]
		if se == nil || !bytes.Equal(se.peer, b[6:12]) {
			ac.mu.Unlock()
			ac.foreign.Add(1)
			return
		}
		if ours {
			if se.frames > 0 && seq <= se.maxSeq {
				se.outOfOrder++
			}
			se.maxSeq = max(se.maxSeq, seq)
		}
		se.frames++
		ac.mu.Unlock()
		ac.frames.Add(1)
		ac.octets.Add(uint64(len(b)))
	})
}

// cookie is the AC-Cookie for a peer: stateless, an HMAC of its address
// (the use RFC 2516 §5.2 suggests, against PADR floods).
func (ac *AC) cookie(peer net.HardwareAddr) []byte {
	m := hmac.New(sha256.New, ac.cookey)
	m.Write(peer)
	return m.Sum(nil)[:16]
}

func serviceName(d *Discovery) Tag {
	if t, ok := d.Tag(TagServiceName); ok {
		return t
	}
	return Tag{Type: TagServiceName}
}

// appendEchoed appends the tags an AC must return unchanged.
func appendEchoed(tags []Tag, d *Discovery) []Tag {
	for _, t := range d.Tags {
		if t.Type == TagHostUniq || t.Type == TagRelaySessionID {
			tags = append(tags, t)
		}
	}
	return tags
}
