package nas_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/nas"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/nas/link"
	"github.com/edgebill/edgebill/rfc/radiusx"
)

// fakeUser is a subscriber of fakeRADIUS.
type fakeUser struct {
	password string
	reject   string // non-empty: Access-Reject with this Reply-Message
	reply    func(r *radius.Packet)
}

// fakeRADIUS answers Access-Requests from a user table (PAP and CHAP-MD5,
// as FreeRADIUS does) and acknowledges every Accounting-Request, keeping
// them. It stands in for radclient.Client at nas.Options' seams.
type fakeRADIUS struct {
	mu       sync.Mutex
	users    map[string]fakeUser
	access   []*radius.Packet
	acct     []*radius.Packet
	acctDown bool // while true, Account blocks until it is false or ctx ends
	changed  chan struct{}
}

func newFakeRADIUS() *fakeRADIUS {
	return &fakeRADIUS{changed: make(chan struct{}), users: map[string]fakeUser{
		"alice": {password: "alice-pw"},
		"bob":   {password: "bob-pw"},
		"carol": {password: "carol-pw"},
		"dave":  {password: "dave-pw", reject: "Account in arrears: please pay your bill"},
		"erin":  {password: "erin-pw", reject: "Account not yet activated"},
	}}
}

func (f *fakeRADIUS) Exchange(ctx context.Context, p *radius.Packet) (*radius.Packet, error) {
	f.mu.Lock()
	f.access = append(f.access, p)
	u, ok := f.users[rfc2865.UserName_GetString(p)]
	f.mu.Unlock()
	if p.Code != radius.CodeAccessRequest {
		return nil, errors.New("fake: not an Access-Request")
	}
	good := false
	if ok {
		if a, found := p.Lookup(rfc2865.UserPassword_Type); found {
			pw, err := radius.UserPassword(a, p.Secret, p.Authenticator[:])
			good = err == nil && string(pw) == u.password
		} else if cp := rfc2865.CHAPPassword_Get(p); len(cp) == 17 {
			h := md5.New()
			h.Write(cp[:1])
			h.Write([]byte(u.password))
			h.Write(rfc2865.CHAPChallenge_Get(p))
			good = bytes.Equal(h.Sum(nil), cp[1:])
		}
	}
	r := p.Response(radius.CodeAccessAccept)
	switch {
	case !ok:
		r.Code = radius.CodeAccessReject
		rfc2865.ReplyMessage_SetString(r, "Unknown subscriber")
	case u.reject != "":
		r.Code = radius.CodeAccessReject
		rfc2865.ReplyMessage_SetString(r, u.reject)
	case !good:
		r.Code = radius.CodeAccessReject
	default:
		rfc2869.AcctInterimInterval_Set(r, 60)
		if u.reply != nil {
			u.reply(r)
		}
	}
	return r, nil
}

func (f *fakeRADIUS) Account(ctx context.Context, p *radius.Packet) (*radius.Packet, error) {
	for {
		f.mu.Lock()
		down, ch := f.acctDown, f.changed
		if !down {
			f.acct = append(f.acct, p)
			f.mu.Unlock()
			return p.Response(radius.CodeAccountingResponse), nil
		}
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (f *fakeRADIUS) setAcctDown(down bool) {
	f.mu.Lock()
	f.acctDown = down
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// records returns the accounting records of a session (by
// Acct-Session-Id), or all of them for "".
func (f *fakeRADIUS) records(id string) []*radius.Packet {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*radius.Packet
	for _, p := range f.acct {
		if id == "" || rfc2866.AcctSessionID_GetString(p) == id {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeRADIUS) accessRequests() []*radius.Packet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*radius.Packet(nil), f.access...)
}

var acMAC = net.HardwareAddr{0x02, 0xac, 0, 0, 0, 1}

// hubNAS is nasd on an in-memory hub, with fake RADIUS, and a dialer Mux
// on the same hub.
type hubNAS struct {
	t      *testing.T
	srv    *nas.Server
	hub    *link.Hub
	port   *link.Port
	fr     *fakeRADIUS
	mux    *client.Mux
	cancel context.CancelFunc
	done   chan error
}

// testConfig is a configuration with short timers for tests.
func testConfig() nas.Config {
	return nas.Config{
		ACName:       "hub-nas",
		Tick:         10 * time.Millisecond,
		LCPRestart:   300 * time.Millisecond,
		AcctOnWait:   time.Second,
		Pool:         netip.MustParsePrefix("100.64.0.0/24"),
		DNS:          []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("192.0.2.54")},
		EchoInterval: -1,
	}
}

func startHubNAS(t *testing.T, cfg nas.Config, opts nas.Options) *hubNAS {
	t.Helper()
	h := &hubNAS{t: t, hub: link.NewHub(), fr: newFakeRADIUS(), done: make(chan error, 1)}
	h.port = h.hub.Port(acMAC, 0)
	if opts.Link == nil {
		opts.Link = h.port
	}
	if opts.Auth == nil {
		opts.Auth = h.fr
	}
	if opts.Acct == nil {
		opts.Acct = h.fr
	}
	if opts.Logger == nil {
		opts.Logger = zaptest.NewLogger(t)
	}
	srv, err := nas.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- srv.Run(ctx) }()
	t.Cleanup(func() { h.stop() })
	waitFor(t, 5*time.Second, "nasd ready", srv.Ready)

	dport := h.hub.Port(net.HardwareAddr{0x02, 0xd1, 0, 0, 0, 0}, 0)
	h.mux = client.NewMux(dport, zaptest.NewLogger(t))
	mctx, mcancel := context.WithCancel(context.Background())
	mdone := make(chan struct{})
	go func() { h.mux.Run(mctx); close(mdone) }()
	t.Cleanup(func() { mcancel(); <-mdone })
	return h
}

// stop shuts nasd down and returns Run's error.
func (h *hubNAS) stop() error {
	h.cancel()
	select {
	case err := <-h.done:
		h.done <- err
		return err
	case <-time.After(30 * time.Second):
		h.t.Fatal("nasd did not shut down")
		return nil
	}
}

var nextMAC = struct {
	sync.Mutex
	n byte
}{}

func subscriberMAC() net.HardwareAddr {
	nextMAC.Lock()
	defer nextMAC.Unlock()
	nextMAC.n++
	return net.HardwareAddr{0x02, 0x5b, 0, 0, 1, nextMAC.n}
}

func (h *hubNAS) dial(user, pw string, mod func(*client.Options)) (*client.Session, error) {
	opts := client.Options{MAC: subscriberMAC(), User: user, Password: pw, RestartTimer: 300 * time.Millisecond, DiscoveryTimeout: 300 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return h.mux.Dial(ctx, opts)
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// exchangeEcho sends n UDP datagrams of size octets to the echo port and
// waits until all n echoes are back.
func exchangeEcho(t testing.TB, s *client.Session, n, size int) {
	t.Helper()
	before := s.Counters().RxPackets
	pkt := client.UDPPacket(s.Addr(), s.PeerAddr(), 40000, 7, size)
	for range n {
		if err := s.SendIP(pkt); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "echoes", func() bool { return s.Counters().RxPackets >= before+uint64(n) })
}

func statusOf(p *radius.Packet) rfc2866.AcctStatusType { return rfc2866.AcctStatusType_Get(p) }

func octets(p *radius.Packet) (in, out uint64) { return radiusx.GetOctets64(p) }

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func mustMAC6(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}
