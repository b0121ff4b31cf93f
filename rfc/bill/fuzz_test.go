package bill

import (
	"bytes"
	"testing"

	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"
)

// FuzzUnmarshal: whatever decodes re-encodes to the same octets (one bill,
// one encoding) and decodes again to the same bill.
func FuzzUnmarshal(f *testing.F) {
	for _, b := range []*Bill{signedSample(f), longestBill()} {
		enc, err := b.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
		f.Add(enc[:len(enc)-1])
	}
	f.Add([]byte{FormatVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		var b Bill
		if err := b.UnmarshalBinary(data); err != nil {
			return
		}
		enc, err := b.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded bill does not encode: %v", err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("re-encoding differs:\n% x\n% x", data, enc)
		}
		var again Bill
		if err := again.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&b, &again, cmpBill); diff != "" {
			t.Fatalf("(-first +second):\n%s", diff)
		}
	})
}

// FuzzFromPacket: whatever bill FromPacket takes out of a parsed packet,
// ToPacket puts into a new one that, through the wire, gives the same
// bill back.
func FuzzFromPacket(f *testing.F) {
	for _, b := range []*Bill{signedSample(f), longestBill()} {
		_, priv := testKey()
		if err := b.Sign(priv); err != nil {
			f.Fatal(err)
		}
		p := packetOf(f, b)
		raw, err := radiusx.Encode(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := radius.Parse(data, secret)
		if err != nil {
			return
		}
		b, err := FromPacket(p)
		if err != nil {
			return
		}
		q := radius.New(radius.CodeAccountingRequest, secret)
		if err := ToPacket(b, q); err != nil {
			t.Fatalf("ToPacket of a bill FromPacket gave: %v", err)
		}
		raw, err := radiusx.Encode(q)
		if err != nil {
			t.Fatal(err)
		}
		q, err = radius.Parse(raw, secret)
		if err != nil {
			t.Fatal(err)
		}
		again, err := FromPacket(q)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(b, again, cmpBill); diff != "" {
			t.Fatalf("(-first +second):\n%s", diff)
		}
	})
}
