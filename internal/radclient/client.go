package radclient

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/rfc/radiusx"
)

// Defaults are RFC 5080 §2.2.1's recommended values.
const (
	DefaultIRT     = 2 * time.Second  // initial retransmission time
	DefaultMRT     = 16 * time.Second // maximum retransmission time
	DefaultMRC     = 5                // retransmissions per server before failing over
	DefaultMRD     = 30 * time.Second // time spent on one server before failing over
	DefaultSockets = 4                // sockets per server: 1024 outstanding requests
)

// Errors.
var (
	// ErrNoAnswer: no server answered within its retransmission budget.
	ErrNoAnswer = errors.New("radclient: no server answered")
	// ErrClosed: the client was closed.
	ErrClosed = errors.New("radclient: client closed")
)

// Server is one RADIUS server: its address (host:port) and shared secret.
type Server struct {
	Addr   string
	Secret string
}

// Config configures a Client. The zero value of every field but Servers
// is a sensible default (RFC 5080 §2.2.1's timers, four sockets per
// server, sockets from the current network namespace).
type Config struct {
	// Servers are tried in order; a server that answers becomes the
	// first one tried until it fails.
	Servers []Server
	// Sockets per server (default 4); each keeps up to 256 requests
	// outstanding.
	Sockets int
	// MaxOutstanding bounds the requests outstanding to one server (each
	// Identifier in use counts); callers beyond it wait. Default: all the
	// Identifiers of its sockets. A server whose socket buffer a burst
	// overflows drops requests, which then wait a whole retransmission
	// timer: a window of a few dozen keeps a server busy without that.
	MaxOutstanding int
	// IRT, MRT, MRC and MRD are the retransmission parameters of
	// RFC 5080 §2.2.1 (defaults 2 s, 16 s, 5 and 30 s). MRC and MRD bound
	// the time spent on one server; Exchange gives up after every server
	// had its turn, Account starts over and keeps going until
	// acknowledged or its context ends.
	IRT, MRT time.Duration
	MRC      int
	MRD      time.Duration
	// LocalAddr is the source IP address to send from (FreeRADIUS tells
	// clients apart by it); empty lets the kernel choose.
	LocalAddr string
	// Dial opens the UDP sockets (e.g. inside a network namespace). Nil
	// means a net.Dialer with LocalAddr.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger; nil means zap.NewNop().
	Logger *zap.Logger
}

// Stats counts what the client did since New.
type Stats struct {
	Requests    uint64 `json:"requests"`    // distinct packets sent (each new Identifier)
	Retransmits uint64 `json:"retransmits"` // the same packet sent again
	Responses   uint64 `json:"responses"`   // replies that verified and were delivered
	BadReplies  uint64 `json:"bad_replies"` // replies dropped: authenticators did not verify, malformed
	Unmatched   uint64 `json:"unmatched"`   // replies for no outstanding request (late, duplicate)
	Failovers   uint64 `json:"failovers"`   // moves to the next server
	Timeouts    uint64 `json:"timeouts"`    // Exchange calls that ran out of servers
}

// Client sends RADIUS requests and waits for their replies. It is safe for
// concurrent use; the more callers, the more requests outstanding.
type Client struct {
	cfg       Config
	log       *zap.Logger
	servers   []*server
	preferred atomic.Int32
	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	requests, retransmits, responses, badReplies, unmatched, failovers, timeouts atomic.Uint64
}

type server struct {
	idx    int
	addr   string
	secret []byte
	socks  []*sock
	sem    chan struct{} // one token per free Identifier over all sockets

	mu   sync.Mutex // guards the slots of every sock
	next int        // socket to try first
}

type sock struct {
	conn   net.Conn
	slots  [256]*pending
	free   int
	nextID int
}

// pending is one outstanding packet (one Identifier on one socket).
type pending struct {
	req   []byte      // the wire request, for VerifyResponse
	reply chan []byte // shared by every packet of one call; buffered 1
}

