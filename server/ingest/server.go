package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
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
	"github.com/edgebill/edgebill/rfc/tariff"
	"github.com/edgebill/edgebill/server/store"
)

// Store is what ingest needs of the database.
type Store interface {
	Gateways(ctx context.Context) ([]store.Gateway, error)
	// Tariffs is billd's own copy of the tariffs (billd.tariffs), parsed.
	Tariffs(ctx context.Context) (map[store.TariffKey]*tariff.Tariff, map[store.TariffKey]error, error)
	// SyncTariffs copies new tariffs from the ISP's RADIUS tables into
	// billd.tariffs; ingest calls it when a bill names a tariff it lacks.
	SyncTariffs(ctx context.Context) (store.SyncResult, error)
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
	// BatchWait is how long the batcher waits for more rows after the
	// first before it closes a batch that is not full (default 2ms; a
	// negative value: it closes the batch with what has queued). Every
	// commit costs Postgres a fixed few hundred microseconds of CPU (a
	// WAL flush, planning, a transaction) whatever its size: waiting
	// makes fewer, larger commits, which at 15,000 bills/s on two cores
	// saves more time in the tail than it adds.
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
	// TariffRefresh is how often billd's copy of the tariffs
	// (billd.tariffs) is reloaded for pricing bills at ingest (default
	// 10s; also reloaded, after copying new ones from the RADIUS tables,
	// at most once a second when a bill names an unknown tariff).
	TariffRefresh time.Duration
	// Clients are networks allowed to send bills for gateways not
	// registered (flagged unknown_gateway).
	Clients []Client
	// Instance names this billd in the bills it stores (received_by).
	Instance string
	// ReadBuffer is the socket receive buffer in bytes (default 8 MiB).
	ReadBuffer int
	// VerifyEach checks each bill's signature on its own with rfc/bill's
	// Verify instead of in batches (see verifier): the same rule (RFC
	// 8032 §5.1.7's cofactored equation), about 2.3 times the CPU per
	// bill. For comparison and for the cautious.
	VerifyEach bool
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
	if c.BatchWait == 0 {
		c.BatchWait = 2 * time.Millisecond
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
	if c.TariffRefresh <= 0 {
		c.TariffRefresh = 10 * time.Second
	}
	if c.ReadBuffer <= 0 {
		c.ReadBuffer = 8 << 20
	}
}

// gateway is a registered gateway with its public key decoded for
// verification (nil when the registered key is no Ed25519 point: its
// bills are flagged bad_signature).
type gateway struct {
	store.Gateway
	key *verifyKey
}

type gatewayMap map[string]*gateway

type tariffMap map[store.TariffKey]*tariff.Tariff

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
	gw       *gateway  // of a bill whose signature is still to be checked
	recv     time.Time // when its first request came
	waiters  []waiter  // of a bill: guarded by Server.mu
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
	tariffs atomic.Pointer[tariffMap]
	tReload chan struct{}
	lastTRl atomic.Int64

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
		tReload:  make(chan struct{}, 1),
		inflight: map[billKey]*item{},
	}
	empty := gatewayMap{}
	s.gws.Store(&empty)
	noTariffs := tariffMap{}
	s.tariffs.Store(&noTariffs)
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

	bg.Add(2)
	go func() {
		defer bg.Done()
		s.refreshGateways(bgCtx)
	}()
	go func() {
		defer bg.Done()
		s.refreshTariffs(bgCtx)
	}()
	s.loadGateways(ctx)
	s.loadTariffs(ctx, false)

	commitCtx, commitCancel := context.WithCancel(context.Background())
	defer commitCancel()
	batches := make(chan *batch)
	free := make(chan *batch, s.cfg.Committers+1)
	committers.Add(1)
	go func() {
		defer committers.Done()
		s.batchLoop(batches, free)
	}()
	for range s.cfg.Committers {
		committers.Add(1)
		go func() {
			defer committers.Done()
			s.commitLoop(commitCtx, batches, free)
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
	old := *s.gws.Load()
	m := make(gatewayMap, len(gs))
	for i := range gs {
		g := &gateway{Gateway: gs[i]}
		// Decoding a key costs a square root; keep the decoded one.
		if o := old[g.ID]; o != nil && o.key != nil && string(o.key.enc[:]) == string(g.PublicKey) {
			g.key = o.key
		} else {
			g.key = newVerifyKey(g.PublicKey)
		}
		m[g.ID] = g
	}
	s.gws.Store(&m)
	s.m.GatewaysLoaded.Set(float64(len(m)))
}

// askReload asks the refresher for a reload, at most once a second.
func (s *Server) askReload(now time.Time) { ask(&s.lastRel, s.reload, now) }

// askTariffReload asks the tariff refresher to copy new tariffs from
// the RADIUS tables and reload, at most once a second.
func (s *Server) askTariffReload(now time.Time) { ask(&s.lastTRl, s.tReload, now) }

func ask(last *atomic.Int64, c chan<- struct{}, now time.Time) {
	l := last.Load()
	if now.UnixNano()-l < int64(time.Second) || !last.CompareAndSwap(l, now.UnixNano()) {
		return
	}
	select {
	case c <- struct{}{}:
	default:
	}
}

func (s *Server) refreshTariffs(ctx context.Context) {
	t := time.NewTicker(s.cfg.TariffRefresh)
	defer t.Stop()
	for {
		copyFirst := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.tReload:
			copyFirst = true
		}
		s.loadTariffs(ctx, copyFirst)
	}
}

