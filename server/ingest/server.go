package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
	"github.com/edgebill/edgebill/server/store"
)

// Store is what ingest needs of the database.
type Store interface {
	Gateways(ctx context.Context) ([]store.Gateway, error)
	Commit(ctx context.Context, b *store.Batch, instance string) ([]bool, error)
}

var _ Store = (*store.Store)(nil)

// Client is a network allowed to send with a shared secret although its
// NAS-Identifier names no registered gateway: its bills are stored
// flagged unknown_gateway (a gateway not registered yet, or a test
// client), never dropped.
type Client struct {
	Net    netip.Prefix
	Secret string
}

// Config configures the listener. The zero value of each field is the
// default named in its comment.
type Config struct {
	// Addr is the UDP address to listen on (default ":1813").
	Addr string
	// Readers is how many goroutines read the socket and check requests
	// (default GOMAXPROCS, at least 2).
	Readers int
	// QueueSize bounds the requests accepted and not yet committed
	// (default 32768). When it is full, new requests are dropped
	// unanswered and the clients retransmit: memory stays bounded while
	// Postgres is down.
	QueueSize int
	// BatchMax is the most rows one group commit writes (default 2048).
	BatchMax int
	// BatchWait is how long a committer waits for more rows after the
	// first before committing a batch that is not full (default 0: it
	// commits what has queued, and rows arriving meanwhile make the next
	// batch).
	BatchWait time.Duration
	// Committers is how many batches may be committing at once, each on
	// its own connection (default 2).
	Committers int
	// DupTTL is how long the RFC 5080 duplicate cache keeps a request
	// (default 5s; entries live between DupTTL and twice it).
	DupTTL time.Duration
	// MaxWaiters bounds the requests for one bill waiting on its commit
	// (retransmissions with new Acct-Delay-Time; default 8).
	MaxWaiters int
	// GatewayRefresh is how often the gateway registry is reloaded
	// (default 5s; also reloaded, at most once a second, when a packet
	// names an unknown gateway).
	GatewayRefresh time.Duration
	// Clients are networks allowed to send bills for gateways not
	// registered (flagged unknown_gateway).
	Clients []Client
	// Instance names this billd in the bills it stores (received_by).
	Instance string
	// ReadBuffer is the socket receive buffer in bytes (default 8 MiB).
	ReadBuffer int
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = ":1813"
	}
	if c.Readers <= 0 {
		c.Readers = max(2, runtime.GOMAXPROCS(0))
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 32768
	}
	if c.BatchMax <= 0 {
		c.BatchMax = 2048
	}
	if c.Committers <= 0 {
		c.Committers = 2
	}
	if c.DupTTL <= 0 {
		c.DupTTL = 5 * time.Second
	}
	if c.MaxWaiters <= 0 {
		c.MaxWaiters = 8
	}
	if c.GatewayRefresh <= 0 {
		c.GatewayRefresh = 5 * time.Second
	}
	if c.ReadBuffer <= 0 {
		c.ReadBuffer = 8 << 20
	}
}

type gatewayMap map[string]*store.Gateway

type billKey struct {
	gw string
	id [bill.IDSize]byte
}

// waiter is one request waiting for its answer.
type waiter struct {
	addr netip.AddrPort
	key  dupKey
	resp []byte
	recv time.Time
}

type itemKind uint8

const (
	_ itemKind = iota
	kindBill
	kindProgress
	kindReject
)

// item is one row to commit and the requests it answers.
type item struct {
	kind     itemKind
	bill     store.BillRow
	progress store.ProgressRow
	reject   store.RejectRow
	key      billKey
	waiters  []waiter // of a bill: guarded by Server.mu
}

// Server is the accounting listener: it authenticates gateways'
// Accounting-Requests, queues their bills and progress for group commit,
// and answers each request once what it carries is durably stored.
type Server struct {
	cfg     Config
	st      Store
	log     *zap.Logger
	conn    *net.UDPConn
	m       *Metrics
	dups    *dupCache
	queue   chan *item
	gws     atomic.Pointer[gatewayMap]
	reload  chan struct{}
	lastRel atomic.Int64

	mu       sync.Mutex
	inflight map[billKey]*item
	batching atomic.Int64 // items taken by committers and not yet answered
}

