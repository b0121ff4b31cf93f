package billing

import (
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// CreditCause is the Acct-Terminate-Cause (RFC 2866 §5.10) of a session
// the gateway ends because its running charge reached the credit its
// authorisation gave: Session-Timeout. See the package documentation,
// "Credit", for why.
const CreditCause = gateway.CauseSessionTimeout

// CreditReason is the text the subscriber is given when the credit runs
// out (LCP Terminate-Request data, the PADT's Generic-Error).
const CreditReason = "credit exhausted"

const (
	// creditGrace is how long billing waits, after asking the relay to
	// end a session whose credit ran out, for the relay's Closed; then
	// it closes and bills the session itself at the usage last read.
	creditGrace = 5 * time.Second
	// budgetHorizon is how far ahead the time budget (when, with no
	// more traffic, the charge reaches the credit) is looked for.
	budgetHorizon = 7 * 24 * time.Hour
	// creditWarnAhead and creditWarnShare make a session's credit "low"
	// (LiveSession.CreditLow, one log line): at most this much time
	// budget left, or at most 1/creditWarnShare of the credit.
	creditWarnAhead = 5 * time.Minute
	creditWarnShare = 10
	// wakeMargin puts a budget wake-up just past the second at which
	// the meter's charge reaches the credit; minWake keeps Run from
	// spinning on a budget that is due (and will be worked out again).
	wakeMargin = 2 * time.Millisecond
	minWake    = 10 * time.Millisecond
)

// creditState is a session's credit as Run keeps it.
type creditState struct {
	limit int64
	// cutAt is when the session was ended for its credit (zero: not).
	cutAt time.Time
	// deadline is when, at the octets of budgetIn/budgetOut, the
	// meter's charge reaches the limit (zero: not within
	// budgetHorizon, or not by time at all: a tariff without a time
	// rate, or capped below the credit).
	deadline            time.Time
	budgetIn, budgetOut uint64
	budgetDone          bool
	low                 bool
}

// limited reports whether ls has a credit to enforce: the authorisation
// carried EdgeBill-Credit and the session has a tariff (the credit is in
// its minor units; without one the session is charged nothing).
func (ls *liveSession) limited() bool { return ls.s.Auth.HasCredit && ls.tariff != nil }

// checkCredit ends ls when its running charge has reached its credit:
// the relay (Config.Ender) ends it as it ends any session itself and
// reports it Closed with CreditCause, which bills it on the next tick.
// Without an Ender, or when the relay's Closed does not come within
// creditGrace, billing closes and bills it here, as it stood at the cut
// (poll stops metering a session once it is cut). A session that has
// cost nothing yet is not cut: a zero credit does not end a free
// session.
func (b *Billing) checkCredit(o *ops, ls *liveSession, now time.Time) {
	if !ls.limited() {
		return
	}
	c := &ls.credit
	if !c.cutAt.IsZero() {
		if now.Sub(c.cutAt) >= creditGrace {
			ls.log.Error("credit exhausted but the relay did not report the session closed; billing it as it stood at the cut",
				zap.Duration("waited", now.Sub(c.cutAt)))
			b.closeSession(o, ls, c.cutAt, ls.last, CreditCause)
		}
		return
	}
	charge := ls.charge()
	if charge == 0 || charge < c.limit {
		b.budget(ls, now)
		return
	}
	c.cutAt = now
	c.deadline = time.Time{}
	b.m.CreditExhausted.Inc()
	ls.log.Info("credit exhausted: ending the session", zap.Int64("credit", c.limit), zap.Int64("charge", charge),
		zap.Duration("time", ls.elapsed))
	if b.cfg.Ender == nil {
		b.closeSession(o, ls, ls.s.Started.Add(ls.elapsed), ls.last, CreditCause)
		return
	}
	if !b.cfg.Ender.End(ls.s.Key, CreditCause, CreditReason) {
		// Already ending on the relay's side: its Closed is on its way.
		ls.log.Info("the relay had already ended the session")
	}
}

// budget works out when, with no more traffic, ls's charge reaches its
// credit: the credit as a time budget, as a BRAS's Session-Timeout would
// carry it. Price is monotone in time, so the first such second is found
// by bisection over whole seconds, the meter's resolution; it is worked
// out again only when the octets change (at the same octets the answer
// is the same), or should the budget have passed without the charge
// reaching the credit (a clock step). It also notes, once, that the
// credit is running low.
func (b *Billing) budget(ls *liveSession, now time.Time) {
	c := &ls.credit
	in, out := ls.last.InOctets, ls.last.OutOctets
	if !c.budgetDone || in != c.budgetIn || out != c.budgetOut || (!c.deadline.IsZero() && !now.Before(c.deadline)) {
		c.budgetDone, c.budgetIn, c.budgetOut = true, in, out
		c.deadline = time.Time{}
		if sec, ok := budgetSecond(ls.tariff, ls.s.Started, ls.elapsed, in, out, c.limit); ok {
			// The meter reads Started+elapsed in whole Unix seconds: it
			// sees sec once elapsed reaches this (wall-clock) span.
			c.deadline = ls.s.Started.Add(time.Unix(sec, 0).Sub(ls.s.Started))
		}
	}
	if c.low {
		return
	}
	left := c.limit - ls.charge()
	if left <= c.limit/creditWarnShare || (!c.deadline.IsZero() && c.deadline.Sub(now) <= creditWarnAhead) {
		c.low = true
		f := []zap.Field{zap.Int64("credit", c.limit), zap.Int64("credit_left", left)}
		if !c.deadline.IsZero() {
			f = append(f, zap.Duration("time_left", c.deadline.Sub(now).Round(time.Second)))
		}
		ls.log.Info("credit running low", f...)
	}
}

// budgetSecond returns the first whole Unix second at which a session
// that started at started, ran for elapsed and moved in and out octets
// costs at least limit under t, if there is one within budgetHorizon.
func budgetSecond(t *tariff.Tariff, started time.Time, elapsed time.Duration, in, out uint64, limit int64) (int64, bool) {
	start := started.Unix()
	startT := time.Unix(start, 0)
	cost := func(sec int64) (int64, bool) {
		v, err := t.Total(tariff.Usage{Start: startT, Stop: time.Unix(sec, 0), In: in, Out: out})
		return v, err == nil
	}
	lo := started.Add(elapsed).Unix() // costs less than limit (the caller's check)
	hi := lo + int64(budgetHorizon/time.Second)
	if v, ok := cost(hi); !ok || v < limit {
		return 0, false
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if v, ok := cost(mid); ok && v >= limit {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true
}

// nextBudget returns the earliest time budget of the sessions still
// running (zero: none), for Run to wake at.
func (b *Billing) nextBudget() time.Time {
	var next time.Time
	for _, ls := range b.live {
		d := ls.credit.deadline
		if !d.IsZero() && ls.credit.cutAt.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	return next
}
