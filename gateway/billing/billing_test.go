package billing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// fakeCounters is a gateway.Counters the test drives.
type fakeCounters struct {
	mu sync.Mutex
	m  map[uint64]gateway.Usage
}

func newFakeCounters() *fakeCounters { return &fakeCounters{m: map[uint64]gateway.Usage{}} }

func (f *fakeCounters) Usage(key uint64) (gateway.Usage, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.m[key]
	return u, ok
}

func (f *fakeCounters) add(key uint64, in, out uint64) gateway.Usage {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.m[key]
	u.InOctets += in
	u.OutOctets += out
	if in > 0 {
		u.InPackets++
	}
	if out > 0 {
		u.OutPackets++
	}
	f.m[key] = u
	return u
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Shanghai is UTC+8 with no daylight saving: 03:59:30 UTC is 11:59:30
// there, so these sessions cross the 12:00 and 12:01 band edges.
var tStart = time.Date(2025, 3, 1, 3, 59, 30, 0, time.UTC)

const (
	tariffBands = "T1;id=lab-bands;v=7;cur=CNY;sc=4;tz=Asia/Shanghai;fee=50;time=60/10s/up;" +
		"in=1@0,2@100,30/KB/up;out=5/KB/near;band=peak/12:00-12:01/x2.5;band=night/23:00-07:00/20;cap=90000"
	tariffSimple = "T1;id=home-50;v=3;cur=CNY;sc=4;fee=5000;time=600/1m/up;both=1024@0,10240@100,50/MB/up"
)

func openJournal(t *testing.T, path string) *journal.Journal {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "journal.db")
	}
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func session(key uint64, tariffText string, started time.Time) gateway.Session {
	return gateway.Session{
		Key:            key,
		AcctSessionID:  fmt.Sprintf("GW%08X", key),
		PPPoESessionID: uint16(0x100 + key),
		SubscriberMAC:  net.HardwareAddr{2, 0xaa, 0, 0, 0, byte(key)},
		BRASMAC:        net.HardwareAddr{2, 0xbb, 0, 0, 0, 1},
		User:           fmt.Sprintf("user%d", key),
		Started:        started,
		Auth:           gateway.Authorization{Tariff: tariffText, InterimInterval: time.Minute, Class: []byte("plan")},
	}
}

