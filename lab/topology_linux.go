package lab

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// The lab's WAN addressing. It exists only inside the lab's namespaces, so
// it cannot collide with the host's networks, and parallel topologies may
// all use it.
//
//	10.203.77.0/28   the WAN: the ISP's access network
//	10.203.77.1      the ISP (nasd's PPPoE bridge, FreeRADIUS, billd)
//	10.203.77.8/29   the gateways, .9 to .14: FreeRADIUS's gateway client
var (
	WANPrefix  = netip.MustParsePrefix("10.203.77.0/28")
	ISPAddr    = netip.MustParseAddr("10.203.77.1")
	GatewayNet = netip.MustParsePrefix("10.203.77.8/29")
)

// Interface names inside the namespaces.
const (
	GatewayLANIf = "lan0" // a gateway's subscriber side (L2 only)
	GatewayWANIf = "wan0" // a gateway's ISP side (L2 for PPPoE, and GatewayAddr)
	ISPWANIf     = "wan"  // the bridge in isp joining every gateway's WAN: nasd's PPPoE interface, ISPAddr
)

// MaxGateways is how many gateways fit GatewayNet.
const MaxGateways = 6

// TopologyOptions shape a Topology. The zero value is one gateway,
// testdata/sql/subscribers.sql loaded, Postgres with fsync on.
type TopologyOptions struct {
	// Gateways is the number of gateways, 1 (default) to MaxGateways.
	Gateways int
	// Prefix starts every namespace's name: Prefix+"sub", Prefix+"gw",
	// Prefix+"gw2", ..., Prefix+"isp", each then given a random suffix.
	Prefix string
	// Fixtures are SQL files loaded after FreeRADIUS's stock schema
	// (default testdata/sql/subscribers.sql); NoFixtures loads none.
	Fixtures   []string
	NoFixtures bool
	// Postgres tunes the private cluster (its Netns is always isp).
	Postgres PostgresOptions
	// RADIUSDebug runs freeradius -X.
	RADIUSDebug bool
	// LinksOnly makes the namespaces and links only: no Postgres, no
	// FreeRADIUS (for tests of L2 paths).
	LinksOnly bool
}

// Topology is the whole-system lab on one machine: namespaces sub
// (subscribers), one per gateway, and isp (nasd, FreeRADIUS, Postgres,
// billd), joined by veth links, with Postgres and FreeRADIUS running in
// isp. Everything goes away when the test (or Harness) ends.
//
//	 sub                gw (gw2, ...)                 isp
//	┌──────┐  LAN, L2  ┌─────────────┐  WAN, L2 + IP  ┌──────────────────────────┐
//	│ eth0 ├───────────┤ lan0   wan0 ├────────────────┤ gw1 ┐                    │
//	│ eth1 ├──┐        └─────────────┘ 10.203.77.9/28 │     ├ bridge "wan"       │
//	└──────┘  └─ ... (one LAN per gateway)  ...  ─────┤ gw2 ┘ 10.203.77.1/28     │
//	                                                  │ lo 127.0.0.1: Postgres,  │
//	                                                  │ FreeRADIUS (also on wan) │
//	                                                  └──────────────────────────┘
type Topology struct {
	Sub, ISP *Netns
	Gateways []*GatewayLinks

	PG     *Postgres   // nil with LinksOnly
	RADIUS *FreeRADIUS // nil with LinksOnly

	// Where FreeRADIUS serves: RADIUSAuth and RADIUSAcct on ISPAddr for
	// the gateways (client "gateways", RADIUS.GatewaySecret);
	// NASRADIUSAuth and NASRADIUSAcct on isp's 127.0.0.1 for nasd
	// (client "nas", RADIUS.NASSecret).
	RADIUSAuth, RADIUSAcct       string
	NASRADIUSAuth, NASRADIUSAcct string
}

// GatewayLinks is one gateway's namespace and links.
type GatewayLinks struct {
	Index int    // 1-based
	NS    *Netns // the gateway's namespace
	// SubIf is the subscriber-side interface in Sub joined to this
	// gateway's GatewayLANIf ("eth0" for gateway 1).
	SubIf string
	// Addr is the gateway's address on GatewayWANIf.
	Addr netip.Addr
	// ISPPort is this gateway's WAN port on isp's ISPWANIf bridge.
	ISPPort  string
	LAN, WAN *Link
}

