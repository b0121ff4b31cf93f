//go:build linux

package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc3576"

	"github.com/edgebill/edgebill/lab/udpproxy"
	"github.com/edgebill/edgebill/rfc/radiusx"
)

// askRADIUS sends p, signed, from conn to addr and returns the verified
// reply (nil on no reply after three tries).
func askRADIUS(t *testing.T, conn net.PacketConn, addr string, p *radius.Packet, secret string) *radius.Packet {
	t.Helper()
	req, err := radiusx.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for try := 0; try < 3; try++ {
		if _, err := conn.WriteTo(req, dst); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			continue
		}
		if err := radiusx.VerifyResponse(buf[:n], req, []byte(secret)); err != nil {
			t.Fatalf("reply from %s: %v", addr, err)
		}
		r, err := radius.Parse(buf[:n], []byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	return nil
}

func authorizeOnly(user, secret string) *radius.Packet {
	p := radius.New(radius.CodeAccessRequest, []byte(secret))
	rand.Read(p.Authenticator[:])
	rfc2865.UserName_SetString(p, user)
	rfc2865.ServiceType_Set(p, rfc3576.ServiceType_Value_AuthorizeOnly)
	rfc2865.NASIdentifier_SetString(p, "lab-topology-test")
	return p
}

func TestTopology(t *testing.T) {
	t.Parallel()
	top := NewTopology(t, &TopologyOptions{Gateways: 2, Postgres: PostgresOptions{NoFsync: true}})
	t.Logf("\n%s", top.Describe())

	// Each gateway's Authorize-Only, from a socket in its namespace (so
	// from its WAN address), is answered with the gateway secret.
	for _, g := range top.Gateways {
		conn, err := g.NS.ListenPacket("udp", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, tc := range []struct {
			user string
			code radius.Code
			msg  string
		}{
			{"alice", radius.CodeAccessAccept, ""},
			{"dave", radius.CodeAccessReject, "arrears"},
		} {
			r := askRADIUS(t, conn, top.RADIUSAuth, authorizeOnly(tc.user, top.RADIUS.GatewaySecret), top.RADIUS.GatewaySecret)
			if r == nil {
				t.Fatalf("gateway %d (%s): no reply to Authorize-Only for %s\n%s", g.Index, g.Addr, tc.user, top.RADIUS.Log())
			}
			if msg := rfc2865.ReplyMessage_GetString(r); r.Code != tc.code || !strings.Contains(msg, tc.msg) {
				t.Errorf("gateway %d: %s: got %v %q, want %v containing %q", g.Index, tc.user, r.Code, msg, tc.code, tc.msg)
			}
		}
	}

	// nasd's place: isp's loopback, the NAS secret, PAP.
	conn, err := top.ISP.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p := radius.New(radius.CodeAccessRequest, []byte(top.RADIUS.NASSecret))
	rand.Read(p.Authenticator[:])
	rfc2865.UserName_SetString(p, "bob")
	rfc2865.UserPassword_SetString(p, "bob-pw")
	if r := askRADIUS(t, conn, top.NASRADIUSAuth, p, top.RADIUS.NASSecret); r == nil || r.Code != radius.CodeAccessAccept {
		t.Fatalf("nasd's PAP request for bob: %v\n%s", r, top.RADIUS.Log())
	}

	// Postgres, through the namespace dialer, with the fixtures loaded.
	ctx := context.Background()
	c, err := top.PG.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var users int
	if err := c.QueryRow(ctx, "SELECT count(DISTINCT username) FROM radcheck").Scan(&users); err != nil {
		t.Fatal(err)
	}
	if users != 5 {
		t.Errorf("radcheck has %d users, want the fixture's 5", users)
	}
	// The fault proxy fits between a gateway and FreeRADIUS: listening in
	// the gateway's namespace, forwarding from its WAN address (so
	// FreeRADIUS still knows the client), here duplicating every request.
	g := top.Gateway(1)
	px, err := udpproxy.New(udpproxy.Config{
		Listen:       "127.0.0.1:0",
		Target:       top.RADIUSAuth,
		ListenPacket: g.NS.ListenPacket,
		ToTarget:     udpproxy.Faults{Duplicate: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithCancel(ctx)
	perr := make(chan error, 1)
	go func() { perr <- px.Run(pctx) }()
	defer func() {
		pcancel()
		if err := <-perr; err != nil {
			t.Errorf("proxy: %v", err)
		}
	}()
	gconn, err := g.NS.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gconn.Close()
	r := askRADIUS(t, gconn, px.Addr().String(), authorizeOnly("carol", top.RADIUS.GatewaySecret), top.RADIUS.GatewaySecret)
	if r == nil || r.Code != radius.CodeAccessAccept {
		t.Fatalf("through the proxy: %v (proxy %+v)\n%s", r, px.Stats(), top.RADIUS.Log())
	}
	if st := px.Stats(); st.ToTarget.Duplicated == 0 || st.ToTarget.Forwarded < 2 {
		t.Errorf("proxy did not duplicate: %+v", st)
	}

	// All those Netns.Do calls ended threads; the servers live on.
	if top.RADIUS.proc.exited() {
		t.Errorf("freeradius died: %v\n%s", top.RADIUS.proc.err, top.RADIUS.Log())
	}
	if top.PG.proc.exited() {
		t.Errorf("postgres died: %v", top.PG.proc.err)
	}
}

// openPPPoE opens an AF_PACKET socket for PPPoE discovery frames on
// interface name inside ns.
func openPPPoE(t *testing.T, ns *Netns, name string) (*packet.Conn, net.HardwareAddr) {
	t.Helper()
	var c *packet.Conn
	var mac net.HardwareAddr
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return err
		}
		mac = ifi.HardwareAddr
		c, err = packet.Listen(ifi, packet.Raw, 0x8863, nil)
		return err
	})
	if err != nil {
		t.Fatalf("%s in %s: %v", name, ns.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, mac
}

// padi is a PPPoE Active Discovery Initiation from src (RFC 2516 §5.1)
// with an empty Service-Name and a Host-Uniq tag carrying tag.
func padi(src net.HardwareAddr, tag byte) []byte {
	f := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	f = append(f, src...)
	f = append(f, 0x88, 0x63, 0x11, 0x09, 0x00, 0x00, 0x00, 0x09,
		0x01, 0x01, 0x00, 0x00, // Service-Name, empty
		0x01, 0x03, 0x00, 0x01, tag) // Host-Uniq
	return f
}

// expectFrame reads from c until a frame whose last octet is tag arrives,
// or the deadline passes.
func expectFrame(c *packet.Conn, tag byte, within time.Duration) bool {
	buf := make([]byte, 2048)
	deadline := time.Now().Add(within)
	c.SetReadDeadline(deadline)
	for i := 0; i < 1000 && time.Now().Before(deadline); i++ {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return false
		}
		if n > 0 && buf[n-1] == tag {
			return true
		}
	}
	return false
}

func TestTopologyLinksCarryPPPoE(t *testing.T) {
	t.Parallel()
	top := NewTopology(t, &TopologyOptions{Gateways: 2, LinksOnly: true})
	if top.PG != nil || top.RADIUS != nil {
		t.Fatal("LinksOnly started servers")
	}
	isp, _ := openPPPoE(t, top.ISP, ISPWANIf)
	for _, g := range top.Gateways {
		sub, subMAC := openPPPoE(t, top.Sub, g.SubIf)
		lan, _ := openPPPoE(t, g.NS, GatewayLANIf)
		wan, wanMAC := openPPPoE(t, g.NS, GatewayWANIf)
		bcast := &packet.Addr{HardwareAddr: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}

		tag := byte(0x40 + g.Index)
		ok := false
		for try := 0; try < 10 && !ok; try++ { // links may take a moment to come up
			sub.WriteTo(padi(subMAC, tag), bcast)
			ok = expectFrame(lan, tag, 300*time.Millisecond)
		}
		if !ok {
			t.Fatalf("gateway %d: PADI from %s:%s did not reach %s", g.Index, top.Sub.Name, g.SubIf, GatewayLANIf)
		}
		tag += 0x10
		ok = false
		for try := 0; try < 10 && !ok; try++ {
			wan.WriteTo(padi(wanMAC, tag), bcast)
			ok = expectFrame(isp, tag, 300*time.Millisecond)
		}
		if !ok {
			t.Fatalf("gateway %d: PADI from %s did not reach isp's %s bridge", g.Index, GatewayWANIf, ISPWANIf)
		}
	}
	// The WAN ports are isolated: gateway 1's broadcast reaches isp but
	// not gateway 2.
	wan1, mac1 := openPPPoE(t, top.Gateway(1).NS, GatewayWANIf)
	wan2, _ := openPPPoE(t, top.Gateway(2).NS, GatewayWANIf)
	wan1.WriteTo(padi(mac1, 0x7e), &packet.Addr{HardwareAddr: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}})
	if expectFrame(wan2, 0x7e, 300*time.Millisecond) {
		t.Error("gateway 2 saw gateway 1's PADI: WAN ports not isolated")
	}
}

func TestForwardTCP(t *testing.T) {
	t.Parallel()
	ns := NewNetns(t, "eb-fwd")
	var l net.Listener
	if err := ns.Do(func() (err error) {
		l, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "inside "+ns.Name)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	addr := ForwardTCP(t, "127.0.0.1:0", ns, l.Addr().String())
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i < 3; i++ {
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(body, []byte("inside "+ns.Name)) {
			t.Fatalf("got %q", body)
		}
	}
	client.CloseIdleConnections()
}
