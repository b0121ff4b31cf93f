package billing

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// fakeEnder is a gateway.Ender the way the relay is one: End reports the
// session Closed, with the usage the counters show and the cause asked
// for, before it returns (unless mute: a relay that loses the session).
type fakeEnder struct {
	b    *Billing
	ctr  *fakeCounters
	now  func() time.Time
	mute bool

	mu    sync.Mutex
	calls []endCall
}

type endCall struct {
	key    uint64
	cause  gateway.TerminateCause
	reason string
}

func (f *fakeEnder) End(key uint64, cause gateway.TerminateCause, reason string) bool {
	f.mu.Lock()
	f.calls = append(f.calls, endCall{key, cause, reason})
	f.mu.Unlock()
	if !f.mute {
		u, _ := f.ctr.Usage(key)
		f.b.Closed(key, f.now(), u, cause)
	}
	return true
}

func (f *fakeEnder) ended() []endCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]endCall(nil), f.calls...)
}

// A prepaid tariff: 0.10 CNY a session, 0.01 CNY a second, 0.001 CNY
// per started kB either way.
const tariffPrepaid = "T1;id=prepaid;v=1;cur=CNY;sc=4;fee=1000;time=100/1s/up;both=10/KB/up"

func liveOf(b *Billing, key uint64) (LiveSession, bool) {
	for _, ls := range b.Live() {
		if ls.Key == key {
			return ls, true
		}
	}
	return LiveSession{}, false
}

