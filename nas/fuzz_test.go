package nas

import (
	"context"
	"net"
	"testing"
	"time"

	"layeh.com/radius"

	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/nas/link"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// acceptAll accepts every login and acknowledges every record.
type acceptAll struct{}

func (acceptAll) Exchange(_ context.Context, p *radius.Packet) (*radius.Packet, error) {
	return p.Response(radius.CodeAccessAccept), nil
}

func (acceptAll) Account(_ context.Context, p *radius.Packet) (*radius.Packet, error) {
	return p.Response(radius.CodeAccountingResponse), nil
}

// FuzzHandleFrame feeds arbitrary frames to nasd's frame handler, with a
// session up beside them. The invariant: no panic, and the session, whose
// MAC and id the fuzzer cannot guess (they are not in the corpus), is
// still there.
func FuzzHandleFrame(f *testing.F) {
	hub := link.NewHub()
	ac := net.HardwareAddr{0x02, 0xac, 0, 0, 0, 9}
	srv, err := New(Config{ACName: "fuzz", Tick: 10 * time.Millisecond, EchoInterval: -1, AcctOnWait: time.Second},
		Options{Link: hub.Port(ac, 0), Auth: acceptAll{}, Acct: acceptAll{}})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Run(ctx)
	for !srv.Ready() {
		time.Sleep(time.Millisecond)
	}
	mux := client.NewMux(hub.Port(net.HardwareAddr{0x02, 0, 0, 0, 0, 0}, 0), nil)
	go mux.Run(ctx)
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	s, err := mux.Dial(dctx, client.Options{MAC: net.HardwareAddr{0x02, 0x77, 0x42, 0x13, 0x99, 0x01}, User: "u", Password: "p"})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{
		mustMarshal((&pppoe.Discovery{Dst: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, Src: net.HardwareAddr{2, 1, 1, 1, 1, 1},
			Code: pppoe.CodePADI, Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, "")}}).MarshalBinary()),
		mustMarshal((&pppoe.Discovery{Dst: ac, Src: net.HardwareAddr{2, 1, 1, 1, 1, 1}, Code: pppoe.CodePADR,
			Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""), {Type: pppoe.TagACCookie, Value: make([]byte, 20)}}}).MarshalBinary()),
		mustMarshal(pppoe.NewPADT(ac, net.HardwareAddr{2, 1, 1, 1, 1, 1}, 1, "bye").MarshalBinary()),
		mustMarshal((&pppoe.Session{Dst: ac, Src: net.HardwareAddr{2, 1, 1, 1, 1, 1}, SessionID: 1, Payload: []byte{0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0}}).MarshalBinary()),
		mustMarshal((&pppoe.Session{Dst: ac, Src: net.HardwareAddr{2, 1, 1, 1, 1, 1}, SessionID: 1, Payload: []byte{0x00, 0x21, 0x45, 0, 0, 20}}).MarshalBinary()),
	} {
		f.Add(seed)
	}
	out := make([]byte, 0, 1<<16)
	f.Fuzz(func(t *testing.T, frame []byte) {
		out = srv.handleFrame(frame, out[:0])
		srv.mu.Lock()
		_, ok := srv.sessions[s.SessionID()]
		srv.mu.Unlock()
		if !ok {
			t.Fatalf("the bystander session is gone after % x", frame)
		}
	})
}

func mustMarshal(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// dataPlane sets up a server with one session up on a hub whose other
// ports are not read (their queues fill and frames are dropped without a
// copy), and returns an echo datagram of that session and the server.
func dataPlane(tb testing.TB) (*Server, []byte) {
	hub := link.NewHub()
	ac := net.HardwareAddr{0x02, 0xac, 0, 0, 0, 8}
	srv, err := New(Config{ACName: "bench", Tick: 10 * time.Millisecond, EchoInterval: -1, AcctOnWait: time.Second},
		Options{Link: hub.Port(ac, 0), Auth: acceptAll{}, Acct: acceptAll{}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	go srv.Run(ctx)
	for !srv.Ready() {
		time.Sleep(time.Millisecond)
	}
	mctx, mcancel := context.WithCancel(ctx)
	mux := client.NewMux(hub.Port(net.HardwareAddr{0x02, 0, 0, 0, 0, 0}, 16), nil)
	go mux.Run(mctx)
	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	s, err := mux.Dial(dctx, client.Options{MAC: net.HardwareAddr{0x02, 0x77, 0, 0, 0, 2}, User: "u", Password: "p"})
	if err != nil {
		tb.Fatal(err)
	}
	ip := client.UDPPacket(s.Addr(), s.PeerAddr(), 40000, 7, 512)
	frame := mustMarshal((&pppoe.Session{Dst: ac, Src: s.MAC(), SessionID: s.SessionID(), Payload: append([]byte{0x00, 0x21}, ip...)}).MarshalBinary())
	_ = mcancel // the Mux stays, unread from here on: its queue fills
	for range 64 {
		srv.handleFrame(frame, nil)
	}
	return srv, frame
}

// The data plane (count, answer the echo, write) allocates nothing.
func TestDataPlaneAllocs(t *testing.T) {
	srv, frame := dataPlane(t)
	out := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(1000, func() { out = srv.handleFrame(frame, out[:0]) }); n != 0 {
		t.Fatalf("%v allocations per frame", n)
	}
}

func BenchmarkDataPlaneEcho(b *testing.B) {
	srv, frame := dataPlane(b)
	out := make([]byte, 0, 2048)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		out = srv.handleFrame(frame, out[:0])
	}
}
