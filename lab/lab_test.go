//go:build linux

package lab

import (
	"context"
	"crypto/rand"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc3576"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// radclient runs FreeRADIUS's own client (a peer none of us wrote) with
// the attribute list in input.
func radclient(t *testing.T, addr, kind, secret, input string) string {
	t.Helper()
	bin := testenv.Binary(t, "radclient")
	cmd := exec.Command(bin, "-x", "-r", "3", "-t", "2", addr, kind, secret)
	cmd.Stdin = strings.NewReader(input)
	// radclient exits 1 on an Access-Reject: the output says what came back.
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	pg := StartPostgres(t, nil)
	ctx := context.Background()
	c, err := pg.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v string
	if err := c.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "1") {
		t.Fatalf("server_version = %q", v)
	}
	var db string
	if err := c.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	if db != pg.Database {
		t.Fatalf("connected to %q, want %q", db, pg.Database)
	}
}

func TestPostgresImmediateStopKeepsCommitted(t *testing.T) {
	t.Parallel()
	pg := StartPostgres(t, nil)
	ctx := context.Background()
	if err := pg.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t SELECT generate_series(1, 100)"); err != nil {
		t.Fatal(err)
	}
	pg.Stop(true)
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := pg.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Fatalf("after crash recovery: %d rows, want 100", n)
	}
}

func startRADIUS(t *testing.T) *FreeRADIUS {
	pg := StartPostgres(t, &PostgresOptions{NoFsync: true})
	return StartFreeRADIUS(t, pg, &FreeRADIUSOptions{Fixtures: []string{"testdata/sql/subscribers.sql"}})
}

func TestFreeRADIUSRadclientAuthAndAccounting(t *testing.T) {
	t.Parallel()
	fr := startRADIUS(t)

	out := radclient(t, fr.AuthAddr, "auth", fr.NASSecret,
		"User-Name = alice\nUser-Password = alice-pw\nMessage-Authenticator = 0x00\n")
	if !strings.Contains(out, "Access-Accept") {
		t.Fatalf("alice: want Access-Accept:\n%s", out)
	}
	out = radclient(t, fr.AuthAddr, "auth", fr.NASSecret,
		"User-Name = dave\nUser-Password = dave-pw\nMessage-Authenticator = 0x00\n")
	if !strings.Contains(out, "Access-Reject") || !strings.Contains(out, "arrears") {
		t.Fatalf("dave: want Access-Reject in arrears:\n%s", out)
	}

	const sess = "lab-test-0001"
	out = radclient(t, fr.AcctAddr, "acct", fr.NASSecret, "Acct-Status-Type = Start\nUser-Name = alice\nAcct-Session-Id = "+sess+
		"\nNAS-Identifier = lab\nNAS-IP-Address = 127.0.0.1\nFramed-IP-Address = 100.64.0.7\nCalling-Station-Id = 02-00-00-00-00-01\n")
	if !strings.Contains(out, "Accounting-Response") {
		t.Fatalf("Start: no Accounting-Response:\n%s", out)
	}
	out = radclient(t, fr.AcctAddr, "acct", fr.NASSecret, "Acct-Status-Type = Stop\nUser-Name = alice\nAcct-Session-Id = "+sess+
		"\nNAS-Identifier = lab\nNAS-IP-Address = 127.0.0.1\nFramed-IP-Address = 100.64.0.7\nAcct-Session-Time = 42\nAcct-Input-Octets = 1000\nAcct-Input-Gigawords = 1\n"+
		"Acct-Output-Octets = 2000\nAcct-Terminate-Cause = User-Request\n")
	if !strings.Contains(out, "Accounting-Response") {
		t.Fatalf("Stop: no Accounting-Response:\n%s", out)
	}

	ctx := context.Background()
	c, err := fr.PG.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var (
		user, cause  string
		in, out64    int64
		secs         int64
		stopNotNull  bool
		framed       string
		callingStati string
	)
	err = c.QueryRow(ctx, `SELECT username, acctsessiontime, acctinputoctets, acctoutputoctets, acctterminatecause,
		acctstoptime IS NOT NULL, host(framedipaddress), callingstationid FROM radacct WHERE acctsessionid = $1`, sess).
		Scan(&user, &secs, &in, &out64, &cause, &stopNotNull, &framed, &callingStati)
	if err != nil {
		t.Fatalf("radacct row: %v\n%s", err, fr.Log())
	}
	if user != "alice" || secs != 42 || in != 1<<32+1000 || out64 != 2000 || cause != "User-Request" || !stopNotNull || framed != "100.64.0.7" {
		t.Fatalf("radacct = %s %d %d %d %s %v %s", user, secs, in, out64, cause, stopNotNull, framed)
	}
}

