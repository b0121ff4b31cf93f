package authz

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zaptest"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
)

const secret = "authz-test"

var mac = net.HardwareAddr{0x00, 0x10, 0xa4, 0x23, 0x19, 0xc0}

// server is a RADIUS server on 127.0.0.1 answering with answer (nil:
// silent), after checking every request's Message-Authenticator.
type server struct {
	conn net.PacketConn
	mu   sync.Mutex
	reqs []*radius.Packet
}

func newServer(t *testing.T, answer func(req *radius.Packet) *radius.Packet) *server {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{conn: c}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if err := radiusx.VerifyRequest(buf[:n], []byte(secret)); err != nil {
				t.Errorf("request does not verify: %v", err)
				continue
			}
			req, err := radius.Parse(buf[:n], []byte(secret))
			if err != nil {
				t.Errorf("parse: %v", err)
				continue
			}
			s.mu.Lock()
			s.reqs = append(s.reqs, req)
			s.mu.Unlock()
			resp := answer(req)
			if resp == nil {
				continue
			}
			b, err := radiusx.Encode(resp)
			if err != nil {
				t.Errorf("encode: %v", err)
				continue
			}
			c.WriteTo(b, from)
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return s
}

func (s *server) addr() string { return s.conn.LocalAddr().String() }

func (s *server) requests() []*radius.Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*radius.Packet(nil), s.reqs...)
}

func answers(req *radius.Packet) *radius.Packet {
	switch rfc2865.UserName_GetString(req) {
	case "alice":
		p := req.Response(radius.CodeAccessAccept)
		ebattr.EdgeBillTariff_AddString(p, "T1;id=a;v=1;")
		ebattr.EdgeBillTariff_AddString(p, "cur=CNY;sc=4")
		rfc2869.AcctInterimInterval_Set(p, 300)
		ebattr.EdgeBillCredit_Set(p, 4200)
		rfc2865.Class_Set(p, []byte("plan-a"))
		return p
	case "dave":
		p := req.Response(radius.CodeAccessReject)
		rfc2865.ReplyMessage_SetString(p, "Account in arrears")
		return p
	}
	return nil
}

func newAuthorizer(t *testing.T, cfg Config) *Authorizer {
	t.Helper()
	cfg.GatewayID = "gw-1"
	cfg.IRT, cfg.MRC, cfg.MRD = 50*time.Millisecond, 1, 200*time.Millisecond
	cfg.Logger = zaptest.NewLogger(t)
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestAuthorize(t *testing.T) {
	silent := newServer(t, func(*radius.Packet) *radius.Packet { return nil })
	srv := newServer(t, answers)
	a := newAuthorizer(t, Config{Servers: []Server{{Addr: silent.addr(), Secret: secret}, {Addr: srv.addr(), Secret: secret}}})
	ctx := context.Background()

	d, err := a.Authorize(ctx, "alice", mac)
	if err != nil {
		t.Fatal(err)
	}
	want := gateway.Decision{Accept: true, Auth: gateway.Authorization{
		Tariff: "T1;id=a;v=1;cur=CNY;sc=4", InterimInterval: 5 * time.Minute, Credit: 4200, HasCredit: true, Class: []byte("plan-a")}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("accept (-want +got):\n%s", diff)
	}
	if len(silent.requests()) == 0 {
		t.Error("the first server was not tried")
	}

	d, err = a.Authorize(ctx, "dave", mac)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(gateway.Decision{ReplyMessage: "Account in arrears"}, d); diff != "" {
		t.Errorf("reject (-want +got):\n%s", diff)
	}

	req := srv.requests()[0]
	got := []string{
		rfc2865.UserName_GetString(req),
		rfc2865.CallingStationID_GetString(req),
		rfc2865.NASIdentifier_GetString(req),
	}
	if diff := cmp.Diff([]string{"alice", "00-10-A4-23-19-C0", "gw-1"}, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if st := rfc2865.ServiceType_Get(req); st != 17 {
		t.Errorf("Service-Type %d, want 17 (Authorize-Only)", st)
	}
	if _, ok := req.Lookup(rfc2865.UserPassword_Type); ok {
		t.Error("User-Password sent")
	}
}

func TestFailClosedAndOpen(t *testing.T) {
	silent := newServer(t, func(*radius.Packet) *radius.Packet { return nil })
	servers := []Server{{Addr: silent.addr(), Secret: secret}}
	closed := newAuthorizer(t, Config{Servers: servers})
	if _, err := closed.Authorize(context.Background(), "alice", mac); !errors.Is(err, ErrUnavailable) {
		t.Errorf("fail closed: %v, want ErrUnavailable", err)
	}
	open := newAuthorizer(t, Config{Servers: servers, FailOpen: true})
	d, err := open.Authorize(context.Background(), "alice", mac)
	if err != nil || !d.Accept {
		t.Errorf("fail open: %+v, %v", d, err)
	}
}

// A reply signed with the wrong secret is dropped: no answer.
func TestBadReplyIgnored(t *testing.T) {
	srv := newServer(t, func(req *radius.Packet) *radius.Packet {
		p := req.Response(radius.CodeAccessAccept)
		p.Secret = []byte("not-the-secret")
		return p
	})
	a := newAuthorizer(t, Config{Servers: []Server{{Addr: srv.addr(), Secret: secret}}})
	if d, err := a.Authorize(context.Background(), "alice", mac); !errors.Is(err, ErrUnavailable) {
		t.Errorf("%+v, %v; want ErrUnavailable", d, err)
	}
}