// loadTariffs reloads billd's copy of the tariffs, first copying new
// ones from the RADIUS tables when copyFirst is set (a bill named one
// billd lacks; billd serve's reconciliation copies them too, but not at
// once).
func (s *Server) loadTariffs(ctx context.Context, copyFirst bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if copyFirst {
		if _, err := s.st.SyncTariffs(ctx); err != nil {
			s.log.Warn("copying tariffs from the RADIUS tables failed", zap.Error(err))
		}
	}
	ts, _, err := s.st.Tariffs(ctx)
	if err != nil {
		s.log.Warn("loading tariffs failed; keeping the last ones", zap.Error(err))
		return
	}
	m := tariffMap(ts)
	s.tariffs.Store(&m)
	s.m.TariffsLoaded.Set(float64(len(m)))
}

// selfCharge is what billd's own copy of b's tariff gives for b's own
// usage, exactly as reconciliation's Judge computes a bill's SelfCharge
// (the octets as stored, clamped to a bigint); nil when the tariff is
// not known (known false) or the usage cannot be priced.
func selfCharge(ts tariffMap, b *bill.Bill) (c *int64, known bool) {
	t := ts[store.TariffKey{ID: b.TariffID, Version: b.TariffVersion}]
	if t == nil {
		return nil, false
	}
	v, err := t.Total(tariff.Usage{Start: b.Start, Stop: b.Stop, In: min(b.InputOctets, math.MaxInt64), Out: min(b.OutputOctets, math.MaxInt64)})
	if err != nil {
		return nil, true
	}
	return &v, true
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
func (s *Server) secretFor(pkt []byte, from netip.AddrPort, now time.Time) (*gateway, string, string) {
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

// parse is radius.Parse for a packet frame has checked, in three
// allocations instead of two per attribute: the attribute values are
// slices of one copy of the packet's attributes.
func parse(pkt []byte, secret string) *radius.Packet {
	n := 0
	for a := pkt[20:]; len(a) >= 2; a = a[a[1]:] {
		n++
	}
	body := append([]byte(nil), pkt[20:]...)
	avps := make([]radius.AVP, n)
	p := &radius.Packet{
		Code:       radius.Code(pkt[0]),
		Identifier: pkt[1],
		Secret:     []byte(secret),
		Attributes: make(radius.Attributes, n),
	}
	copy(p.Authenticator[:], pkt[4:20])
	i := 0
	for a := body; len(a) >= 2; a = a[a[1]:] {
		avps[i].Type = radius.Type(a[0])
		if a[1] > 2 {
			avps[i].Attribute = radius.Attribute(a[2:a[1]:a[1]])
		}
		p.Attributes[i] = &avps[i]
		i++
	}
	return p
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

	p := parse(pkt, secret)
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

func (s *Server) enqueueBill(gw *gateway, b *bill.Bill, from netip.AddrPort, w waiter) {
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

	// The signature is checked by the batcher, with the others in the
	// bill's batch (verifyBatch); a bill from no registered gateway has
	// none to check.
	status := ""
	if gw == nil || gw.ID != b.GatewayID { // the second is unreachable: FromPacket checks NAS-Identifier
		gw, status = nil, store.StatusUnknownGateway
	}
	enc, err := b.MarshalBinary()
	if err != nil {
		s.enqueueReject(b.GatewayID, from, "bill: "+err.Error(), nil, w)
		return
	}
	self, known := selfCharge(*s.tariffs.Load(), b)
	if !known {
		s.askTariffReload(w.recv)
	}
	it := &item{
		kind: kindBill,
		key:  k,
		gw:   gw,
		recv: w.recv,
		bill: store.BillRow{
			Bill: b, Hash: b.Hash(), Encoded: enc, Status: status, Source: from.Addr(), ReceivedAt: w.recv, SelfCharge: self,
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
		recv:    w.recv,
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
	s.enqueue(&item{kind: kindProgress, progress: r, recv: w.recv, waiters: []waiter{w}})
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

// batch is what one group commit writes: the items the batcher took,
// their signatures checked, and the requests they answer.
type batch struct {
	items []*item
	rows  store.Batch
}

// batchLoop takes what has queued (up to BatchMax rows, waiting
// BatchWait for more after the first), checks the bills' signatures in
// one batch, and hands the batch to a free committer. While it waits
// for one, requests queue up for the next batch, whose signatures it
// checks while the committers write: verification and commits overlap,
// and a slower commit makes the next batch larger, not the queue
// longer. It closes out when the queue is closed and drained.
func (s *Server) batchLoop(out chan<- *batch, free chan *batch) {
	defer close(out)
	var (
		v     = newVerifier()
		jobs  []sigJob
		timer *time.Timer
	)
	for {
		it, ok := <-s.queue
		if !ok {
			return
		}
		var bt *batch
		select {
		case bt = <-free:
		default:
			bt = &batch{}
		}
		bt.items = append(bt.items[:0], it)
		s.batching.Add(1)
		closed := false
		var deadline time.Time
		if s.cfg.BatchWait > 0 {
			deadline = time.Now().Add(s.cfg.BatchWait)
		}
	fill:
		for len(bt.items) < s.cfg.BatchMax {
			select {
			case it, ok := <-s.queue:
				if !ok {
					closed = true
					break fill
				}
				bt.items = append(bt.items, it)
				s.batching.Add(1)
				continue
			default:
			}
			wait := time.Until(deadline)
			if deadline.IsZero() || wait <= 0 {
				break
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			select {
			case it, ok := <-s.queue:
				if !ok {
					closed = true
					break fill
				}
				bt.items = append(bt.items, it)
				s.batching.Add(1)
			case <-timer.C:
				break fill
			}
		}
		t := time.Now()
		jobs = s.verifyBatch(v, bt.items, jobs)
		s.m.VerifySeconds.Observe(time.Since(t).Seconds())
		out <- bt
		if closed {
			return
		}
	}
}

// commitLoop commits the batches batchLoop hands it, then answers them.
func (s *Server) commitLoop(ctx context.Context, in <-chan *batch, free chan<- *batch) {
	for bt := range in {
		s.commitBatch(ctx, bt)
		clear(bt.items)
		bt.items = bt.items[:0]
		select {
		case free <- bt:
		default:
		}
	}
}

func (s *Server) commitBatch(ctx context.Context, bt *batch) {
	b, items := &bt.rows, bt.items
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
	start := time.Now()
	for _, it := range items {
		s.m.PreCommitSeconds.Observe(start.Sub(it.recv).Seconds())
	}
	fresh, ok := s.commit(ctx, b)
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
		return
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
		var ws []waiter
		if it.kind == kindBill {
			// Retransmissions may still be joining it until it leaves
			// inflight.
			s.mu.Lock()
			ws = it.waiters
			delete(s.inflight, it.key)
			s.mu.Unlock()
		} else {
			ws = it.waiters
		}
		s.answer(ws)
	}
	s.batching.Add(-int64(len(items)))
}

// verifyBatch checks the signatures of the bills in items that have one
// to check (in one batch, see verifier) and sets their status.
func (s *Server) verifyBatch(v *verifier, items []*item, jobs []sigJob) []sigJob {
	jobs = jobs[:0]
	for _, it := range items {
		if it.kind == kindBill && it.gw != nil {
			jobs = append(jobs, sigJob{key: it.gw.key, enc: it.bill.Encoded})
		}
	}
	if s.cfg.VerifyEach {
		i := 0
		for _, it := range items {
			if it.kind == kindBill && it.gw != nil {
				jobs[i].ok = it.bill.Bill.Verify(it.gw.PublicKey) == nil
				i++
			}
		}
	} else {
		v.verify(jobs)
	}
	i := 0
	for _, it := range items {
		if it.kind != kindBill {
			continue
		}
		if it.gw != nil {
			switch {
			case !jobs[i].ok:
				it.bill.Status = store.StatusBadSignature
			case it.gw.Status != store.GatewayActive:
				it.bill.Status = store.StatusGatewayDisabled
			default:
				it.bill.Status = store.StatusVerified
			}
			it.gw = nil
			i++
		}
		if it.bill.Status != store.StatusVerified {
			s.m.Flagged.WithLabelValues(it.bill.Status).Inc()
		}
	}
	clear(jobs)
	return jobs[:0]
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
