package nas

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius"

	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/nas/link"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// Link moves whole Ethernet frames: an AF_PACKET socket (link.Conn) or a
// port of an in-memory hub (link.Port). ReadFrame is called from one
// goroutine; WriteFrame from several.
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

// AuthClient sends Access-Requests (radclient.Client.Exchange).
type AuthClient interface {
	Exchange(ctx context.Context, p *radius.Packet) (*radius.Packet, error)
}

// AcctClient sends Accounting-Requests until acknowledged
// (radclient.Client.Account).
type AcctClient interface {
	Account(ctx context.Context, p *radius.Packet) (*radius.Packet, error)
}

var (
	_ AuthClient = (*radclient.Client)(nil)
	_ AcctClient = (*radclient.Client)(nil)
)

// Options are the parts New would otherwise open itself from the Config;
// tests hand in fakes, and a caller running nasd in a network namespace
// can open them there. Nil fields are opened by New.
type Options struct {
	Link           Link
	Auth           AuthClient
	Acct           AcctClient
	CoAConn        net.PacketConn
	StatusListener net.Listener
	// Dial opens RADIUS sockets (default a net.Dialer from
	// Config.RADIUSSource).
	Dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	Logger *zap.Logger
}

// Server is nasd: a PPPoE access concentrator terminating PPP and
// authenticating and accounting sessions with RADIUS.
type Server struct {
	cfg        Config
	log        *zap.Logger
	link       Link
	mac        net.HardwareAddr
	auth       AuthClient
	acct       *accounter
	acctClient AcctClient
	coa        net.PacketConn
	http       net.Listener

	closers []func() error

	cookieKey    [32]byte
	cookieMu     sync.Mutex
	cookieHasher *cookieHash // keyed with cookieKey, made at first use
	pwKey        []byte      // hides User-Password on its way to radclient
	bootID       string
	acctSeq      atomic.Uint64
	padi         *padiLimiter
	maxMRU       uint16 // largest MRU PPP-Max-Payload may raise ours to

	mu       sync.Mutex
	sessions map[uint16]*session
	byMAC    map[[6]byte][]*session
	nextID   uint16
	pool     *pool
	stopping bool

	runCtx   context.Context // cancelled when Run's context is
	accepted atomic.Bool     // discovery served (after Accounting-On)
	wg       sync.WaitGroup  // per-session helper goroutines (RADIUS auth)

	stats     counters
	coaReplay *replayCache
}

// counters are the server's statistics, exported by Stats.
type counters struct {
	padiIn, padiLimited, padoOut, padrIn, padrBadCookie, padsOut, padsRefused, padtIn, padtOut atomic.Uint64
	badFrames, unknownSession, foreignDst                                                      atomic.Uint64
	authAccept, authReject, authError                                                          atomic.Uint64
	sessionsUp, sessionsDown                                                                   atomic.Uint64
	ipIn, ipOut, ipDropped                                                                     atomic.Uint64
	protoRejects, coaIn, coaDropped                                                            atomic.Uint64
}

// Stats is a snapshot of the server's counters.
type Stats struct {
	Sessions          int    `json:"sessions"`
	PADIIn            uint64 `json:"padi_in"`
	PADILimited       uint64 `json:"padi_limited"`
	PADOOut           uint64 `json:"pado_out"`
	PADRIn            uint64 `json:"padr_in"`
	PADRBadCookie     uint64 `json:"padr_bad_cookie"`
	PADSOut           uint64 `json:"pads_out"`
	PADSRefused       uint64 `json:"pads_refused"`
	PADTIn            uint64 `json:"padt_in"`
	PADTOut           uint64 `json:"padt_out"`
	BadFrames         uint64 `json:"bad_frames"`
	UnknownSession    uint64 `json:"unknown_session"`
	ForeignDst        uint64 `json:"foreign_destination"`
	AuthAccept        uint64 `json:"auth_accept"`
	AuthReject        uint64 `json:"auth_reject"`
	AuthError         uint64 `json:"auth_error"`
	SessionsUp        uint64 `json:"sessions_up"`
	SessionsDown      uint64 `json:"sessions_down"`
	IPIn              uint64 `json:"ip_in"`
	IPOut             uint64 `json:"ip_out"`
	IPDropped         uint64 `json:"ip_dropped"`
	ProtocolRejects   uint64 `json:"protocol_rejects"`
	CoARequests       uint64 `json:"coa_requests"`
	CoADropped        uint64 `json:"coa_dropped"`
	AcctSent          uint64 `json:"acct_sent"`
	AcctPending       int64  `json:"acct_pending"`
	AcctInterimSkip   uint64 `json:"acct_interim_skipped"`
	AcctFailed        uint64 `json:"acct_failed"`
	AccountingStarted bool   `json:"accounting_on_acked"`
	// RADIUS transport counters, when the clients are radclient's.
	AuthRADIUS radclient.Stats `json:"auth_radius"`
	AcctRADIUS radclient.Stats `json:"acct_radius"`
}

