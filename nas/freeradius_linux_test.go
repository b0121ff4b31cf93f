//go:build linux

package nas_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/nas"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/nas/link"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// The proof of issue 4 against a real FreeRADIUS 3.2 with rlm_sql on
// Postgres: nasd (one demanding PAP, one CHAP) in namespace isp, the
// dialer in namespace sub.
func TestFreeRADIUSEndToEnd(t *testing.T) {
	t.Parallel()
	l := newISPLab(t)
	lab.Veth(t, l.sub, "eth0", "", l.isp, "eth0", "")
	lab.Veth(t, l.sub, "eth1", "", l.isp, "eth1", "")
	papCfg := l.e2eConfig("eth0", nas.AuthPAP)
	papCfg.NASIPAddress = mustAddr("10.0.0.1")
	chapCfg := l.e2eConfig("eth1", nas.AuthCHAP)
	chapCfg.NASIPAddress = mustAddr("10.0.0.2")
	papNAS := startNASD(t, l.isp, papCfg, nas.Options{})
	chapNAS := startNASD(t, l.isp, chapCfg, nas.Options{})
	papMux := startMux(t, l.sub, "eth0")
	chapMux := startMux(t, l.sub, "eth1")

	// PAP and CHAP users come up, get addresses, move traffic through an
	// interim, hang up: radacct has one row each, with the interim, the
	// stop, and octets equal to what the dialer counted.
	t.Run("AccountingMatchesDialer", func(t *testing.T) {
		type run struct {
			mux  *client.Mux
			user string
			n    int
		}
		runs := []run{{papMux, "alice", 1}, {chapMux, "bob", 2}, {papMux, "carol", 3}, {chapMux, "carol", 4}}
		var wg sync.WaitGroup
		errs := make([]error, len(runs))
		counts := make([]client.Counters, len(runs))
		for i, r := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := labDial(t, r.mux, macN(0x10, r.n), r.user, r.user+"-pw", nil)
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", r.user, err)
					return
				}
				if !s.Addr().IsValid() || s.Addr() == s.PeerAddr() || len(s.DNS()) != 1 {
					errs[i] = fmt.Errorf("%s: address %v peer %v dns %v", r.user, s.Addr(), s.PeerAddr(), s.DNS())
				}
				// 2.5 s of traffic: two interims at one a second.
				for k := range 25 {
					exchangeEcho(t, s, 4, 100+r.n*10+k)
					time.Sleep(100 * time.Millisecond)
				}
				if err := s.Hangup(context.Background()); err != nil {
					errs[i] = err
				}
				counts[i] = s.Counters()
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for i, r := range runs {
			row := l.stoppedRow(r.user, macN(0x10, r.n), 15*time.Second)
			c := counts[i]
			if row.In != int64(c.TxOctets) || row.Out != int64(c.RxOctets) || c.TxOctets == 0 || c.RxOctets != c.TxOctets {
				t.Errorf("%s: radacct in %d out %d; dialer sent %d received %d", r.user, row.In, row.Out, c.TxOctets, c.RxOctets)
			}
			if !row.Interim || row.Cause != "User-Request" || row.PortType != "PPPoEoE" || row.Framed == "" {
				t.Errorf("%s: row %+v", r.user, row)
			}
		}
	})

	// Accounts in arrears or not activated are refused with their
	// Reply-Message; a wrong password is refused.
	t.Run("Refusals", func(t *testing.T) {
		for i, tc := range []struct {
			mux      *client.Mux
			user, pw string
			msg      string
		}{
			{papMux, "dave", "dave-pw", "Account in arrears: please pay your bill"},
			{chapMux, "dave", "dave-pw", "Account in arrears: please pay your bill"},
			{papMux, "erin", "erin-pw", "Account not yet activated"},
			{chapMux, "erin", "erin-pw", "Account not yet activated"},
			{papMux, "alice", "not-her-password", "authentication failed"},
			{chapMux, "bob", "not-his-password", "authentication failed"},
			{chapMux, "mallory", "x", "Unknown subscriber"},
		} {
			_, err := labDial(t, tc.mux, macN(0x20, i), tc.user, tc.pw, nil)
			var re *client.RefusedError
			if !errors.As(err, &re) || re.Message != tc.msg {
				t.Errorf("%s: err = %v, want refusal %q", tc.user, err, tc.msg)
			}
		}
		for _, u := range []string{"dave", "erin", "mallory"} {
			if rows := l.radacct(u); len(rows) != 0 {
				t.Errorf("%s has radacct rows: %+v", u, rows)
			}
		}
	})

	// FreeRADIUS's radclient sends a Disconnect-Request: the session ends
	// and radacct records the stop with Admin-Reset.
	t.Run("RadclientDisconnect", func(t *testing.T) {
		bin := testenv.Binary(t, "radclient")
		s, err := labDial(t, chapMux, macN(0x30, 1), "carol", "carol-pw", nil)
		if err != nil {
			t.Fatal(err)
		}
		exchangeEcho(t, s, 3, 300)
		coa := chapNAS.CoAAddr().String()
		req := fmt.Sprintf("User-Name = carol\nFramed-IP-Address = %s\nEvent-Timestamp = %d\nMessage-Authenticator = 0x00\n", s.Addr(), time.Now().Unix())
		out := run(t, l.isp, 15*time.Second, req, bin, "-x", "-r", "3", "-t", "2", coa, "disconnect", "coa-secret")
		if !strings.Contains(out, "Disconnect-ACK") {
			t.Fatalf("radclient: %s", out)
		}
		select {
		case <-s.Done():
			if !errors.Is(s.Err(), client.ErrTerminated) {
				t.Fatalf("session ended with %v", s.Err())
			}
		case <-time.After(5 * time.Second):
			t.Fatal("session still up after Disconnect-ACK")
		}
		row := l.stoppedRow("carol", macN(0x30, 1), 10*time.Second)
		c := s.Counters()
		if row.Cause != "Admin-Reset" || row.In != int64(c.TxOctets) || row.Out != int64(c.RxOctets) {
			t.Fatalf("row %+v, dialer %+v", row, c)
		}
		// The same request again is a duplicate of a carried-out one; a
		// new one for a session that is gone is NAKed (503).
		req = fmt.Sprintf("User-Name = carol\nEvent-Timestamp = %d\nMessage-Authenticator = 0x00\n", time.Now().Unix()+1)
		out = run(t, l.isp, 15*time.Second, req, bin, "-x", "-r", "1", "-t", "2", coa, "disconnect", "coa-secret")
		if !strings.Contains(out, "Disconnect-NAK") || !strings.Contains(out, "Session-Context-Not-Found") {
			t.Fatalf("radclient: %s", out)
		}
		// A request without Message-Authenticator is dropped silently.
		out = run(t, l.isp, 15*time.Second, "User-Name = alice\n", bin, "-x", "-r", "1", "-t", "1", coa, "disconnect", "coa-secret")
		if strings.Contains(out, "Received") {
			t.Fatalf("answered a request without Message-Authenticator: %s", out)
		}
	})

	// rp-pppoe's client (a peer none of us wrote) finds nasd and prints
	// its AC-Name, and completes discovery.
	t.Run("RPPPPoEDiscovers", func(t *testing.T) {
		bin := testenv.Binary(t, "pppoe")
		out := run(t, l.sub, 20*time.Second, "", bin, "-I", "eth0", "-A", "-t", "1")
		if !strings.Contains(out, "Access-Concentrator: lab-nasd-eth0") || !strings.Contains(out, "Got a cookie") {
			t.Fatalf("pppoe -A:\n%s", out)
		}
		t.Logf("pppoe -A:\n%s", out)
		before := papNAS.Stats().PADSOut
		out = run(t, l.sub, 20*time.Second, "", bin, "-I", "eth0", "-d", "-t", "1")
		if papNAS.Stats().PADSOut != before+1 || papNAS.Stats().Sessions != 1 {
			t.Fatalf("pppoe -d did not get a PADS:\n%s", out)
		}
		t.Logf("pppoe -d: %s", out)
		// And its PADT (pppoe -k -e session:mac) ends that session.
		run(t, l.sub, 20*time.Second, "", bin, "-I", "eth0", "-k", "-e", strings.TrimSpace(out))
		waitFor(t, 5*time.Second, "the session to end", func() bool { return papNAS.Stats().Sessions == 0 })
	})
}

