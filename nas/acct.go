package nas

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/rfc/radiusx"
)

// Accounting records on the wire at once: at most maxAcctInFlight, and
// only acctInFlightWhileAuth while Access-Requests are outstanding; the
// rest wait their turn in memory, in order, and none is dropped. A burst
// of Starts must not crowd out the Access-Requests of the sessions still
// coming up: the RADIUS server's threads and database connections are
// shared, and a subscriber waiting to log in matters more than a record
// that carries its own Event-Timestamp.
const (
	maxAcctInFlight       = 64
	acctInFlightWhileAuth = 1
)

// gate lets accounting records onto the wire, giving way to
// authentication: a FIFO of waiting records, admitted while under the
// limit of the moment.
type gate struct {
	mu       sync.Mutex
	authBusy int
	acct     int
	waiters  []chan struct{}
}

func (g *gate) limit() int {
	if g.authBusy > 0 {
		return acctInFlightWhileAuth
	}
	return maxAcctInFlight
}

// admit wakes waiters while there is room; g.mu is held.
func (g *gate) admit() {
	for len(g.waiters) > 0 && g.acct < g.limit() {
		w := g.waiters[0]
		g.waiters = g.waiters[1:]
		g.acct++
		close(w)
	}
}

// enterAcct waits for room for one accounting record.
func (g *gate) enterAcct(ctx context.Context) error {
	g.mu.Lock()
	if len(g.waiters) == 0 && g.acct < g.limit() {
		g.acct++
		g.mu.Unlock()
		return nil
	}
	w := make(chan struct{})
	g.waiters = append(g.waiters, w)
	g.mu.Unlock()
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		select {
		case <-w: // admitted meanwhile: give the room back
			g.acct--
			g.admit()
		default:
			for i, x := range g.waiters {
				if x == w {
					g.waiters = append(g.waiters[:i:i], g.waiters[i+1:]...)
					break
				}
			}
		}
		return ctx.Err()
	}
}

func (g *gate) leaveAcct() {
	g.mu.Lock()
	g.acct--
	g.admit()
	g.mu.Unlock()
}

func (g *gate) enterAuth() {
	g.mu.Lock()
	g.authBusy++
	g.mu.Unlock()
}

func (g *gate) leaveAuth() {
	g.mu.Lock()
	g.authBusy--
	g.admit()
	g.mu.Unlock()
}

// accounter delivers accounting records: each is retransmitted until a
// server acknowledges it (radclient.Account) or the accounting context
// ends. Records of one session go in order: each waits for the one
// before it.
type accounter struct {
	client AcctClient
	log    *zap.Logger
	ctx    context.Context
	gate   gate
	wg     sync.WaitGroup
	idle   chan struct{} // signalled when pending drops to zero

	pending atomic.Int64
	sent    atomic.Uint64
	failed  atomic.Uint64
	skipped atomic.Uint64
}

func newAccounter(c AcctClient, log *zap.Logger) *accounter {
	return &accounter{client: c, log: log.Named("acct"), ctx: context.Background(), idle: make(chan struct{}, 1)}
}

func (a *accounter) start(ctx context.Context) { a.ctx = ctx }

// submit queues p after the record whose completion prev signals (nil:
// none) and returns the channel closed when p is acknowledged or
// abandoned.
func (a *accounter) submit(prev <-chan struct{}, p *radius.Packet) <-chan struct{} {
	done := make(chan struct{})
	a.pending.Add(1)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() {
			close(done)
			if a.pending.Add(-1) == 0 {
				select {
				case a.idle <- struct{}{}:
				default:
				}
			}
		}()
		if prev != nil {
			select {
			case <-prev:
			case <-a.ctx.Done():
				a.failed.Add(1)
				return
			}
		}
		queued := time.Now()
		if a.gate.enterAcct(a.ctx) != nil {
			a.failed.Add(1)
			return
		}
		defer a.gate.leaveAcct()
		// RFC 2866 §5.2: Acct-Delay-Time counts from when the record was
		// made, so the time it waited here is in it; radclient adds its
		// own retransmission time.
		if d := time.Since(queued) / time.Second; d > 0 {
			rfc2866.AcctDelayTime_Set(p, rfc2866.AcctDelayTime(d))
		}
		if _, err := a.client.Account(a.ctx, p); err != nil {
			a.failed.Add(1)
			a.log.Warn("accounting record not acknowledged", zap.String("acct_session_id", rfc2866.AcctSessionID_GetString(p)),
				zap.Stringer("status", rfc2866.AcctStatusType_Get(p)), zap.Error(err))
			return
		}
		a.sent.Add(1)
	}()
	return done
}