// exchange sends a packet signed by radiusx and returns request and reply
// wire bytes.
func exchange(t *testing.T, addr string, p *radius.Packet) (req, resp []byte) {
	t.Helper()
	req, err := radiusx.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 4096)
	for try := 0; try < 3; try++ {
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err == nil {
			return req, buf[:n]
		}
	}
	return req, nil
}

func TestFreeRADIUSRequiresMessageAuthenticator(t *testing.T) {
	t.Parallel()
	fr := startRADIUS(t)

	newReq := func(user, pw string) *radius.Packet {
		p := radius.New(radius.CodeAccessRequest, []byte(fr.NASSecret))
		rand.Read(p.Authenticator[:])
		p.Identifier = 7
		rfc2865.UserName_SetString(p, user)
		rfc2865.UserPassword_SetString(p, pw)
		return p
	}

	// Signed by our code: accepted, and the reply verifies.
	req, resp := exchange(t, fr.AuthAddr, newReq("alice", "alice-pw"))
	if resp == nil {
		t.Fatalf("no reply to a signed Access-Request\n%s", fr.Log())
	}
	if radius.Code(resp[0]) != radius.CodeAccessAccept {
		t.Fatalf("reply code %d, want Access-Accept", resp[0])
	}
	if err := radiusx.VerifyResponse(resp, req, []byte(fr.NASSecret)); err != nil {
		t.Fatalf("VerifyResponse(real reply) = %v", err)
	}
	// One byte changed anywhere in the reply: refused.
	for i := range resp {
		bad := append([]byte(nil), resp...)
		bad[i] ^= 0x01
		if err := radiusx.VerifyResponse(bad, req, []byte(fr.NASSecret)); err == nil {
			t.Fatalf("VerifyResponse accepted the reply with byte %d changed", i)
		}
	}
	// Message-Authenticator removed (and the Response Authenticator made
	// right again, as an attacker who knows the secret would): refused.
	p, err := radius.Parse(resp, []byte(fr.NASSecret))
	if err != nil {
		t.Fatal(err)
	}
	p.Del(radiusx.MessageAuthenticatorType)
	copy(p.Authenticator[:], req[4:20])
	stripped, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := radiusx.VerifyResponse(stripped, req, []byte(fr.NASSecret)); err != radiusx.ErrNoMessageAuthenticator {
		t.Fatalf("VerifyResponse(no Message-Authenticator) = %v, want ErrNoMessageAuthenticator", err)
	}

	// Not signed: FreeRADIUS drops it silently.
	p = newReq("alice", "alice-pw")
	raw, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", fr.AuthAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(raw)
	c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	if n, err := c.Read(make([]byte, 4096)); err == nil {
		t.Fatalf("FreeRADIUS answered an unsigned Access-Request (%d octets)", n)
	}

	// A signed Accounting-Request is acknowledged and the response verifies.
	a := radius.New(radius.CodeAccountingRequest, []byte(fr.NASSecret))
	a.Identifier = 9
	rfc2866.AcctStatusType_Set(a, rfc2866.AcctStatusType_Value_Start)
	rfc2865.UserName_SetString(a, "alice")
	rfc2866.AcctSessionID_SetString(a, "ma-test")
	rfc2865.NASIdentifier_SetString(a, "lab")
	req, resp = exchange(t, fr.AcctAddr, a)
	if resp == nil {
		t.Fatalf("no Accounting-Response\n%s", fr.Log())
	}
	if err := radiusx.VerifyRequest(req, []byte(fr.NASSecret)); err != nil {
		t.Fatalf("VerifyRequest(our own Accounting-Request) = %v", err)
	}
	if !radius.IsAuthenticResponse(resp, req, []byte(fr.NASSecret)) {
		t.Fatal("Accounting-Response does not authenticate")
	}
}