// New checks the configuration and opens what opts does not provide: the
// link on cfg.Interface, RADIUS clients, the CoA socket and the status
// listener. Everything is opened here, so a Server made inside a network
// namespace (lab.Netns.Do) works from it; Run serves.
func New(cfg Config, opts Options) (s *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s = &Server{
		cfg:       cfg,
		log:       log.Named("nasd"),
		sessions:  map[uint16]*session{},
		byMAC:     map[[6]byte][]*session{},
		runCtx:    context.Background(),
		coaReplay: newReplayCache(),
	}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	if _, err := rand.Read(s.cookieKey[:]); err != nil {
		return nil, err
	}
	s.pwKey = make([]byte, 16)
	_, _ = rand.Read(s.pwKey)
	var boot [4]byte
	_, _ = rand.Read(boot[:])
	s.bootID = hex.EncodeToString(boot[:])
	s.padi = newPADILimiter(cfg)
	s.pool, err = newPool(cfg.Pool, cfg.LocalAddress)
	if err != nil {
		return nil, err
	}
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	s.nextID = binary.BigEndian.Uint16(idb[:])

	s.link = opts.Link
	s.maxMRU = cfg.MRU
	if s.link == nil {
		if cfg.Interface == "" {
			return nil, errors.New("nas: no interface configured")
		}
		c, err := link.Listen(cfg.Interface, nil)
		if err != nil {
			return nil, err
		}
		s.link = c
	}
	// RFC 4638: a PPP-Max-Payload above 1492 is granted up to what the
	// interface carries (its MTU less the PPPoE header).
	if m, ok := s.link.(interface{ MTU() int }); ok {
		if v := m.MTU() - pppoe.HeaderLen - 2; v > int(s.maxMRU) {
			s.maxMRU = uint16(min(v, 0xffff))
		}
	}
	s.closers = append(s.closers, s.link.Close)
	s.mac = s.link.HardwareAddr()
	if len(s.mac) != 6 {
		return nil, fmt.Errorf("nas: link has no Ethernet address")
	}

	rc := func(servers []radclient.Server) (*radclient.Client, error) {
		if len(servers) == 0 {
			return nil, errors.New("nas: no RADIUS servers configured")
		}
		c, err := radclient.New(radclient.Config{
			Servers: servers, IRT: cfg.RADIUSIRT, MRT: cfg.RADIUSMRT, MRC: cfg.RADIUSMRC, MRD: cfg.RADIUSMRD,
			LocalAddr: cfg.RADIUSSource, Dial: opts.Dial, Logger: s.log, Sockets: 2, MaxOutstanding: cfg.RADIUSWindow,
		})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, c.Close)
		return c, nil
	}
	s.auth = opts.Auth
	if s.auth == nil {
		c, err := rc(cfg.AuthServers)
		if err != nil {
			return nil, err
		}
		s.auth = c
	}
	acct := opts.Acct
	if acct == nil {
		c, err := rc(cfg.AcctServers)
		if err != nil {
			return nil, err
		}
		acct = c
	}
	s.acct = newAccounter(acct, s.log)
	s.acctClient = acct

	s.coa = opts.CoAConn
	if s.coa == nil && cfg.CoAListen != "" {
		c, err := net.ListenPacket("udp", cfg.CoAListen)
		if err != nil {
			return nil, fmt.Errorf("nas: coa_listen: %w", err)
		}
		s.coa = c
	}
	if s.coa != nil {
		s.closers = append(s.closers, s.coa.Close)
	}
	s.http = opts.StatusListener
	if s.http == nil && cfg.StatusListen != "" {
		l, err := net.Listen("tcp", cfg.StatusListen)
		if err != nil {
			return nil, fmt.Errorf("nas: status_listen: %w", err)
		}
		s.http = l
	}
	if s.http != nil {
		s.closers = append(s.closers, s.http.Close)
	}
	return s, nil
}

