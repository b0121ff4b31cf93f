//go:build linux

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/gateway/billing/billingtest"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// The prepaid subscriber of TestCreditCut, in the test's own FreeRADIUS
// rows (no plan group: the tariff, the credit and a one-second interim
// interval are the user's own radreply).
const (
	prepaidUser   = "prepaid-e2e"
	prepaidTariff = "T1;id=prepaid-e2e;v=1;cur=CNY;sc=4;fee=1000;time=100/1s/up" // 0.10 a session, 0.01 a second
	prepaidCredit = 1450                                                         // 0.145: the fee and 4.5 s
	prepaidStep   = 100                                                          // what one metering step (1 s) adds
)

// addPrepaid gives FreeRADIUS a subscriber whose Access-Accept carries
// EdgeBill-Credit.
func (e *env) addPrepaid(user, tariffText string, credit int64) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sql := fmt.Sprintf(`INSERT INTO radcheck (username, attribute, op, value) VALUES ('%[1]s', 'Cleartext-Password', ':=', '%[1]s-pw');
INSERT INTO radreply (username, attribute, op, value) VALUES
  ('%[1]s', 'EdgeBill-Tariff', ':=', '%[2]s'),
  ('%[1]s', 'EdgeBill-Credit', ':=', '%[3]d'),
  ('%[1]s', 'Acct-Interim-Interval', ':=', '1');`, user, tariffText, credit)
	if err := e.top.PG.Exec(ctx, sql); err != nil {
		e.t.Fatal(err)
	}
}

// requestsFor returns the listener's requests for one Acct-Session-Id,
// in order of arrival.
func requestsFor(acct *billingtest.AccountingServer, sessionID string) []billingtest.Request {
	var out []billingtest.Request
	for _, r := range acct.Requests() {
		if rfc2866.AcctSessionID_GetString(r.Packet) == sessionID {
			out = append(out, r)
		}
	}
	return out
}

