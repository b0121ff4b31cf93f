package client

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func sum(b []byte) uint16 { return fold(partial(b)) }

func TestUDPPacket(t *testing.T) {
	src, dst := netip.MustParseAddr("100.64.0.2"), netip.MustParseAddr("100.64.0.1")
	p := UDPPacket(src, dst, 40000, 7, 100)
	if len(p) != 100 || p[0] != 0x45 || p[9] != 17 || binary.BigEndian.Uint16(p[2:4]) != 100 {
		t.Fatalf("header % x", p[:20])
	}
	if sum(p[:20]) != 0 {
		t.Fatal("IP header checksum")
	}
	pseudo := append(append([]byte(nil), p[12:20]...), 0, 17, 0, 80)
	if sum(append(pseudo, p[20:]...)) != 0 {
		t.Fatal("UDP checksum")
	}
	if len(UDPPacket(src, dst, 1, 2, 3)) != 28 {
		t.Fatal("minimum size")
	}
}

func TestICMPEcho(t *testing.T) {
	p := ICMPEcho(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 5, 6, 84)
	if len(p) != 84 || p[9] != 1 || p[20] != 8 || sum(p[:20]) != 0 || sum(p[20:]) != 0 {
		t.Fatalf("% x", p)
	}
}

func TestMACAt(t *testing.T) {
	for _, tc := range []struct {
		base string
		i    int
		want string
	}{
		{"02:00:00:00:00:01", 0, "02:00:00:00:00:01"},
		{"02:00:00:00:00:ff", 1, "02:00:00:00:01:00"},
		{"02:eb:00:00:00:01", 70000, "02:eb:00:01:11:71"},
	} {
		base, _ := net.ParseMAC(tc.base)
		if got := MACAt(base, tc.i).String(); got != tc.want {
			t.Errorf("%s + %d = %s, want %s", tc.base, tc.i, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	start := time.Now()
	reps := []SessionReport{
		{Index: 0, User: "a", setup: 10 * time.Millisecond, upAt: start.Add(100 * time.Millisecond), TxOctets: 10, RxOctets: 10},
		{Index: 1, User: "b", setup: 30 * time.Millisecond, upAt: start.Add(200 * time.Millisecond), TxOctets: 5},
		{Index: 2, User: "dave", Error: "refused", Message: "in arrears"},
	}
	r := summarize(reps, start)
	if r.Up != 2 || r.Failed != 1 || r.Failures["refused"] != 1 || r.Totals.TxOctets != 15 || r.SetupP50 != 30 || r.SetupMax != 30 {
		t.Fatalf("%+v", r)
	}
	if r.SetupRate < 9 || r.SetupRate > 10.1 {
		t.Fatalf("rate %v", r.SetupRate)
	}
	var b bytes.Buffer
	r.WriteText(&b)
	if !strings.Contains(b.String(), "dave: refused: in arrears") {
		t.Fatal(b.String())
	}
	b.Reset()
	if err := r.WriteJSON(&b); err != nil || !strings.Contains(b.String(), `"setup_rate"`) {
		t.Fatal(b.String(), err)
	}
}
