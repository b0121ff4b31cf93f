//go:build linux

package relay

import (
	"context"
	"errors"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/packet"
	"go.uber.org/zap/zaptest"
	"golang.org/x/sys/unix"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/relay/authz"
	"github.com/edgebill/edgebill/gateway/relay/internal/pppoetest"
	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// topo is subscriber -- gateway -- ISP in three namespaces:
//
//	sub: sub0 ==veth== lan0 :gw: wan0 ==veth== isp0 :isp
type topo struct {
	sub, gw, isp *lab.Netns
}

func newTopo(t testing.TB) *topo {
	t.Helper()
	testenv.Root(t)
	tp := &topo{sub: lab.NewNetns(t, "ebsub"), gw: lab.NewNetns(t, "ebgw"), isp: lab.NewNetns(t, "ebisp")}
	lab.Veth(t, tp.sub, "sub0", "", tp.gw, "lan0", "")
	lab.Veth(t, tp.gw, "wan0", "", tp.isp, "isp0", "")
	return tp
}

// openRaw opens an AF_PACKET socket on ifname in ns, filtered to PPPoE
// (and without IP session frames if noIP), ignoring its own frames.
func openRaw(t testing.TB, ns *lab.Netns, ifname string, noIP bool) (*packet.Conn, net.HardwareAddr) {
	t.Helper()
	var c *packet.Conn
	var mac net.HardwareAddr
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		filter, err := socketFilter(noIP)
		if err != nil {
			return err
		}
		c, err = packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, &packet.Config{Filter: filter})
		if err != nil {
			return err
		}
		mac = ifi.HardwareAddr
		rc, _ := c.SyscallConn()
		return rc.Control(func(fd uintptr) {
			unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20)
		})
	})
	if err != nil {
		t.Fatalf("open %s in %s: %v", ifname, ns.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, mac
}

// startRelay runs a relay in the gateway namespace.
func (tp *topo) startRelay(t testing.TB, cfg Config) *Relay {
	t.Helper()
	cfg.LAN, cfg.WAN = "lan0", "wan0"
	var r *Relay
	if err := tp.gw.Do(func() error {
		var err error
		r, err = New(cfg)
		return err
	}); err != nil {
		t.Fatalf("relay: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	})
	return r
}

func usageOf(b pppoetest.Usage) gateway.Usage {
	return gateway.Usage{InOctets: b.InOctets, OutOctets: b.OutOctets, InPackets: b.InPackets, OutPackets: b.OutPackets}
}

// exchange sends n IP frames of varied sizes from the client, which the
// BRAS echoes, pacing so that no queue overflows, and returns what was
// sent (the echo doubles it as Out).
func exchange(t *testing.T, c *pppoetest.Client, n, seed int, want *gateway.Usage) {
	t.Helper()
	for i := 0; i < n; i++ {
		size := 20 + (i*131+seed)%1452
		if err := c.SendIP(size); err != nil {
			t.Fatal(err)
		}
		want.InOctets += uint64(size)
		want.InPackets++
		want.OutOctets += uint64(size)
		want.OutPackets++
		if i%32 == 31 || i == n-1 {
			wait(t, "echoes", 5*time.Second, func() bool { return c.InPackets.Load() == want.OutPackets })
		}
	}
}

// A session relayed through real sockets, in user space and with the
// kernel offload: exact counts equal to the BRAS's; spoofed frames from
// another MAC dropped and counted; malformed frames from both sides, a
// PADI flood and unknown sessions disturb nothing.
func TestVethSession(t *testing.T) {
	for _, mode := range []Mode{ModeUser, ModeKernel} {
		t.Run(string(mode), func(t *testing.T) {
			tp := newTopo(t)
			events := newRecorder()
			r := tp.startRelay(t, Config{Mode: mode, Sessions: events, Logger: zaptest.NewLogger(t),
				PADIRate: 20, PADIBurst: 20})
			if got := r.Stats().Offloaded; got != (mode == ModeKernel) {
				t.Fatalf("Offloaded = %v", got)
			}
			bl, bmac := openRaw(t, tp.isp, "isp0", false)
			bras := pppoetest.NewBRAS(bl, bmac, ppp.AuthPAP)
			bras.Echo = true
			t.Cleanup(bras.Close)
			cl, cmac := openRaw(t, tp.sub, "sub0", false)
			c := pppoetest.NewClient(cl, cmac)
			t.Cleanup(c.Close)

			ctx := testCtx(t, 20*time.Second)
			res, err := c.Dial(ctx, "alice", "pw")
			if err != nil {
				t.Fatal(err)
			}
			s, ok := events.openedFor("alice")
			if !ok {
				t.Fatal("not opened")
			}
			var want gateway.Usage
			exchange(t, c, 300, 0, &want)
			check := func(when string) {
				t.Helper()
				got, _ := r.Usage(s.Key)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: relay usage (-want +got):\n%s", when, diff)
				}
				if diff := cmp.Diff(want, usageOf(bras.Usage(res.Session))); diff != "" {
					t.Errorf("%s: BRAS usage (-want +got):\n%s", when, diff)
				}
			}
			check("after traffic")

			// Another LAN host claims the session.
			evilMAC := net.HardwareAddr{0x02, 0x66, 0x66, 0x66, 0x66, 0x66}
			_, relayLAN := c.Session()
			for i := 0; i < 40; i++ {
				c.SendRaw(pppoetest.IPFrame(relayLAN, evilMAC, res.Session, 200))
			}
			for i := 0; i < 5; i++ {
				c.SendRaw(pppoetest.SessionFrame(relayLAN, evilMAC, res.Session, ppp.ProtoLCP, []byte{5, 1, 0, 4}))
			}
			wait(t, "spoofed counted", 5*time.Second, func() bool { return r.Spoofed(s.Key) == 45 })

			// Malformed and unknown from both sides, and a PADI flood.
			var junk [][]byte
			ipf := pppoetest.IPFrame(relayLAN, cmac, res.Session, 100)
			junk = append(junk, ipf[:15], ipf[:21])
			bad := append([]byte(nil), ipf...)
			bad[18], bad[19] = 0x7f, 0xff // LENGTH past the end
			junk = append(junk, bad)
			bad = append([]byte(nil), ipf...)
			bad[14] = 0x22 // VER/TYPE
			junk = append(junk, bad)
			junk = append(junk, pppoetest.IPFrame(relayLAN, cmac, res.Session+1, 100)) // unknown session
			for _, j := range junk {
				c.SendRaw(j)
			}
			for i := 0; i < 1000; i++ {
				d := pppoe.Discovery{Dst: pppoetest.Broadcast, Src: net.HardwareAddr{0x02, 0x77, 0, 0, byte(i >> 8), byte(i)},
					Code: pppoe.CodePADI, Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, "")}}
				b, _ := d.MarshalBinary()
				c.SendRaw(b)
			}
			relayWAN := r.ports[wan].MAC
			wanJunk := [][]byte{
				pppoetest.IPFrame(relayWAN, bmac, res.Session+7, 100),                        // unknown session
				pppoetest.SessionFrame(relayWAN, bmac, res.Session, ppp.ProtoPAP, []byte{2}), // truncated PAP
			}
			pado, _ := (&pppoe.Discovery{Code: pppoe.CodePADO, Dst: relayWAN, Src: bmac, Tags: []pppoe.Tag{
				{Type: pppoe.TagRelaySessionID, Value: append(append([]byte{}, cmac...), 1, 2, 3, 4, 5, 6)}}}).MarshalBinary()
			wanJunk = append(wanJunk, pado) // a forged Relay-Session-Id
			pads, _ := (&pppoe.Discovery{Code: pppoe.CodePADS, SessionID: 0x4444, Dst: relayWAN, Src: bmac}).MarshalBinary()
			wanJunk = append(wanJunk, pads, pads[:19])
			for _, j := range wanJunk {
				bl.WriteTo(j, &packet.Addr{HardwareAddr: relayWAN})
			}
			exchange(t, c, 100, 7, &want)
			check("after the noise")
			st := r.Stats()
			if st.Drops[DropMalformed] == 0 || st.Drops[DropUnknownSession] < 2 || st.Drops[DropPADIRate] == 0 || st.Drops[DropRelayID] == 0 {
				t.Errorf("drops: %v", st.Drops)
			}

			c.Hangup(ctx)
			wait(t, "Closed", 5*time.Second, func() bool { _, ok := events.closedFor(s.Key); return ok })
			ce, _ := events.closedFor(s.Key)
			if diff := cmp.Diff(want, ce.usage); diff != "" {
				t.Errorf("Closed usage (-want +got):\n%s", diff)
			}
		})
	}
}

