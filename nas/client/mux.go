package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/nas/link"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// Link moves whole Ethernet frames: link.Conn (AF_PACKET, promiscuous
// when sessions use their own MACs) or link.Port (in-memory hub).
type Link interface {
	ReadFrame(b []byte) (int, error)
	WriteFrame(b []byte) error
	HardwareAddr() net.HardwareAddr
	Close() error
}

var (
	_ Link = (*link.Conn)(nil)
	_ Link = (*link.Port)(nil)
)

// Mux shares one link among many sessions, each with its own MAC: it reads
// every frame and hands it to the session whose MAC it is addressed to.
type Mux struct {
	link Link
	log  *zap.Logger

	mu       sync.Mutex
	sessions map[[6]byte]*Session
	running  atomic.Bool
	done     chan struct{}
	bufs     sync.Pool

	dropped atomic.Uint64 // frames for no session, or a session too busy
}

// NewMux returns a Mux on l; call Run to start reading.
func NewMux(l Link, log *zap.Logger) *Mux {
	if log == nil {
		log = zap.NewNop()
	}
	m := &Mux{link: l, log: log.Named("dial"), sessions: map[[6]byte]*Session{}, done: make(chan struct{})}
	m.bufs.New = func() any { b := make([]byte, 0, 2048); return &b }
	return m
}

// Run reads frames until ctx ends or the link is closed, then ends every
// session (abruptly, as Drop does).
func (m *Mux) Run(ctx context.Context) error {
	if !m.running.CompareAndSwap(false, true) {
		return errors.New("client: Mux already running")
	}
	defer close(m.done)
	stop := context.AfterFunc(ctx, func() { m.link.Close() })
	defer stop()
	buf := make([]byte, 1<<16)
	var err error
	for {
		var n int
		n, err = m.link.ReadFrame(buf)
		if err != nil {
			break
		}
		m.dispatch(buf[:n])
	}
	m.mu.Lock()
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	for _, s := range all {
		s.Drop()
	}
	if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Dropped returns how many frames found no session or a full queue.
func (m *Mux) Dropped() uint64 { return m.dropped.Load() }

func (m *Mux) dispatch(f []byte) {
	if len(f) < pppoe.FrameHeaderLen {
		return
	}
	var k [6]byte
	copy(k[:], f[:6])
	m.mu.Lock()
	s := m.sessions[k]
	m.mu.Unlock()
	if s == nil {
		m.dropped.Add(1)
		return
	}
	bp := m.bufs.Get().(*[]byte)
	*bp = append((*bp)[:0], f...)
	select {
	case s.in <- bp:
	default:
		m.bufs.Put(bp)
		m.dropped.Add(1)
	}
}

func (m *Mux) register(s *Session) error {
	var k [6]byte
	copy(k[:], s.mac)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.sessions[k]; dup {
		return fmt.Errorf("client: MAC %v already has a session on this link", s.mac)
	}
	m.sessions[k] = s
	return nil
}

func (m *Mux) unregister(s *Session) {
	var k [6]byte
	copy(k[:], s.mac)
	m.mu.Lock()
	if m.sessions[k] == s {
		delete(m.sessions, k)
	}
	m.mu.Unlock()
}

func (m *Mux) write(f []byte) error { return m.link.WriteFrame(f) }
