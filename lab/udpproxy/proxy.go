package udpproxy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are per-datagram probabilities, each from 0 (never) to 1
// (always), applied in this order: a dropped datagram is neither
// duplicated nor reordered.
type Faults struct {
	// Drop loses the datagram.
	Drop float64
	// Duplicate sends it twice, back to back.
	Duplicate float64
	// Reorder holds it until the next datagram in the same direction has
	// been sent (hold-and-swap), or until Config.ReorderWait passes.
	Reorder float64
}

func (f Faults) valid() bool {
	ok := func(p float64) bool { return p >= 0 && p <= 1 }
	return ok(f.Drop) && ok(f.Duplicate) && ok(f.Reorder)
}

// Config configures a Proxy. Zero values are the defaults named.
type Config struct {
	// Listen is where clients send (default "127.0.0.1:0").
	Listen string
	// Target is the server datagrams are forwarded to (required).
	Target string
	// UpstreamAddr is the local address of the sockets that talk to
	// Target, one per client (default ":0", any).
	UpstreamAddr string
	// ListenPacket opens the client-side socket, UpstreamListenPacket the
	// upstream ones (defaults net.ListenPacket, then ListenPacket); a lab
	// namespace's ListenPacket runs them inside it.
	ListenPacket         func(network, address string) (net.PacketConn, error)
	UpstreamListenPacket func(network, address string) (net.PacketConn, error)
	// ToTarget and ToClient are the faults of each direction at start;
	// SetFaults changes them.
	ToTarget, ToClient Faults
	// Seed seeds each direction's random source: the same seed and the
	// same datagrams in the same order give the same faults.
	Seed uint64
	// QueueLen bounds each direction's queue (default 256 datagrams).
	QueueLen int
	// MaxClients bounds the clients served at once (default 64); a new
	// one beyond it replaces the least recently active.
	MaxClients int
	// MaxDatagram is the largest datagram carried whole (default 4096,
	// RADIUS's maximum, RFC 2865 §3).
	MaxDatagram int
	// ReorderWait is how long a held datagram waits for one to swap with
	// (default 50 ms).
	ReorderWait time.Duration
	// IdleTimeout forgets a client silent this long (default 2 min).
	IdleTimeout time.Duration
}

// Counts are what happened to one direction's datagrams.
type Counts struct {
	Received   uint64 // read from the socket
	Forwarded  uint64 // written (duplicates count twice)
	Dropped    uint64 // lost by the Drop fault
	Duplicated uint64 // sent twice by the Duplicate fault
	Reordered  uint64 // held by the Reorder fault
	BlackHoled uint64 // lost while Down
	Overflowed uint64 // lost to a full queue
	Errors     uint64 // write errors, datagrams over MaxDatagram, no upstream socket
}

// Stats are a Proxy's counts so far.
type Stats struct {
	ToTarget, ToClient Counts
	Clients            int // clients being served
}

type counters struct {
	received, forwarded, dropped, duplicated, reordered, blackHoled, overflowed, errors atomic.Uint64
}

func (c *counters) snapshot() Counts {
	return Counts{
		Received:   c.received.Load(),
		Forwarded:  c.forwarded.Load(),
		Dropped:    c.dropped.Load(),
		Duplicated: c.duplicated.Load(),
		Reordered:  c.reordered.Load(),
		BlackHoled: c.blackHoled.Load(),
		Overflowed: c.overflowed.Load(),
		Errors:     c.errors.Load(),
	}
}

// ErrRunning is returned by a second call of Run.
var ErrRunning = errors.New("udpproxy: already run")

// Proxy is a UDP fault proxy. Make it with New, then Run it.
type Proxy struct {
	cfg    Config
	conn   net.PacketConn // clients' side
	target *net.UDPAddr
	down   atomic.Bool
	pool   sync.Pool
	dirs   [2]*direction
	ran    atomic.Bool
	closed atomic.Bool

	mu      sync.Mutex
	flows   map[netip.AddrPort]*flow
	wg      sync.WaitGroup // flow readers
	stopped bool
}

const (
	toTarget = 0
	toClient = 1
)

type direction struct {
	q   chan item
	cnt counters

	mu     sync.Mutex
	rng    *rand.Rand
	faults Faults
}

type item struct {
	buf     *[]byte
	n       int
	conn    net.PacketConn
	to      net.Addr
	reorder bool
}

type flow struct {
	client   *net.UDPAddr
	up       net.PacketConn
	lastSeen atomic.Int64 // unix nanoseconds
}