// A subscriber whose RADIUS reply gives a small credit (prepaid-e2e:
// 0.145 CNY, 0.10 a session and 0.01 a second) dials through gatewayd
// next to alice (no credit) and bob. When the running charge reaches the
// credit, gatewayd ends the session itself: the subscriber's PPP ends
// (LCP Terminate-Request, PADT), nasd gets a PADT and stops its
// accounting, and the one bill says Session-Timeout with a charge of at
// least the credit and at most one metering step above it, priced
// exactly from the usage (which equals nasd's and the subscriber's).
// alice and bob carry on: traffic flows after the cut, and they hang up
// and are billed normally. Every session's first accounting record is a
// Start with the Acct-Session-Id and User-Name of its bill, before any
// interim.
func TestCreditCut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NASAuth: "chap"})
	e.addPrepaid(prepaidUser, prepaidTariff, prepaidCredit)
	pub := e.publicKey()
	since := time.Now()
	m := e.mux()

	alice := mustDial(t, m, macN(0xcd, 1), "alice")
	bob := mustDial(t, m, macN(0xcd, 2), "bob")
	pre := mustDial(t, m, macN(0xcd, 3), prepaidUser)
	up := time.Now()
	exchange(t, pre, 40, 600)
	exchange(t, alice, 40, 600)
	preUsage := clientUsage(pre.Counters()) // nothing more moves in it

	select {
	case <-pre.Done():
	case <-time.After(15 * time.Second):
		t.Fatalf("the prepaid session was not cut within 15 s")
	}
	cutAfter := time.Since(up)
	if err := pre.Err(); err == nil || !strings.Contains(err.Error(), "terminated") {
		t.Errorf("prepaid session ended with %v, want terminated by the other side", err)
	}
	// The fee and 4.5 s: cut when the meter's fifth second starts.
	if cutAfter < 3*time.Second || cutAfter > 7*time.Second {
		t.Errorf("cut %v after the session came up", cutAfter)
	}

	// The others carry on after the cut.
	exchange(t, alice, 40, 900)
	exchange(t, bob, 40, 900)
	for _, s := range []*client.Session{alice, bob} {
		select {
		case <-s.Done():
			t.Fatalf("%s's session ended: %v", s.MAC(), s.Err())
		default:
		}
	}
	aliceUsage, bobUsage := clientUsage(alice.Counters()), clientUsage(bob.Counters())
	hangup(t, alice)
	hangup(t, bob)

	arrivals := waitBills(t, e.acct, 3, 20*time.Second)
	checkChain(t, pub, stopBills(t, e.acct))
	byUser := map[string]*bill.Bill{}
	for _, b := range arrivals {
		if byUser[b.UserName] != nil {
			t.Fatalf("%s billed twice", b.UserName)
		}
		byUser[b.UserName] = b
	}

	// The cut session's bill.
	b := byUser[prepaidUser]
	if b == nil {
		t.Fatalf("no bill for %s; bills: %d", prepaidUser, len(arrivals))
	}
	if b.TerminateCause != rfc2866.AcctTerminateCause_Value_SessionTimeout {
		t.Errorf("%s: terminate cause %v, want Session-Timeout", prepaidUser, b.TerminateCause)
	}
	if b.Charge < prepaidCredit || b.Charge > prepaidCredit+prepaidStep {
		t.Errorf("%s: charge %d, want at least the credit %d and at most one step (%d) above", prepaidUser, b.Charge,
			prepaidCredit, prepaidStep)
	}
	tf, err := tariff.Parse(prepaidTariff)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := tf.Total(tariff.Usage{Start: b.Start, Stop: b.Stop, In: b.InputOctets, Out: b.OutputOctets}); b.Charge != want {
		t.Errorf("%s: charge %d, tariff.Price %d", prepaidUser, b.Charge, want)
	}
	if diff := cmp.Diff(preUsage, billUsage(b)); diff != "" {
		t.Errorf("%s: bill vs the subscriber's count (-pppoe client +gatewayd):\n%s", prepaidUser, diff)
	}
	row := e.stoppedRow(prepaidUser, b.PPPoESessionID, since, 15*time.Second)
	if int64(b.InputOctets) != row.In || int64(b.OutputOctets) != row.Out {
		t.Errorf("%s: bill octets %d/%d, nasd's radacct %d/%d", prepaidUser, b.InputOctets, b.OutputOctets, row.In, row.Out)
	}
	t.Logf("%s: cut %v after coming up; bill %v, %s for a credit of %s (%s); nasd's radacct stop cause %q",
		prepaidUser, cutAfter.Round(time.Millisecond), b.SessionTime, tf.FormatAmount(b.Charge),
		tf.FormatAmount(prepaidCredit), b.TerminateCause, row.Cause)

	// The others: billed at hang-up, at their own usage.
	for user, u := range map[string]sessionUsage{"alice": aliceUsage, "bob": bobUsage} {
		b := byUser[user]
		if b == nil {
			t.Errorf("no bill for %s", user)
			continue
		}
		if b.TerminateCause != rfc2866.AcctTerminateCause_Value_UserRequest {
			t.Errorf("%s: terminate cause %v", user, b.TerminateCause)
		}
		if diff := cmp.Diff(u, billUsage(b)); diff != "" {
			t.Errorf("%s: bill vs the subscriber's count (-pppoe client +gatewayd):\n%s", user, diff)
		}
	}

	// Every session's records: a Start first, with the bill's
	// Acct-Session-Id and User-Name, then interims (prepaid-e2e has a
	// one-second interval), then the Stop.
	for user, b := range byUser {
		reqs := requestsFor(e.acct, b.SessionID)
		if len(reqs) < 2 || reqs[0].Status != rfc2866.AcctStatusType_Value_Start {
			t.Errorf("%s: %d records, the first %v; want a Start first", user, len(reqs), reqs[0].Status)
			continue
		}
		p := reqs[0].Packet
		if got := rfc2865.UserName_GetString(p); got != b.UserName {
			t.Errorf("%s: Start User-Name %q, bill %q", user, got, b.UserName)
		}
		if got := rfc2865.NASIdentifier_GetString(p); got != gatewayID {
			t.Errorf("%s: Start NAS-Identifier %q", user, got)
		}
		if ts := rfc2869.EventTimestamp_Get(p); !ts.Equal(b.Start) {
			t.Errorf("%s: Start Event-Timestamp %v, bill start %v", user, ts, b.Start)
		}
		if got := ebattr.EdgeBillTariffID_GetString(p); got != b.TariffID {
			t.Errorf("%s: Start tariff %q, bill %q", user, got, b.TariffID)
		}
		interims := 0
		for i, r := range reqs {
			switch r.Status {
			case rfc2866.AcctStatusType_Value_Start:
				if i > 0 {
					t.Errorf("%s: another Start, record %d", user, i)
				}
			case rfc2866.AcctStatusType_Value_InterimUpdate:
				interims++
			}
		}
		if user == prepaidUser && interims == 0 {
			t.Errorf("%s: no interim in a session of %v at a one-second interval", user, b.SessionTime)
		}
	}

	mt := e.metrics()
	if got := mt["gatewayd_billing_credit_exhausted_total"]; got != 1 {
		t.Errorf("gatewayd_billing_credit_exhausted_total %v", got)
	}
	if got := mt[`gatewayd_accounting_starts_total{result="sent"}`]; got != 3 {
		t.Errorf(`gatewayd_accounting_starts_total{result="sent"} %v, want 3`, got)
	}
	if got := mt[`gatewayd_billing_sessions_closed_total{cause="Session-Timeout"}`]; got != 1 {
		t.Errorf("sessions closed with Session-Timeout: %v", got)
	}
	if !strings.Contains(e.gwd.Log(), "credit exhausted") {
		t.Errorf("gatewayd's log does not say the credit was exhausted")
	}
}
