package relay

import (
	"net"

	"github.com/mdlayher/packet"
)

// Link is one side's Ethernet port as the relay uses it: whole frames,
// Ethernet header first. *packet.Conn (SOCK_RAW) is one; tests use an
// in-memory hub. The relay reads from one goroutine and writes from
// several.
type Link interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	WriteTo(b []byte, addr net.Addr) (int, error)
	Close() error
}

var _ Link = (*packet.Conn)(nil)

// Port is a Link with the relay's own MAC address on it and, for the
// kernel offload, its interface index (0 for fakes).
type Port struct {
	Link    Link
	MAC     net.HardwareAddr
	Ifindex int
	Name    string
}

// batchSize is how many frames one read takes at most (recvmmsg).
const batchSize = 64

// frameCap is the room for one frame: a 1500-octet MTU (RFC 4638 may
// raise the PPP MTU, the Ethernet one stays) plus headers, with margin;
// longer frames are cut and dropped.
const frameCap = 2048

// port is a Port with what the relay needs per frame precomputed.
type port struct {
	Port
	mac  [6]byte
	addr *packet.Addr // for WriteTo on plain Links
	sock *sock        // the AF_PACKET socket, nil for plain Links
}

// reader takes frames from one port, in batches when it can.
type reader struct {
	p    *port
	bufs [][]byte // batchSize buffers of frameCap octets
	lens []int
	rx   *rxBatch // nil for plain Links
}

func newReader(p *port) *reader {
	r := &reader{p: p, lens: make([]int, batchSize)}
	mem := make([]byte, batchSize*frameCap)
	for i := 0; i < batchSize; i++ {
		r.bufs = append(r.bufs, mem[i*frameCap:(i+1)*frameCap:(i+1)*frameCap])
	}
	if p.sock != nil {
		r.rx = p.sock.newRx(r.bufs, r.lens)
	}
	return r
}

// read fills bufs[:n] (lengths in lens) and returns n.
func (r *reader) read() (int, error) {
	if r.rx != nil {
		return r.rx.read()
	}
	n, _, err := r.p.Link.ReadFrom(r.bufs[0])
	if err != nil {
		return 0, err
	}
	r.lens[0] = n
	return 1, nil
}

// writer sends frames to one port, in batches when it can.
type writer struct {
	p     *port
	tx    *txBatch // nil for plain Links
	queue [][]byte
}

func newWriter(p *port) *writer {
	w := &writer{p: p, queue: make([][]byte, 0, batchSize)}
	if p.sock != nil {
		w.tx = p.sock.newTx()
	}
	return w
}

func (w *writer) add(f []byte) { w.queue = append(w.queue, f) }

// flush sends the queued frames; it returns how many the link refused.
func (w *writer) flush() (dropped int) {
	if len(w.queue) == 0 {
		return 0
	}
	if w.tx != nil {
		dropped = w.tx.send(w.queue)
	} else {
		for _, f := range w.queue {
			if _, err := w.p.Link.WriteTo(f, w.p.addr); err != nil {
				dropped++
			}
		}
	}
	w.queue = w.queue[:0]
	return dropped
}

// send writes one frame outside the batches (control frames from any
// goroutine).
func (p *port) send(f []byte) error {
	_, err := p.Link.WriteTo(f, p.addr)
	return err
}
