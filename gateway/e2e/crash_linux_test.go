//go:build linux

package e2e

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/rfc/bill"
)

// kill -9 of gatewayd twice, once with sessions open and once with bills
// waiting for an accounting listener that is down:
//
//  1. alice dials, moves traffic, hangs up: bill 1.
//  2. bob dials and goes quiet; carol dials and keeps sending. kill -9.
//     On restart both are billed with NAS-Reboot at their checkpoints:
//     bob's (quiet for longer than the checkpoint interval) exactly at
//     his own count, carol's at most hers.
//  3. The listener goes down. carol and alice dial again and hang up
//     (bills 4 and 5 wait in the journal); bob dials, moves traffic and
//     is left open; kill -9; restart: bob's session is billed with
//     NAS-Reboot at his checkpoint (bill 6), and all three wait.
//  4. The listener comes up: bills 4, 5 and 6 arrive, in that order.
//
// In the end there are exactly six bills, one per session, sequences 1
// to 6, each verifying with the same key, chained without a gap or fork.
func TestCrashAndStoreForward(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{NASAuth: "pap", Checkpoint: 500 * time.Millisecond})
	pub := e.publicKey()
	m := e.mux()

	type sess struct {
		s     *client.Session
		user  string
		mac   string
		want  *sessionUsage // exact bill usage, when known
		upTo  *sessionUsage // the bill's usage is at most this
		cause rfc2866.AcctTerminateCause
	}
	var all []*sess
	add := func(s *client.Session, user string) *sess {
		x := &sess{s: s, user: user, mac: s.MAC().String()}
		all = append(all, x)
		return x
	}
	closed := func(x *sess) {
		u := clientUsage(x.s.Counters())
		x.want, x.cause = &u, rfc2866.AcctTerminateCause_Value_UserRequest
	}

	// 1. A session before any crash.
	s1 := add(mustDial(t, m, macN(0xc1, 1), "alice"), "alice")
	exchange(t, s1.s, 60, 700)
	hangup(t, s1.s)
	closed(s1)
	waitBills(t, e.acct, 1, 10*time.Second)

	// 2. Two sessions open at the crash.
	s2 := add(mustDial(t, m, macN(0xc1, 2), "bob"), "bob")
	exchange(t, s2.s, 80, 900)
	s3 := add(mustDial(t, m, macN(0xc1, 3), "carol"), "carol")
	stop := keepSending(s3.s, 300, 10*time.Millisecond)
	// bob stays quiet for several checkpoint intervals (and billing's
	// one-second poll), so his checkpoint holds his whole count.
	time.Sleep(3 * time.Second)
	u2 := clientUsage(s2.s.Counters())
	s2.want, s2.cause = &u2, rfc2866.AcctTerminateCause_Value_NASReboot
	e.gwd.Kill9()
	stop()
	u3 := clientUsage(s3.s.Counters())
	s3.upTo, s3.cause = &u3, rfc2866.AcctTerminateCause_Value_NASReboot
	if err := e.gwd.Start(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.publicKey(), pub) {
		t.Fatal("the signing key changed across the crash")
	}
	waitBills(t, e.acct, 3, 10*time.Second)
	// The sessions the gateway lost are dead for the subscriber too.
	s2.s.Drop()
	s3.s.Drop()

	// 3. The listener goes down; two sessions close, a third is open at
	// a second crash.
	e.acct.Down()
	s4 := add(mustDial(t, m, macN(0xc1, 4), "carol"), "carol")
	exchange(t, s4.s, 50, 1200)
	hangup(t, s4.s)
	closed(s4)
	s5 := add(mustDial(t, m, macN(0xc1, 5), "alice"), "alice")
	exchange(t, s5.s, 40, 300)
	hangup(t, s5.s)
	closed(s5)
	s6 := add(mustDial(t, m, macN(0xc1, 6), "bob"), "bob")
	exchange(t, s6.s, 30, 1000)
	waitFor(t, 10*time.Second, "two bills pending", func() bool {
		return e.metrics()["gatewayd_bills_pending"] == 2
	})
	time.Sleep(2 * time.Second) // bob's checkpoint
	u6 := clientUsage(s6.s.Counters())
	s6.want, s6.cause = &u6, rfc2866.AcctTerminateCause_Value_NASReboot
	e.gwd.Kill9()
	if err := e.gwd.Start(); err != nil {
		t.Fatal(err)
	}
	s6.s.Drop()
	waitFor(t, 10*time.Second, "three bills pending after the restart", func() bool {
		return e.metrics()["gatewayd_bills_pending"] == 3
	})
	if n := len(uniqueBills(stopBills(t, e.acct))); n != 3 {
		t.Fatalf("%d bills arrived while the listener was down", n)
	}

	// 4. Up again: everything arrives, in order.
	before := len(stopBills(t, e.acct))
	if err := e.gw.NS.Do(e.acct.Up); err != nil {
		t.Fatal(err)
	}
	waitBills(t, e.acct, 6, 20*time.Second)
	waitFor(t, 10*time.Second, "nothing pending", func() bool { return e.metrics()["gatewayd_bills_pending"] == 0 })
	var after []uint64
	for _, b := range uniqueBills(stopBills(t, e.acct)[before:]) {
		after = append(after, b.Sequence)
	}
	if diff := cmp.Diff([]uint64{4, 5, 6}, after); diff != "" {
		t.Errorf("bills after the listener came back, in order of arrival (-want +got):\n%s", diff)
	}

	// Exactly one bill per session, 1 to 6, chained and signed.
	arrivals := stopBills(t, e.acct)
	checkChain(t, pub, arrivals)
	bills := uniqueBills(arrivals)
	if len(bills) != len(all) {
		t.Fatalf("%d bills for %d sessions", len(bills), len(all))
	}
	bySession := map[string]*bill.Bill{}
	for i, b := range bills {
		if b.Sequence != uint64(i+1) {
			t.Errorf("bill %d arrived as the %d-th", b.Sequence, i+1)
		}
		if bySession[b.SessionID] != nil {
			t.Errorf("Acct-Session-Id %s billed twice", b.SessionID)
		}
		bySession[b.SessionID] = b
	}
	for i, x := range all {
		var b *bill.Bill
		for _, c := range bills {
			if c.SubscriberMAC.String() == x.mac {
				if b != nil {
					t.Errorf("session %d (%s %s) billed twice", i+1, x.user, x.mac)
				}
				b = c
			}
		}
		if b == nil {
			t.Errorf("session %d (%s %s): no bill", i+1, x.user, x.mac)
			continue
		}
		got := billUsage(b)
		if b.UserName != x.user || b.TerminateCause != x.cause || b.PPPoESessionID != x.s.SessionID() {
			t.Errorf("session %d: bill %d is %s, session %d, cause %v; want %s, %d, %v", i+1, b.Sequence,
				b.UserName, b.PPPoESessionID, b.TerminateCause, x.user, x.s.SessionID(), x.cause)
		}
		if x.want != nil {
			if diff := cmp.Diff(*x.want, got); diff != "" {
				t.Errorf("session %d (%s, %v): bill %d vs the subscriber's count (-subscriber +bill):\n%s", i+1, x.user, x.cause, b.Sequence, diff)
			}
		}
		if x.upTo != nil {
			if got.InOctets == 0 || got.InOctets > x.upTo.InOctets || got.InPackets > x.upTo.InPackets ||
				got.OutOctets > x.upTo.OutOctets || got.OutPackets > x.upTo.OutPackets {
				t.Errorf("session %d (%s): NAS-Reboot bill %+v, subscriber at the crash %+v", i+1, x.user, got, *x.upTo)
			}
		}
		if x.cause == rfc2866.AcctTerminateCause_Value_UserRequest {
			// nasd saw the same.
			row := e.stoppedRow(x.user, x.s.SessionID(), time.Time{}, 10*time.Second)
			if stop, ok := e.tap.stop(row.AcctSessionID); !ok || stop.Usage != got {
				t.Errorf("session %d (%s): bill %+v, nasd's Stop %+v", i+1, x.user, got, stop.Usage)
			}
		}
		if x.upTo != nil {
			t.Logf("bill %d: %s %s %v, %+v (the subscriber at the crash: %+v)", b.Sequence, b.UserName, b.SessionID, b.TerminateCause, got, *x.upTo)
		} else {
			t.Logf("bill %d: %s %s %v, %+v", b.Sequence, b.UserName, b.SessionID, b.TerminateCause, got)
		}
	}
}

// keepSending sends a datagram of size octets every interval on s until
// the returned function is called (which waits for the sender to stop).
func keepSending(s *client.Session, size int, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pkt := client.UDPPacket(s.Addr(), s.PeerAddr(), 40001, udpEchoPort, size)
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for i := 0; i < 100000; i++ {
			select {
			case <-done:
				return
			case <-tk.C:
			}
			_ = s.SendIP(pkt)
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}
