//go:build linux

package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/edgebill/edgebill/lab/system"
	"github.com/edgebill/edgebill/lab/udpproxy"
)

// OutageEnv sets how long the fault tests keep a server away (default
// 10s; the "billd down for a minute" is EDGEBILL_E2E_OUTAGE=1m).
const OutageEnv = "EDGEBILL_E2E_OUTAGE"

func outage() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(OutageEnv)); err == nil && d > 0 {
		return d
	}
	return 10 * time.Second
}

// kill -9 of gatewayd with sessions up: at restart it closes them from
// its journal (Terminate-Cause NAS-Reboot) and bills each once; the BRAS
// ends them when their keepalives stop. Dials through the restarted
// gatewayd carry on the same chain.
func TestFaultKill9Gatewayd(t *testing.T) {
	t.Parallel()
	s := start(t, system.Options{})
	ctx := testCtx(t, 3*time.Minute)
	users, err := s.AddSubscribers(ctx, "k9", 6)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Gateway(1)
	d := s.StartDial(system.Dial{Gateway: 1, Users: users, Hold: 10 * time.Second, PPS: 10, Size: 300})
	waitUp(t, ctx, s, len(users))
	sleep(ctx, 2*time.Second) // traffic, interims and a few checkpoints
	g.D.Kill9()
	t.Logf("gatewayd killed with %d sessions up", len(users))
	sleep(ctx, 5*time.Second) // nasd's keepalive gives up on them
	if err := g.D.Start(); err != nil {
		t.Fatal(err)
	}
	first := wait(t, ctx, d)
	again, err := s.Dial(ctx, system.Dial{Gateway: 1, Users: users[:3], Hold: 2 * time.Second, PPS: 10, Size: 300, MACBase: "02:eb:01:00:01:01"})
	if err != nil {
		t.Fatal(err)
	}
	checkRefusals(t, again)
	o := finish(t, ctx, s, system.Expect{Up: system.Up(first, again), Recovered: true})
	if o != nil && o.Recovered != len(users) {
		t.Errorf("%d bills recovered from the journal, want %d", o.Recovered, len(users))
	}
}