// nasd keeps working behind rp-pppoe's pppoe-relay (NOTES.md: it relays
// across namespaces and renumbers session ids): rp-pppoe's client and
// ours find it through the relay, and a session's accounting is exact.
func TestBehindPPPoERelay(t *testing.T) {
	t.Parallel()
	relayBin := testenv.Binary(t, "pppoe-relay")
	pppoeBin := testenv.Binary(t, "pppoe")
	l := newISPLab(t)
	relay := lab.NewNetns(t, "relay")
	lab.Veth(t, l.sub, "eth0", "", relay, "lan0", "")
	lab.Veth(t, relay, "wan0", "", l.isp, "eth0", "")
	srv := startNASD(t, l.isp, l.e2eConfig("eth0", nas.AuthCHAP), nas.Options{})

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", relay.Name, relayBin, "-C", "lan0", "-S", "wan0", "-F")
	var relayLog strings.Builder
	cmd.Stdout, cmd.Stderr = &relayLog, &relayLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pppoe-relay:\n%s", relayLog.String())
		}
	})

	var out string
	for try := 0; try < 5; try++ { // the relay needs a moment to open its sockets
		out = run(t, l.sub, 20*time.Second, "", pppoeBin, "-I", "eth0", "-A", "-t", "1")
		if strings.Contains(out, "Access-Concentrator: lab-nasd-eth0") {
			break
		}
	}
	if !strings.Contains(out, "Access-Concentrator: lab-nasd-eth0") {
		t.Fatalf("pppoe -A through the relay:\n%s", out)
	}
	t.Logf("pppoe -A through pppoe-relay:\n%s", out)

	mux := startMux(t, l.sub, "eth0")
	s, err := labDial(t, mux, macN(0x40, 1), "alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	relayMAC, _ := relay.HardwareAddr("lan0")
	if s.ACMAC().String() != relayMAC.String() {
		t.Fatalf("AC MAC %v, want the relay's %v", s.ACMAC(), relayMAC)
	}
	for range 20 {
		exchangeEcho(t, s, 5, 400)
		time.Sleep(100 * time.Millisecond)
	}
	sessions := srv.Sessions()
	if len(sessions) != 1 || sessions[0].MAC != strings.ToLower(mustMAC(relay, "wan0")) {
		t.Fatalf("nasd sessions %+v", sessions)
	}
	if err := s.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := s.Counters()
	// Through the relay nasd sees the relay's MAC as the calling station.
	row := l.stoppedRow("alice", mustHW(relay, "wan0"), 15*time.Second)
	if row.In != int64(c.TxOctets) || row.Out != int64(c.RxOctets) || !row.Interim || row.Cause != "User-Request" {
		t.Fatalf("row %+v, dialer %+v", row, c)
	}
}