// NewTopology builds the lab. It fails t (or skips, outside CI) when root,
// ip, initdb or freeradius is missing.
func NewTopology(t T, opts *TopologyOptions) *Topology {
	t.Helper()
	tb := asTB(t)
	var o TopologyOptions
	if opts != nil {
		o = *opts
	}
	if o.Gateways == 0 {
		o.Gateways = 1
	}
	if o.Gateways < 1 || o.Gateways > MaxGateways {
		t.Fatalf("lab: %d gateways: want 1 to %d", o.Gateways, MaxGateways)
	}
	if len(o.Fixtures) == 0 && !o.NoFixtures {
		o.Fixtures = []string{"testdata/sql/subscribers.sql"}
	}

	top := &Topology{
		Sub: NewNetns(tb, o.Prefix+"sub"),
		ISP: NewNetns(tb, o.Prefix+"isp"),
	}
	isp := top.ISP
	for _, args := range [][]string{
		{"link", "add", ISPWANIf, "type", "bridge"},
		{"addr", "add", prefixed(ISPAddr, WANPrefix.Bits()), "dev", ISPWANIf},
	} {
		if err := isp.IP(args...); err != nil {
			t.Fatalf("lab: %v", err)
		}
	}
	_ = isp.Command("sysctl", "-qw", "net.ipv6.conf."+ISPWANIf+".disable_ipv6=1").Run()
	if err := isp.IP("link", "set", ISPWANIf, "up"); err != nil {
		t.Fatalf("lab: %v", err)
	}

	gwAddr := GatewayNet.Addr().Next()
	for i := 1; i <= o.Gateways; i++ {
		name := o.Prefix + "gw"
		if i > 1 {
			name += strconv.Itoa(i)
		}
		g := &GatewayLinks{
			Index:   i,
			NS:      NewNetns(tb, name),
			SubIf:   "eth" + strconv.Itoa(i-1),
			Addr:    gwAddr,
			ISPPort: "gw" + strconv.Itoa(i),
		}
		gwAddr = gwAddr.Next()
		g.LAN = Veth(tb, top.Sub, g.SubIf, "", g.NS, GatewayLANIf, "")
		g.WAN = Veth(tb, g.NS, GatewayWANIf, prefixed(g.Addr, WANPrefix.Bits()), isp, g.ISPPort, "")
		if err := isp.IP("link", "set", g.ISPPort, "master", ISPWANIf); err != nil {
			t.Fatalf("lab: %v", err)
		}
		// Gateways reach the ISP, not each other's WAN, as on an access
		// network with port isolation.
		_ = isp.IP("link", "set", g.ISPPort, "type", "bridge_slave", "isolated", "on")
		top.Gateways = append(top.Gateways, g)
	}
	if o.LinksOnly {
		return top
	}

	pgo := o.Postgres
	pgo.Netns = isp
	// Pinned: see spawn_linux.go. (Once startProcess forks on the spawn
	// thread, this can call the helpers directly.)
	pinned(t, func(t T) {
		tb := asTB(t)
		top.PG = StartPostgres(tb, &pgo)
		top.RADIUS = StartFreeRADIUS(tb, top.PG, &FreeRADIUSOptions{
			Netns:      isp,
			Addr:       "0.0.0.0", // isp's loopback for nasd, the WAN bridge for gateways
			NASNet:     "127.0.0.1/32",
			GatewayNet: GatewayNet.String(),
			Debug:      o.RADIUSDebug,
			Fixtures:   o.Fixtures,
		})
	})
	authPort, acctPort := port(top.RADIUS.AuthAddr), port(top.RADIUS.AcctAddr)
	top.RADIUSAuth = net.JoinHostPort(ISPAddr.String(), authPort)
	top.RADIUSAcct = net.JoinHostPort(ISPAddr.String(), acctPort)
	top.NASRADIUSAuth = net.JoinHostPort("127.0.0.1", authPort)
	top.NASRADIUSAcct = net.JoinHostPort("127.0.0.1", acctPort)
	return top
}

// Gateway returns gateway i (1-based).
func (top *Topology) Gateway(i int) *GatewayLinks { return top.Gateways[i-1] }

// DatabaseURL is the fresh database's URL as seen from inside isp (for
// billd); from outside, connect with PG.Connect (it dials through isp) or
// through ForwardTCP.
func (top *Topology) DatabaseURL() string {
	if top.PG == nil {
		return ""
	}
	return top.PG.URL
}

// Describe is a few lines saying what is up, for the demo and for logs.
func (top *Topology) Describe() string {
	s := fmt.Sprintf("namespaces: sub=%s isp=%s", top.Sub.Name, top.ISP.Name)
	for _, g := range top.Gateways {
		s += fmt.Sprintf(" gw%d=%s", g.Index, g.NS.Name)
	}
	s += "\n"
	for _, g := range top.Gateways {
		s += fmt.Sprintf("gateway %d: %s:%s <-LAN-> %s:%s, %s:%s %s <-WAN-> %s:%s on bridge %s %s\n",
			g.Index, top.Sub.Name, g.SubIf, g.NS.Name, GatewayLANIf, g.NS.Name, GatewayWANIf, g.Addr, top.ISP.Name, g.ISPPort, ISPWANIf, ISPAddr)
	}
	if top.PG != nil {
		s += fmt.Sprintf("postgres: %s (in %s)\n", top.PG.URL, top.ISP.Name)
	}
	if top.RADIUS != nil {
		s += fmt.Sprintf("freeradius: gateways -> %s / %s, nasd -> %s / %s\n", top.RADIUSAuth, top.RADIUSAcct, top.NASRADIUSAuth, top.NASRADIUSAcct)
	}
	return s
}

func prefixed(a netip.Addr, bits int) string {
	return netip.PrefixFrom(a, bits).String()
}

func port(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}
