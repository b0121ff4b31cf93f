package billing

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/gateway/billing/metrics"
	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// Defaults for Config.
const (
	DefaultPoll               = time.Second
	DefaultInterim            = 5 * time.Minute
	DefaultCheckpointInterval = 30 * time.Second
	DefaultInterimTimeout     = 30 * time.Second
)

// Accounter sends RADIUS accounting requests; internal/radclient's Client
// is one. Exchange gives up after every server had its turn; Account
// does not (store-and-forward).
type Accounter interface {
	Exchange(ctx context.Context, p *radius.Packet) (*radius.Packet, error)
	Account(ctx context.Context, p *radius.Packet) (*radius.Packet, error)
}

var _ Accounter = (*radclient.Client)(nil)

// Config configures a Billing.
type Config struct {
	// GatewayID names the gateway in bills (EdgeBill-Gateway-Id,
	// NAS-Identifier). Required.
	GatewayID string
	// Journal is where checkpoints and bills go. Required.
	Journal *journal.Journal
	// Counters gives the live usage of open sessions; nil means the
	// running charge moves with time only and bills use the usage the
	// relay passes to Closed.
	Counters gateway.Counters
	// Accounting receives the Accounting Starts and Interim-Updates
	// (best effort: see the package documentation); nil sends none.
	Accounting Accounter
	// Ender ends a session whose running charge reached its credit (the
	// relay); nil: billing closes and bills such a session itself,
	// with nothing said to the subscriber or the BRAS.
	Ender gateway.Ender
	// DefaultInterim is the interim interval of a session whose
	// authorisation named none (DefaultInterim).
	DefaultInterim time.Duration
	// CheckpointInterval is how often open sessions are checkpointed
	// (DefaultCheckpointInterval); a session whose interim interval is
	// shorter is checkpointed at that interval.
	CheckpointInterval time.Duration
	// Poll is how often the counters are read and the meters updated
	// (DefaultPoll).
	Poll time.Duration
	// DefaultTariff is the tariff text for a session whose authorisation
	// carried none, or one that does not parse. Empty: such a session is
	// billed with tariff id "none", currency XXX (ISO 4217: no
	// currency) and charge 0, and an error is logged.
	DefaultTariff string
	// UnderbillPercent is a deliberate pricing fault for the lab
	// demonstration: bills charge this many percent less than the
	// tariff says. 0 (the default) is honest billing.
	UnderbillPercent int
	// ShutdownCause is the Acct-Terminate-Cause of sessions still open
	// when Run stops (Admin-Reboot).
	ShutdownCause gateway.TerminateCause
	// OnBill is called, from Run's goroutine, after bills were
	// journaled; it must not block (delivery's Kick).
	OnBill func()
	// Now is the clock (time.Now). Tests inject one.
	Now func() time.Time
	// Logger; nil means zap.NewNop().
	Logger *zap.Logger
	// Metrics; nil means unregistered ones.
	Metrics *metrics.Billing
}

// Billing meters, prices, checkpoints and bills sessions. It implements
// gateway.Sessions.
type Billing struct {
	cfg Config
	j   *journal.Journal
	log *zap.Logger
	m   *metrics.Billing
	now func() time.Time

	defTariff *tariff.Tariff
	tariffs   map[string]*tariff.Tariff // parsed, by text; Run's goroutine only

	// The relay's events, queued by Opened/Addressed/Closed.
	mu      sync.Mutex
	queue   []event
	stopped bool
	wake    chan struct{}

	// Run's goroutine only.
	live    map[uint64]*liveSession
	order   []*liveSession // publish's scratch
	backlog ops            // journal writes that failed, retried next tick

	snapshot atomic.Pointer[[]LiveSession]
	progress chan progressReq // Starts and Interim-Updates for the sender

	// update is j.Update; tests make it fail.
	update func(func(*journal.Tx) error) error
}

var _ gateway.Sessions = (*Billing)(nil)

type eventKind uint8

const (
	evOpened eventKind = iota + 1
	evAddressed
	evClosed
)

