package bill

import (
	"crypto/ed25519"
	"testing"

	"github.com/edgebill/edgebill/rfc/radiusx"
	"layeh.com/radius"
)

// BenchmarkEncodeSign is what the gateway does at the end of a session:
// sign the bill and encode it for its journal.
func BenchmarkEncodeSign(b *testing.B) {
	_, priv := testKey()
	bill := sampleBill()
	buf := make([]byte, 0, MaxEncodedLen)
	b.ReportAllocs()
	for b.Loop() {
		if err := bill.Sign(priv); err != nil {
			b.Fatal(err)
		}
		if _, err := bill.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	pub, _ := testKey()
	bill := signedSample(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := bill.Verify(pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEd25519Verify is the floor under Verify: crypto/ed25519 alone
// on a message of a bill's size.
func BenchmarkEd25519Verify(b *testing.B) {
	pub, priv := testKey()
	msg := make([]byte, 256)
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	bill := signedSample(b)
	buf := make([]byte, 0, MaxEncodedLen)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bill.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	enc, err := signedSample(b).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var bill Bill
		if err := bill.UnmarshalBinary(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	bill := signedSample(b)
	b.ReportAllocs()
	for b.Loop() {
		bill.Hash()
	}
}

// BenchmarkToPacketEncode is the gateway's send path after signing.
func BenchmarkToPacketEncode(b *testing.B) {
	bill := signedSample(b)
	b.ReportAllocs()
	for b.Loop() {
		p := radius.New(radius.CodeAccountingRequest, secret)
		if err := ToPacket(bill, p); err != nil {
			b.Fatal(err)
		}
		if _, err := radiusx.Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseFromPacketVerify is the server's receive path.
func BenchmarkParseFromPacketVerify(b *testing.B) {
	pub, _ := testKey()
	raw, err := radiusx.Encode(packetOf(b, signedSample(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		p, err := radius.Parse(raw, secret)
		if err != nil {
			b.Fatal(err)
		}
		bill, err := FromPacket(p)
		if err != nil {
			b.Fatal(err)
		}
		if err := bill.Verify(pub); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromPacket(b *testing.B) {
	p, err := radius.Parse(mustEncode(b, packetOf(b, signedSample(b))), secret)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromPacket(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckerAdd(b *testing.B) {
	ls := make([]Link, 1<<16)
	for i := range ls {
		ls[i] = Link{Sequence: uint64(i + 1), Hash: [HashSize]byte{byte(i), byte(i >> 8), 1}}
		if i > 0 {
			ls[i].PrevHash = ls[i-1].Hash
		}
	}
	b.ReportAllocs()
	var c Checker
	i := 0
	for b.Loop() {
		if i == len(ls) {
			c, i = Checker{}, 0
		}
		if f := c.Add(ls[i]); f != nil {
			b.Fatal(f)
		}
		i++
	}
}

func mustEncode(tb testing.TB, p *radius.Packet) []byte {
	tb.Helper()
	raw, err := radiusx.Encode(p)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}
