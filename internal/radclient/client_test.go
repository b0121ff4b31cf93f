package radclient

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/rfc/radiusx"
)

const testSecret = "radclient-test-secret"

// arrival is one request as a fake server saw it.
type arrival struct {
	at   time.Time
	from string
	raw  []byte
	p    *radius.Packet
}

// fakeServer is a RADIUS server on 127.0.0.1 whose behaviour a test
// scripts: handle returns the reply to send, or nil to stay silent.
type fakeServer struct {
	t      testing.TB
	conn   net.PacketConn
	secret []byte
	handle func(s *fakeServer, a arrival) *radius.Packet
	// legacy replies without a Message-Authenticator (layeh's Encode).
	legacy bool
	// noRecord keeps no arrivals (benchmarks).
	noRecord bool

	mu   sync.Mutex
	seen []arrival
}

func newFakeServer(t testing.TB, handle func(s *fakeServer, a arrival) *radius.Packet, opts ...func(*fakeServer)) *fakeServer {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, conn: conn, secret: []byte(testSecret), handle: handle}
	for _, o := range opts {
		o(s)
	}
	done := make(chan struct{})
	go s.serve(done)
	t.Cleanup(func() { conn.Close(); <-done })
	return s
}

func (s *fakeServer) addr() string { return s.conn.LocalAddr().String() }

func (s *fakeServer) serve(done chan struct{}) {
	defer close(done)
	buf := make([]byte, 4096)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		raw := append([]byte(nil), buf[:n]...)
		if err := radiusx.VerifyRequest(raw, s.secret); err != nil {
			s.t.Errorf("fake server: request does not verify: %v", err)
			continue
		}
		p, err := radius.Parse(raw, s.secret)
		if err != nil {
			s.t.Errorf("fake server: %v", err)
			continue
		}
		a := arrival{at: time.Now(), from: from.String(), raw: raw, p: p}
		if !s.noRecord {
			s.mu.Lock()
			s.seen = append(s.seen, a)
			s.mu.Unlock()
		}
		if s.handle == nil {
			continue
		}
		r := s.handle(s, a)
		if r == nil {
			continue
		}
		s.reply(r, from)
	}
}

func (s *fakeServer) reply(r *radius.Packet, to net.Addr) {
	var b []byte
	var err error
	if s.legacy {
		b, err = r.Encode()
	} else {
		b, err = radiusx.Encode(r)
	}
	if err != nil {
		s.t.Errorf("fake server: encode: %v", err)
		return
	}
	s.conn.WriteTo(b, to)
}

func (s *fakeServer) arrivals() []arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]arrival(nil), s.seen...)
}