// New opens the client's sockets (Sockets per server, connected to it) and
// starts their readers. Sockets are opened here, once: a Client made
// inside a network namespace keeps talking from it.
func New(cfg Config) (*Client, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("radclient: no servers")
	}
	if cfg.Sockets <= 0 {
		cfg.Sockets = DefaultSockets
	}
	if cfg.IRT <= 0 {
		cfg.IRT = DefaultIRT
	}
	if cfg.MRT <= 0 {
		cfg.MRT = DefaultMRT
	}
	if cfg.MRT < cfg.IRT {
		cfg.MRT = cfg.IRT
	}
	if cfg.MRC <= 0 {
		cfg.MRC = DefaultMRC
	}
	if cfg.MRD <= 0 {
		cfg.MRD = DefaultMRD
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Dial == nil {
		d := &net.Dialer{}
		if cfg.LocalAddr != "" {
			ip := net.ParseIP(cfg.LocalAddr)
			if ip == nil {
				return nil, fmt.Errorf("radclient: local address %q is not an IP address", cfg.LocalAddr)
			}
			d.LocalAddr = &net.UDPAddr{IP: ip}
		}
		cfg.Dial = d.DialContext
	}
	c := &Client{cfg: cfg, log: cfg.Logger.Named("radclient"), closed: make(chan struct{})}
	for i, s := range cfg.Servers {
		if s.Secret == "" {
			c.Close()
			return nil, fmt.Errorf("radclient: server %s has no secret", s.Addr)
		}
		window := 256 * cfg.Sockets
		if cfg.MaxOutstanding > 0 && cfg.MaxOutstanding < window {
			window = cfg.MaxOutstanding
		}
		srv := &server{idx: i, addr: s.Addr, secret: []byte(s.Secret), sem: make(chan struct{}, window)}
		c.servers = append(c.servers, srv)
		for range cfg.Sockets {
			conn, err := cfg.Dial(context.Background(), "udp", s.Addr)
			if err != nil {
				c.Close()
				return nil, fmt.Errorf("radclient: %w", err)
			}
			// 256 replies may arrive at once: room for them all.
			if rb, ok := conn.(interface{ SetReadBuffer(int) error }); ok {
				_ = rb.SetReadBuffer(1 << 20)
			}
			sk := &sock{conn: conn, free: 256}
			srv.socks = append(srv.socks, sk)
			c.wg.Add(1)
			go c.read(srv, sk)
		}
	}
	return c, nil
}

// Close closes the sockets; calls in progress return ErrClosed.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		for _, srv := range c.servers {
			for _, sk := range srv.socks {
				sk.conn.Close()
			}
		}
	})
	c.wg.Wait()
	return nil
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:    c.requests.Load(),
		Retransmits: c.retransmits.Load(),
		Responses:   c.responses.Load(),
		BadReplies:  c.badReplies.Load(),
		Unmatched:   c.unmatched.Load(),
		Failovers:   c.failovers.Load(),
		Timeouts:    c.timeouts.Load(),
	}
}