func TestFreeRADIUSAuthorizeOnly(t *testing.T) {
	t.Parallel()
	fr := startRADIUS(t)
	tariffs := map[string]string{}
	ask := func(user string) (radius.Code, string) {
		p := radius.New(radius.CodeAccessRequest, []byte(fr.GatewaySecret))
		rand.Read(p.Authenticator[:])
		rfc2865.UserName_SetString(p, user)
		rfc2865.ServiceType_Set(p, rfc3576.ServiceType_Value_AuthorizeOnly)
		rfc2865.NASIdentifier_SetString(p, "gw-test")
		req, err := radiusx.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		laddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)}
		raddr, _ := net.ResolveUDPAddr("udp", fr.AuthAddr)
		c, err := net.DialUDP("udp", laddr, raddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(req)
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 4096)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("%s: no reply: %v\n%s", user, err, fr.Log())
		}
		if err := radiusx.VerifyResponse(buf[:n], req, []byte(fr.GatewaySecret)); err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		r, _ := radius.Parse(buf[:n], []byte(fr.GatewaySecret))
		if r.Code == radius.CodeAccessAccept {
			tf, err := tariff.FromPacket(r)
			if err != nil {
				t.Fatalf("%s: tariff in Access-Accept: %v", user, err)
			}
			tariffs[user] = tf.ID()
		}
		return r.Code, rfc2865.ReplyMessage_GetString(r)
	}
	for _, tc := range []struct {
		user string
		code radius.Code
		msg  string
	}{
		{"alice", radius.CodeAccessAccept, ""},
		{"bob", radius.CodeAccessAccept, ""},
		{"carol", radius.CodeAccessAccept, ""},
		{"dave", radius.CodeAccessReject, "arrears"},
		{"erin", radius.CodeAccessReject, "not yet activated"},
		{"nobody", radius.CodeAccessReject, "Unknown"},
	} {
		code, msg := ask(tc.user)
		if code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: got %v %q, want %v containing %q", tc.user, code, msg, tc.code, tc.msg)
		}
	}
	want := map[string]string{"alice": "time-basic", "bob": "volume-tiered", "carol": "peak-offpeak"}
	for u, id := range want {
		if tariffs[u] != id {
			t.Errorf("%s: tariff %q, want %q", u, tariffs[u], id)
		}
	}
}

func TestNetnsVeth(t *testing.T) {
	t.Parallel()
	a := NewNetns(t, "eb-a")
	b := NewNetns(t, "eb-b")
	Veth(t, a, "veth0", "10.250.0.1/30", b, "veth0", "10.250.0.2/30")

	srv, err := b.ListenPacket("udp", "10.250.0.2:7777")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cli, err := a.ListenPacket("udp", "10.250.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	dst := &net.UDPAddr{IP: net.IPv4(10, 250, 0, 2), Port: 7777}
	got := make([]byte, 64)
	var n int
	for try := 0; try < 20 && n == 0; try++ { // the link may take a moment to come up
		cli.WriteTo([]byte("hello across veth"), dst)
		srv.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		n, _, _ = srv.ReadFrom(got)
	}
	if string(got[:n]) != "hello across veth" {
		t.Fatalf("got %q", got[:n])
	}
	mac, err := a.HardwareAddr("veth0")
	if err != nil || len(mac) != 6 {
		t.Fatalf("HardwareAddr = %v, %v", mac, err)
	}
}