type event struct {
	kind  eventKind
	s     gateway.Session
	key   uint64
	ip    netip.Addr
	at    time.Time
	u     gateway.Usage
	cause gateway.TerminateCause
}

// New checks cfg, then recovers: every session the journal holds open
// (the gateway died without closing it) is billed at its last
// checkpoint with Terminate-Cause NAS-Reboot, before New returns.
func New(cfg Config) (*Billing, error) {
	if cfg.GatewayID == "" {
		return nil, errors.New("billing: no gateway id")
	}
	if cfg.Journal == nil {
		return nil, errors.New("billing: no journal")
	}
	if cfg.UnderbillPercent < 0 || cfg.UnderbillPercent > 100 {
		return nil, fmt.Errorf("billing: under-bill percent %d is not 0 to 100", cfg.UnderbillPercent)
	}
	if cfg.DefaultInterim <= 0 {
		cfg.DefaultInterim = DefaultInterim
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.ShutdownCause == 0 {
		cfg.ShutdownCause = gateway.CauseAdminReboot
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewBilling(nil)
	}
	b := &Billing{
		cfg:      cfg,
		j:        cfg.Journal,
		log:      cfg.Logger.Named("billing"),
		m:        cfg.Metrics,
		now:      cfg.Now,
		tariffs:  make(map[string]*tariff.Tariff),
		wake:     make(chan struct{}, 1),
		live:     make(map[uint64]*liveSession),
		progress: make(chan progressReq, 64),
	}
	b.update = b.j.Update
	if cfg.DefaultTariff != "" {
		t, err := tariff.Parse(cfg.DefaultTariff)
		if err != nil {
			return nil, fmt.Errorf("billing: default tariff: %w", err)
		}
		b.defTariff = t
	}
	b.m.FaultUnderbill.Set(float64(cfg.UnderbillPercent))
	if cfg.UnderbillPercent > 0 {
		b.log.Warn("FAULT INJECTION ON: every bill under-charges the tariff; this gateway's bills are WRONG on purpose",
			zap.Int("underbill_percent", cfg.UnderbillPercent))
	}
	empty := []LiveSession{}
	b.snapshot.Store(&empty)
	if err := b.recover(); err != nil {
		return nil, err
	}
	return b, nil
}

// NextKey hands out a Session.Key from the journal's counter.
func (b *Billing) NextKey() (uint64, error) { return b.j.NextKey() }

// Opened implements gateway.Sessions; it only queues.
func (b *Billing) Opened(s gateway.Session) {
	s.SubscriberMAC = append(net.HardwareAddr(nil), s.SubscriberMAC...)
	s.BRASMAC = append(net.HardwareAddr(nil), s.BRASMAC...)
	s.Auth.Class = append([]byte(nil), s.Auth.Class...)
	b.enqueue(event{kind: evOpened, s: s, key: s.Key})
}

// Addressed implements gateway.Sessions; it only queues.
func (b *Billing) Addressed(key uint64, ip netip.Addr) {
	b.enqueue(event{kind: evAddressed, key: key, ip: ip})
}

// Closed implements gateway.Sessions; it only queues.
func (b *Billing) Closed(key uint64, at time.Time, u gateway.Usage, cause gateway.TerminateCause) {
	b.enqueue(event{kind: evClosed, key: key, at: at, u: u, cause: cause})
}

func (b *Billing) enqueue(e event) {
	b.mu.Lock()
	stopped := b.stopped
	if !stopped {
		b.queue = append(b.queue, e)
	}
	b.mu.Unlock()
	if stopped {
		b.log.Error("session event after billing stopped; not billed here",
			zap.Uint64("key", e.key), zap.Uint8("event", uint8(e.kind)))
		return
	}
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *Billing) take() []event {
	b.mu.Lock()
	q := b.queue
	b.queue = nil
	b.mu.Unlock()
	return q
}

// Run meters and journals until ctx ends, then bills the sessions still
// open with ShutdownCause and returns. Stop the relay first, so that its
// own Closed calls (with their final usage) come in before.
func (b *Billing) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	pctx, stopProgress := context.WithCancel(context.Background())
	if b.cfg.Accounting != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.sendProgress(pctx)
		}()
	}
	defer func() {
		stopProgress()
		wg.Wait()
	}()

	t := time.NewTicker(b.cfg.Poll)
	defer t.Stop()
	// budget wakes Run when a session's time budget runs out between
	// two ticks, so a credit is enforced to the second.
	budget := time.NewTimer(time.Hour)
	budget.Stop()
	var armed time.Time
	for {
		select {
		case <-ctx.Done():
			budget.Stop()
			return b.shutdown()
		case <-b.wake:
			b.step(false)
		case <-t.C:
			b.step(true)
		case <-budget.C:
			armed = time.Time{}
			b.step(true)
		}
		if next := b.nextBudget(); !next.Equal(armed) {
			budget.Stop()
			armed = next
			if !next.IsZero() {
				budget.Reset(max(next.Sub(b.now())+wakeMargin, minWake))
			}
		}
	}
}

