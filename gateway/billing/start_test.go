package billing

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/billing/billingtest"
	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
)

func runBilling(t *testing.T, b *Billing) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A session that opens is announced with an Accounting-Request Start
// (RFC 2866 §5.1) before its first Interim-Update, through the same
// sender: the Acct-Session-Id and User-Name its bill later carries,
// NAS-Identifier, Event-Timestamp and EdgeBill-Start-Time at the bill's
// start, Acct-Delay-Time, a Message-Authenticator (the listener requires
// one), Class and the vendor attributes of the interims, the running
// charge at the open (the session fee) and none of the Stop's counters.
func TestAccountingStart(t *testing.T) {
	ctr := newFakeCounters()
	srv, b, j := accountingBilling(t, true, ctr)
	runBilling(t, b)
	started := time.Now().Add(-300 * time.Millisecond)
	s := session(1, tariffSimple, started)
	s.Auth.InterimInterval = time.Second
	s.Auth.Class = []byte("plan-gold")
	b.Opened(s)
	ctr.add(1, 1000, 2000)
	waitUntil(t, 5*time.Second, "an interim", func() bool {
		for _, r := range srv.Requests() {
			if r.Status == rfc2866.AcctStatusType_Value_InterimUpdate {
				return true
			}
		}
		return false
	})
	b.Closed(1, time.Now(), gateway.Usage{InOctets: 1000, OutOctets: 2000, InPackets: 1, OutPackets: 1}, gateway.CauseUserRequest)
	waitUntil(t, 5*time.Second, "the bill", func() bool { return len(pending(t, j)) == 1 })
	bl := pending(t, j)[0].Bill

	reqs := srv.Requests()
	if len(reqs) < 2 || reqs[0].Status != rfc2866.AcctStatusType_Value_Start {
		t.Fatalf("first request %v of %d, want a Start", reqs[0].Status, len(reqs))
	}
	for _, r := range reqs[1:] {
		if r.Status == rfc2866.AcctStatusType_Value_Start {
			t.Errorf("a second Start")
		}
	}
	p := reqs[0].Packet
	str := func(t radius.Type) string { return string(p.Get(t)) }
	for _, c := range []struct{ what, got, want string }{
		{"Acct-Session-Id", str(rfc2866.AcctSessionID_Type), bl.SessionID},
		{"User-Name", str(rfc2865.UserName_Type), bl.UserName},
		{"NAS-Identifier", str(rfc2865.NASIdentifier_Type), "gw-1"},
		{"Calling-Station-Id", str(rfc2865.CallingStationID_Type), radiusx.CallingStationID(s.SubscriberMAC)},
		{"Class", str(rfc2865.Class_Type), "plan-gold"},
		{"EdgeBill-Gateway-Id", ebattr.EdgeBillGatewayID_GetString(p), "gw-1"},
		{"EdgeBill-Tariff-Id", ebattr.EdgeBillTariffID_GetString(p), bl.TariffID},
		{"EdgeBill-Currency", ebattr.EdgeBillCurrency_GetString(p), bl.Currency},
	} {
		if c.got != c.want {
			t.Errorf("Start %s %q, want %q", c.what, c.got, c.want)
		}
	}
	if ts := rfc2869.EventTimestamp_Get(p); !ts.Equal(bl.Start) {
		t.Errorf("Event-Timestamp %v, bill start %v", ts, bl.Start)
	}
	if st := ebattr.EdgeBillStartTime_Get(p); !st.Equal(bl.Start) {
		t.Errorf("EdgeBill-Start-Time %v, bill start %v", st, bl.Start)
	}
	if v := ebattr.EdgeBillPPPoESessionID_Get(p); uint16(v) != bl.PPPoESessionID {
		t.Errorf("EdgeBill-PPPoE-Session-Id %d", v)
	}
	if v := ebattr.EdgeBillTariffVersion_Get(p); uint32(v) != bl.TariffVersion {
		t.Errorf("EdgeBill-Tariff-Version %d", v)
	}
	if v := ebattr.EdgeBillCurrencyScale_Get(p); uint8(v) != bl.Scale {
		t.Errorf("EdgeBill-Currency-Scale %d", v)
	}
	// tariffSimple's fee, and 600 for a started first minute.
	if v := ebattr.EdgeBillRunningCharge_Get(p); v != 5000 && v != 5600 {
		t.Errorf("EdgeBill-Running-Charge %d, want the charge at the open", v)
	}
	if _, err := rfc2866.AcctDelayTime_Lookup(p); err != nil || reqs[0].Delay > 1 {
		t.Errorf("Acct-Delay-Time %d (%v)", reqs[0].Delay, err)
	}
	if p.Get(radiusx.MessageAuthenticatorType) == nil {
		t.Error("no Message-Authenticator")
	}
	for _, typ := range []radius.Type{rfc2866.AcctSessionTime_Type, rfc2866.AcctInputOctets_Type, rfc2866.AcctOutputOctets_Type,
		rfc2866.AcctInputPackets_Type, rfc2866.AcctOutputPackets_Type, rfc2866.AcctTerminateCause_Type} {
		if p.Get(typ) != nil {
			t.Errorf("Start carries attribute %d, a Stop's", typ)
		}
	}
	if got := b.m.Starts.WithLabelValues("sent").Value(); got != 1 {
		t.Errorf("starts sent: %v", got)
	}
}

