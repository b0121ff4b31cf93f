//go:build linux

package e2e

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// Six sessions of alice, bob and carol (three plans: time, tiered
// volume, peak/off-peak with volume) dial with pppoe-dial through
// gatewayd to nasd (CHAP), move traffic and hang up. For each: the
// bill's usage equals nasd's (radacct octets, the Stop's packets) and
// the subscriber's own counts exactly; its charge is tariff.Price of
// that usage under the plan's tariff from FreeRADIUS; it arrived signed
// with the key `gatewayd pubkey` prints, chained to the others.
func TestDialsBilledExactly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NASAuth: "chap"})
	pub := e.publicKey()
	since := time.Now()

	// 200 datagrams/s of 1400 octets for 3 s: about 840 kB each way, so
	// bob's plan passes its free megabyte and its first tier.
	out, err := e.runDial(90*time.Second, "-users", "alice:alice-pw,bob:bob-pw,carol:carol-pw", "-n", "6",
		"-mac", "02:e1:00:00:00:01", "-rate", "6", "-hold", "3s", "-pps", "200", "-size", "1400", "-json")
	var rep client.Report
	if i := strings.Index(out, "{"); i < 0 || json.Unmarshal([]byte(out[i:]), &rep) != nil {
		t.Fatalf("pppoe-dial: %v\n%s", err, out)
	}
	if err != nil || rep.Up != 6 || rep.Failed != 0 {
		t.Fatalf("pppoe-dial: %v, up %d, failed %d %v\n%s", err, rep.Up, rep.Failed, rep.Failures, out)
	}

	t.Logf("pppoe-dial: %d sessions in %.0f ms, setup p50 %.0f ms, max %.0f ms", rep.Up, rep.ElapsedMS, rep.SetupP50, rep.SetupMax)
	arrivals := waitBills(t, e.acct, 6, 20*time.Second)
	checkChain(t, pub, stopBills(t, e.acct))
	for i, b := range arrivals {
		if b.Sequence != uint64(i+1) {
			t.Errorf("bill %d arrived in place %d", b.Sequence, i+1)
		}
	}

	for _, s := range rep.PerSess {
		mac, _ := net.ParseMAC(s.MAC)
		var b *bill.Bill
		for _, c := range arrivals {
			if c.UserName == s.User && c.PPPoESessionID == s.SessionID && c.SubscriberMAC.String() == mac.String() {
				if b != nil {
					t.Fatalf("%s session %d billed twice: %d and %d", s.User, s.SessionID, b.Sequence, c.Sequence)
				}
				b = c
			}
		}
		if b == nil {
			t.Errorf("%s session %d (%s): no bill", s.User, s.SessionID, s.MAC)
			continue
		}
		row := e.stoppedRow(s.User, s.SessionID, since, 15*time.Second)
		var stop stopRecord
		waitFor(t, 10*time.Second, "nasd's Stop at the tap", func() (ok bool) {
			stop, ok = e.tap.stop(row.AcctSessionID)
			return ok
		})
		got := billUsage(b)
		sub := sessionUsage{s.TxOctets, s.RxOctets, s.TxPackets, s.RxPackets}
		if diff := cmp.Diff(stop.Usage, got); diff != "" {
			t.Errorf("%s session %d: bill vs nasd's Stop (-nasd +gatewayd):\n%s", s.User, s.SessionID, diff)
		}
		if int64(got.InOctets) != row.In || int64(got.OutOctets) != row.Out {
			t.Errorf("%s session %d: bill octets in %d out %d, radacct in %d out %d",
				s.User, s.SessionID, got.InOctets, got.OutOctets, row.In, row.Out)
		}
		if diff := cmp.Diff(sub, got); diff != "" {
			t.Errorf("%s session %d: bill vs the subscriber's count (-pppoe-dial +gatewayd):\n%s", s.User, s.SessionID, diff)
		}
		if got.InPackets < 400 || got.OutPackets < 400 {
			t.Errorf("%s session %d: too little traffic for a meaningful test: %+v", s.User, s.SessionID, got)
		}
		if b.TerminateCause != rfc2866.AcctTerminateCause_Value_UserRequest {
			t.Errorf("%s session %d: terminate cause %v", s.User, s.SessionID, b.TerminateCause)
		}
		if d := b.Start.Sub(row.Start); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("%s session %d: bill starts %v, radacct %v", s.User, s.SessionID, b.Start, row.Start)
		}
		if d := b.Stop.Sub(row.Stop); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("%s session %d: bill stops %v, radacct %v", s.User, s.SessionID, b.Stop, row.Stop)
		}

		// The charge, recomputed from nasd's usage under the plan.
		tf := e.planTariff(s.User)
		if b.TariffID != tf.ID() || b.TariffVersion != tf.Version() || b.Currency != tf.Currency() || b.Scale != tf.Scale() {
			t.Errorf("%s: bill tariff %s v%d %s/%d, plan %s v%d %s/%d", s.User, b.TariffID, b.TariffVersion, b.Currency, b.Scale,
				tf.ID(), tf.Version(), tf.Currency(), tf.Scale())
		}
		want, err := tf.Price(tariff.Usage{Start: b.Start, Stop: b.Stop, In: uint64(row.In), Out: uint64(row.Out)})
		if err != nil {
			t.Fatal(err)
		}
		if b.Charge != want.Total || b.Charge <= 0 {
			t.Errorf("%s session %d: charge %d, tariff.Price %d (%v)", s.User, s.SessionID, b.Charge, want.Total, want.Lines)
		}
		t.Logf("%s session %d: %d/%d octets, %d/%d packets in/out, %v, %s (%s)", s.User, s.SessionID,
			got.InOctets, got.OutOctets, got.InPackets, got.OutPackets, b.SessionTime, tf.FormatAmount(b.Charge), tf.ID())
	}
}