// A session whose running charge reaches its credit is ended through the
// relay (gateway.Ender) with Session-Timeout at the first tick it does,
// and billed once: the bill's charge is at least the credit and at most
// one metering step (what one tick added) above it. A session without a
// credit on the same gateway carries on, as does one whose credit is
// not reached; the live view counts the credit down and gives the time
// budget while there is one.
func TestCreditEnforced(t *testing.T) {
	tf, err := tariff.Parse(tariffPrepaid)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		credit int64
		in     uint64 // octets a tick, each way
	}{
		{"time only", 1450, 0},                  // 0.10 + 0.01/s: cut at 5 s, charge 0.15
		{"time and volume", 5000, 3000},         // +0.006/s of volume: cut at 25 s
		{"volume heavy", 20000, 40000},          // volume dominates
		{"fee above the credit", 900, 0},        // cut as it opens
		{"credit on a step edge", 1500, 0},      // cut exactly at the credit
		{"negative credit (in arrears)", -5, 0}, // none left: cut as it opens
	} {
		t.Run(c.name, func(t *testing.T) {
			j := openJournal(t, "")
			clk := &fakeClock{t: tStart}
			ctr := newFakeCounters()
			end := &fakeEnder{ctr: ctr, now: clk.Now}
			b, err := New(Config{GatewayID: "gw-1", Journal: j, Counters: ctr, Ender: end, Now: clk.Now,
				Logger: zaptest.NewLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			end.b = b
			prepaid := session(1, tariffPrepaid, tStart)
			prepaid.Auth.Credit, prepaid.Auth.HasCredit = c.credit, true
			rich := session(2, tariffPrepaid, tStart)
			rich.Auth.Credit, rich.Auth.HasCredit = 10_000_000, true // about 28 hours
			plain := session(3, tariffPrepaid, tStart)               // no credit: no limit
			for _, s := range []gateway.Session{prepaid, rich, plain} {
				b.Opened(s)
			}

			var last int64  // the charge at the previous tick (nothing before the open)
			var atCut int64 // the charge the meter reached at the tick of the cut
			var step int64  // what that tick added: one metering step
			lastLeft := int64(-1)
			cutTick := -1
			for tick := 0; tick <= 200 && cutTick < 0; tick++ {
				now := clk.Now()
				if tick > 0 {
					now = clk.Advance(time.Second)
					for k := uint64(1); k <= 3; k++ {
						ctr.add(k, c.in, c.in)
					}
				}
				b.step(tick > 0) // the meters, and the cut (at the open, for a fee)
				if calls := end.ended(); len(calls) > 0 {
					cutTick = tick
					if len(calls) != 1 || calls[0] != (endCall{1, CreditCause, CreditReason}) {
						t.Fatalf("End calls %+v", calls)
					}
					// The charge the meter reached at this tick.
					u, _ := ctr.Usage(1)
					atCut, _ = tf.Total(tariff.Usage{Start: tStart, Stop: now, In: u.InOctets, Out: u.OutOctets})
					if atCut < c.credit {
						t.Errorf("cut at charge %d, below the credit %d", atCut, c.credit)
					}
					if last >= c.credit && last > 0 {
						t.Errorf("not cut at the tick before, at charge %d", last)
					}
					step = atCut - last
					break
				}
				ls, ok := liveOf(b, 1)
				if !ok {
					t.Fatalf("tick %d: session gone without End", tick)
				}
				last = ls.Charge
				if ls.Credit == nil || *ls.Credit != c.credit || ls.CreditLeft == nil {
					t.Fatalf("live view credit %v left %v", ls.Credit, ls.CreditLeft)
				}
				if want := max(c.credit-ls.Charge, 0); *ls.CreditLeft != want || ls.CreditLeftText != FormatAmount(want, 4, "CNY") {
					t.Errorf("tick %d: credit left %d (%s), want %d", tick, *ls.CreditLeft, ls.CreditLeftText, want)
				}
				if lastLeft >= 0 && *ls.CreditLeft > lastLeft {
					t.Errorf("credit left rose: %d after %d", *ls.CreditLeft, lastLeft)
				}
				lastLeft = *ls.CreditLeft
				// The time budget: with no more traffic, the charge reaches
				// the credit after exactly CreditSeconds more seconds.
				if ls.CreditSeconds == nil {
					t.Fatalf("tick %d: no time budget under a tariff with a time rate", tick)
				}
				u, _ := ctr.Usage(1)
				stop := now.Add(time.Duration(*ls.CreditSeconds) * time.Second)
				at, _ := tf.Total(tariff.Usage{Start: tStart, Stop: stop, In: u.InOctets, Out: u.OutOctets})
				early, _ := tf.Total(tariff.Usage{Start: tStart, Stop: stop.Add(-time.Second), In: u.InOctets, Out: u.OutOctets})
				if at < c.credit || early >= c.credit {
					t.Errorf("tick %d: %d s of budget: charge %d then, %d a second before; credit %d", tick,
						*ls.CreditSeconds, at, early, c.credit)
				}
				if low := *ls.CreditLeft <= c.credit/10 || *ls.CreditSeconds <= 300; ls.CreditLow != low {
					t.Errorf("tick %d: credit low %v with %d left, %d s", tick, ls.CreditLow, *ls.CreditLeft, *ls.CreditSeconds)
				}
			}
			if cutTick < 0 {
				t.Fatal("never cut")
			}
			b.step(false) // the relay's Closed
			recs := pending(t, j)
			if len(recs) != 1 {
				t.Fatalf("%d bills, want the prepaid session's", len(recs))
			}
			bl := recs[0].Bill
			if bl.TerminateCause != rfc2866.AcctTerminateCause_Value_SessionTimeout {
				t.Errorf("cause %v", bl.TerminateCause)
			}
			// Billed at the charge the meter reached when it was cut, one
			// tick after a charge below the credit: at least the credit,
			// less than one step above it.
			if bl.Charge != atCut || bl.Charge < c.credit || bl.Charge-max(c.credit, 0) > step {
				t.Errorf("bill charge %d (the meter at the cut: %d), credit %d, one step %d", bl.Charge, atCut, c.credit, step)
			}
			t.Logf("cut after %d ticks: charge %d, credit %d, step %d", cutTick, bl.Charge, c.credit, step)
			// The others carry on.
			for tick := 0; tick < 5; tick++ {
				clk.Advance(time.Second)
				b.step(true)
			}
			if ls, ok := liveOf(b, 2); !ok {
				t.Error("the session with a large credit was ended")
			} else if ls.CreditLow || ls.CreditSeconds == nil || *ls.CreditSeconds < 20*3600 {
				t.Errorf("the session with a large credit: low %v, %v s of budget", ls.CreditLow, ls.CreditSeconds)
			}
			if ls, ok := liveOf(b, 3); !ok || ls.Credit != nil || ls.CreditLeft != nil || ls.CreditSeconds != nil {
				t.Errorf("the session without credit: %+v (live %v)", ls, ok)
			}
			if n := len(end.ended()); n != 1 {
				t.Errorf("%d End calls", n)
			}
			if n := len(pending(t, j)); n != 1 {
				t.Errorf("%d bills", n)
			}
			if got := b.m.CreditExhausted.Value(); got != 1 {
				t.Errorf("credit exhausted metric %v", got)
			}
		})
	}
}

// Without an Ender (no relay), and when the relay never reports the
// session closed, billing closes and bills it itself: once, with
// Session-Timeout, as it stood at the cut.
func TestCreditWithoutRelay(t *testing.T) {
	for _, c := range []struct {
		name  string
		ender bool
		wait  time.Duration // after the cut, until billed
	}{
		{"no ender", false, 0},
		{"relay never closes it", true, creditGrace},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := openJournal(t, "")
			clk := &fakeClock{t: tStart}
			ctr := newFakeCounters()
			cfg := Config{GatewayID: "gw-1", Journal: j, Counters: ctr, Now: clk.Now, Logger: zaptest.NewLogger(t)}
			end := &fakeEnder{ctr: ctr, now: clk.Now, mute: true}
			if c.ender {
				cfg.Ender = end
			}
			b, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			s := session(1, tariffPrepaid, tStart)
			s.Auth.Credit, s.Auth.HasCredit = 1250, true
			b.Opened(s)
			b.step(false)
			var cut, billed time.Time
			for range 20 {
				now := clk.Advance(time.Second)
				ctr.add(1, 100, 100)
				b.step(true)
				if cut.IsZero() && (len(end.ended()) > 0 || len(pending(t, j)) > 0) {
					cut = now
				}
				if len(pending(t, j)) > 0 {
					billed = now
					break
				}
			}
			recs := pending(t, j)
			if len(recs) != 1 {
				t.Fatalf("%d bills", len(recs))
			}
			bl := recs[0].Bill
			if bl.TerminateCause != rfc2866.AcctTerminateCause_Value_SessionTimeout || bl.Charge < 1250 || bl.Charge > 1350 {
				t.Errorf("bill: cause %v, charge %d", bl.TerminateCause, bl.Charge)
			}
			if !bl.Stop.Equal(cut.Truncate(time.Second)) || billed.Sub(cut) != c.wait {
				t.Errorf("cut at %v, billed at %v, bill stops %v; want the bill %v after the cut, stopping at it", cut, billed, bl.Stop, c.wait)
			}
			if c.ender && len(end.ended()) != 1 {
				t.Errorf("End calls %+v", end.ended())
			}
			for range 3 {
				clk.Advance(time.Second)
				b.step(true)
			}
			if n := len(pending(t, j)); n != 1 {
				t.Errorf("%d bills after more ticks", n)
			}
		})
	}
}