// read delivers the replies arriving on one socket.
func (c *Client) read(srv *server, sk *sock) {
	defer c.wg.Done()
	buf := make([]byte, radius.MaxPacketLength+1)
	for {
		n, err := sk.conn.Read(buf)
		if err != nil {
			select {
			case <-c.closed:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A connected UDP socket reports an ICMP port unreachable
			// (server restarting) as a read error: keep reading.
			continue
		}
		if n < 20 {
			c.badReplies.Add(1)
			continue
		}
		srv.mu.Lock()
		p := sk.slots[buf[1]]
		var req []byte
		if p != nil {
			req = p.req
		}
		srv.mu.Unlock()
		if req == nil {
			c.unmatched.Add(1)
			continue
		}
		if err := verify(buf[:n], req, srv.secret); err != nil {
			c.badReplies.Add(1)
			c.log.Debug("reply dropped", zap.String("server", srv.addr), zap.Uint8("id", buf[1]), zap.Error(err))
			continue
		}
		select {
		case p.reply <- append([]byte(nil), buf[:n]...):
		default: // the call has its answer already (a duplicate reply)
			c.unmatched.Add(1)
		}
	}
}

// verify checks a reply against its request: the Response Authenticator
// always, and the Message-Authenticator, which replies to Access-Request
// and Status-Server must carry (RFC 3579 §3.2 and the BlastRADIUS
// mitigation) and other replies may: FreeRADIUS 3.2 does not sign
// Accounting-Responses, so one without is accepted, one with a wrong one
// is not.
func verify(resp, req, secret []byte) error {
	err := radiusx.VerifyResponse(resp, req, secret)
	if errors.Is(err, radiusx.ErrNoMessageAuthenticator) {
		switch radius.Code(req[0]) {
		case radius.CodeAccessRequest, radius.CodeStatusServer:
		default:
			return nil
		}
	}
	return err
}

// acquire reserves an Identifier on one of srv's sockets for p.
func (c *Client) acquire(ctx context.Context, srv *server, p *pending) (*sock, uint8, error) {
	select {
	case srv.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	case <-c.closed:
		return nil, 0, ErrClosed
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i := range srv.socks {
		sk := srv.socks[(srv.next+i)%len(srv.socks)]
		if sk.free == 0 {
			continue
		}
		for j := range 256 {
			id := (sk.nextID + j) & 0xff
			if sk.slots[id] == nil {
				sk.slots[id] = p
				sk.free--
				sk.nextID = id + 1
				srv.next = (srv.next + i + 1) % len(srv.socks)
				return sk, uint8(id), nil
			}
		}
	}
	// The semaphore counts free slots, so this cannot happen.
	<-srv.sem
	return nil, 0, errors.New("radclient: identifier accounting is broken")
}

func (c *Client) release(srv *server, sk *sock, id uint8) {
	srv.mu.Lock()
	sk.slots[id] = nil
	sk.free++
	srv.mu.Unlock()
	<-srv.sem
}

// timer is RFC 5080 §2.2.1's retransmission clock (after RFC 3315 §14):
// RT = IRT + RAND*IRT, then RT = 2*RTprev + RAND*RTprev, capped at
// MRT + RAND*MRT, with RAND uniform in [-0.1, +0.1].
type timer struct {
	irt, mrt time.Duration
	rt       time.Duration
}

func jitter(d time.Duration) time.Duration {
	return time.Duration((mrand.Float64()*0.2 - 0.1) * float64(d))
}

func (t *timer) first() time.Duration {
	t.rt = t.irt + jitter(t.irt)
	return t.rt
}

func (t *timer) next() time.Duration {
	t.rt = 2*t.rt + jitter(t.rt)
	if t.rt > t.mrt {
		t.rt = t.mrt + jitter(t.mrt)
	}
	return t.rt
}

// request is one call's packet as given, with the clear User-Password
// taken out so that it can be hidden again for each server.
type request struct {
	p        *radius.Packet
	password []byte
	hasPW    bool
}

func newRequest(p *radius.Packet) (*request, error) {
	r := &request{p: p}
	if a, ok := p.Lookup(rfc2865.UserPassword_Type); ok {
		if len(p.Secret) == 0 {
			return nil, errors.New("radclient: User-Password present but the packet has no Secret to reveal it with")
		}
		pw, err := radius.UserPassword(a, p.Secret, p.Authenticator[:])
		if err != nil {
			return nil, fmt.Errorf("radclient: User-Password: %w", err)
		}
		r.password, r.hasPW = pw, true
	}
	return r, nil
}

// encode builds the packet for srv with Identifier id and, for an
// Accounting-Request, Acct-Delay-Time delay (when delay >= 0).
func (r *request) encode(srv *server, id uint8, delay int64) ([]byte, error) {
	q := &radius.Packet{
		Code:       r.p.Code,
		Identifier: id,
		Secret:     srv.secret,
		Attributes: make(radius.Attributes, 0, len(r.p.Attributes)+2),
	}
	if q.Code == radius.CodeAccessRequest || q.Code == radius.CodeStatusServer {
		if _, err := rand.Read(q.Authenticator[:]); err != nil {
			return nil, err
		}
	}
	for _, a := range r.p.Attributes {
		switch {
		case a.Type == rfc2865.UserPassword_Type && r.hasPW:
			continue
		case a.Type == rfc2866.AcctDelayTime_Type && delay >= 0:
			continue
		}
		q.Attributes = append(q.Attributes, a)
	}
	if r.hasPW {
		a, err := radius.NewUserPassword(r.password, q.Secret, q.Authenticator[:])
		if err != nil {
			return nil, fmt.Errorf("radclient: User-Password: %w", err)
		}
		q.Add(rfc2865.UserPassword_Type, a)
	}
	if delay >= 0 {
		q.Add(rfc2866.AcctDelayTime_Type, radius.NewInteger(uint32(delay)))
	}
	return radiusx.Encode(q)
}

// Exchange sends p (any request code) and returns the verified reply,
// parsed with the answering server's secret. Identifier, Authenticator
// and Secret of p are set per server; p itself is not modified.
//
// An Access-Request's User-Password must be hidden with p.Secret and
// p.Authenticator, as layeh's rfc2865.UserPassword_Set does (any non-empty
// secret will do); it is hidden again for each server.
//
// Each server gets RFC 5080's retransmissions (the same packet, the same
// Identifier) up to MRC or MRD, then the next server is tried; after the
// last one Exchange returns ErrNoAnswer. For accounting records that must
// not be lost, use Account.
func (c *Client) Exchange(ctx context.Context, p *radius.Packet) (*radius.Packet, error) {
	r, err := newRequest(p)
	if err != nil {
		return nil, err
	}
	start := int(c.preferred.Load())
	for i := range c.servers {
		srv := c.servers[(start+i)%len(c.servers)]
		resp, err := c.try(ctx, srv, r, -1, time.Time{})
		if err == nil {
			c.preferred.Store(int32(srv.idx))
			return resp, nil
		}
		if !errors.Is(err, ErrNoAnswer) {
			return nil, err
		}
		if i < len(c.servers)-1 {
			c.failovers.Add(1)
			c.log.Debug("failover", zap.String("from", srv.addr))
		}
	}
	c.timeouts.Add(1)
	return nil, ErrNoAnswer
}

// Account sends an Accounting-Request and returns the verified
// Accounting-Response. It does not give up: it retransmits with backoff,
// fails over from server to server and starts over, until a server
// acknowledges or ctx ends (RFC 5080 §2.2.1; RFC 2866 §2 asks a client to
// keep trying). Each transmission carries Acct-Delay-Time (RFC 2866 §5.2):
// p's own value, if any, plus the whole seconds since Account was called;
// when that value changes the packet gets a new Identifier.
func (c *Client) Account(ctx context.Context, p *radius.Packet) (*radius.Packet, error) {
	if p.Code != radius.CodeAccountingRequest {
		return nil, fmt.Errorf("radclient: Account wants an Accounting-Request, not %v", p.Code)
	}
	r, err := newRequest(p)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	for {
		start := int(c.preferred.Load())
		for i := range c.servers {
			srv := c.servers[(start+i)%len(c.servers)]
			resp, err := c.try(ctx, srv, r, int64(rfc2866.AcctDelayTime_Get(p)), t0)
			if err == nil {
				c.preferred.Store(int32(srv.idx))
				return resp, nil
			}
			if !errors.Is(err, ErrNoAnswer) {
				return nil, err
			}
			c.failovers.Add(1)
		}
	}
}

// try sends r to one server with retransmissions until a verified reply,
// MRC retransmissions or MRD. With delayBase >= 0 the packet is an
// accounting record whose Acct-Delay-Time counts from t0.
func (c *Client) try(ctx context.Context, srv *server, r *request, delayBase int64, t0 time.Time) (*radius.Packet, error) {
	reply := make(chan []byte, 1)
	type out struct {
		sk *sock
		id uint8
	}
	// Identifiers this call holds on srv: the current packet and, for
	// accounting, the one before it, so a late answer to it still counts.
	var held []out
	defer func() {
		for _, o := range held {
			c.release(srv, o.sk, o.id)
		}
	}()
	var (
		wire  []byte
		sk    *sock
		delay int64 = -1
	)
	send := func() error {
		d := int64(-1)
		if delayBase >= 0 {
			d = delayBase + int64(time.Since(t0)/time.Second)
		}
		if wire == nil || d != delay {
			p := &pending{reply: reply}
			s, id, err := c.acquire(ctx, srv, p)
			if err != nil {
				return err
			}
			held = append(held, out{s, id})
			if len(held) > 2 {
				c.release(srv, held[0].sk, held[0].id)
				held = held[1:]
			}
			b, err := r.encode(srv, id, d)
			if err != nil {
				return err
			}
			srv.mu.Lock()
			p.req = b
			srv.mu.Unlock()
			wire, sk, delay = b, s, d
			c.requests.Add(1)
		} else {
			c.retransmits.Add(1)
		}
		// A send error (no route, port unreachable) is one lost packet.
		_, _ = sk.conn.Write(wire)
		return nil
	}

	tm := timer{irt: c.cfg.IRT, mrt: c.cfg.MRT}
	deadline := time.Now().Add(c.cfg.MRD)
	if err := send(); err != nil {
		return nil, err
	}
	t := time.NewTimer(tm.first())
	defer t.Stop()
	for sent := 0; ; {
		select {
		case b := <-reply:
			c.responses.Add(1)
			return radius.Parse(b, srv.secret)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.closed:
			return nil, ErrClosed
		case <-t.C:
		}
		if sent >= c.cfg.MRC || !time.Now().Before(deadline) {
			return nil, ErrNoAnswer
		}
		sent++
		if err := send(); err != nil {
			return nil, err
		}
		rt := tm.next()
		if left := time.Until(deadline); rt > left {
			rt = left
		}
		t.Reset(rt)
	}
}