func (s *Server) closeAll() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		_ = s.closers[i]()
	}
	s.closers = nil
}

// HardwareAddr returns the access concentrator's MAC.
func (s *Server) HardwareAddr() net.HardwareAddr { return s.mac }

// CoAAddr returns the address of the CoA listener, nil if there is none.
func (s *Server) CoAAddr() net.Addr {
	if s.coa == nil {
		return nil
	}
	return s.coa.LocalAddr()
}

// StatusAddr returns the address of the HTTP status listener, nil if there
// is none.
func (s *Server) StatusAddr() net.Addr {
	if s.http == nil {
		return nil
	}
	return s.http.Addr()
}

// Ready reports whether discovery is served (Accounting-On acknowledged or
// AcctOnWait passed).
func (s *Server) Ready() bool { return s.accepted.Load() }

// Run serves until ctx ends, then shuts down cleanly: every session is
// ended (LCP Terminate-Request, PADT, Accounting Stop with Admin-Reboot),
// the Stops are given ShutdownGrace to be acknowledged, Accounting-Off is
// sent, and the sockets are closed. It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	defer s.closeAll()
	// The tasks stop on this context: ctx ending, or a task failing.
	ctx, stopTasks := context.WithCancel(ctx)
	defer stopTasks()
	s.runCtx = ctx
	acctCtx, acctCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer acctCancel()
	s.acct.start(acctCtx)

	// Accounting-On before any session (RFC 2866 §5.1 status 7): the
	// stock FreeRADIUS queries close every open session of this NAS on
	// it, so a session must not start before it is processed.
	on := s.acct.submit(nil, s.acctOnOff(true))
	select {
	case <-on:
	case <-time.After(s.cfg.AcctOnWait):
		s.log.Warn("Accounting-On not acknowledged yet; serving anyway")
	case <-ctx.Done():
	}
	s.accepted.Store(true)
	s.log.Info("serving", zap.String("mac", s.mac.String()), zap.String("ac_name", s.cfg.ACName),
		zap.String("auth", s.cfg.Auth.String()))

	var tasks sync.WaitGroup
	errc := make(chan error, 4)
	task := func(name string, f func(context.Context) error) {
		tasks.Add(1)
		go func() {
			defer tasks.Done()
			if err := f(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("nas: %s: %w", name, err)
			}
		}()
	}
	task("link", s.readLoop)
	task("timers", s.timerLoop)
	if s.coa != nil {
		task("coa", s.coaLoop)
	}
	if s.http != nil {
		srv := &http.Server{Handler: s.statusHandler(), ReadHeaderTimeout: 5 * time.Second}
		task("status", func(ctx context.Context) error {
			go func() { <-ctx.Done(); srv.Close() }()
			if err := srv.Serve(s.http); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		s.log.Error("task failed, shutting down", zap.Error(runErr))
	}
	stopTasks()

	// Shutdown: end every session, then give accounting its grace.
	s.mu.Lock()
	s.stopping = true
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	now := time.Now()
	for _, ss := range all {
		ss.mu.Lock()
		ss.end(now, causeAdminReboot, "nasd shutting down")
		ss.mu.Unlock()
	}
	grace := time.NewTimer(s.cfg.ShutdownGrace)
	defer grace.Stop()
	if !s.acct.wait(grace.C) {
		s.log.Warn("shutdown grace over with accounting records unacknowledged", zap.Int64("pending", s.acct.pending.Load()))
	} else {
		off := s.acct.submit(nil, s.acctOnOff(false))
		select {
		case <-off:
		case <-grace.C:
			s.log.Warn("Accounting-Off not acknowledged")
		}
	}
	acctCancel()
	s.closeAll()
	s.acct.stop()
	tasks.Wait()
	s.wg.Wait()
	return runErr
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := len(s.sessions)
	s.mu.Unlock()
	c := &s.stats
	type statser interface{ Stats() radclient.Stats }
	var auth, acct radclient.Stats
	if st, ok := s.auth.(statser); ok {
		auth = st.Stats()
	}
	if st, ok := s.acctClient.(statser); ok {
		acct = st.Stats()
	}
	return Stats{
		AuthRADIUS: auth, AcctRADIUS: acct,
		Sessions: n,
		PADIIn:   c.padiIn.Load(), PADILimited: c.padiLimited.Load(), PADOOut: c.padoOut.Load(),
		PADRIn: c.padrIn.Load(), PADRBadCookie: c.padrBadCookie.Load(), PADSOut: c.padsOut.Load(),
		PADSRefused: c.padsRefused.Load(), PADTIn: c.padtIn.Load(), PADTOut: c.padtOut.Load(),
		BadFrames: c.badFrames.Load(), UnknownSession: c.unknownSession.Load(), ForeignDst: c.foreignDst.Load(),
		AuthAccept: c.authAccept.Load(), AuthReject: c.authReject.Load(), AuthError: c.authError.Load(),
		SessionsUp: c.sessionsUp.Load(), SessionsDown: c.sessionsDown.Load(),
		IPIn: c.ipIn.Load(), IPOut: c.ipOut.Load(), IPDropped: c.ipDropped.Load(),
		ProtocolRejects: c.protoRejects.Load(), CoARequests: c.coaIn.Load(), CoADropped: c.coaDropped.Load(),
		AcctSent: s.acct.sent.Load(), AcctPending: s.acct.pending.Load(), AcctInterimSkip: s.acct.skipped.Load(),
		AcctFailed: s.acct.failed.Load(), AccountingStarted: s.accepted.Load(),
	}
}

// readLoop reads frames and dispatches them.
func (s *Server) readLoop(ctx context.Context) error {
	buf := make([]byte, 1<<16)
	out := make([]byte, 0, 1<<16)
	for {
		n, err := s.link.ReadFrame(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		out = s.handleFrame(buf[:n], out[:0])
	}
}

// handleFrame handles one frame; out is scratch space for a reply.
func (s *Server) handleFrame(f []byte, out []byte) []byte {
	if len(f) < pppoe.FrameHeaderLen {
		s.stats.badFrames.Add(1)
		return out
	}
	broadcast := f[0] == 0xff && f[1] == 0xff && f[2] == 0xff && f[3] == 0xff && f[4] == 0xff && f[5] == 0xff
	if !broadcast && string(f[0:6]) != string(s.mac) {
		s.stats.foreignDst.Add(1)
		return out
	}
	switch pppoe.EtherType(binary.BigEndian.Uint16(f[12:14])) {
	case pppoe.EtherTypeDiscovery:
		s.handleDiscovery(f, broadcast)
	case pppoe.EtherTypeSession:
		if broadcast {
			s.stats.badFrames.Add(1)
			return out
		}
		return s.handleSession(f, out)
	default:
		s.stats.badFrames.Add(1)
	}
	return out
}

// timerLoop fires every session's timers at Tick granularity.
func (s *Server) timerLoop(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	var due []*session
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			nn := now.UnixNano()
			due = due[:0]
			s.mu.Lock()
			for _, ss := range s.sessions {
				if d := ss.deadline.Load(); d != 0 && d <= nn {
					due = append(due, ss)
				}
			}
			s.mu.Unlock()
			for _, ss := range due {
				ss.mu.Lock()
				ss.onTimer(now)
				ss.mu.Unlock()
			}
			s.padi.sweep(now)
			s.coaReplay.sweep(now)
		}
	}
}

// write sends a frame, logging failures at debug level (a full socket
// buffer is a lost frame, which PPP's timers recover from).
func (s *Server) write(f []byte) {
	if err := s.link.WriteFrame(f); err != nil {
		s.log.Debug("write", zap.Error(err))
	}
}

// newAcctSessionID returns a unique Acct-Session-Id: this boot's random
// prefix and a counter.
func (s *Server) newAcctSessionID() string {
	return fmt.Sprintf("%s%08x", s.bootID, s.acctSeq.Add(1))
}

// lookup returns the session with id whose peer is mac.
func (s *Server) lookup(id uint16, mac []byte) *session {
	s.mu.Lock()
	ss := s.sessions[id]
	s.mu.Unlock()
	if ss == nil || string(ss.peer[:]) != string(mac) {
		return nil
	}
	return ss
}

// remove takes a session out of the tables.
func (s *Server) remove(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[ss.id] == ss {
		delete(s.sessions, ss.id)
	}
	list := s.byMAC[ss.peer]
	for i, x := range list {
		if x == ss {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.byMAC, ss.peer)
	} else {
		s.byMAC[ss.peer] = list
	}
}