// No credit attribute, no limit; a credit is not enforced on a session
// that costs nothing (a free tariff, or no tariff at all: the credit's
// minor units are the tariff's).
func TestCreditNotEnforced(t *testing.T) {
	j := openJournal(t, "")
	clk := &fakeClock{t: tStart}
	ctr := newFakeCounters()
	end := &fakeEnder{ctr: ctr, now: clk.Now}
	b, err := New(Config{GatewayID: "gw-1", Journal: j, Counters: ctr, Ender: end, Now: clk.Now, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	end.b = b
	free := session(1, "T1;id=free;v=1;cur=CNY;sc=4", tStart)
	free.Auth.HasCredit = true // a credit of 0
	untariffed := session(2, "", tStart)
	untariffed.Auth.Credit, untariffed.Auth.HasCredit = 1, true
	volume := session(3, "T1;id=vol;v=1;cur=CNY;sc=4;both=10/MB/up", tStart)
	volume.Auth.Credit, volume.Auth.HasCredit = 1_000_000, true
	for _, s := range []gateway.Session{free, untariffed, volume} {
		b.Opened(s)
	}
	for range 30 {
		clk.Advance(time.Second)
		for k := uint64(1); k <= 3; k++ {
			ctr.add(k, 1e5, 1e5)
		}
		b.step(true)
	}
	if calls := end.ended(); len(calls) != 0 {
		t.Errorf("End calls %+v", calls)
	}
	if len(b.Live()) != 3 {
		t.Fatalf("%d live sessions", len(b.Live()))
	}
	if ls, _ := liveOf(b, 2); ls.Credit == nil || ls.CreditLeft != nil {
		t.Errorf("untariffed: credit %v, left %v", ls.Credit, ls.CreditLeft)
	}
	// A volume-only tariff has no time budget: the credit lasts as long
	// as no traffic flows.
	if ls, _ := liveOf(b, 3); ls.CreditLeft == nil || *ls.CreditLeft != 1_000_000-60 || ls.CreditSeconds != nil {
		t.Errorf("volume only: %+v", ls)
	}
}

// budgetSecond finds the first second at which the charge reaches the
// credit, as a second-by-second scan does, across band edges, and none
// when the cap or the tariff's lack of a time rate keeps the charge
// below the credit.
func TestBudgetSecond(t *testing.T) {
	for _, c := range []struct {
		name, tariff string
		in, out      uint64
		credit       int64
		none         bool
	}{
		{"bands, crossing the peak", tariffBands, 1000, 2000, 2000, false},
		{"bands, into the night", tariffBands, 0, 0, 60000, false},
		{"capped below the credit", tariffBands, 0, 0, 90001, true},
		{"simple", tariffSimple, 5e6, 5e6, 9000, false},
		{"volume only", "T1;id=vol;v=1;cur=CNY;sc=4;both=10/MB/up", 5e6, 0, 1000, true},
		{"down rounding", "T1;id=dn;v=1;cur=CNY;sc=4;time=7/13s/down", 0, 0, 50, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tf, err := tariff.Parse(c.tariff)
			if err != nil {
				t.Fatal(err)
			}
			started := tStart.Add(-400 * time.Millisecond)
			elapsed := 1500 * time.Millisecond
			got, ok := budgetSecond(tf, started, elapsed, c.in, c.out, c.credit)
			// The scan: second by second from the meter's second now.
			var want int64
			found := false
			st := time.Unix(started.Unix(), 0)
			for sec := started.Add(elapsed).Unix() + 1; sec <= started.Unix()+24*3600; sec++ {
				v, err := tf.Total(tariff.Usage{Start: st, Stop: time.Unix(sec, 0), In: c.in, Out: c.out})
				if err != nil {
					t.Fatal(err)
				}
				if v >= c.credit {
					want, found = sec, true
					break
				}
			}
			if c.none {
				if ok {
					t.Errorf("budget at %v, want none", time.Unix(got, 0).UTC())
				}
				return
			}
			if !found {
				t.Fatal("the scan found no second within a day; the case is wrong")
			}
			if !ok || got != want {
				t.Errorf("budget second %d (%v), the scan %d (%v s from the start)", got, ok, want, want-started.Unix())
			}
		})
	}
}

// Run wakes at a session's time budget, between its ticks: with a poll
// interval far longer than the budget, the session is still cut when
// its time charge reaches the credit, and billed at exactly the credit
// (which falls on a step edge).
func TestCreditBudgetWakesRun(t *testing.T) {
	j := openJournal(t, "")
	ctr := newFakeCounters()
	end := &fakeEnder{ctr: ctr, now: time.Now}
	b, err := New(Config{GatewayID: "gw-1", Journal: j, Counters: ctr, Ender: end, Poll: time.Hour,
		Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	end.b = b
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	start := time.Now()
	s := session(1, tariffPrepaid, start)
	s.Auth.Credit, s.Auth.HasCredit = 1200, true // the fee and two seconds
	b.Opened(s)
	deadline := time.Now().Add(10 * time.Second)
	for len(pending(t, j)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not cut within 10 s (End calls %+v)", end.ended())
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(start)
	bl := pending(t, j)[0].Bill
	if bl.Charge != 1200 || bl.TerminateCause != rfc2866.AcctTerminateCause_Value_SessionTimeout {
		t.Errorf("bill: charge %d, cause %v", bl.Charge, bl.TerminateCause)
	}
	// Two whole seconds of the meter: between 1 and 3 s of real time,
	// depending on where in its second the session started.
	if took < time.Second || took > 3500*time.Millisecond {
		t.Errorf("cut after %v", took)
	}
	t.Logf("cut after %v, bill %v long", took.Round(time.Millisecond), bl.SessionTime)
}
