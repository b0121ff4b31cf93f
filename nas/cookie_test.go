package nas

import (
	"net"
	"testing"
	"time"

	"github.com/edgebill/edgebill/rfc/pppoe"
)

// cookieServer is a Server with just what the AC-Cookie needs.
func cookieServer() *Server {
	s := &Server{cfg: Config{CookieTTL: 10 * time.Second}}
	copy(s.cookieKey[:], "0123456789abcdef0123456789abcdef")
	return s
}

// discovery parses a PADI or PADR from mac with an optional
// Relay-Session-Id and AC-Cookie, as nasd gets it off the wire (its MAC
// and tag values alias the frame).
func discovery(t testing.TB, code pppoe.Code, mac net.HardwareAddr, relay, cookie []byte) *pppoe.Discovery {
	t.Helper()
	tags := []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, "")}
	if cookie != nil {
		tags = append(tags, pppoe.Tag{Type: pppoe.TagACCookie, Value: cookie})
	}
	if relay != nil {
		tags = append(tags, pppoe.Tag{Type: pppoe.TagRelaySessionID, Value: relay})
	}
	dst := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	if code == pppoe.CodePADR {
		dst = net.HardwareAddr{2, 0, 0, 0, 0, 0xac}
	}
	f, err := (&pppoe.Discovery{Dst: dst, Src: mac, Code: code, Tags: tags}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var d pppoe.Discovery
	if err := d.UnmarshalBinary(f); err != nil {
		t.Fatal(err)
	}
	return &d
}

// The AC-Cookie binds the PADR to the PADI's MAC and Relay-Session-Id
// (RFC 2516 Appendix A): a PADI's cookie is taken back from the same
// subscriber only, before it goes stale, and not when altered in any
// octet. Subscribers behind one relay (one MAC) get distinct cookies.
func TestCookieSubject(t *testing.T) {
	s := cookieServer()
	now := time.Unix(1_800_000_000, 0)
	macA := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	macB := net.HardwareAddr{2, 0, 0, 0, 0, 2}
	relay1 := []byte("relay-sess-1")
	relay2 := []byte("relay-sess-2")

	// The PADO's cookie for subscriber 1 behind the relay with macA.
	padi := discovery(t, pppoe.CodePADI, macA, relay1, nil)
	cookie := s.appendCookie(nil, subjectOf(padi), now)
	if len(cookie) != cookieLen {
		t.Fatalf("cookie of %d octets", len(cookie))
	}
	flip := func(i int) []byte {
		c := append([]byte(nil), cookie...)
		c[i] ^= 0x40
		return c
	}
	for _, c := range []struct {
		name   string
		mac    net.HardwareAddr
		relay  []byte
		cookie []byte
		at     time.Time
		want   bool
	}{
		{"same subscriber", macA, relay1, cookie, now, true},
		{"same subscriber, at the TTL", macA, relay1, cookie, now.Add(10 * time.Second), true},
		{"same MAC, another Relay-Session-Id", macA, relay2, cookie, now, false},
		{"same MAC, no Relay-Session-Id", macA, nil, cookie, now, false},
		{"same MAC, a Relay-Session-Id one octet longer", macA, append(append([]byte(nil), relay1...), 0), cookie, now, false},
		{"another MAC, same Relay-Session-Id", macB, relay1, cookie, now, false},
		{"stale", macA, relay1, cookie, now.Add(11 * time.Second), false},
		{"from the future", macA, relay1, cookie, now.Add(-2 * time.Second), false},
		{"time stamp tampered", macA, relay1, flip(3), now, false},
		{"MAC tampered, first octet", macA, relay1, flip(4), now, false},
		{"MAC tampered, last octet", macA, relay1, flip(cookieLen - 1), now, false},
		{"truncated", macA, relay1, cookie[:cookieLen-1], now, false},
		{"one octet more", macA, relay1, append(append([]byte(nil), cookie...), 0), now, false},
		{"empty", macA, relay1, []byte{}, now, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			padr := discovery(t, pppoe.CodePADR, c.mac, c.relay, c.cookie)
			got, _ := padr.ACCookie()
			if ok := s.checkCookie(got, subjectOf(padr), c.at); ok != c.want {
				t.Errorf("checkCookie = %v, want %v", ok, c.want)
			}
		})
	}

	// Same MAC, different Relay-Session-Ids: different cookies, at the
	// same second, each good for its own subscriber only; likewise
	// different MACs without a relay.
	for _, pair := range [][2]*pppoe.Discovery{
		{discovery(t, pppoe.CodePADI, macA, relay1, nil), discovery(t, pppoe.CodePADI, macA, relay2, nil)},
		{discovery(t, pppoe.CodePADI, macA, nil, nil), discovery(t, pppoe.CodePADI, macA, relay1, nil)},
		{discovery(t, pppoe.CodePADI, macA, nil, nil), discovery(t, pppoe.CodePADI, macB, nil, nil)},
	} {
		c0 := s.appendCookie(nil, subjectOf(pair[0]), now)
		c1 := s.appendCookie(nil, subjectOf(pair[1]), now)
		if string(c0) == string(c1) {
			t.Errorf("%v %q and %v %q got the same cookie", pair[0].Src, rsid(pair[0]), pair[1].Src, rsid(pair[1]))
		}
		if !s.checkCookie(c0, subjectOf(pair[0]), now) || !s.checkCookie(c1, subjectOf(pair[1]), now) ||
			s.checkCookie(c0, subjectOf(pair[1]), now) || s.checkCookie(c1, subjectOf(pair[0]), now) {
			t.Errorf("%v %q / %v %q: a cookie taken from the other subscriber or refused from its own",
				pair[0].Src, rsid(pair[0]), pair[1].Src, rsid(pair[1]))
		}
	}

	// appendCookie appends, leaving what is before it alone.
	pre := []byte("prefix")
	got := s.appendCookie(pre, subjectOf(padi), now)
	if string(got[:len(pre)]) != "prefix" || string(got[len(pre):]) != string(cookie) {
		t.Errorf("appended % x, want prefix then % x", got, cookie)
	}
}