// shutdown bills what is still open and stops taking events.
func (b *Billing) shutdown() error {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.step(true)
	now := b.now()
	var o ops
	for key, ls := range b.live {
		u := ls.last
		if b.cfg.Counters != nil {
			if cu, ok := b.cfg.Counters.Usage(key); ok {
				u = maxUsage(ls.last, cu)
			}
		}
		b.closeSession(&o, ls, now, u, b.cfg.ShutdownCause)
	}
	var err error
	for try := 0; try < 3; try++ {
		if err = b.commit(&o); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.publish(now)
	if err != nil {
		return fmt.Errorf("billing: journaling the shutdown bills: %w", err)
	}
	b.log.Info("billing stopped")
	return nil
}

// ops is what one tick writes to the journal.
type ops struct {
	puts   map[uint64]*journal.Checkpoint
	closes []closeOp
}

type closeOp struct {
	key   uint64
	bill  *bill.Bill // nil: drop the checkpoint, no valid bill could be made
	class []byte
	made  time.Time
	log   []zap.Field
}

func (o *ops) put(c *journal.Checkpoint) {
	if o.puts == nil {
		o.puts = make(map[uint64]*journal.Checkpoint)
	}
	o.puts[c.Session.Key] = c
}

func (o *ops) empty() bool { return len(o.puts) == 0 && len(o.closes) == 0 }

// merge appends n's writes after o's.
func (o *ops) merge(n *ops) {
	for _, c := range n.puts {
		o.put(c)
	}
	o.closes = append(o.closes, n.closes...)
}

// step handles the queued events and, with poll, reads the counters,
// checkpoints what is due and sends what interims are due; then writes
// it all in one transaction.
func (b *Billing) step(poll bool) {
	now := b.now()
	var o ops
	for _, e := range b.take() {
		b.apply(&o, e, now)
	}
	if poll {
		b.poll(&o, now)
	}
	if err := b.commit(&o); err != nil {
		b.log.Error("journal write failed; retrying next tick", zap.Error(err))
	}
	b.publish(now)
}

func (b *Billing) apply(o *ops, e event, now time.Time) {
	switch e.kind {
	case evOpened:
		if _, dup := b.live[e.key]; dup {
			b.log.Error("session opened twice; keeping the first", zap.Uint64("key", e.key))
			return
		}
		ls := b.newLive(e.s, now)
		b.live[e.key] = ls
		b.m.SessionsOpened.Inc()
		f := []zap.Field{zap.String("tariff", ls.tariffLabel()), zap.Duration("interim", ls.interim)}
		if e.s.Auth.HasCredit {
			f = append(f, zap.Int64("credit", e.s.Auth.Credit))
			if ls.tariff == nil {
				ls.log.Warn("session has a credit but no tariff to charge it with: the credit is not enforced")
			}
		}
		ls.log.Info("session opened", f...)
		o.put(ls.checkpoint(now))
		b.queueStart(ls, now)
		b.checkCredit(o, ls, now) // a session fee may be more than the credit
	case evAddressed:
		ls, ok := b.live[e.key]
		if !ok {
			b.log.Warn("address for an unknown session", zap.Uint64("key", e.key), zap.Stringer("ip", e.ip))
			return
		}
		ls.s.FramedIP = e.ip
		ls.base = ls.baseView()
		ls.log = ls.log.With(zap.Stringer("framed_ip", e.ip))
		ls.log.Info("session addressed")
		o.put(ls.checkpoint(now))
	case evClosed:
		ls, ok := b.live[e.key]
		if !ok {
			b.log.Warn("close of an unknown session", zap.Uint64("key", e.key))
			return
		}
		at := e.at
		if at.IsZero() {
			at = now
		}
		b.closeSession(o, ls, at, e.u, e.cause)
	}
}

// closeSession makes ls's bill and queues it; ls leaves the live set.
func (b *Billing) closeSession(o *ops, ls *liveSession, at time.Time, u gateway.Usage, cause gateway.TerminateCause) {
	delete(b.live, ls.s.Key)
	ls.gone.Store(true)
	elapsed := at.Sub(ls.s.Started)
	ls.update(elapsed, u)
	bl, err := b.makeBill(&ls.s, ls.tariff, elapsed, u, cause, ls.meter.Total())
	if err != nil {
		b.m.BillsInvalid.Inc()
		ls.log.Error("session cannot be billed (bill invalid); dropping it", zap.Error(err))
		o.closes = append(o.closes, closeOp{key: ls.s.Key})
		return
	}
	if ls.tariff != nil && ls.meter.Err() == nil && b.cfg.UnderbillPercent == 0 && ls.meter.Total() != bl.Charge {
		// Cannot happen while rfc/tariff keeps its promise.
		ls.log.Error("meter and Price disagree", zap.Int64("meter", ls.meter.Total()), zap.Int64("price", bl.Charge))
	}
	o.closes = append(o.closes, closeOp{
		key: ls.s.Key, bill: bl, class: ls.s.Auth.Class, made: b.now(),
		log: []zap.Field{zap.Stringer("cause", rfc2866.AcctTerminateCause(cause))},
	})
	b.m.SessionsClosed.WithLabelValues(rfc2866.AcctTerminateCause(cause).String()).Inc()
}

func (b *Billing) poll(o *ops, now time.Time) {
	for key, ls := range b.live {
		if !ls.credit.cutAt.IsZero() {
			// Ended for its credit: what it cost stands as at the cut
			// until the relay's Closed brings the final count.
			b.checkCredit(o, ls, now)
			continue
		}
		elapsed := now.Sub(ls.s.Started)
		u := ls.last
		if b.cfg.Counters != nil {
			if cu, ok := b.cfg.Counters.Usage(key); ok {
				u = cu
			}
		}
		ls.update(elapsed, u)
		b.checkCredit(o, ls, now)
		if _, open := b.live[key]; !open {
			continue // billed for its credit, without the relay
		}
		if !now.Before(ls.nextCheckpoint) {
			o.put(ls.checkpoint(now))
		}
		if !now.Before(ls.nextInterim) {
			ls.nextInterim = now.Add(ls.interim)
			b.queueInterim(ls, now)
		}
	}
}

// commit writes o (after any backlog) in one transaction. On failure
// the writes move to the backlog, for the next commit, and o is left
// empty.
func (b *Billing) commit(o *ops) error {
	if !b.backlog.empty() {
		b.backlog.merge(o)
		*o = b.backlog
		b.backlog = ops{}
	}
	if o.empty() {
		return nil
	}
	start := time.Now()
	err := b.update(func(tx *journal.Tx) error {
		for _, c := range o.puts {
			if err := tx.PutCheckpoint(c); err != nil {
				return err
			}
		}
		for _, c := range o.closes {
			if err := tx.DeleteCheckpoint(c.key); err != nil {
				return err
			}
			if c.bill == nil {
				continue
			}
			if err := tx.AppendBill(c.bill, c.class, c.made); err != nil {
				return err
			}
		}
		return nil
	})
	b.m.JournalCommits.Observe(time.Since(start).Seconds())
	if err != nil {
		// Kept for the next commit, once: o is emptied so a caller that
		// retries with it does not queue the same writes twice.
		b.m.JournalErrors.Inc()
		b.backlog = *o
		*o = ops{}
		return err
	}
	bills := 0
	for _, c := range o.closes {
		if c.bill == nil {
			continue
		}
		bills++
		bl := c.bill
		b.m.BillsMade.Inc()
		b.m.ChargeMinor.WithLabelValues(bl.Currency, fmt.Sprint(bl.Scale)).Add(float64(bl.Charge))
		fields := append(c.log,
			zap.Uint64("key", c.key), zap.String("session", bl.SessionID), zap.String("user", bl.UserName),
			zap.Uint64("seq", bl.Sequence), zap.Int64("charge", bl.Charge), zap.String("currency", bl.Currency),
			zap.Uint64("in_octets", bl.InputOctets), zap.Uint64("out_octets", bl.OutputOctets),
			zap.Duration("time", bl.SessionTime))
		if b.cfg.UnderbillPercent > 0 {
			b.log.Warn("session billed WITH THE UNDER-BILLING FAULT ON",
				append(fields, zap.Int("fault_underbill_percent", b.cfg.UnderbillPercent))...)
		} else {
			b.log.Info("session billed", fields...)
		}
	}
	if bills > 0 && b.cfg.OnBill != nil {
		b.cfg.OnBill()
	}
	return nil
}

// recover bills the sessions left open by a crash.
func (b *Billing) recover() error {
	var cps []journal.Checkpoint
	if err := b.j.View(func(tx *journal.Tx) (err error) {
		cps, err = tx.Checkpoints()
		return err
	}); err != nil {
		return fmt.Errorf("billing: reading checkpoints: %w", err)
	}
	if len(cps) == 0 {
		return nil
	}
	now := b.now()
	var o ops
	for i := range cps {
		c := &cps[i]
		s := c.Session
		t := b.tariffFor(&s)
		log := sessionLogger(b.log, &s)
		bl, err := b.makeBill(&s, t, c.Elapsed, c.Usage, gateway.CauseNASReboot, c.Charge)
		if err != nil {
			b.m.BillsInvalid.Inc()
			log.Error("session open at the crash cannot be billed (bill invalid); dropping it", zap.Error(err))
			o.closes = append(o.closes, closeOp{key: s.Key})
			continue
		}
		b.m.SessionsRecovered.Inc()
		b.m.SessionsClosed.WithLabelValues(rfc2866.AcctTerminateCause(gateway.CauseNASReboot).String()).Inc()
		o.closes = append(o.closes, closeOp{
			key: s.Key, bill: bl, class: s.Auth.Class, made: now,
			log: []zap.Field{zap.String("cause", "NAS-Reboot"), zap.Bool("recovered", true),
				zap.Time("checkpoint", c.At)},
		})
	}
	if err := b.commit(&o); err != nil {
		return fmt.Errorf("billing: billing the sessions open at the crash: %w", err)
	}
	b.log.Warn("sessions open at the last stop billed at their checkpoints (NAS-Reboot)", zap.Int("sessions", len(cps)))
	return nil
}

// tariffFor parses s's tariff (cached), falling back to the default.
func (b *Billing) tariffFor(s *gateway.Session) *tariff.Tariff {
	text := s.Auth.Tariff
	if text != "" {
		if t, ok := b.tariffs[text]; ok {
			return t
		}
		t, err := tariff.Parse(text)
		if err == nil {
			if len(b.tariffs) > 256 {
				clear(b.tariffs)
			}
			b.tariffs[text] = t
			return t
		}
		b.log.Error("session tariff does not parse; using the default tariff",
			zap.Uint64("key", s.Key), zap.String("user", s.User), zap.Error(err))
	} else if b.defTariff == nil {
		b.log.Error("session has no tariff and no default is configured; it will be billed at 0 XXX",
			zap.Uint64("key", s.Key), zap.String("user", s.User))
	}
	return b.defTariff
}

// Fallbacks that keep a bill valid when the relay did not learn a field.
const (
	unknownUser    = "unknown"
	noTariffID     = "none"
	noCurrency     = "XXX" // ISO 4217: "no currency involved"
	maxAttrString  = 253
	maxVendorBytes = 247
)

// makeBill builds the (unsigned, unchained) bill of a session that ran
// for elapsed with usage u. running is the last running charge, used
// only if Price fails (an overflow, a session longer than MaxSession).
func (b *Billing) makeBill(s *gateway.Session, t *tariff.Tariff, elapsed time.Duration, u gateway.Usage, cause gateway.TerminateCause, running int64) (*bill.Bill, error) {
	if elapsed < 0 {
		elapsed = 0
	}
	bl := &bill.Bill{
		GatewayID:      b.cfg.GatewayID,
		SessionID:      acctSessionID(s),
		UserName:       billUser(s.User),
		SubscriberMAC:  mac6(s.SubscriberMAC),
		BRASMAC:        mac6(s.BRASMAC),
		PPPoESessionID: s.PPPoESessionID,
		InputOctets:    u.InOctets,
		OutputOctets:   u.OutOctets,
		InputPackets:   u.InPackets,
		OutputPackets:  u.OutPackets,
		TerminateCause: rfc2866.AcctTerminateCause(cause),
		TariffID:       noTariffID,
		Currency:       noCurrency,
	}
	if ip := s.FramedIP.Unmap(); ip.Is4() {
		bl.FramedIP = ip
	}
	if bl.TerminateCause == 0 {
		bl.TerminateCause = rfc2866.AcctTerminateCause(gateway.CauseNASError)
	}
	if _, err := rand.Read(bl.ID[:]); err != nil {
		return nil, err
	}
	bl.SetTimes(s.Started, elapsed)
	if t != nil {
		bl.TariffID = cut(t.ID(), maxVendorBytes)
		bl.TariffVersion = t.Version()
		bl.Currency = t.Currency()
		bl.Scale = t.Scale()
		charge, err := t.Total(tariff.Usage{Start: bl.Start, Stop: bl.Stop, In: u.InOctets, Out: u.OutOctets})
		if err != nil {
			b.log.Error("pricing failed; billing the last running charge", zap.Uint64("key", s.Key),
				zap.Int64("running", running), zap.Error(err))
			charge = running
		}
		bl.Charge = b.fault(charge)
	}
	// Validate with the chain fields the journal will set.
	bl.Sequence = 1
	if err := bl.Validate(); err != nil {
		return nil, err
	}
	bl.Sequence = 0
	return bl, nil
}

// fault applies the deliberate under-billing fault.
func (b *Billing) fault(charge int64) int64 {
	if b.cfg.UnderbillPercent == 0 {
		return charge
	}
	return charge - charge/100*int64(b.cfg.UnderbillPercent) - charge%100*int64(b.cfg.UnderbillPercent)/100
}

func acctSessionID(s *gateway.Session) string {
	if s.AcctSessionID != "" {
		return cut(s.AcctSessionID, maxAttrString)
	}
	return fmt.Sprintf("%016X", s.Key)
}

func mac6(m net.HardwareAddr) net.HardwareAddr {
	if len(m) == 6 {
		return m
	}
	return make(net.HardwareAddr, 6)
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func maxUsage(a, b gateway.Usage) gateway.Usage {
	return gateway.Usage{
		InOctets: max(a.InOctets, b.InOctets), OutOctets: max(a.OutOctets, b.OutOctets),
		InPackets: max(a.InPackets, b.InPackets), OutPackets: max(a.OutPackets, b.OutPackets),
	}
}

// liveSession is an open session as Run keeps it.
type liveSession struct {
	s       gateway.Session
	tariff  *tariff.Tariff // nil: none
	meter   tariff.Meter   // zero when tariff is nil
	last    gateway.Usage  // usage as last read
	elapsed time.Duration  // session time as last read
	interim time.Duration
	log     *zap.Logger

	nextCheckpoint, nextInterim time.Time
	cpEvery                     time.Duration

	credit creditState // when s.Auth.HasCredit
	// gone is set when the session is billed: Starts and interims still
	// queued for it are not sent (see sendProgress).
	gone atomic.Bool

	base         LiveSession // the live view's unchanging fields
	chargeText   string
	chargeTextOf int64
	creditText   string
	creditTextOf int64
}

func sessionLogger(l *zap.Logger, s *gateway.Session) *zap.Logger {
	f := []zap.Field{
		zap.Uint64("key", s.Key), zap.String("session", acctSessionID(s)), zap.String("user", s.User),
		zap.Stringer("mac", s.SubscriberMAC), zap.Uint16("pppoe_session", s.PPPoESessionID),
	}
	if s.FramedIP.IsValid() {
		f = append(f, zap.Stringer("framed_ip", s.FramedIP))
	}
	return l.With(f...)
}

func (b *Billing) newLive(s gateway.Session, now time.Time) *liveSession {
	ls := &liveSession{s: s, log: sessionLogger(b.log, &s)}
	ls.interim = s.Auth.InterimInterval
	if ls.interim <= 0 {
		ls.interim = b.cfg.DefaultInterim
	}
	if ls.interim < time.Second {
		ls.interim = time.Second
	}
	ls.cpEvery = min(b.cfg.CheckpointInterval, ls.interim)
	ls.nextInterim = now.Add(ls.interim)
	ls.tariff = b.tariffFor(&s)
	if ls.tariff != nil {
		ls.meter.Reset(ls.tariff, s.Started)
	}
	ls.credit.limit = s.Auth.Credit
	ls.update(now.Sub(s.Started), gateway.Usage{})
	ls.base = ls.baseView()
	return ls
}

func (ls *liveSession) tariffLabel() string {
	if ls.tariff == nil {
		return noTariffID
	}
	return fmt.Sprintf("%s/v%d", ls.tariff.ID(), ls.tariff.Version())
}

// update feeds the meter the usage and session time now; counters that
// went backwards (they should not) count as unchanged.
func (ls *liveSession) update(elapsed time.Duration, u gateway.Usage) {
	if elapsed < ls.elapsed {
		elapsed = ls.elapsed
	}
	u = maxUsage(ls.last, u)
	dIn, dOut := u.InOctets-ls.last.InOctets, u.OutOctets-ls.last.OutOctets
	ls.last, ls.elapsed = u, elapsed
	if ls.tariff != nil {
		// The same instant rfc/bill's SetTimes will give as Stop.
		_, err := ls.meter.Update(ls.s.Started.Add(elapsed), dIn, dOut)
		if err != nil && dIn+dOut > 0 {
			ls.log.Error("meter stopped", zap.Error(err))
		}
	}
}

func (ls *liveSession) charge() int64 {
	if ls.tariff == nil {
		return 0
	}
	return ls.meter.Total()
}

func (ls *liveSession) checkpoint(now time.Time) *journal.Checkpoint {
	ls.nextCheckpoint = now.Add(ls.cpEvery)
	return &journal.Checkpoint{
		Session: ls.s,
		At:      now,
		Elapsed: ls.elapsed,
		Usage:   ls.last,
		Charge:  ls.charge(),
	}
}

// publish stores the live snapshot the live view reads.
func (b *Billing) publish(now time.Time) {
	order := b.order[:0]
	for _, ls := range b.live {
		order = append(order, ls)
	}
	slices.SortFunc(order, func(x, y *liveSession) int {
		if c := x.s.Started.Compare(y.s.Started); c != 0 {
			return c
		}
		return cmp.Compare(x.s.Key, y.s.Key)
	})
	out := make([]LiveSession, len(order))
	for i, ls := range order {
		out[i] = ls.view(now)
	}
	clear(order)
	b.order = order
	b.snapshot.Store(&out)
	b.m.SessionsLive.Set(float64(len(out)))
}
