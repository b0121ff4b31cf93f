package pppoeblast

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	hostMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	acMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// RFC 2516 §5.1: a PADI with an empty Service-Name, byte for byte the
// first frame of testdata/pcap/rp-pppoe-discovery.pcap (rp-pppoe's
// `pppoe -A`, dumped with tshark -x).
func Test_RFC2516_5_1_PADI(t *testing.T) {
	want := unhex("ff ff ff ff ff ff 02 eb 00 00 00 01 88 63 11 09" +
		" 00 00 00 04 01 01 00 00")
	src := net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 0x01}
	prefix := []byte("prefix")
	got := AppendDiscovery(prefix, Broadcast, src, CodePADI, 0, []Tag{{TagServiceName, nil}})
	if !bytes.HasPrefix(got, prefix) {
		t.Fatal("prefix lost")
	}
	if diff := cmp.Diff(want, got[len(prefix):]); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	d, err := ParseDiscovery(want)
	if err != nil {
		t.Fatal(err)
	}
	if d.Code != CodePADI || d.Session != 0 || d.Dst.String() != Broadcast.String() || d.Src.String() != src.String() || len(d.Tags) != 1 {
		t.Fatalf("parsed %+v", d)
	}
	if sn, ok := d.Tag(TagServiceName); !ok || len(sn.Value) != 0 {
		t.Fatalf("Service-Name = %q, %v", sn.Value, ok)
	}
	if _, ok := d.Tag(TagHostUniq); ok {
		t.Fatal("a Host-Uniq found where there is none")
	}
}

func TestParseDiscoveryErrors(t *testing.T) {
	padi := AppendDiscovery(nil, Broadcast, hostMAC, CodePADI, 0, []Tag{{TagServiceName, nil}})
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"header cut", padi[:19], io.ErrUnexpectedEOF},
		{"payload cut", padi[:len(padi)-1], io.ErrUnexpectedEOF},
		{"session ethertype", func() []byte { b := bytes.Clone(padi); b[13] = 0x64; return b }(), ErrNotPPPoE},
		{"version 2", func() []byte { b := bytes.Clone(padi); b[14] = 0x21; return b }(), ErrNotPPPoE},
		{"tag longer than payload", func() []byte { b := bytes.Clone(padi); b[23] = 9; return b }(), ErrBadTags},
	} {
		if _, err := ParseDiscovery(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// End-Of-List ends the tags.
	b := AppendDiscovery(nil, Broadcast, hostMAC, CodePADI, 0, []Tag{{TagServiceName, nil}, {TagEndOfList, nil}, {TagHostUniq, []byte{1}}})
	d, err := ParseDiscovery(b)
	if err != nil || len(d.Tags) != 1 {
		t.Errorf("End-Of-List: %v, %d tags", err, len(d.Tags))
	}
}

func TestSessionFrame(t *testing.T) {
	for _, size := range []int{MinFrame, 64, 1400, MaxFrame} {
		f := AppendSessionFrame([]byte{0xaa}, acMAC, hostMAC, 0x1234, size, 77)[1:]
		if len(f) != size {
			t.Fatalf("size %d: got %d octets", size, len(f))
		}
		id, seq, ours, err := ParseSessionFrame(f)
		if err != nil || id != 0x1234 || seq != 77 || !ours {
			t.Fatalf("size %d: parsed %#x %d %v %v", size, id, seq, ours, err)
		}
		SetSeq(f, 1<<40)
		if _, seq, _, _ := ParseSessionFrame(f); seq != 1<<40 {
			t.Fatalf("SetSeq: %d", seq)
		}
		// PPPoE length covers PPP and the IP packet; the IP header sums to
		// zero with its checksum.
		if l := int(f[18])<<8 | int(f[19]); l != size-20 {
			t.Errorf("size %d: PPPoE length %d", size, l)
		}
		if ipChecksum(f[22:42]) != 0 {
			t.Errorf("size %d: IPv4 header checksum wrong", size)
		}
	}
	if _, _, _, err := ParseSessionFrame(make([]byte, 10)); err != io.ErrUnexpectedEOF {
		t.Errorf("short frame: %v", err)
	}
	padi := AppendDiscovery(nil, Broadcast, hostMAC, CodePADI, 0, nil)
	if _, _, _, err := ParseSessionFrame(padi); err != ErrNotPPPoE {
		t.Errorf("discovery frame as session: %v", err)
	}
}

func FuzzParseDiscovery(f *testing.F) {
	f.Add(AppendDiscovery(nil, Broadcast, hostMAC, CodePADI, 0, []Tag{{TagServiceName, nil}, {TagHostUniq, []byte("abc")}}))
	f.Add(AppendDiscovery(nil, hostMAC, acMAC, CodePADS, 7, []Tag{{TagACName, []byte("x")}, {TagRelaySessionID, []byte{1, 2}}}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDiscovery(b)
		if err != nil {
			return
		}
		again := AppendDiscovery(nil, d.Dst, d.Src, d.Code, d.Session, d.Tags)
		d2, err := ParseDiscovery(again)
		if err != nil {
			t.Fatalf("re-encoded frame does not parse: %v", err)
		}
		if diff := cmp.Diff(d, d2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func BenchmarkAppendSessionFrame(b *testing.B) {
	buf := make([]byte, 0, 1514)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendSessionFrame(buf[:0], acMAC, hostMAC, 1, 1400, uint64(i))
	}
}