// dave (in arrears) and erin (not activated) are refused by gatewayd
// with their Reply-Message, which pppoe-dial prints (PAP this time); the
// BRAS never hears of them: no Access-Request with their credentials in
// radpostauth, none in nasd's log or counters. The gateway's own
// Authorize-Only requests (no password) are the only trace.
func TestRefusedNeverReachBRAS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NASAuth: "pap"})

	for _, c := range []struct{ user, msg string }{
		{"dave", "Account in arrears: please pay your bill"},
		{"erin", "Account not yet activated"},
	} {
		out, err := e.runDial(30*time.Second, "-user", c.user, "-password", c.user+"-pw")
		if err == nil || !strings.Contains(out, c.user+": refused: "+c.msg) {
			t.Errorf("pppoe-dial %s: %v\n%s", c.user, err, out)
		}
	}
	// A subscriber in good standing still gets through afterwards.
	out, err := e.runDial(30*time.Second, "-user", "alice", "-password", "alice-pw", "-hold", "300ms", "-pps", "20")
	if err != nil || !strings.Contains(out, "alice: session") {
		t.Fatalf("pppoe-dial alice: %v\n%s", err, out)
	}
	waitBills(t, e.acct, 1, 10*time.Second)

	// The gateway asked FreeRADIUS (Authorize-Only, no password) and was
	// refused; nothing ever carried the subscribers' passwords.
	for _, user := range []string{"dave", "erin"} {
		if n := e.scalar(`SELECT count(*) FROM radpostauth WHERE username = $1 AND COALESCE(pass, '') <> ''`, user); n != 0 {
			t.Errorf("radpostauth: %d Access-Requests for %s carried credentials", n, user)
		}
		if n := e.scalar(`SELECT count(*) FROM radpostauth WHERE username = $1 AND COALESCE(pass, '') = '' AND reply = 'Access-Reject'`, user); n == 0 {
			t.Errorf("radpostauth: no refused Authorize-Only for %s", user)
		}
		if n := e.scalar(`SELECT count(*) FROM radacct WHERE username = $1`, user); n != 0 {
			t.Errorf("radacct: %d rows for %s", n, user)
		}
		if strings.Contains(e.nasd.Log(), user) {
			t.Errorf("nasd's log names %s", user)
		}
	}
	// alice's dial went through the BRAS: radpostauth does show nasd's
	// requests when there are some.
	if n := e.scalar(`SELECT count(*) FROM radpostauth WHERE username = 'alice' AND COALESCE(pass, '') <> ''`); n != 1 {
		t.Errorf("radpostauth: %d PAP requests for alice from nasd, want 1", n)
	}
	st := e.nasdStats()
	if st["auth_reject"] != 0 || st["auth_accept"] != 1 || st["auth_error"] != 0 {
		t.Errorf("nasd: auth_accept %v, auth_reject %v, auth_error %v; want 1, 0, 0", st["auth_accept"], st["auth_reject"], st["auth_error"])
	}
	m := e.metrics()
	if m[`gatewayd_relay_dials_total{result="refused"}`] != 2 || m[`gatewayd_relay_dials_total{result="accepted"}`] != 1 {
		t.Errorf("gatewayd dials: refused %v, accepted %v; want 2, 1",
			m[`gatewayd_relay_dials_total{result="refused"}`], m[`gatewayd_relay_dials_total{result="accepted"}`])
	}
	for _, b := range uniqueBills(stopBills(t, e.acct)) {
		if b.UserName != "alice" {
			t.Errorf("bill for %s", b.UserName)
		}
	}
}