// New checks cfg and opens the clients' socket; Addr then says where it
// listens.
func New(cfg Config) (*Proxy, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.UpstreamAddr == "" {
		cfg.UpstreamAddr = ":0"
	}
	if cfg.ListenPacket == nil {
		cfg.ListenPacket = net.ListenPacket
	}
	if cfg.UpstreamListenPacket == nil {
		cfg.UpstreamListenPacket = cfg.ListenPacket
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 256
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 64
	}
	if cfg.MaxDatagram <= 0 {
		cfg.MaxDatagram = 4096
	}
	if cfg.ReorderWait <= 0 {
		cfg.ReorderWait = 50 * time.Millisecond
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if !cfg.ToTarget.valid() || !cfg.ToClient.valid() {
		return nil, errors.New("udpproxy: fault rates must be within 0 to 1")
	}
	if cfg.Target == "" {
		return nil, errors.New("udpproxy: no target")
	}
	target, err := net.ResolveUDPAddr("udp", cfg.Target)
	if err != nil {
		return nil, fmt.Errorf("udpproxy: target: %w", err)
	}
	conn, err := cfg.ListenPacket("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("udpproxy: %w", err)
	}
	p := &Proxy{cfg: cfg, conn: conn, target: target, flows: map[netip.AddrPort]*flow{}}
	size := cfg.MaxDatagram + 1 // one more, to tell a cut datagram
	p.pool.New = func() any { b := make([]byte, size); return &b }
	for i, f := range []Faults{cfg.ToTarget, cfg.ToClient} {
		p.dirs[i] = &direction{
			q:      make(chan item, cfg.QueueLen),
			rng:    rand.New(rand.NewPCG(cfg.Seed, uint64(i)+0x9e3779b97f4a7c15)),
			faults: f,
		}
	}
	return p, nil
}

// Addr is where the proxy listens for clients.
func (p *Proxy) Addr() net.Addr { return p.conn.LocalAddr() }

// SetFaults changes both directions' faults from now on.
func (p *Proxy) SetFaults(toTarget, toClient Faults) error {
	if !toTarget.valid() || !toClient.valid() {
		return errors.New("udpproxy: fault rates must be within 0 to 1")
	}
	for i, f := range []Faults{toTarget, toClient} {
		d := p.dirs[i]
		d.mu.Lock()
		d.faults = f
		d.mu.Unlock()
	}
	return nil
}

// Down black-holes every datagram, both ways, queued ones included, until
// Up: the server is unreachable.
func (p *Proxy) Down() { p.down.Store(true) }

// Up ends Down.
func (p *Proxy) Up() { p.down.Store(false) }

// IsDown reports whether the proxy is Down.
func (p *Proxy) IsDown() bool { return p.down.Load() }

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	n := len(p.flows)
	p.mu.Unlock()
	return Stats{ToTarget: p.dirs[toTarget].cnt.snapshot(), ToClient: p.dirs[toClient].cnt.snapshot(), Clients: n}
}

// Close closes every socket; Run, if running, then returns. Use it when
// Run was never called.
func (p *Proxy) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	err := p.conn.Close()
	p.mu.Lock()
	p.stopped = true
	for k, f := range p.flows {
		f.up.Close()
		delete(p.flows, k)
	}
	p.mu.Unlock()
	return err
}