// New binds the UDP socket. Run serves it.
func New(cfg Config, st Store, log *zap.Logger) (*Server, error) {
	cfg.setDefaults()
	if log == nil {
		log = zap.NewNop()
	}
	ua, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	setReadBuffer(conn, cfg.ReadBuffer)
	s := &Server{
		cfg:      cfg,
		st:       st,
		log:      log.Named("ingest"),
		conn:     conn,
		dups:     newDupCache(cfg.DupTTL, 1<<17),
		queue:    make(chan *item, cfg.QueueSize),
		reload:   make(chan struct{}, 1),
		inflight: map[billKey]*item{},
	}
	empty := gatewayMap{}
	s.gws.Store(&empty)
	s.m = newMetrics(cfg.Registerer, s)
	return s, nil
}

// setReadBuffer asks for a large receive buffer, past net.core.rmem_max
// when running as root (SO_RCVBUFFORCE); a smaller one only means bursts
// are dropped by the kernel sooner, and clients retransmit.
func setReadBuffer(c *net.UDPConn, n int) {
	_ = c.SetReadBuffer(n)
	if rc, err := c.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
		})
	}
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() *net.UDPAddr { return s.conn.LocalAddr().(*net.UDPAddr) }

// Metrics returns the listener's metrics.
func (s *Server) Metrics() *Metrics { return s.m }

// QueueDepth is the number of requests accepted and not yet answered.
func (s *Server) QueueDepth() int { return len(s.queue) + int(s.batching.Load()) }

// Run serves until ctx is cancelled; then it stops reading, commits what
// is queued (for up to 5 seconds) and answers it, and returns nil.
func (s *Server) Run(ctx context.Context) error {
	var readers, committers, bg sync.WaitGroup
	bgCtx, bgCancel := context.WithCancel(context.Background())
	defer bgCancel()

	bg.Add(1)
	go func() {
		defer bg.Done()
		s.refreshGateways(bgCtx)
	}()
	s.loadGateways(ctx)

	commitCtx, commitCancel := context.WithCancel(context.Background())
	defer commitCancel()
	for range s.cfg.Committers {
		committers.Add(1)
		go func() {
			defer committers.Done()
			s.commitLoop(commitCtx)
		}()
	}
	for range s.cfg.Readers {
		readers.Add(1)
		go func() {
			defer readers.Done()
			s.readLoop()
		}()
	}
	<-ctx.Done()
	s.conn.Close()
	readers.Wait()
	close(s.queue)
	drained := make(chan struct{})
	go func() { committers.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		s.log.Warn("shutdown: requests still uncommitted after 5s; they stay unanswered", zap.Int("queued", s.QueueDepth()))
		commitCancel()
		<-drained
	}
	bgCancel()
	bg.Wait()
	return nil
}

func (s *Server) refreshGateways(ctx context.Context) {
	t := time.NewTicker(s.cfg.GatewayRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.reload:
		}
		s.loadGateways(ctx)
	}
}

func (s *Server) loadGateways(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	gs, err := s.st.Gateways(ctx)
	if err != nil {
		s.log.Warn("loading gateways failed; keeping the last list", zap.Error(err))
		return
	}
	m := make(gatewayMap, len(gs))
	for i := range gs {
		m[gs[i].ID] = &gs[i]
	}
	s.gws.Store(&m)
	s.m.GatewaysLoaded.Set(float64(len(m)))
}

// askReload asks the refresher for a reload, at most once a second.
func (s *Server) askReload(now time.Time) {
	last := s.lastRel.Load()
	if now.UnixNano()-last < int64(time.Second) || !s.lastRel.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	select {
	case s.reload <- struct{}{}:
	default:
	}
}

func (s *Server) readLoop() {
	buf := make([]byte, radius.MaxPacketLength+1)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("read", zap.Error(err))
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		s.handle(buf[:n], from, time.Now())
	}
}

func (s *Server) drop(reason string) { s.m.Dropped.WithLabelValues(reason).Inc() }

