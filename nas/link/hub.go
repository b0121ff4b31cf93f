package link

import (
	"net"
	"sync"
	"sync/atomic"
)

// Hub is an in-memory Ethernet segment for tests: every frame a port
// writes is delivered to every other port, as on a repeater, and each
// receiver filters on the destination MAC itself (as nasd and pppoe-dial
// do on a promiscuous socket). Delivery is in order per sender; a port
// whose queue is full loses the frame, like a socket whose buffer is.
type Hub struct {
	mu    sync.Mutex
	ports []*Port
}

// NewHub returns an empty segment.
func NewHub() *Hub { return &Hub{} }

// Port is one station on a Hub. It satisfies the same Link surface as
// Conn.
type Port struct {
	hub    *Hub
	mac    net.HardwareAddr
	in     chan []byte
	closed chan struct{}
	once   sync.Once
	// ExtraMTU raises the MTU the port reports above 1500 (RFC 4638
	// tests), if set before use.
	ExtraMTU int
	// Filter, if set before use, drops frames it returns false for
	// before they are queued (a test's tap or fault injector).
	Filter func(frame []byte) bool

	dropped atomic.Uint64
}

// Port attaches a station with the given MAC and a queue of queue frames
// (default 4096).
func (h *Hub) Port(mac net.HardwareAddr, queue int) *Port {
	if queue <= 0 {
		queue = 4096
	}
	p := &Port{hub: h, mac: mac, in: make(chan []byte, queue), closed: make(chan struct{})}
	h.mu.Lock()
	h.ports = append(h.ports, p)
	h.mu.Unlock()
	return p
}

// ReadFrame blocks for the next frame; net.ErrClosed after Close.
func (p *Port) ReadFrame(b []byte) (int, error) {
	select {
	case <-p.closed:
		return 0, net.ErrClosed
	default:
	}
	select {
	case f := <-p.in:
		return copy(b, f), nil
	case <-p.closed:
		return 0, net.ErrClosed
	}
}

// WriteFrame delivers a copy of b to every other port.
func (p *Port) WriteFrame(b []byte) error {
	select {
	case <-p.closed:
		return net.ErrClosed
	default:
	}
	p.hub.mu.Lock()
	ports := p.hub.ports
	p.hub.mu.Unlock()
	for _, q := range ports {
		if q == p {
			continue
		}
		if q.Filter != nil && !q.Filter(b) {
			continue
		}
		if len(q.in) == cap(q.in) { // full: lost, without a copy
			q.dropped.Add(1)
			continue
		}
		f := append([]byte(nil), b...)
		select {
		case q.in <- f:
		default:
			q.dropped.Add(1)
		}
	}
	return nil
}

// MTU returns 1500 plus the port's ExtraMTU: a hub carries what it is
// told to.
func (p *Port) MTU() int { return 1500 + p.ExtraMTU }

// HardwareAddr returns the port's MAC.
func (p *Port) HardwareAddr() net.HardwareAddr { return p.mac }

// Dropped returns how many frames were lost because the queue was full.
func (p *Port) Dropped() uint64 { return p.dropped.Load() }

// Close detaches the port.
func (p *Port) Close() error {
	p.once.Do(func() {
		close(p.closed)
		p.hub.mu.Lock()
		defer p.hub.mu.Unlock()
		for i, q := range p.hub.ports {
			if q == p {
				p.hub.ports = append(p.hub.ports[:i:i], p.hub.ports[i+1:]...)
				break
			}
		}
	})
	return nil
}