func rsid(d *pppoe.Discovery) []byte { v, _ := d.RelaySessionID(); return v }

// Binding, making and checking a cookie allocate nothing (a PADI's
// cookie goes into a buffer of the caller's).
func TestCookieAllocs(t *testing.T) {
	s := cookieServer()
	now := time.Unix(1_800_000_000, 0)
	padi := discovery(t, pppoe.CodePADI, net.HardwareAddr{2, 0, 0, 0, 0, 1}, []byte("relay-sess-1"), nil)
	buf := make([]byte, 0, cookieLen)
	cookie := s.appendCookie(nil, subjectOf(padi), now)
	padr := discovery(t, pppoe.CodePADR, padi.Src, []byte("relay-sess-1"), cookie)
	c, _ := padr.ACCookie()
	for name, f := range map[string]func(){
		"subject": func() { _ = subjectOf(padr) },
		"issue":   func() { buf = s.appendCookie(buf[:0], subjectOf(padi), now) },
		"check": func() {
			if !s.checkCookie(c, subjectOf(padr), now) {
				t.Fatal("refused")
			}
		},
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

// BenchmarkCookie: the AC-Cookie work of a PADI (issue) and of a PADR
// (check), subject binding included, behind a relay.
func BenchmarkCookie(b *testing.B) {
	s := cookieServer()
	now := time.Unix(1_800_000_000, 0)
	padi := discovery(b, pppoe.CodePADI, net.HardwareAddr{2, 0, 0, 0, 0, 1}, []byte("relay-sess-1"), nil)
	cookie := s.appendCookie(nil, subjectOf(padi), now)
	padr := discovery(b, pppoe.CodePADR, padi.Src, []byte("relay-sess-1"), cookie)
	b.Run("issue", func(b *testing.B) {
		buf := make([]byte, 0, cookieLen)
		b.ReportAllocs()
		for b.Loop() {
			buf = s.appendCookie(buf[:0], subjectOf(padi), now)
		}
	})
	b.Run("check", func(b *testing.B) {
		c, _ := padr.ACCookie()
		b.ReportAllocs()
		for b.Loop() {
			if !s.checkCookie(c, subjectOf(padr), now) {
				b.Fatal("refused")
			}
		}
	})
}
