package relay

import (
	"runtime"
	"testing"

	"github.com/edgebill/edgebill/gateway/relay/internal/pppoetest"
	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// quietRelay is a relay over hub ports nobody listens on, not running:
// for calling handle directly.
func quietRelay(t testing.TB, cfg Config) *Relay {
	t.Helper()
	lanHub, wanHub := &pppoetest.Hub{}, &pppoetest.Hub{}
	r, err := NewWithPorts(cfg, Port{Link: lanHub.Port(macLAN), MAC: macLAN}, Port{Link: wanHub.Port(macWAN), MAC: macWAN})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// upSession puts session id for subscriber mac in the table, up.
func upSession(t testing.TB, r *Relay, id uint16, mac [6]byte) *session {
	t.Helper()
	if reason := r.newSession(id, mac, [6]byte(macBRAS)); reason != "" {
		t.Fatal(reason)
	}
	s := r.tbl[id].Load()
	s.mu.Lock()
	r.bras(s, true)
	s.mu.Unlock()
	if !s.up.Load() {
		t.Fatal("session not up")
	}
	return s
}

// No allocation per relayed frame on the user-space path.
func TestHandleAllocs(t *testing.T) {
	r := quietRelay(t, Config{})
	s := upSession(t, r, 0x0042, [6]byte(subMAC(1)))
	up := pppoetest.IPFrame(macLAN, subMAC(1), 0x0042, 1400)
	down := pppoetest.IPFrame(macWAN, macBRAS, 0x0042, 64)
	f := make([]byte, len(up))
	for _, tc := range []struct {
		name string
		from side
		in   []byte
	}{{"lan", lan, up}, {"wan", wan, down}} {
		allocs := testing.AllocsPerRun(1000, func() {
			f = f[:len(tc.in)]
			copy(f, tc.in)
			if !r.handle(tc.from, f) {
				t.Fatal("frame not forwarded")
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per frame, want 0", tc.name, allocs)
		}
	}
	if s.traffic[lan].packets.Load() != 1001 || s.traffic[lan].octets.Load() != 1001*1400 {
		t.Errorf("in: %d packets %d octets", s.traffic[lan].packets.Load(), s.traffic[lan].octets.Load())
	}
	// Rewritten for the other side.
	f = append(f[:0], up...)
	r.handle(lan, f)
	if string(f[0:6]) != string(macBRAS) || string(f[6:12]) != string(macWAN) {
		t.Errorf("rewritten to %x -> %x", f[6:12], f[0:6])
	}
}

// Memory per relayed session (target: under 4 KiB). The session table
// itself is a fixed 512 KiB array (8 octets per possible SESSION_ID),
// made once.
func TestMemoryPerSession(t *testing.T) {
	const n = 5000
	r := quietRelay(t, Config{MaxSessions: n})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		upSession(t, r, uint16(i+1), [6]byte(subMAC(i)))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.0f octets of heap per session that is up (user space)", per)
	if per > 4096 {
		t.Errorf("%.0f octets per session, want under 4096", per)
	}
	runtime.KeepAlive(r)
}

func BenchmarkHandle(b *testing.B) {
	r := quietRelay(b, Config{})
	upSession(b, r, 7, [6]byte(subMAC(1)))
	for _, size := range []int{64, 1400} {
		in := pppoetest.IPFrame(macLAN, subMAC(1), 7, size-22)
		f := make([]byte, len(in))
		b.Run(itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for i := 0; i < b.N; i++ {
				copy(f, in)
				r.handle(lan, f)
			}
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// Nothing from either side makes the relay panic, whatever the bytes.
func FuzzHandle(f *testing.F) {
	sub := subMAC(1)
	f.Add(pppoetest.IPFrame(macLAN, sub, 0x0042, 40), false)
	f.Add(pppoetest.IPFrame(macWAN, macBRAS, 0x0042, 40), true)
	f.Add(pppoetest.SessionFrame(macLAN, sub, 0x0042, ppp.ProtoPAP, []byte{1, 1, 0, 12, 5, 'a', 'l', 'i', 'c', 'e', 2, 'p', 'w'}), false)
	f.Add(pppoetest.SessionFrame(macWAN, macBRAS, 0x0042, ppp.ProtoIPCP, []byte{2, 1, 0, 10, 3, 6, 10, 0, 0, 1}), true)
	f.Add(pppoetest.SessionFrame(macLAN, sub, 0x0042, ppp.ProtoLCP, []byte{5, 1, 0, 4}), false)
	f.Add(pppoetest.SessionFrame(macWAN, macBRAS, 0x0042, ppp.ProtoCHAP, []byte{3, 1, 0, 4}), true)
	padi, _ := (&pppoe.Discovery{Dst: pppoetest.Broadcast, Src: sub, Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, "")}}).MarshalBinary()
	f.Add(padi, false)
	padt, _ := pppoe.NewPADT(macLAN, sub, 0x0042, "x").MarshalBinary()
	f.Add(padt, false)
	pads, _ := (&pppoe.Discovery{Dst: macWAN, Src: macBRAS, Code: pppoe.CodePADS, SessionID: 9,
		Tags: []pppoe.Tag{{Type: pppoe.TagRelaySessionID, Value: make([]byte, 12)}}}).MarshalBinary()
	f.Add(pads, true)
	r := quietRelay(f, Config{})
	upSession(f, r, 0x0042, [6]byte(sub))
	f.Fuzz(func(t *testing.T, b []byte, fromWAN bool) {
		from := lan
		if fromWAN {
			from = wan
		}
		r.handle(from, append([]byte(nil), b...))
	})
}