func mustHW(ns *lab.Netns, ifname string) net.HardwareAddr {
	mac, err := ns.HardwareAddr(ifname)
	if err != nil {
		panic(err)
	}
	return mac
}

func mustMAC(ns *lab.Netns, ifname string) string { return mustHW(ns, ifname).String() }

// FreeRADIUS stopped and started again in the middle of a run: records
// made while it was away (interims, Stops) are retransmitted until it
// answers; none is lost.
func TestFreeRADIUSRestartLosesNothing(t *testing.T) {
	t.Parallel()
	l := newISPLab(t)
	lab.Veth(t, l.sub, "eth0", "", l.isp, "eth0", "")
	cfg := l.e2eConfig("eth0", nas.AuthPAP)
	cfg.RADIUSMRC = 2
	cfg.RADIUSMRD = 3 * time.Second
	srv := startNASD(t, l.isp, cfg, nas.Options{})
	mux := startMux(t, l.sub, "eth0")
	users := []string{"alice", "bob", "carol"}
	var sessions []*client.Session
	for i, u := range users {
		s, err := labDial(t, mux, macN(0x50, i), u, u+"-pw", nil)
		if err != nil {
			t.Fatal(err)
		}
		exchangeEcho(t, s, 10, 200+i)
		sessions = append(sessions, s)
	}
	// Let the Starts be acknowledged, then take the server away.
	waitFor(t, 10*time.Second, "Starts acknowledged", func() bool { return srv.Stats().AcctPending == 0 })
	l.fr.Stop()
	for i, s := range sessions[:2] {
		for range 15 { // interims fall due while the server is away
			exchangeEcho(t, s, 2, 300+i)
			time.Sleep(100 * time.Millisecond)
		}
		if err := s.Hangup(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if st := srv.Stats(); st.AcctPending < 2 {
		t.Fatalf("pending %d while FreeRADIUS is down, want the Stops at least", st.AcctPending)
	}
	if err := l.fr.Start(); err != nil {
		t.Fatal(err)
	}
	exchangeEcho(t, sessions[2], 5, 500)
	if err := sessions[2].Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, u := range users {
		row := l.stoppedRow(u, macN(0x50, i), 30*time.Second)
		c := sessions[i].Counters()
		if row.In != int64(c.TxOctets) || row.Out != int64(c.RxOctets) || row.Cause != "User-Request" {
			t.Errorf("%s: row %+v, dialer %+v", u, row, c)
		}
	}
	if st := srv.Stats(); st.AcctFailed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Bad input on a real link: malformed and fuzzed frames, then a PADI
// flood from random MACs. Established sessions stay up (with echo
// keepalive running) and their accounting stays exact; a subscriber
// dialling during the flood gets in.
func TestBadInputEndToEnd(t *testing.T) {
	t.Parallel()
	l := newISPLab(t)
	lab.Veth(t, l.sub, "eth0", "", l.isp, "eth0", "")
	cfg := l.e2eConfig("eth0", nas.AuthCHAP)
	cfg.EchoInterval = time.Second
	cfg.EchoFailures = 5
	srv := startNASD(t, l.isp, cfg, nas.Options{})
	mux := startMux(t, l.sub, "eth0")
	victim, err := labDial(t, mux, macN(0x60, 1), "alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	bystander, err := labDial(t, mux, macN(0x60, 2), "bob", "bob-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	exchangeEcho(t, bystander, 20, 250)

	var raw *link.Conn
	if err := l.sub.Do(func() (err error) { raw, err = link.Listen("eth0", nil); return err }); err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ac := victim.ACMAC()
	frames := malformed(ac, victim.MAC(), victim.SessionID())
	frames = append(frames, fuzzFrames(ac, macN(0x61, 1), 4242, 5000, 2)...)
	for i, f := range frames {
		_ = raw.WriteFrame(f) // a runt is refused by the kernel: fine
		if i%100 == 0 {
			time.Sleep(time.Millisecond)
		}
	}

	// The flood: random locally administered MACs, for 2 s.
	floodDone := make(chan int)
	go func() {
		rng := rand.New(rand.NewPCG(3, 4))
		sent := 0
		end := time.Now().Add(2 * time.Second)
		for time.Now().Before(end) && sent < 400_000 {
			mac := net.HardwareAddr{0x02 | byte(rng.Uint32())&0xfc, byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}
			f := mustFrame((&pppoe.Discovery{Dst: broadcast, Src: mac, Code: pppoe.CodePADI,
				Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, "")}}).MarshalBinary())
			if raw.WriteFrame(f) == nil {
				sent++
			}
		}
		floodDone <- sent
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	newcomer, err := labDial(t, mux, macN(0x60, 3), "carol", "carol-pw", func(o *client.Options) { o.DiscoveryTries = 10 })
	if err != nil {
		t.Fatalf("dial during the flood: %v (stats %+v)", err, srv.Stats())
	}
	sent := <-floodDone
	st := srv.Stats()
	t.Logf("flood of %d PADIs; newcomer up after %v; stats %+v", sent, time.Since(start), st)
	if st.PADILimited == 0 {
		t.Fatal("no PADI was rate limited")
	}
	time.Sleep(500 * time.Millisecond)
	for _, s := range []*client.Session{victim, bystander, newcomer} {
		select {
		case <-s.Done():
			t.Fatalf("session of %v ended: %v", s.MAC(), s.Err())
		default:
		}
		exchangeEcho(t, s, 10, 120)
	}
	exchangeEcho(t, bystander, 20, 250)
	if err := bystander.Hangup(context.Background()); err != nil {
		t.Fatal(err)
	}
	row := l.stoppedRow("bob", bystander.MAC(), 15*time.Second)
	if c := bystander.Counters(); row.In != int64(c.TxOctets) || row.Out != int64(c.RxOctets) {
		t.Fatalf("bystander row %+v, dialer %+v", row, c)
	}
}