func pending(t *testing.T, j *journal.Journal) []journal.Record {
	t.Helper()
	recs, err := j.Pending(0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// The running charge is tariff.Price of the usage so far at every
// tick, and the bill's charge is tariff.Price of the bill's own usage
// record, across band edges, tiers and the cap.
func TestMeterEqualsPrice(t *testing.T) {
	for _, text := range []string{tariffBands, tariffSimple} {
		t.Run(text[:20], func(t *testing.T) {
			tf, err := tariff.Parse(text)
			if err != nil {
				t.Fatal(err)
			}
			j := openJournal(t, "")
			clk := &fakeClock{t: tStart}
			ctr := newFakeCounters()
			b, err := New(Config{GatewayID: "gw-1", Journal: j, Counters: ctr, Now: clk.Now,
				Logger: zaptest.NewLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, uint64(len(text))))
			const n = 3
			for k := uint64(1); k <= n; k++ {
				// Starts off the whole second, as real ones are.
				b.Opened(session(k, text, tStart.Add(-time.Duration(k)*337*time.Millisecond)))
			}
			var final [n + 1]gateway.Usage
			for tick := range 400 {
				now := clk.Advance(time.Duration(200+rng.IntN(900)) * time.Millisecond)
				for k := uint64(1); k <= n; k++ {
					if rng.IntN(3) > 0 {
						ctr.add(k, uint64(rng.IntN(3000)), uint64(rng.IntN(1<<uint(rng.IntN(22)))))
					}
				}
				b.step(true)
				for _, ls := range b.Live() {
					s := session(ls.Key, text, tStart.Add(-time.Duration(ls.Key)*337*time.Millisecond))
					el := now.Sub(s.Started)
					want, err := tf.Total(tariff.Usage{Start: s.Started, Stop: s.Started.Add(el), In: ls.InOctets, Out: ls.OutOctets})
					if err != nil {
						t.Fatal(err)
					}
					if ls.Charge != want {
						t.Fatalf("tick %d session %d: running charge %d, Price %d", tick, ls.Key, ls.Charge, want)
					}
				}
				// Close session 2 midway, the others at the end.
				if tick == 150 {
					final[2], _ = ctr.Usage(2)
					b.Closed(2, now, final[2], gateway.CauseUserRequest)
				}
			}
			for k := uint64(1); k <= n; k += 2 {
				final[k], _ = ctr.Usage(k)
				b.Closed(k, clk.Now(), final[k], gateway.CauseLostCarrier)
			}
			b.step(false)
			recs := pending(t, j)
			if len(recs) != n {
				t.Fatalf("%d bills, want %d", len(recs), n)
			}
			for _, r := range recs {
				bl := r.Bill
				want, err := tf.Price(tariff.Usage{Start: bl.Start, Stop: bl.Stop, In: bl.InputOctets, Out: bl.OutputOctets})
				if err != nil {
					t.Fatal(err)
				}
				if bl.Charge != want.Total {
					t.Errorf("bill %d: charge %d, Price %d (%v)", bl.Sequence, bl.Charge, want.Total, want.Lines)
				}
				var key uint64
				fmt.Sscanf(bl.SessionID, "GW%08X", &key)
				if bl.InputOctets != final[key].InOctets || bl.OutputOctets != final[key].OutOctets {
					t.Errorf("bill %d: usage %d/%d, want %+v", bl.Sequence, bl.InputOctets, bl.OutputOctets, final[key])
				}
				if bl.TariffID != tf.ID() || bl.TariffVersion != tf.Version() || bl.Currency != "CNY" || bl.Scale != 4 {
					t.Errorf("bill %d: tariff fields %q v%d %s/%d", bl.Sequence, bl.TariffID, bl.TariffVersion, bl.Currency, bl.Scale)
				}
				if err := bl.Verify(j.PublicKey()); err != nil {
					t.Error(err)
				}
				t.Logf("bill %d: %s %v in=%d out=%d charge=%s", bl.Sequence, bl.SessionID, bl.SessionTime,
					bl.InputOctets, bl.OutputOctets, FormatAmount(bl.Charge, bl.Scale, bl.Currency))
			}
		})
	}
}

func TestUnderbillFault(t *testing.T) {
	for _, pct := range []int{0, 10, 100} {
		j := openJournal(t, "")
		clk := &fakeClock{t: tStart}
		b, err := New(Config{GatewayID: "gw-1", Journal: j, Now: clk.Now, UnderbillPercent: pct,
			Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		b.Opened(session(1, tariffSimple, tStart))
		at := clk.Advance(10 * time.Minute)
		u := gateway.Usage{InOctets: 3e9, OutOctets: 1e9}
		b.Closed(1, at, u, gateway.CauseUserRequest)
		b.step(false)
		recs := pending(t, j)
		tf, _ := tariff.Parse(tariffSimple)
		honest, _ := tf.Total(tariff.Usage{Start: tStart, Stop: at, In: u.InOctets, Out: u.OutOctets})
		want := honest - honest*int64(pct)/100
		if got := recs[0].Bill.Charge; got != want {
			t.Errorf("under-bill %d%%: charge %d, want %d (honest %d)", pct, got, want, honest)
		}
	}
}

// Opened, Addressed and Closed are checkpointed on their tick; the
// periodic checkpoint follows the usage.
func TestCheckpoints(t *testing.T) {
	j := openJournal(t, "")
	clk := &fakeClock{t: tStart}
	ctr := newFakeCounters()
	b, err := New(Config{GatewayID: "gw-1", Journal: j, Counters: ctr, Now: clk.Now,
		CheckpointInterval: 10 * time.Second, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cps := func() []journal.Checkpoint {
		var out []journal.Checkpoint
		j.View(func(tx *journal.Tx) (err error) { out, err = tx.Checkpoints(); return err })
		return out
	}
	b.Opened(session(1, tariffSimple, tStart))
	b.step(false)
	if c := cps(); len(c) != 1 || c[0].Session.User != "user1" {
		t.Fatalf("after Opened: %+v", c)
	}
	b.Addressed(1, netip.MustParseAddr("100.64.1.2"))
	b.step(false)
	if c := cps(); c[0].Session.FramedIP != netip.MustParseAddr("100.64.1.2") {
		t.Fatalf("after Addressed: %v", c[0].Session.FramedIP)
	}
	ctr.add(1, 5000, 7000)
	clk.Advance(5 * time.Second)
	b.step(true) // not due yet
	if c := cps(); c[0].Usage.InOctets != 0 {
		t.Fatalf("checkpoint before its interval: %+v", c[0].Usage)
	}
	clk.Advance(6 * time.Second)
	b.step(true)
	c := cps()
	if c[0].Usage.InOctets != 5000 || c[0].Usage.OutOctets != 7000 || c[0].Elapsed != 11*time.Second {
		t.Fatalf("periodic checkpoint: %+v elapsed %v", c[0].Usage, c[0].Elapsed)
	}
	b.Closed(1, clk.Advance(time.Second), gateway.Usage{InOctets: 5001, OutOctets: 7001}, gateway.CauseUserRequest)
	b.step(false)
	if c := cps(); len(c) != 0 {
		t.Fatalf("after Closed: %d checkpoints", len(c))
	}
	if recs := pending(t, j); len(recs) != 1 || recs[0].Bill.FramedIP != netip.MustParseAddr("100.64.1.2") {
		t.Fatalf("bills: %+v", recs)
	}
}

// A clean shutdown bills every open session with Admin-Reboot at the
// usage the counters show.
func TestShutdownBillsLiveSessions(t *testing.T) {
	j := openJournal(t, "")
	ctr := newFakeCounters()
	b, err := New(Config{GatewayID: "gw-1", Journal: j, Counters: ctr, Poll: 10 * time.Millisecond,
		Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	now := time.Now()
	for k := uint64(1); k <= 3; k++ {
		b.Opened(session(k, tariffSimple, now))
		ctr.add(k, 100*k, 200*k)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs := pending(t, j)
	if len(recs) != 3 {
		t.Fatalf("%d bills, want 3", len(recs))
	}
	for _, r := range recs {
		if r.Bill.TerminateCause != rfc2866.AcctTerminateCause_Value_AdminReboot {
			t.Errorf("bill %d: cause %v", r.Bill.Sequence, r.Bill.TerminateCause)
		}
		if r.Bill.InputOctets == 0 || r.Bill.OutputOctets != 2*r.Bill.InputOctets {
			t.Errorf("bill %d: usage %d/%d", r.Bill.Sequence, r.Bill.InputOctets, r.Bill.OutputOctets)
		}
	}
	if st, _ := j.Stats(); st.Sessions != 0 {
		t.Errorf("%d checkpoints left", st.Sessions)
	}
	// An event after the stop is not queued.
	b.Opened(session(9, tariffSimple, now))
	if len(b.take()) != 0 {
		t.Errorf("event queued after stop")
	}
}

// A session whose tariff does not parse falls back to the default; with
// no default it is billed at 0 XXX, still signed and chained.
func TestTariffFallbacks(t *testing.T) {
	for _, def := range []string{"", tariffSimple} {
		j := openJournal(t, "")
		clk := &fakeClock{t: tStart}
		b, err := New(Config{GatewayID: "gw-1", Journal: j, Now: clk.Now, DefaultTariff: def,
			Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		s := session(1, "T1;garbage", tStart)
		s.User = ""
		s.BRASMAC = nil
		b.Opened(s)
		b.Closed(1, clk.Advance(time.Minute), gateway.Usage{InOctets: 1}, gateway.CauseUserRequest)
		b.step(false)
		recs := pending(t, j)
		if len(recs) != 1 {
			t.Fatalf("default %q: %d bills", def, len(recs))
		}
		bl := recs[0].Bill
		switch def {
		case "":
			if bl.TariffID != "none" || bl.Currency != "XXX" || bl.Charge != 0 {
				t.Errorf("no default: %s %s %d", bl.TariffID, bl.Currency, bl.Charge)
			}
		default:
			if bl.TariffID != "home-50" || bl.Charge != 5600 {
				t.Errorf("default: %s %d", bl.TariffID, bl.Charge)
			}
		}
		if bl.UserName != "unknown" {
			t.Errorf("user %q", bl.UserName)
		}
	}
}

// Interim-Updates go out at the session's interval with the running
// usage and charge.
func TestInterimUpdates(t *testing.T) {
	ctr := newFakeCounters()
	srv, b, _ := accountingBilling(t, true, ctr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	s := session(1, "T1;id=vol;v=1;cur=CNY;sc=4;fee=100;both=10/MB/up", time.Now())
	s.Auth.InterimInterval = time.Second
	b.Opened(s)
	stop := time.After(2700 * time.Millisecond)
	for loop := true; loop; {
		select {
		case <-stop:
			loop = false
		case <-time.After(20 * time.Millisecond):
			ctr.add(1, 1e6, 3e6)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var charges []uint64
	var lastIn uint64
	for _, r := range srv.Requests() {
		if r.Status != rfc2866.AcctStatusType_Value_InterimUpdate {
			continue
		}
		in, out := radiusx.GetOctets64(r.Packet)
		if in <= lastIn || out != 3*in {
			t.Errorf("interim octets %d/%d after %d", in, out, lastIn)
		}
		lastIn = in
		charges = append(charges, uint64(ebattr.EdgeBillRunningCharge_Get(r.Packet)))
		if id := ebattr.EdgeBillTariffID_GetString(r.Packet); id != "vol" {
			t.Errorf("interim tariff id %q", id)
		}
	}
	if len(charges) < 2 {
		t.Fatalf("%d interims in 2.7 s at 1 s", len(charges))
	}
	if charges[len(charges)-1] <= charges[0] {
		t.Errorf("running charge did not grow: %v", charges)
	}
	t.Logf("running charges: %v", charges)
}

func TestFormatAmount(t *testing.T) {
	for _, c := range []struct {
		amount int64
		scale  uint8
		want   string
	}{
		{12345, 4, "1.2345 CNY"}, {5, 4, "0.0005 CNY"}, {0, 2, "0.00 CNY"}, {-150, 2, "-1.50 CNY"}, {7, 0, "7 CNY"},
	} {
		if got := FormatAmount(c.amount, c.scale, "CNY"); got != c.want {
			t.Errorf("FormatAmount(%d, %d) = %q, want %q", c.amount, c.scale, got, c.want)
		}
	}
}

var _ = bill.FormatVersion

// One metering tick over 64 open sessions, nothing due to be written:
// read the counters, feed the meters, publish the live view's snapshot.
func BenchmarkTick64(b *testing.B) {
	j, err := journal.Open(filepath.Join(b.TempDir(), "j.db"), journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	clk := &fakeClock{t: tStart}
	ctr := newFakeCounters()
	bl, err := New(Config{GatewayID: "gw", Journal: j, Counters: ctr, Now: clk.Now, CheckpointInterval: time.Hour, DefaultInterim: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	for k := uint64(1); k <= 64; k++ {
		bl.Opened(session(k, tariffBands, tStart))
	}
	bl.step(false)
	b.ReportAllocs()
	for b.Loop() {
		clk.Advance(time.Second)
		for k := uint64(1); k <= 64; k++ {
			ctr.add(k, 1500, 15000)
		}
		bl.step(true)
	}
}

// A journal write that fails is retried on the next tick with whatever
// came since, and no bill is made twice.
func TestJournalFailureRetried(t *testing.T) {
	j := openJournal(t, "")
	clk := &fakeClock{t: tStart}
	b, err := New(Config{GatewayID: "gw-1", Journal: j, Now: clk.Now, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	fail := 2
	b.update = func(fn func(*journal.Tx) error) error {
		if fail > 0 {
			fail--
			return fmt.Errorf("disk full (test)")
		}
		return j.Update(fn)
	}
	b.Opened(session(1, tariffSimple, tStart))
	b.Opened(session(2, tariffSimple, tStart))
	b.Closed(1, clk.Advance(time.Minute), gateway.Usage{InOctets: 10}, gateway.CauseUserRequest)
	b.step(false) // fails
	if n := len(pending(t, j)); n != 0 {
		t.Fatalf("%d bills after a failed write", n)
	}
	b.Closed(2, clk.Advance(time.Minute), gateway.Usage{InOctets: 20}, gateway.CauseUserRequest)
	b.step(false) // fails again
	b.step(false) // succeeds
	recs := pending(t, j)
	if len(recs) != 2 || recs[0].Bill.InputOctets != 10 || recs[1].Bill.InputOctets != 20 {
		t.Fatalf("bills after recovery: %d", len(recs))
	}
	b.step(false)
	if n := len(pending(t, j)); n != 2 {
		t.Fatalf("%d bills after another tick", n)
	}
	if st, _ := j.Stats(); st.Sessions != 0 {
		t.Errorf("%d checkpoints left", st.Sessions)
	}
}