// blockingAccounter holds the first request until released and records
// what it is asked to send.
type blockingAccounter struct {
	release chan struct{}
	mu      sync.Mutex
	sent    []*radius.Packet
	calls   int
}

func (a *blockingAccounter) Exchange(ctx context.Context, p *radius.Packet) (*radius.Packet, error) {
	a.mu.Lock()
	a.calls++
	first := a.calls == 1
	a.mu.Unlock()
	if first {
		select {
		case <-a.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a.mu.Lock()
	a.sent = append(a.sent, p)
	a.mu.Unlock()
	return &radius.Packet{Code: radius.CodeAccountingResponse}, nil
}

func (a *blockingAccounter) Account(ctx context.Context, p *radius.Packet) (*radius.Packet, error) {
	return a.Exchange(ctx, p)
}

// A Start is best effort and never holds a session up: with the
// accounting server down the session opens, runs and is billed as fast
// as without one, and the Start is given up, not journaled; a Start
// still waiting to go when its session is billed is not sent at all
// (it would reach the server after the bill and show the session live).
func TestAccountingStartBestEffort(t *testing.T) {
	t.Run("server down", func(t *testing.T) {
		_, b, j := accountingBilling(t, false, nil) // the port is closed
		runBilling(t, b)
		t0 := time.Now()
		b.Opened(session(1, tariffSimple, t0))
		waitUntil(t, time.Second, "the session live", func() bool { return len(b.Live()) == 1 })
		b.Closed(1, time.Now(), gateway.Usage{InOctets: 10}, gateway.CauseUserRequest)
		waitUntil(t, time.Second, "the bill", func() bool { return len(pending(t, j)) == 1 })
		t.Logf("opened, closed and billed in %v with the accounting server down", time.Since(t0).Round(time.Millisecond))
		waitUntil(t, 5*time.Second, "the Start given up", func() bool {
			return b.m.Starts.WithLabelValues("failed").Value()+b.m.Starts.WithLabelValues("stale").Value() == 1
		})
		if st, _ := j.Stats(); st.Pending != 1 || st.Sessions != 0 {
			t.Errorf("journal: %+v, want the bill only", st)
		}
	})
	t.Run("stale", func(t *testing.T) {
		acct := &blockingAccounter{release: make(chan struct{})}
		j := openJournal(t, "")
		b, err := New(Config{GatewayID: "gw-1", Journal: j, Accounting: acct, Poll: 20 * time.Millisecond,
			Logger: zaptest.NewLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		runBilling(t, b)
		b.Opened(session(1, tariffSimple, time.Now())) // its Start holds the sender
		waitUntil(t, time.Second, "the first Start taken", func() bool {
			acct.mu.Lock()
			defer acct.mu.Unlock()
			return acct.calls == 1
		})
		b.Opened(session(2, tariffSimple, time.Now()))
		waitUntil(t, time.Second, "two live sessions", func() bool { return len(b.Live()) == 2 })
		b.Closed(2, time.Now(), gateway.Usage{}, gateway.CauseUserRequest)
		waitUntil(t, time.Second, "the bill", func() bool { return len(pending(t, j)) == 1 })
		close(acct.release)
		waitUntil(t, time.Second, "the stale Start dropped", func() bool {
			return b.m.Starts.WithLabelValues("stale").Value() == 1
		})
		acct.mu.Lock()
		defer acct.mu.Unlock()
		if len(acct.sent) != 1 || rfc2866.AcctSessionID_GetString(acct.sent[0]) != "GW00000001" {
			t.Errorf("sent %d requests, want session 1's Start only", len(acct.sent))
		}
	})
}

// accountingBilling is gw-1's Billing (its journal returned too) sending
// its Starts and Interim-Updates to a test accounting server, answering
// if up, else with its port closed; ctr, if not nil, gives the live
// counts.
func accountingBilling(t *testing.T, up bool, ctr *fakeCounters) (*billingtest.AccountingServer, *Billing, *journal.Journal) {
	t.Helper()
	srv, err := billingtest.NewAccountingServer("s3cret", up)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	rc, err := radclient.New(radclient.Config{Servers: []radclient.Server{{Addr: srv.Addr(), Secret: "s3cret"}},
		IRT: 50 * time.Millisecond, MRC: 2, MRD: 300 * time.Millisecond, Sockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	j := openJournal(t, "")
	cfg := Config{GatewayID: "gw-1", Journal: j, Accounting: rc, Poll: 20 * time.Millisecond, Logger: zaptest.NewLogger(t)}
	if ctr != nil {
		cfg.Counters = ctr
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, b, j
}
