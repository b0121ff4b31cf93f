//go:build linux

package kernel

import (
	"bytes"
	"net"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/internal/testenv"
)

var (
	macSub = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	// macLAN is the receiving interface's address. The test runner's
	// device is the loopback, whose address is all zeros: a frame to it
	// is PACKET_HOST, as frames to the gateway's own LAN MAC are.
	macLAN  = net.HardwareAddr{0, 0, 0, 0, 0, 0}
	macElse = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	macWAN  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x03}
	macBRAS = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x04}
	macEvil = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x66}
)

// frame builds a session frame carrying proto and n octets of payload
// after it, padded to the Ethernet minimum.
func frame(dst, src net.HardwareAddr, session, proto uint16, n int) []byte {
	b := append([]byte{}, dst...)
	b = append(b, src...)
	l := 2 + n
	b = append(b, 0x88, 0x64, 0x11, 0x00, byte(session>>8), byte(session), byte(l>>8), byte(l), byte(proto>>8), byte(proto))
	for i := 0; i < n; i++ {
		b = append(b, byte(i))
	}
	for len(b) < 60 {
		b = append(b, 0)
	}
	return b
}

// The test runner (BPF_PROG_TEST_RUN) runs an skb program on the
// loopback device: ifindex 1.
const lo = 1

func load(t *testing.T) *Offload {
	t.Helper()
	testenv.Root(t)
	o, err := Load(16)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func run(t *testing.T, o *Offload, in []byte) (int32, []byte) {
	t.Helper()
	out := make([]byte, len(in)+64)
	ret, err := o.Program().Run(&ebpf.RunOptions{Data: in, DataOut: out})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return int32(ret), out[:len(in)]
}

func TestProgram(t *testing.T) {
	o := load(t)
	const id = 0x1234
	if err := o.Add(id, Side{Ifindex: lo, Src: macSub, Dst: macBRAS, NewSrc: macWAN, Out: 7}); err != nil {
		t.Fatal(err)
	}

	// Forwarded: rewritten, counted, redirected (TC_ACT_REDIRECT = 7).
	in := frame(macLAN, macSub, id, 0x0021, 100)
	ret, out := run(t, o, in)
	if ret != 7 {
		t.Fatalf("IPv4 frame: verdict %d, want 7 (redirect)", ret)
	}
	want := append([]byte{}, in...)
	copy(want[0:], macBRAS)
	copy(want[6:], macWAN)
	if !bytes.Equal(out, want) {
		t.Errorf("rewritten frame\n got % x\nwant % x", out, want)
	}
	// Addressed to another host or broadcast (RFC 2516 §4: ids are unique
	// per MAC pair): left alone, neither rewritten nor counted.
	for _, dst := range []net.HardwareAddr{macElse, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		if r, _ := run(t, o, frame(dst, macSub, id, 0x0021, 10)); r != actNext {
			t.Fatalf("frame to %v: verdict %d, want %d (not ours)", dst, r, actNext)
		}
	}
	ret, _ = run(t, o, frame(macLAN, macSub, id, 0x0057, 1))
	if ret != 7 {
		t.Fatalf("IPv6 frame: verdict %d, want 7", ret)
	}

	// Not ours: control protocols, discovery, other ethertypes,
	// compressed protocol fields.
	for name, f := range map[string][]byte{
		"LCP":        frame(macLAN, macSub, id, 0xc021, 10),
		"PAP":        frame(macLAN, macSub, id, 0xc023, 10),
		"IPCP":       frame(macLAN, macSub, id, 0x8021, 10),
		"discovery":  append(append(append([]byte{}, macLAN...), macSub...), 0x88, 0x63, 0x11, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
		"IPv4 ether": append(append(append([]byte{}, macLAN...), macSub...), make([]byte, 60)...),
	} {
		if name == "IPv4 ether" {
			f[12], f[13] = 0x08, 0x00
		}
		if ret, _ := run(t, o, f); ret != actNext {
			t.Errorf("%s: verdict %d, want %d (next)", name, ret, actNext)
		}
	}

	// Spoofed: right session, wrong source.
	if ret, _ := run(t, o, frame(macLAN, macEvil, id, 0x0021, 10)); ret != actShot {
		t.Errorf("spoofed: verdict %d, want %d", ret, actShot)
	}
	// Unknown session.
	if ret, _ := run(t, o, frame(macLAN, macSub, id+1, 0x0021, 10)); ret != actShot {
		t.Errorf("unknown: verdict %d, want %d", ret, actShot)
	}
	// LENGTH past the end of the frame.
	bad := frame(macLAN, macSub, id, 0x0021, 10)
	bad[18], bad[19] = 0x05, 0xdc
	if ret, _ := run(t, o, bad); ret != actShot {
		t.Errorf("malformed: verdict %d, want %d", ret, actShot)
	}

	got, err := o.Counters(lo, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Counters{Packets: 2, Octets: 101, Spoofed: 1}, got); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
	if n := o.Stat(StatUnknown); n != 1 {
		t.Errorf("unknown = %d, want 1", n)
	}
	if n := o.Stat(StatMalformed); n != 1 {
		t.Errorf("malformed = %d, want 1", n)
	}

	final, err := o.Remove(lo, id)
	if err != nil || final != got {
		t.Errorf("Remove = %+v, %v; want %+v", final, err, got)
	}
	if ret, _ := run(t, o, frame(macLAN, macSub, id, 0x0021, 10)); ret != actShot {
		t.Errorf("after Remove: verdict %d, want %d", ret, actShot)
	}
}

func TestAddTwice(t *testing.T) {
	o := load(t)
	s := Side{Ifindex: lo, Src: macSub, Dst: macBRAS, NewSrc: macWAN, Out: 7}
	if err := o.Add(9, s); err != nil {
		t.Fatal(err)
	}
	if err := o.Add(9, s); err == nil {
		t.Error("second Add of the same session succeeded")
	}
}

func BenchmarkProgram(b *testing.B) {
	testenv.Root(b)
	o, err := Load(16)
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	// The runner reuses the rewritten frame on every repeat: make the
	// rewrite a fixed point.
	if err := o.Add(1, Side{Ifindex: lo, Src: macSub, Dst: macLAN, NewSrc: macSub, Out: 7}); err != nil {
		b.Fatal(err)
	}
	in := frame(macLAN, macSub, 1, 0x0021, 38)
	b.ReportAllocs()
	b.ResetTimer()
	ret, d, err := o.Program().Benchmark(in, b.N, nil)
	if err != nil || ret != 7 {
		b.Fatalf("%d %v", ret, err)
	}
	b.ReportMetric(float64(d.Nanoseconds()), "ns/frame")
}
