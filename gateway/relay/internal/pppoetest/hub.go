// Package pppoetest has the relay's test peers: an in-memory Ethernet
// hub, a scripted PPPoE subscriber (discovery, LCP, PAP or CHAP, IPCP,
// traffic, hang-up) and a scripted BRAS that answers them and counts the
// IP it sees as a NAS would. They speak through any Link: a hub port or
// an AF_PACKET socket in a network namespace. Test code only.
package pppoetest

import (
	"net"
	"sync"
	"sync/atomic"
)

// Link is what the peers send and receive frames through (the relay's
// Link: *packet.Conn, or a hub port).
type Link interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	WriteTo(b []byte, addr net.Addr) (int, error)
	Close() error
}

// Hub is an Ethernet segment in memory: a frame goes to every port whose
// MAC is its destination, to every port for a group destination, and to
// promiscuous ports always. Delivery never blocks: a full port drops.
type Hub struct {
	mu    sync.Mutex
	ports []*HubPort
}

// HubPort is one port of a Hub; it implements Link.
type HubPort struct {
	hub     *Hub
	MAC     net.HardwareAddr
	Promisc bool
	in      chan []byte
	done    chan struct{}
	once    sync.Once
	Dropped atomic.Uint64
}

// Port attaches a port with that MAC.
func (h *Hub) Port(mac net.HardwareAddr) *HubPort {
	p := &HubPort{hub: h, MAC: mac, in: make(chan []byte, 1024), done: make(chan struct{})}
	h.mu.Lock()
	h.ports = append(h.ports, p)
	h.mu.Unlock()
	return p
}

// ReadFrom returns the next frame.
func (p *HubPort) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case f := <-p.in:
		return copy(b, f), nil, nil
	case <-p.done:
		return 0, nil, net.ErrClosed
	}
}

// WriteTo sends a copy of b to the other ports.
func (p *HubPort) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-p.done:
		return 0, net.ErrClosed
	default:
	}
	if len(b) < 14 {
		return len(b), nil
	}
	p.hub.mu.Lock()
	ports := p.hub.ports
	p.hub.mu.Unlock()
	for _, q := range ports {
		if q == p {
			continue
		}
		if !q.Promisc && b[0]&1 == 0 && string(b[0:6]) != string(q.MAC) {
			continue
		}
		f := append([]byte(nil), b...)
		select {
		case q.in <- f:
		default:
			q.Dropped.Add(1)
		}
	}
	return len(b), nil
}

// Close detaches the port.
func (p *HubPort) Close() error {
	p.once.Do(func() { close(p.done) })
	return nil
}