// frame checks a request's header and attribute framing and returns the
// packet cut to its Length.
func frame(b []byte) ([]byte, bool) {
	if len(b) < 20 {
		return nil, false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n < 20 || n > len(b) {
		return nil, false
	}
	b = b[:n]
	for a := b[20:]; len(a) > 0; {
		if len(a) < 2 || a[1] < 2 || int(a[1]) > len(a) {
			return nil, false
		}
		a = a[a[1]:]
	}
	return b, true
}

// attr returns the value of the first attribute of type t in a framed
// packet.
func attr(pkt []byte, t radius.Type) ([]byte, bool) {
	for a := pkt[20:]; len(a) >= 2; a = a[a[1]:] {
		if radius.Type(a[0]) == t {
			return a[2:a[1]], true
		}
	}
	return nil, false
}

// secretFor finds the secret to check a request with: the gateway its
// NAS-Identifier names (from its registered source, if it has one), else
// a configured client network.
func (s *Server) secretFor(pkt []byte, from netip.AddrPort, now time.Time) (*store.Gateway, string, string) {
	if id, ok := attr(pkt, rfc2865.NASIdentifier_Type); ok {
		if g := (*s.gws.Load())[string(id)]; g != nil {
			if g.Source.IsValid() && !g.Source.Contains(from.Addr()) {
				return nil, "", DropWrongSource
			}
			return g, g.Secret, ""
		}
		s.askReload(now)
	}
	for _, c := range s.cfg.Clients {
		if c.Net.Contains(from.Addr()) {
			return nil, c.Secret, ""
		}
	}
	return nil, "", DropUnknownClient
}

// response is the Accounting-Response to req: no attributes but the
// Message-Authenticator, and the Response Authenticator (RFC 2866 §3).
// rfc/radiusx signs it as FreeRADIUS 3.2 does, so radclient accepts it.
func response(req []byte, secret string) []byte {
	p := &radius.Packet{Code: radius.CodeAccountingResponse, Identifier: req[1], Secret: []byte(secret)}
	copy(p.Authenticator[:], req[4:20])
	b, err := radiusx.Encode(p)
	if err != nil {
		panic(err) // an empty response always encodes
	}
	return b
}

func (s *Server) handle(b []byte, from netip.AddrPort, now time.Time) {
	pkt, ok := frame(b)
	if !ok {
		s.drop(DropMalformed)
		return
	}
	if radius.Code(pkt[0]) != radius.CodeAccountingRequest {
		s.drop(DropNotAccounting)
		return
	}
	dk := dupKey{src: from, id: pkt[1]}
	copy(dk.auth[:], pkt[4:20])

	gw, secret, reason := s.secretFor(pkt, from, now)
	if reason != "" {
		s.drop(reason)
		return
	}
	if err := radiusx.VerifyRequest(pkt, []byte(secret)); err != nil {
		switch {
		case errors.Is(err, radiusx.ErrBadAuthenticator):
			s.drop(DropBadAuthenticator)
		case errors.Is(err, radiusx.ErrBadMessageAuthenticator):
			s.drop(DropBadMessageAuth)
		case errors.Is(err, radiusx.ErrNoMessageAuthenticator):
			s.drop(DropNoMessageAuth)
		default:
			s.drop(DropMalformed)
		}
		return
	}
	// Only an authentic request is looked up in (and recorded in) the
	// duplicate cache, so a forged packet reusing a real request's
	// source, Identifier and Authenticator can neither be answered nor
	// shadow the real one. Checking costs about 2 µs.
	if resp, seen := s.dups.begin(dk, now); seen {
		if resp == nil {
			s.m.Duplicates.WithLabelValues("pending").Inc()
			s.drop(DropInProgress)
			return
		}
		s.m.Duplicates.WithLabelValues("cache").Inc()
		s.send(resp, from, now)
		s.m.Acked.Inc()
		return
	}
	w := waiter{addr: from, key: dk, resp: response(pkt, secret), recv: now}

	p, err := radius.Parse(pkt, []byte(secret))
	if err != nil {
		s.dups.forget(dk)
		s.drop(DropMalformed)
		return
	}
	gwID := ""
	if gw != nil {
		gwID = gw.ID
	} else if id, ok := attr(pkt, rfc2865.NASIdentifier_Type); ok {
		gwID = string(id)
	}
	switch st := rfc2866.AcctStatusType_Get(p); st {
	case rfc2866.AcctStatusType_Value_Stop:
		s.m.Received.WithLabelValues("stop").Inc()
		b, err := bill.FromPacket(p)
		if err != nil {
			s.enqueueReject(gwID, from, "bill: "+err.Error(), pkt, w)
			return
		}
		s.enqueueBill(gw, b, from, w)
	case rfc2866.AcctStatusType_Value_Start, rfc2866.AcctStatusType_Value_InterimUpdate:
		kind := "interim"
		if st == rfc2866.AcctStatusType_Value_Start {
			kind = "start"
		}
		s.m.Received.WithLabelValues(kind).Inc()
		s.enqueueProgress(gwID, kind, p, from, w)
	case rfc2866.AcctStatusType_Value_AccountingOn, rfc2866.AcctStatusType_Value_AccountingOff:
		// Nothing to store: a gateway's open sessions are billed from its
		// own journal after a restart, not closed here.
		s.m.Received.WithLabelValues("on_off").Inc()
		s.answer([]waiter{w})
	default:
		s.m.Received.WithLabelValues("other").Inc()
		s.enqueueReject(gwID, from, fmt.Sprintf("Acct-Status-Type %d", st), pkt, w)
	}
}

func (s *Server) enqueueBill(gw *store.Gateway, b *bill.Bill, from netip.AddrPort, w waiter) {
	k := billKey{gw: b.GatewayID, id: b.ID}
	s.mu.Lock()
	if it := s.inflight[k]; it != nil {
		if len(it.waiters) >= s.cfg.MaxWaiters {
			s.mu.Unlock()
			s.dups.forget(w.key)
			s.drop(DropTooManyRetransmits)
			return
		}
		it.waiters = append(it.waiters, w)
		s.mu.Unlock()
		s.m.Duplicates.WithLabelValues("inflight").Inc()
		return
	}
	s.mu.Unlock()

	// The expensive part, outside the lock: Ed25519 and the encodings.
	status := store.StatusVerified
	switch {
	case gw == nil:
		status = store.StatusUnknownGateway
	case b.Verify(gw.PublicKey) != nil:
		status = store.StatusBadSignature
	case gw.Status != store.GatewayActive:
		status = store.StatusGatewayDisabled
	}
	if gw != nil && gw.ID != b.GatewayID {
		status = store.StatusUnknownGateway // unreachable: FromPacket checks NAS-Identifier
	}
	enc, err := b.MarshalBinary()
	if err != nil {
		s.enqueueReject(b.GatewayID, from, "bill: "+err.Error(), nil, w)
		return
	}
	it := &item{
		kind: kindBill,
		key:  k,
		bill: store.BillRow{
			Bill: b, Hash: b.Hash(), Encoded: enc, Status: status, Source: from.Addr(), ReceivedAt: w.recv,
		},
		waiters: []waiter{w},
	}
	s.mu.Lock()
	if other := s.inflight[k]; other != nil {
		// Another reader took the same bill meanwhile.
		if len(other.waiters) < s.cfg.MaxWaiters {
			other.waiters = append(other.waiters, w)
			s.mu.Unlock()
			s.m.Duplicates.WithLabelValues("inflight").Inc()
			return
		}
		s.mu.Unlock()
		s.dups.forget(w.key)
		s.drop(DropTooManyRetransmits)
		return
	}
	select {
	case s.queue <- it:
		s.inflight[k] = it
		s.mu.Unlock()
		if status != store.StatusVerified {
			s.m.Flagged.WithLabelValues(status).Inc()
		}
	default:
		s.mu.Unlock()
		s.dups.forget(w.key)
		s.drop(DropQueueFull)
	}
}

func (s *Server) enqueue(it *item) {
	select {
	case s.queue <- it:
	default:
		for _, w := range it.waiters {
			s.dups.forget(w.key)
		}
		s.drop(DropQueueFull)
	}
}

func (s *Server) enqueueReject(gwID string, from netip.AddrPort, reason string, pkt []byte, w waiter) {
	s.enqueue(&item{
		kind:    kindReject,
		reject:  store.RejectRow{GatewayID: gwID, Source: from.Addr(), Reason: reason, Packet: append([]byte(nil), pkt...), ReceivedAt: w.recv},
		waiters: []waiter{w},
	})
}

func (s *Server) enqueueProgress(gwID, kind string, p *radius.Packet, from netip.AddrPort, w waiter) {
	in, out := radiusx.GetOctets64(p)
	r := store.ProgressRow{
		GatewayID:      gwID,
		SessionID:      rfc2866.AcctSessionID_GetString(p),
		UserName:       rfc2865.UserName_GetString(p),
		Status:         kind,
		SessionSeconds: int64(rfc2866.AcctSessionTime_Get(p)),
		In:             in,
		Out:            out,
		Source:         from.Addr(),
		UpdatedAt:      w.recv,
	}
	if t, err := ebattr.EdgeBillStartTime_Lookup(p); err == nil {
		r.Start = t.UTC()
	}
	if c, err := ebattr.EdgeBillRunningCharge_Lookup(p); err == nil {
		v := int64(c)
		r.RunningCharge = &v
	}
	s.enqueue(&item{kind: kindProgress, progress: r, waiters: []waiter{w}})
}

func (s *Server) send(resp []byte, to netip.AddrPort, recv time.Time) {
	if _, err := s.conn.WriteToUDPAddrPort(resp, to); err != nil && !errors.Is(err, net.ErrClosed) {
		s.log.Debug("write", zap.Error(err))
	}
	s.m.AckLatency.Observe(time.Since(recv).Seconds())
}

func (s *Server) answer(ws []waiter) {
	for _, w := range ws {
		s.dups.done(w.key, w.resp)
		s.send(w.resp, w.addr, w.recv)
		s.m.Acked.Inc()
	}
}

func (s *Server) commitLoop(ctx context.Context) {
	var (
		b     store.Batch
		items []*item
	)
	for {
		it, ok := <-s.queue
		if !ok {
			return
		}
		items = append(items[:0], it)
		s.batching.Add(1)
		// Take what has queued, up to BatchMax; wait BatchWait for more.
		var timer <-chan time.Time
		if s.cfg.BatchWait > 0 {
			timer = time.After(s.cfg.BatchWait)
		}
	fill:
		for len(items) < s.cfg.BatchMax {
			select {
			case it, ok := <-s.queue:
				if !ok {
					break fill
				}
				items = append(items, it)
				s.batching.Add(1)
			default:
				if timer == nil {
					break fill
				}
				select {
				case it, ok := <-s.queue:
					if !ok {
						break fill
					}
					items = append(items, it)
					s.batching.Add(1)
				case <-timer:
					break fill
				}
			}
		}
		b.Reset()
		for _, it := range items {
			switch it.kind {
			case kindBill:
				b.Bills = append(b.Bills, it.bill)
			case kindProgress:
				b.Progress = append(b.Progress, it.progress)
			case kindReject:
				b.Rejects = append(b.Rejects, it.reject)
			}
		}
		fresh, ok := s.commit(ctx, &b)
		if !ok {
			// Shutting down with Postgres unreachable: these stay
			// unanswered, their clients retransmit to another billd.
			s.batching.Add(-int64(len(items)))
			s.mu.Lock()
			for _, it := range items {
				if it.kind == kindBill {
					delete(s.inflight, it.key)
				}
			}
			s.mu.Unlock()
			continue
		}
		nfresh := 0
		for _, f := range fresh {
			if f {
				nfresh++
			}
		}
		s.m.Stored.Add(float64(nfresh))
		s.m.Duplicates.WithLabelValues("store").Add(float64(len(fresh) - nfresh))
		s.m.Rejected.Add(float64(len(b.Rejects)))
		for _, it := range items {
			ws := it.waiters
			if it.kind == kindBill {
				s.mu.Lock()
				ws = it.waiters
				delete(s.inflight, it.key)
				s.mu.Unlock()
			}
			s.answer(ws)
		}
		s.batching.Add(-int64(len(items)))
		clear(items)
	}
}

// commit writes b, retrying with backoff while Postgres fails, until it
// succeeds (true) or ctx ends (false).
func (s *Server) commit(ctx context.Context, b *store.Batch) ([]bool, bool) {
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		start := time.Now()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		fresh, err := s.st.Commit(cctx, b, s.cfg.Instance)
		cancel()
		if err == nil {
			s.m.CommitSeconds.Observe(time.Since(start).Seconds())
			s.m.CommitRows.Observe(float64(b.Len()))
			if attempt > 0 {
				s.log.Info("commit succeeded again", zap.Int("attempts", attempt+1), zap.Int("rows", b.Len()))
			}
			return fresh, true
		}
		s.m.CommitErrors.Inc()
		if attempt == 0 || attempt%20 == 0 {
			s.log.Warn("commit failed; holding the batch and retrying", zap.Error(err), zap.Int("rows", b.Len()), zap.Int("attempt", attempt+1))
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