func accept(_ *fakeServer, a arrival) *radius.Packet {
	code := radius.CodeAccessAccept
	if a.p.Code == radius.CodeAccountingRequest {
		code = radius.CodeAccountingResponse
	}
	return a.p.Response(code)
}

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = zaptest.NewLogger(t)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func accessRequest(t testing.TB, user, pw string) *radius.Packet {
	p := radius.New(radius.CodeAccessRequest, []byte("any-local-secret"))
	rfc2865.UserName_SetString(p, user)
	if err := rfc2865.UserPassword_SetString(p, pw); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExchangePAP(t *testing.T) {
	srv := newFakeServer(t, func(s *fakeServer, a arrival) *radius.Packet {
		pw := rfc2865.UserPassword_GetString(a.p)
		if rfc2865.UserName_GetString(a.p) == "alice" && pw == "a long password, more than sixteen octets" {
			r := a.p.Response(radius.CodeAccessAccept)
			rfc2865.ReplyMessage_SetString(r, "welcome")
			return r
		}
		return a.p.Response(radius.CodeAccessReject)
	})
	c := newClient(t, Config{Servers: []Server{{srv.addr(), testSecret}}, IRT: 200 * time.Millisecond})
	ctx := context.Background()
	resp, err := c.Exchange(ctx, accessRequest(t, "alice", "a long password, more than sixteen octets"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != radius.CodeAccessAccept || rfc2865.ReplyMessage_GetString(resp) != "welcome" {
		t.Fatalf("reply %v %q", resp.Code, rfc2865.ReplyMessage_GetString(resp))
	}
	resp, err = c.Exchange(ctx, accessRequest(t, "alice", "wrong"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != radius.CodeAccessReject {
		t.Fatalf("reply %v, want Access-Reject", resp.Code)
	}
	// Every request carried a Message-Authenticator first.
	for _, a := range srv.arrivals() {
		if radius.Type(a.raw[20]) != radiusx.MessageAuthenticatorType {
			t.Fatalf("first attribute %d, want Message-Authenticator", a.raw[20])
		}
	}
}

func TestRetransmitBackoff(t *testing.T) {
	const irt = 60 * time.Millisecond
	var n atomic.Int32
	srv := newFakeServer(t, func(s *fakeServer, a arrival) *radius.Packet {
		if n.Add(1) <= 3 { // drop the first three copies
			return nil
		}
		return accept(s, a)
	})
	c := newClient(t, Config{Servers: []Server{{srv.addr(), testSecret}}, IRT: irt, MRT: 10 * irt, MRC: 5, MRD: 10 * time.Second})
	if _, err := c.Exchange(context.Background(), accessRequest(t, "bob", "pw")); err != nil {
		t.Fatal(err)
	}
	as := srv.arrivals()
	if len(as) != 4 {
		t.Fatalf("%d transmissions, want 4", len(as))
	}
	for i, a := range as[1:] {
		if string(a.raw) != string(as[0].raw) {
			t.Fatalf("retransmission %d differs from the first packet", i+1)
		}
	}
	// RT roughly doubles: IRT, 2 IRT, 4 IRT, each ±10%, plus what a
	// loaded machine adds to either end of a gap.
	for i := 1; i < len(as); i++ {
		gap := as[i].at.Sub(as[i-1].at)
		want := irt << (i - 1)
		if gap < want*70/100 || gap > want*2+100*time.Millisecond {
			t.Errorf("gap %d = %v, want about %v", i, gap, want)
		}
	}
	if s := c.Stats(); s.Retransmits != 3 || s.Requests != 1 || s.Responses != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFailover(t *testing.T) {
	dead := newFakeServer(t, nil) // hears, never answers
	live := newFakeServer(t, accept)
	c := newClient(t, Config{
		Servers: []Server{{dead.addr(), testSecret}, {live.addr(), testSecret}},
		IRT:     30 * time.Millisecond, MRC: 2, MRD: time.Second,
	})
	ctx := context.Background()
	if _, err := c.Exchange(ctx, accessRequest(t, "carol", "pw")); err != nil {
		t.Fatal(err)
	}
	if got := len(dead.arrivals()); got != 3 {
		t.Fatalf("dead server saw %d transmissions, want 1 + MRC = 3", got)
	}
	// The server that answered is now tried first.
	if _, err := c.Exchange(ctx, accessRequest(t, "carol", "pw")); err != nil {
		t.Fatal(err)
	}
	if got := len(dead.arrivals()); got != 3 {
		t.Fatalf("dead server tried again (%d transmissions)", got)
	}
	if s := c.Stats(); s.Failovers != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestNoServerAnswers(t *testing.T) {
	dead := newFakeServer(t, nil)
	c := newClient(t, Config{Servers: []Server{{dead.addr(), testSecret}}, IRT: 20 * time.Millisecond, MRC: 2, MRD: time.Second})
	_, err := c.Exchange(context.Background(), accessRequest(t, "x", "y"))
	if !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("err = %v, want ErrNoAnswer", err)
	}
	if s := c.Stats(); s.Timeouts != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// Replies without a valid Message-Authenticator, or signed with another
// secret, are dropped (BlastRADIUS): the request times out.
func TestUnsignedRepliesDropped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		legacy bool
		secret string
	}{
		{"no Message-Authenticator", true, testSecret},
		{"wrong secret", false, "another-secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFakeServer(t, func(s *fakeServer, a arrival) *radius.Packet {
				r := a.p.Response(radius.CodeAccessAccept)
				r.Secret = []byte(tc.secret)
				return r
			}, func(s *fakeServer) { s.legacy = tc.legacy })
			c := newClient(t, Config{Servers: []Server{{srv.addr(), testSecret}}, IRT: 20 * time.Millisecond, MRC: 1, MRD: time.Second})
			_, err := c.Exchange(context.Background(), accessRequest(t, "x", "y"))
			if !errors.Is(err, ErrNoAnswer) {
				t.Fatalf("err = %v, want ErrNoAnswer", err)
			}
			if s := c.Stats(); s.BadReplies != 2 || s.Responses != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// More requests than one socket's 256 Identifiers are outstanding at
// once: the server answers nothing until it holds 700 of them.
func TestManyOutstanding(t *testing.T) {
	const n = 700
	var (
		mu      sync.Mutex
		held    = map[string]arrival{} // by socket and identifier
		release = make(chan struct{})
	)
	srv := newFakeServer(t, func(s *fakeServer, a arrival) *radius.Packet {
		mu.Lock()
		defer mu.Unlock()
		select {
		case <-release:
			return accept(s, a)
		default:
		}
		held[a.from+"/"+string(rune(a.raw[1]))] = a
		if len(held) == n {
			close(release)
			for _, h := range held {
				from, _ := net.ResolveUDPAddr("udp", h.from)
				s.reply(accept(s, h), from)
			}
		}
		return nil
	}, func(s *fakeServer) { s.noRecord = true })
	c := newClient(t, Config{Servers: []Server{{srv.addr(), testSecret}}, Sockets: 3, IRT: 500 * time.Millisecond, MRD: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := radius.New(radius.CodeAccessRequest, nil)
			rfc2865.UserName_SetString(p, "u"+string(rune('a'+i%26)))
			if _, err := c.Exchange(ctx, p); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d exchanges failed; stats %+v", failed.Load(), n, c.Stats())
	}
	select {
	case <-release:
	default:
		t.Fatal("the server never held all requests at once")
	}
}

// With more callers than Identifiers, callers wait for a free one.
func TestIdentifierExhaustionWaits(t *testing.T) {
	srv := newFakeServer(t, func(s *fakeServer, a arrival) *radius.Packet {
		time.Sleep(100 * time.Microsecond)
		return accept(s, a)
	})
	c := newClient(t, Config{Servers: []Server{{srv.addr(), testSecret}}, Sockets: 1, IRT: 500 * time.Millisecond, MRC: 20, MRD: 20 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 600 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := radius.New(radius.CodeAccessRequest, nil)
			rfc2865.UserName_SetString(p, "u")
			if _, err := c.Exchange(ctx, p); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d failed", failed.Load())
	}
}

func TestExchangeContextCancel(t *testing.T) {
	dead := newFakeServer(t, nil)
	c := newClient(t, Config{Servers: []Server{{dead.addr(), testSecret}}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exchange(ctx, accessRequest(t, "x", "y"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

func TestCloseUnblocks(t *testing.T) {
	dead := newFakeServer(t, nil)
	c, err := New(Config{Servers: []Server{{dead.addr(), testSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exchange(context.Background(), accessRequest(t, "x", "y"))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Exchange still blocked after Close")
	}
}

func accountingRequest(sess string) *radius.Packet {
	p := radius.New(radius.CodeAccountingRequest, nil)
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Stop)
	rfc2866.AcctSessionID_SetString(p, sess)
	rfc2865.UserName_SetString(p, "alice")
	return p
}

// Accounting retransmissions carry the growing Acct-Delay-Time and a new
// Identifier whenever it changes; Account keeps going across failover
// rounds until a server answers.
func TestAccountDelayTimeAndPersistence(t *testing.T) {
	var up atomic.Bool
	srv := newFakeServer(t, func(s *fakeServer, a arrival) *radius.Packet {
		if !up.Load() {
			return nil
		}
		return accept(s, a)
	})
	dead := newFakeServer(t, nil)
	c := newClient(t, Config{
		Servers: []Server{{srv.addr(), testSecret}, {dead.addr(), testSecret}},
		IRT:     150 * time.Millisecond, MRT: 300 * time.Millisecond, MRC: 2, MRD: time.Second,
	})
	time.AfterFunc(2300*time.Millisecond, func() { up.Store(true) })
	p := accountingRequest("acct-1")
	rfc2866.AcctDelayTime_Set(p, 5) // already 5 s late when handed over
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.Account(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != radius.CodeAccountingResponse {
		t.Fatalf("code %v", resp.Code)
	}
	all := append(srv.arrivals(), dead.arrivals()...)
	if len(all) < 6 {
		t.Fatalf("only %d transmissions", len(all))
	}
	ids := map[uint32]map[string]bool{} // delay -> identifiers per sender
	var maxDelay uint32
	for _, a := range all {
		d := uint32(rfc2866.AcctDelayTime_Get(a.p))
		if d < 5 {
			t.Fatalf("Acct-Delay-Time %d below the packet's own 5", d)
		}
		if vs, _ := rfc2866.AcctDelayTime_Gets(a.p); len(vs) != 1 {
			t.Fatalf("%d Acct-Delay-Time attributes", len(vs))
		}
		maxDelay = max(maxDelay, d)
		if ids[d] == nil {
			ids[d] = map[string]bool{}
		}
		ids[d][a.from+string(rune(a.raw[1]))] = true
	}
	if maxDelay < 7 {
		t.Fatalf("max Acct-Delay-Time %d, want >= 7 after 2.3 s", maxDelay)
	}
	// The same Identifier never carries two different delays.
	owner := map[string]uint32{}
	for d, set := range ids {
		for id := range set {
			if o, ok := owner[id]; ok && o != d {
				t.Fatalf("identifier %q reused for delays %d and %d", id, o, d)
			}
			owner[id] = d
		}
	}
	if s := c.Stats(); s.Failovers == 0 {
		t.Fatalf("no failover: %+v", s)
	}
}

// A late answer to the previous packet of an accounting record (before
// Acct-Delay-Time changed) still acknowledges it.
func TestAccountLateAnswerToPreviousIdentifier(t *testing.T) {
	var first atomic.Pointer[arrival]
	srv := newFakeServer(t, func(s *fakeServer, a arrival) *radius.Packet {
		if first.CompareAndSwap(nil, &a) {
			return nil
		}
		// Answer the first packet, not this one.
		f := first.Load()
		from, _ := net.ResolveUDPAddr("udp", f.from)
		s.reply(accept(s, *f), from)
		return nil
	})
	// The first retransmission leaves after IRT +-10% (RFC 5080 §2.2.1):
	// past a second even at -10%, so Acct-Delay-Time has moved and the
	// retransmission is a new packet with a new identifier.
	c := newClient(t, Config{Servers: []Server{{srv.addr(), testSecret}}, IRT: 1300 * time.Millisecond, MRT: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Account(ctx, accountingRequest("acct-2")); err != nil {
		t.Fatal(err)
	}
	as := srv.arrivals()
	if len(as) < 2 || as[0].raw[1] == as[1].raw[1] && as[0].from == as[1].from {
		t.Fatalf("want a second transmission with a new identifier, got %d", len(as))
	}
}

func TestAccountContextEnds(t *testing.T) {
	dead := newFakeServer(t, nil)
	c := newClient(t, Config{Servers: []Server{{dead.addr(), testSecret}}, IRT: 20 * time.Millisecond, MRC: 1, MRD: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := c.Account(ctx, accountingRequest("acct-3"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no servers: no error")
	}
	if _, err := New(Config{Servers: []Server{{"127.0.0.1:1812", ""}}}); err == nil {
		t.Error("empty secret: no error")
	}
	if _, err := New(Config{Servers: []Server{{"127.0.0.1:1812", "s"}}, LocalAddr: "nope"}); err == nil {
		t.Error("bad local address: no error")
	}
	c, err := New(Config{Servers: []Server{{"127.0.0.1:1812", "s"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Account(context.Background(), radius.New(radius.CodeAccessRequest, nil)); err == nil {
		t.Error("Account(Access-Request): no error")
	}
}

func BenchmarkExchange(b *testing.B) {
	srv := newFakeServer(b, accept, func(s *fakeServer) { s.noRecord = true })
	c := newClient(b, Config{Servers: []Server{{srv.addr(), testSecret}}})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := radius.New(radius.CodeAccessRequest, nil)
			rfc2865.UserName_SetString(p, "alice")
			if _, err := c.Exchange(ctx, p); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// FreeRADIUS does not sign Accounting-Responses: one without a
// Message-Authenticator but with a good Response Authenticator is
// accepted; an Access-Accept without one is not (above).
func TestAccountingResponseWithoutMessageAuthenticator(t *testing.T) {
	srv := newFakeServer(t, accept, func(s *fakeServer) { s.legacy = true })
	c := newClient(t, Config{Servers: []Server{{srv.addr(), testSecret}}, IRT: 50 * time.Millisecond, MRC: 1, MRD: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Account(ctx, accountingRequest("acct-4")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exchange(ctx, accessRequest(t, "x", "y")); !errors.Is(err, ErrNoAnswer) {
		t.Fatalf("unsigned Access-Accept: err = %v", err)
	}
}
