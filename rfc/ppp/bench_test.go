package ppp

import "testing"

// BenchmarkLCPConfigureRequestParse parses a Configure-Request with four
// options (MRU, Authentication-Protocol CHAP/MD5, Magic-Number, PFC).
// Target: under 300 ns (issue 2).
func BenchmarkLCPConfigureRequestParse(b *testing.B) {
	wire := mustHex(b, confReqHex)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	var p Packet
	for b.Loop() {
		if err := p.UnmarshalBinary(wire); err != nil {
			b.Fatal(err)
		}
	}
	if len(p.Options) != 4 {
		b.Fatalf("%d options", len(p.Options))
	}
}

// BenchmarkLCPConfigureRequestAppend encodes the same packet into a
// reused buffer.
func BenchmarkLCPConfigureRequestAppend(b *testing.B) {
	p := Packet{Code: CodeConfigureRequest, Identifier: 1, Options: confReqOptions()}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = p.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplitProtocol is the per-frame protocol demultiplexing the
// relay does; it allocates nothing (TestSplitProtocolAllocs).
func BenchmarkSplitProtocol(b *testing.B) {
	frame := mustHex(b, "c0 21 "+confReqHex)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := SplitProtocol(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSplitProtocolAllocs(t *testing.T) {
	frame := mustHex(t, "c0 21 "+confReqHex)
	if n := testing.AllocsPerRun(100, func() { SplitProtocol(frame) }); n != 0 {
		t.Fatalf("SplitProtocol allocates %v times per call", n)
	}
}

// BenchmarkMachineNegotiation runs a whole LCP negotiation between two
// Machines, for scale: a BRAS runs one per session.
func BenchmarkMachineNegotiation(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		x := NewMachine(Config{Protocol: ProtoLCP, Policy: &LCPPolicy{MRU: 1492, Auth: []Auth{AuthPAP}, Magic: func() uint32 { return 0x1111 }}})
		y := NewMachine(Config{Protocol: ProtoLCP, Policy: &LCPPolicy{MRU: 1492, AcceptAuth: []Auth{AuthPAP}, Magic: func() uint32 { return 0x2222 }}})
		x.Open(t0)
		y.Open(t0)
		toY := x.Up(t0)
		toX := y.Up(t0)
		for i := 0; i < 10 && (len(toX) > 0 || len(toY) > 0); i++ {
			var nx, ny []Action
			for _, a := range toY {
				if a.Kind.Sends() {
					buf, _ := a.Packet.MarshalBinary()
					_, acts, _ := y.Receive(t0, buf)
					nx = append(nx, acts...)
				}
			}
			for _, a := range toX {
				if a.Kind.Sends() {
					buf, _ := a.Packet.MarshalBinary()
					_, acts, _ := x.Receive(t0, buf)
					ny = append(ny, acts...)
				}
			}
			toX, toY = nx, ny
		}
		if x.State() != StateOpened || y.State() != StateOpened {
			b.Fatalf("states %v %v", x.State(), y.State())
		}
	}
}