// billd unreachable (its packets black-holed), then billd stopped, each
// while sessions end: gatewayd keeps the bills and delivers them when
// billd is back; each is stored once.
func TestFaultBilldDown(t *testing.T) {
	t.Parallel()
	s := start(t, system.Options{Proxy: true})
	ctx := testCtx(t, 4*time.Minute)
	users, err := s.AddSubscribers(ctx, "bd", 8)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Gateway(1)
	pending := func() float64 {
		m, err := s.GatewayMetrics(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		return m.Get("gatewayd_bills_pending")
	}

	// Unreachable: the proxy black-holes both ways.
	d := s.StartDial(system.Dial{Gateway: 1, Users: users[:4], Hold: 3 * time.Second, PPS: 10, Size: 300, DropEvery: 4})
	waitUp(t, ctx, s, 4)
	g.AcctProxy.Down()
	first := wait(t, ctx, d)
	sleep(ctx, outage())
	if p := pending(); p != float64(first.Up) {
		t.Errorf("billd unreachable: %v bills pending at the gateway, want %d", p, first.Up)
	}
	g.AcctProxy.Up()

	// Stopped.
	d = s.StartDial(system.Dial{Gateway: 1, Users: users[4:], Hold: 3 * time.Second, PPS: 10, Size: 300, DropEvery: 4, MACBase: "02:eb:01:00:01:01"})
	waitUp(t, ctx, s, 4)
	if err := s.Billd.Stop(); err != nil {
		t.Errorf("billd stop: %v", err)
	}
	second := wait(t, ctx, d)
	sleep(ctx, outage())
	if p := pending(); p < float64(second.Up) {
		t.Errorf("billd stopped: %v bills pending at the gateway, want at least %d", p, second.Up)
	}
	if err := s.Billd.Start(); err != nil {
		t.Fatal(err)
	}
	checkRefusals(t, first, second)
	finish(t, ctx, s, system.Expect{Up: system.Up(first, second)})
	st := g.AcctProxy.Stats()
	if st.ToTarget.BlackHoled == 0 {
		t.Errorf("the proxy black-holed nothing: %+v", st)
	}
}

// Postgres stopped with -m immediate (no checkpoint; crash recovery at
// start) while sessions end: FreeRADIUS cannot store the BRAS's Stops
// and billd cannot commit the bills, so neither is acknowledged; both
// are retransmitted and land once Postgres is back.
func TestFaultPostgresImmediate(t *testing.T) {
	t.Parallel()
	s := start(t, system.Options{})
	ctx := testCtx(t, 3*time.Minute)
	users, err := s.AddSubscribers(ctx, "pg", 6)
	if err != nil {
		t.Fatal(err)
	}
	d := s.StartDial(system.Dial{Gateway: 1, Users: users, Hold: 4 * time.Second, PPS: 10, Size: 300, DropEvery: 3})
	waitUp(t, ctx, s, len(users))
	s.Top.PG.Stop(true)
	t.Logf("postgres stopped (immediate) with %d sessions up", len(users))
	rep := wait(t, ctx, d)
	sleep(ctx, outage())
	// Nothing is acknowledged while Postgres is down: the bills wait at
	// the gateway, the BRAS's Stops at nasd.
	if m, err := s.GatewayMetrics(ctx, s.Gateway(1)); err != nil || m.Get("gatewayd_bills_pending") != float64(rep.Up) {
		t.Errorf("Postgres down: %v bills pending at the gateway (%v), want %d", m.Get("gatewayd_bills_pending"), err, rep.Up)
	}
	if st, err := s.NasdStats(ctx); err != nil || st.AcctPending == 0 {
		t.Errorf("Postgres down: nasd has %d accounting requests unanswered (%v), want some", st.AcctPending, err)
	}
	if err := s.Top.PG.Start(); err != nil {
		t.Fatal(err)
	}
	checkRefusals(t, rep)
	finish(t, ctx, s, system.Expect{Up: rep.Up})
}

// FreeRADIUS restarted with sessions up and ending (the BRAS's interims
// and Stops in flight); dials after the restart are authorised again.
func TestFaultFreeRADIUSRestart(t *testing.T) {
	t.Parallel()
	s := start(t, system.Options{})
	ctx := testCtx(t, 3*time.Minute)
	users, err := s.AddSubscribers(ctx, "fr", 6)
	if err != nil {
		t.Fatal(err)
	}
	d := s.StartDial(system.Dial{Gateway: 1, Users: system.Mix(users, 3), Hold: 4 * time.Second, PPS: 10, Size: 300, DropEvery: 4})
	waitUp(t, ctx, s, 4)
	sleep(ctx, 3*time.Second)
	if err := s.Top.RADIUS.Restart(); err != nil {
		t.Fatal(err)
	}
	first := wait(t, ctx, d)
	again, err := s.Dial(ctx, system.Dial{Gateway: 1, Users: system.Mix(users[:3], 3), Hold: 2 * time.Second, PPS: 10, Size: 300, MACBase: "02:eb:01:00:01:01"})
	if err != nil {
		t.Fatal(err)
	}
	checkRefusals(t, first, again)
	finish(t, ctx, s, system.Expect{Up: system.Up(first, again)})
}

// RADIUS between the gateway and both servers (FreeRADIUS for
// authorisation, billd for interims and bills) loses, duplicates and
// reorders packets both ways. (gatewayd gives an authorisation 3 s on a
// server: a short first timeout lets it try four times in them.)
func TestFaultRADIUSLossy(t *testing.T) {
	t.Parallel()
	s := start(t, system.Options{Proxy: true, AuthTimeout: 300 * time.Millisecond})
	ctx := testCtx(t, 3*time.Minute)
	users, err := s.AddSubscribers(ctx, "lo", 10)
	if err != nil {
		t.Fatal(err)
	}
	g := s.Gateway(1)
	f := udpproxy.Faults{Drop: 0.1, Duplicate: 0.2, Reorder: 0.2}
	for _, p := range []*udpproxy.Proxy{g.AuthProxy, g.AcctProxy} {
		if err := p.SetFaults(f, f); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := s.Dial(ctx, system.Dial{Gateway: 1, Users: system.Mix(users, 5), Rate: 5, Hold: 4 * time.Second, PPS: 10, Size: 300, DropEvery: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkRefusals(t, rep)
	finish(t, ctx, s, system.Expect{Up: rep.Up})
	for name, p := range map[string]*udpproxy.Proxy{"auth": g.AuthProxy, "accounting": g.AcctProxy} {
		st := p.Stats()
		t.Logf("%s proxy: %+v", name, st)
		if st.ToTarget.Duplicated+st.ToClient.Duplicated == 0 || st.ToTarget.Reordered+st.ToClient.Reordered == 0 {
			t.Errorf("%s proxy: no duplicates or reorders: %+v", name, st)
		}
	}
	if st := g.AcctProxy.Stats(); st.ToTarget.Dropped+st.ToClient.Dropped == 0 {
		t.Errorf("accounting proxy: nothing dropped: %+v", st)
	}
}
