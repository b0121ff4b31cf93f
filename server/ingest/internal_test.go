package ingest

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"

	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/tariff"
	"github.com/edgebill/edgebill/server/internal/billtest"
	"github.com/edgebill/edgebill/server/store"
)

func TestDupCache(t *testing.T) {
	c := newDupCache(time.Second, 4)
	now := time.Unix(1000, 0)
	k := dupKey{src: netip.MustParseAddrPort("10.0.0.1:1000"), id: 7}
	if _, seen := c.begin(k, now); seen {
		t.Fatal("new key seen")
	}
	if resp, seen := c.begin(k, now); !seen || resp != nil {
		t.Fatalf("in progress: %v %v", resp, seen)
	}
	c.done(k, []byte{1})
	if resp, seen := c.begin(k, now.Add(1500*time.Millisecond)); !seen || string(resp) != "\x01" {
		t.Fatalf("answered, one rotation later: %v %v", resp, seen)
	}
	if _, seen := c.begin(k, now.Add(5*time.Second)); seen {
		t.Fatal("still there two rotations later")
	}
	c.forget(k)
	if _, seen := c.begin(k, now.Add(5*time.Second)); seen {
		t.Fatal("forgotten key seen")
	}
	// The size bound rotates early.
	for i := range 100 {
		c.begin(dupKey{src: netip.MustParseAddrPort("10.0.0.1:1000"), id: uint8(i)}, now)
	}
	if n := c.len(); n > 2*4*dupShards {
		t.Fatalf("%d entries, bound %d", n, 2*4*dupShards)
	}
}

// Test_RFC2866_3_ResponseZeroMA: the response verifies as an
// Accounting-Response (RFC 2866 §3 Response Authenticator), its
// Message-Authenticator is the HMAC over a zero Authenticator field (as
// FreeRADIUS 3.2 and its radclient compute it), and rfc/radiusx, which
// gatewayd uses, accepts it.
func Test_RFC2866_3_ResponseZeroMA(t *testing.T) {
	g := billtest.NewGateway("gw")
	req := billtest.Packet(g.Bill(billtest.Session{User: "u", Start: time.Unix(1700000000, 0), Seconds: 1}), g.Secret, 42, 0)
	resp := response(req, g.Secret)
	if !radius.IsAuthenticResponse(resp, req, []byte(g.Secret)) || resp[1] != 42 || radius.Code(resp[0]) != radius.CodeAccountingResponse {
		t.Fatalf("response %x does not authenticate", resp)
	}
	if err := radiusx.VerifyMessageAuthenticator(resp, make([]byte, 16), []byte(g.Secret)); err != nil {
		t.Fatal(err)
	}
	if err := radiusx.VerifyResponse(resp, req, []byte(g.Secret)); err != nil {
		t.Fatalf("response fails radiusx.VerifyResponse: %v", err)
	}
}

type nopStore struct{}

func (nopStore) Gateways(context.Context) ([]store.Gateway, error) { return nil, nil }
func (nopStore) Tariffs(context.Context) (map[store.TariffKey]*tariff.Tariff, map[store.TariffKey]error, error) {
	return nil, nil, nil
}
func (nopStore) SyncTariffs(context.Context) (store.SyncResult, error) {
	return store.SyncResult{}, nil
}
func (nopStore) Commit(_ context.Context, b *store.Batch, _ string) ([]bool, error) {
	return make([]bool, len(b.Bills)), nil
}

// BenchmarkHandleBill is the CPU one bill costs the listener's readers:
// RADIUS checks, decoding, pricing, encodings, the response. Its
// signature is checked later, in a batch (BenchmarkVerify).
func BenchmarkHandleBill(b *testing.B) {
	s, err := New(Config{Addr: "127.0.0.1:0"}, nopStore{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.conn.Close()
	g := billtest.NewGateway("gw-bench")
	gws := gatewayMap{g.ID: &gateway{Gateway: store.Gateway{ID: g.ID, PublicKey: g.Pub, Secret: g.Secret, Status: store.GatewayActive}, key: newVerifyKey(g.Pub)}}
	s.gws.Store(&gws)
	plan, err := tariff.Parse("T1;id=plan;v=1;cur=CNY;sc=4;tz=Asia/Shanghai;fee=5000;time=600/1m/up;both=1024@0,10240@100,50/MB/up;band=peak/19:00-23:00/x1.5;cap=300000")
	if err != nil {
		b.Fatal(err)
	}
	ts := tariffMap{{ID: "plan", Version: 1}: plan}
	s.tariffs.Store(&ts)
	const n = 4096
	pkts := make([][]byte, n)
	for i := range pkts {
		pkts[i] = billtest.Packet(g.Bill(billtest.Session{User: fmt.Sprintf("u%d", i), Start: time.Unix(1700000000, 0), Seconds: 60, In: 1, Out: 2}), g.Secret, uint8(i), 0)
	}
	done := make(chan struct{})
	go func() {
		for it := range s.queue {
			s.mu.Lock()
			delete(s.inflight, it.key)
			s.mu.Unlock()
		}
		close(done)
	}()
	from := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// A new source port each time, so the duplicate cache never answers.
		s.handle(pkts[i%n], netip.AddrPortFrom(from, uint16(i)), time.Now())
		if i%n == n-1 {
			for len(s.queue) > 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	b.StopTimer()
	close(s.queue)
	<-done
}

// TestParseAsLayeh: parse gives what radius.Parse gives for a framed
// packet.
func TestParseAsLayeh(t *testing.T) {
	g := billtest.NewGateway("gw")
	pkt := billtest.Packet(g.Bill(billtest.Session{User: "u", Start: time.Unix(1700000000, 0), Seconds: 1}), g.Secret, 42, 3)
	pkt = append(pkt, 0, 0, 0) // past Length: not the packet's
	framed, ok := frame(pkt)
	if !ok {
		t.Fatal("frame refused the packet")
	}
	want, err := radius.Parse(framed, []byte(g.Secret))
	if err != nil {
		t.Fatal(err)
	}
	got := parse(framed, g.Secret)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("parse (-radius.Parse +parse):\n%s", diff)
	}
}