// Run forwards until ctx is cancelled (or Close), then closes every
// socket, waits for its goroutines and returns nil; it returns an error
// if the clients' socket fails otherwise.
func (p *Proxy) Run(ctx context.Context) error {
	if p.ran.Swap(true) {
		return ErrRunning
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := range p.dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.write(ctx, p.dirs[i])
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.janitor(ctx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- p.readClients() }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	p.Close()
	if err == nil {
		err = <-errc
	}
	wg.Wait()
	p.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// readClients reads the clients' socket until it is closed.
func (p *Proxy) readClients() error {
	buf := make([]byte, p.cfg.MaxDatagram+1)
	for {
		n, from, err := p.conn.ReadFrom(buf)
		if err != nil {
			if p.closed.Load() {
				return net.ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("udpproxy: %w", err)
		}
		f, err := p.flow(from)
		if err != nil {
			p.dirs[toTarget].cnt.received.Add(1)
			p.dirs[toTarget].cnt.errors.Add(1)
			continue
		}
		p.dispatch(toTarget, buf[:n], f.up, p.target)
	}
}

// flow returns the client's flow, making it (and its upstream socket and
// reader) if new.
func (p *Proxy) flow(from net.Addr) (*flow, error) {
	ua, ok := from.(*net.UDPAddr)
	if !ok {
		return nil, fmt.Errorf("udpproxy: %v is not a UDP address", from)
	}
	key := ua.AddrPort()
	now := time.Now().UnixNano()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil, net.ErrClosed
	}
	if f := p.flows[key]; f != nil {
		f.lastSeen.Store(now)
		return f, nil
	}
	if len(p.flows) >= p.cfg.MaxClients {
		var oldKey netip.AddrPort
		var old *flow
		for k, f := range p.flows {
			if old == nil || f.lastSeen.Load() < old.lastSeen.Load() {
				oldKey, old = k, f
			}
		}
		old.up.Close()
		delete(p.flows, oldKey)
	}
	up, err := p.cfg.UpstreamListenPacket("udp", p.cfg.UpstreamAddr)
	if err != nil {
		return nil, err
	}
	f := &flow{client: ua, up: up}
	f.lastSeen.Store(now)
	p.flows[key] = f
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.readUpstream(f)
	}()
	return f, nil
}

// readUpstream carries the target's replies back to one client until the
// flow's socket is closed.
func (p *Proxy) readUpstream(f *flow) {
	buf := make([]byte, p.cfg.MaxDatagram+1)
	for {
		n, _, err := f.up.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		f.lastSeen.Store(time.Now().UnixNano())
		p.dispatch(toClient, buf[:n], p.conn, f.client)
	}
}

// dispatch decides one datagram's fate and queues what is to be sent.
func (p *Proxy) dispatch(dir int, b []byte, conn net.PacketConn, to net.Addr) {
	d := p.dirs[dir]
	d.cnt.received.Add(1)
	if len(b) > p.cfg.MaxDatagram { // cut by the read: not carried
		d.cnt.errors.Add(1)
		return
	}
	if p.down.Load() {
		d.cnt.blackHoled.Add(1)
		return
	}
	d.mu.Lock()
	f := d.faults
	drop := f.Drop > 0 && d.rng.Float64() < f.Drop
	var dup, reorder bool
	if !drop {
		dup = f.Duplicate > 0 && d.rng.Float64() < f.Duplicate
		reorder = f.Reorder > 0 && d.rng.Float64() < f.Reorder
	}
	d.mu.Unlock()
	if drop {
		d.cnt.dropped.Add(1)
		return
	}
	copies := 1
	if dup {
		copies = 2
		d.cnt.duplicated.Add(1)
	}
	for i := 0; i < copies; i++ {
		buf := p.pool.Get().(*[]byte)
		n := copy(*buf, b)
		it := item{buf: buf, n: n, conn: conn, to: to, reorder: reorder && i == 0}
		select {
		case d.q <- it:
		default:
			d.cnt.overflowed.Add(1)
			p.pool.Put(buf)
		}
	}
}

// write sends one direction's queue, holding a datagram marked for
// reordering until the next one has gone.
func (p *Proxy) write(ctx context.Context, d *direction) {
	var held *item
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	defer func() {
		if held != nil {
			p.pool.Put(held.buf)
		}
		for {
			select {
			case it := <-d.q:
				p.pool.Put(it.buf)
			default:
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
			if held != nil {
				p.send(d, *held)
				held = nil
			}
		case it := <-d.q:
			if it.reorder && held == nil {
				d.cnt.reordered.Add(1)
				held = &it
				timer.Reset(p.cfg.ReorderWait)
				continue
			}
			p.send(d, it)
			if held != nil {
				timer.Stop()
				p.send(d, *held)
				held = nil
			}
		}
	}
}

func (p *Proxy) send(d *direction, it item) {
	defer p.pool.Put(it.buf)
	if p.down.Load() {
		d.cnt.blackHoled.Add(1)
		return
	}
	if _, err := it.conn.WriteTo((*it.buf)[:it.n], it.to); err != nil {
		d.cnt.errors.Add(1)
		return
	}
	d.cnt.forwarded.Add(1)
}

// janitor forgets idle clients.
func (p *Proxy) janitor(ctx context.Context) {
	t := time.NewTicker(p.cfg.IdleTimeout / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.mu.Lock()
			for k, f := range p.flows {
				if now.UnixNano()-f.lastSeen.Load() > int64(p.cfg.IdleTimeout) {
					f.up.Close()
					delete(p.flows, k)
				}
			}
			p.mu.Unlock()
		}
	}
}