// wait blocks until no record is pending or give fires; it reports
// whether everything was delivered.
func (a *accounter) wait(give <-chan time.Time) bool {
	for a.pending.Load() > 0 {
		select {
		case <-a.idle:
		case <-give:
			return a.pending.Load() == 0
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

// stop waits for every record goroutine (after the context ended).
func (a *accounter) stop() { a.wg.Wait() }

// acctPacket builds an Accounting-Request for the session (RFC 2866 §5,
// RFC 2869 §5): counters on the PPP payload, 64-bit through Gigawords,
// Event-Timestamp now; Acct-Delay-Time is radclient's to set.
func (ss *session) acctPacket(status rfc2866.AcctStatusType, now time.Time) *radius.Packet {
	p := radius.New(radius.CodeAccountingRequest, nil)
	rfc2866.AcctStatusType_Set(p, status)
	ss.commonAttrs(p)
	rfc2866.AcctAuthentic_Set(p, rfc2866.AcctAuthentic_Value_RADIUS)
	rfc2865.FramedIPAddress_Set(p, ss.addr.AsSlice())
	rfc2869.EventTimestamp_Set(p, now)
	for _, c := range ss.class {
		p.Add(rfc2865.Class_Type, c)
	}
	if status != rfc2866.AcctStatusType_Value_Start {
		rfc2866.AcctSessionTime_Set(p, rfc2866.AcctSessionTime(now.Sub(ss.upAt)/time.Second))
		_ = radiusx.SetOctets64(p, ss.inOctets, ss.outOctets)
		rfc2866.AcctInputPackets_Set(p, rfc2866.AcctInputPackets(uint32(ss.inPkts)))
		rfc2866.AcctOutputPackets_Set(p, rfc2866.AcctOutputPackets(uint32(ss.outPkts)))
	}
	if status == rfc2866.AcctStatusType_Value_Stop {
		rfc2866.AcctTerminateCause_Set(p, ss.cause)
	}
	return p
}

// sendInterim queues an Interim-Update, unless the session's previous
// record is still on its way: the next one carries the totals anyway.
func (ss *session) sendInterim(now time.Time) {
	if ss.acctTail != nil {
		select {
		case <-ss.acctTail:
		default:
			ss.srv.acct.skipped.Add(1)
			return
		}
	}
	ss.acctTail = ss.srv.acct.submit(nil, ss.acctPacket(rfc2866.AcctStatusType_Value_InterimUpdate, now))
}

// acctOnOff builds Accounting-On or -Off (RFC 2866 §5.1): the NAS starts
// or stops, so none of its sessions is open.
func (s *Server) acctOnOff(on bool) *radius.Packet {
	p := radius.New(radius.CodeAccountingRequest, nil)
	st := rfc2866.AcctStatusType_Value_AccountingOff
	if on {
		st = rfc2866.AcctStatusType_Value_AccountingOn
	}
	rfc2866.AcctStatusType_Set(p, st)
	rfc2865.NASIdentifier_SetString(p, s.cfg.NASIdentifier)
	rfc2865.NASIPAddress_Set(p, s.cfg.NASIPAddress.AsSlice())
	rfc2866.AcctSessionID_SetString(p, s.bootID)
	rfc2869.EventTimestamp_Set(p, time.Now())
	if !on {
		rfc2866.AcctTerminateCause_Set(p, rfc2866.AcctTerminateCause_Value_AdminReboot)
	}
	return p
}
