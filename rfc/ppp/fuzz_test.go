package ppp

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// roundTrip is the invariant of every parser here: what parses encodes,
// parses again to an equal value, and encodes to the same bytes.
func roundTrip[T any, P interface {
	*T
	binaryCodec
}](t *testing.T, b []byte, opts ...cmp.Option) (T, bool) {
	var v1, v2 T
	if err := P(&v1).UnmarshalBinary(b); err != nil {
		return v1, false
	}
	enc1, err := P(&v1).MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary of a parsed value: %v\nvalue %+v", err, v1)
	}
	if err := P(&v2).UnmarshalBinary(enc1); err != nil {
		t.Fatalf("re-parse of % x: %v", enc1, err)
	}
	if diff := cmp.Diff(v1, v2, opts...); diff != "" {
		t.Fatalf("round trip (-first +second):\n%s", diff)
	}
	enc2, err := P(&v2).MarshalBinary()
	if err != nil || !bytes.Equal(enc1, enc2) {
		t.Fatalf("second encoding % x (%v) differs from first % x", enc2, err, enc1)
	}
	return v1, true
}

func addSeeds(f *testing.F, hexes ...string) {
	for _, h := range hexes {
		f.Add(mustHex(f, h))
	}
}

func FuzzLCPPacket(f *testing.F) {
	addSeeds(f,
		confReqHex,
		"02 01 00 15  01 04 05 d4  03 05 c2 23 05  05 06 0a 0b 0c 0d  07 02",
		"03 02 00 0c  01 04 05 d4  03 04 c0 23",
		"04 03 00 0b  07 02  08 02  0d 03 06",
		"05 04 00 10  55 73 65 72 20 72 65 71 75 65 73 74",
		"06 04 00 04 00 00",
		"07 05 00 0a  0c 01 00 06 aa bb",
		"08 06 00 0a  80 57  01 01 00 04",
		"09 07 00 0a  0a 0b 0c 0d  68 69",
		"0a 07 00 08  01 02 03 04",
		"0b 08 00 08  00 00 00 00",
		"01 01 00 06 01 01",
	)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := roundTrip[Packet](t, b)
		if !ok {
			return
		}
		if p.Len() > len(b) {
			t.Fatalf("Len %d beyond the %d octets parsed", p.Len(), len(b))
		}
		// The typed views must not panic and must agree on re-encoding.
		if c, err := ParseLCPConfig(p.Options); err == nil {
			if _, err := ParseLCPConfig(c.Options()); err != nil {
				t.Fatalf("LCPConfig.Options of a parsed config: %v", err)
			}
		}
		p.Magic()
		p.RejectedProtocol()
		// Feeding it to a Machine in each state must not panic.
		for s := State(0); s < numStates; s++ {
			m, _ := machineIn(s, 1)
			m.cfg.Policy = &LCPPolicy{MRU: 1492, MaxPeerMRU: 1492, AcceptAuth: []Auth{AuthPAP}, Magic: magicSeq(5)}
			m.Receive(t0, b)
		}
	})
}

func FuzzIPCPPacket(f *testing.F) {
	addSeeds(f,
		"01 01 00 0a  03 06 00 00 00 00",
		"03 01 00 16  03 06 0a 00 00 02  81 06 08 08 08 08  83 06 08 08 04 04",
		"04 02 00 16  82 06 0a 00 00 05  84 06 0a 00 00 06  02 06 00 2d 0f 01",
		"02 01 00 0a  03 06 0a 00 00 01",
		"07 05 00 08  09 01 00 04",
	)
	addrCmp := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok := roundTrip[Packet](t, b)
		if !ok {
			return
		}
		c, err := ParseIPCPConfig(p.Options)
		if err != nil {
			return
		}
		c2, err := ParseIPCPConfig(c.Options())
		if err != nil {
			t.Fatalf("IPCPConfig.Options of a parsed config: %v", err)
		}
		if diff := cmp.Diff(c, c2, addrCmp); diff != "" {
			t.Fatalf("IPCPConfig round trip (-first +second):\n%s", diff)
		}
		pol := &IPCPPolicy{Local: mustAddr("10.0.0.1"), Peer: mustAddr("10.0.0.2"), PrimaryDNS: mustAddr("10.0.0.53")}
		for s := State(0); s < numStates; s++ {
			m := NewMachine(Config{Protocol: ProtoIPCP, Policy: pol})
			m.state = s
			m.Receive(t0, b)
		}
	})
}

func FuzzPAPPacket(f *testing.F) {
	addSeeds(f,
		"01 01 00 11  05 61 6c 69 63 65  06 73 65 63 72 65 74",
		"02 01 00 07  02 4f 4b",
		"03 01 00 0f  0a 69 6e 20 61 72 72 65 61 72 73",
		"02 09 00 04",
		"01 01 00 06 05 61",
	)
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip[PAPPacket](t, b) })
}

func FuzzCHAPPacket(f *testing.F) {
	addSeeds(f,
		"01 2a 00 19  10 "+challengeHex+"  62 72 61 73",
		"02 2a 00 1a  10 50 7e 45 53 2a ae f9 f3 d9 6e 4b 34 9f fa d3 cf  61 6c 69 63 65",
		"03 2a 00 0b  57 65 6c 63 6f 6d 65",
		"04 2b 00 04",
		"02 01 00 06 05 61",
	)
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip[CHAPPacket](t, b) })
}

func FuzzFrame(f *testing.F) {
	addSeeds(f, "c0 21 09 01 00 08", "21 45 00", "00 21", "c2 20", "")
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, ok := roundTrip[Frame](t, b); !ok {
			return
		}
		p, info, err := SplitProtocol(b)
		if err != nil || !p.Valid() || len(info) > len(b) {
			t.Fatalf("SplitProtocol disagrees with Frame: %v %v", p, err)
		}
	})
}