// Authorisation against the real FreeRADIUS of testdata: alice is
// accepted with her tariff; dave (arrears) and erin (not activated) are
// refused with their Reply-Message, and the BRAS never sees them.
func TestVethFreeRADIUS(t *testing.T) {
	tp := newTopo(t)
	// lab starts its servers with Pdeathsig, which fires when the OS
	// thread that forked them ends; lab.Netns.Do ends the threads it
	// switched into a namespace. Fork from a thread kept for the test.
	var fr *lab.FreeRADIUS
	var pg *lab.Postgres
	hold, started := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(hold) })
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		func() {
			defer close(started)
			pg = lab.StartPostgres(t, nil)
			fr = lab.StartFreeRADIUS(t, pg, &lab.FreeRADIUSOptions{
				Fixtures: []string{"testdata/sql/subscribers.sql", "gateway/relay/testdata/tariffs.sql"}})
		}()
		<-hold
	}()
	<-started
	if fr == nil {
		t.Fatal("FreeRADIUS did not start")
	}
	az, err := authz.New(authz.Config{
		// The first server does not answer: failover.
		Servers:   []authz.Server{{Addr: "127.0.0.1:9", Secret: "x"}, {Addr: fr.AuthAddr, Secret: fr.GatewaySecret}},
		GatewayID: "gw-test", LocalAddr: "127.0.0.2", IRT: 200 * time.Millisecond, MRC: 1, MRD: 500 * time.Millisecond,
		Logger: zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { az.Close() })
	events := newRecorder()
	r := tp.startRelay(t, Config{Authorizer: az, Sessions: events, Logger: zaptest.NewLogger(t)})
	bl, bmac := openRaw(t, tp.isp, "isp0", false)
	bras := pppoetest.NewBRAS(bl, bmac, ppp.AuthPAP)
	t.Cleanup(bras.Close)
	ctx := testCtx(t, 30*time.Second)

	for _, tc := range []struct {
		user, reply string
	}{
		{"alice", ""},
		{"dave", "Account in arrears: please pay your bill"},
		{"erin", "Account not yet activated"},
	} {
		cl, cmac := openRaw(t, tp.sub, "sub0", false)
		c := pppoetest.NewClient(cl, cmac)
		res, err := c.Dial(ctx, tc.user, tc.user+"-pw")
		if tc.reply == "" {
			if err != nil {
				t.Fatalf("%s: %v", tc.user, err)
			}
			continue
		}
		if !errors.Is(err, pppoetest.ErrRefused) || res.Message != tc.reply {
			t.Errorf("%s: %+v, %v; want refusal %q", tc.user, res, err, tc.reply)
		}
		if _, err := c.Next(ctx, pppoetest.IsDiscovery(pppoe.CodePADT)); err != nil {
			t.Errorf("%s: no PADT", tc.user)
		}
		if bras.SawUser(tc.user) {
			t.Errorf("the BRAS saw %s's credentials", tc.user)
		}
		c.Close()
	}
	s, ok := events.openedFor("alice")
	if !ok {
		t.Fatal("alice not opened")
	}
	// The plan's tariff, however many attributes it takes, joined in
	// order.
	conn, err := pg.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tariff string
	if err := conn.QueryRow(ctx, `SELECT coalesce(string_agg(value, '' ORDER BY id), '') FROM radgroupreply
		WHERE groupname = 'plan-time' AND attribute = 'EdgeBill-Tariff'`).Scan(&tariff); err != nil {
		t.Fatal(err)
	}
	want := gateway.Authorization{Tariff: tariff, InterimInterval: time.Minute,
		Credit: 123456, HasCredit: true, Class: []byte("plan-time")}
	if diff := cmp.Diff(want, s.Auth); diff != "" {
		t.Errorf("Authorization (-want +got):\n%s", diff)
	}
	wait(t, "PADTs at the BRAS", 5*time.Second, func() bool { _, _, padts := bras.Snapshot(); return len(padts) == 2 })
	if st := r.Stats(); st.Accepted != 1 || st.Refused != 2 {
		t.Errorf("stats %+v", st)
	}
}
