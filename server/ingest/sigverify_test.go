package ingest

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"filippo.io/edwards25519"

	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/server/internal/billtest"
)

// sigCase is a bill as signed (or mis-signed) and the key it is checked
// against.
type sigCase struct {
	name string
	b    *bill.Bill
	pub  ed25519.PublicKey
}

func (c sigCase) job(t testing.TB) sigJob {
	enc, err := c.b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return sigJob{key: newVerifyKey(c.pub), enc: enc}
}

// addL returns s + ℓ (the group order) as 32 little-endian octets: the
// same scalar, not canonically encoded.
func addL(s []byte) []byte {
	le := func(b []byte) *big.Int {
		r := make([]byte, len(b))
		for i := range b {
			r[len(b)-1-i] = b[i]
		}
		return new(big.Int).SetBytes(r)
	}
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	v := new(big.Int).Add(le(s), l).Bytes()
	out := make([]byte, 32)
	for i := range v {
		out[i] = v[len(v)-1-i]
	}
	return out
}

func sigCases(t testing.TB, n int) []sigCase {
	t.Helper()
	rnd := rand.New(rand.NewPCG(1, 2))
	gws := []*billtest.Gateway{billtest.NewGateway("gw-a"), billtest.NewGateway("gw-b"), billtest.NewGateway("gw-c")}
	var out []sigCase
	for i := range n {
		g := gws[i%len(gws)]
		s := billtest.Session{User: fmt.Sprintf("u%d", i), Start: time.Unix(1700000000+int64(i), 0), Seconds: int64(1 + i), In: uint64(i), Out: 7, Charge: int64(i)}
		b := g.Bill(s)
		c := sigCase{name: "valid", b: b, pub: g.Pub}
		switch rnd.IntN(8) {
		case 0: // changed after signing
			c.name, b.Charge = "tampered", b.Charge+1
		case 1: // signed by another gateway's key
			c.name, c.pub = "other key", gws[(i+1)%len(gws)].Pub
		case 2: // S not reduced: crypto/ed25519 refuses it (RFC 8032 §5.1.7 step 1)
			c.name = "S+l"
			copy(b.Signature[32:], addL(b.Signature[32:]))
		case 3:
			c.name, b.Signature = "zero signature", [bill.SignatureSize]byte{}
		case 4:
			c.name = "R changed"
			b.Signature[0] ^= 0x01
		}
		out = append(out, c)
	}
	return out
}

// TestBatchVerifyAgreesWithBill: on valid bills and every kind of bad
// one, in batches of many sizes, the batch verifier says what
// rfc/bill's Verify (crypto/ed25519) says.
func TestBatchVerifyAgreesWithBill(t *testing.T) {
	cases := sigCases(t, 400)
	kinds := map[string]int{}
	for _, c := range cases {
		kinds[c.name]++
	}
	if len(kinds) != 6 {
		t.Fatalf("cases %v: want every kind", kinds)
	}
	v := newVerifier()
	for _, size := range []int{1, 2, 3, 17, 64, 65, 130, 400} {
		for lo := 0; lo < len(cases); lo += size {
			part := cases[lo:min(lo+size, len(cases))]
			jobs := make([]sigJob, len(part))
			for i, c := range part {
				jobs[i] = c.job(t)
			}
			v.verify(jobs)
			for i, c := range part {
				want := c.b.Verify(c.pub) == nil
				if jobs[i].ok != want {
					t.Errorf("batch of %d, bill %d (%s): verified %v, rfc/bill says %v", size, lo+i, c.name, jobs[i].ok, want)
				}
			}
		}
	}
}

func TestBatchVerifyAllValid(t *testing.T) {
	g := billtest.NewGateway("gw")
	var jobs []sigJob
	for i := range 100 {
		b := g.Bill(billtest.Session{User: fmt.Sprint(i), Start: time.Unix(1700000000, 0), Seconds: 5})
		jobs = append(jobs, sigCase{b: b, pub: g.Pub}.job(t))
	}
	newVerifier().verify(jobs)
	for i, j := range jobs {
		if !j.ok {
			t.Fatalf("valid bill %d refused", i)
		}
	}
	if newVerifyKey([]byte{1, 2, 3}) != nil {
		t.Fatal("a 3-octet key decoded")
	}
}

// Test_RFC8032_5_1_3_NonCanonicalR: an R that decodes only by the
// lenient rules (y not below p, or x = 0 with the sign bit set) is
// refused, as crypto/ed25519 refuses it (its R compares as encoded).
func Test_RFC8032_5_1_3_NonCanonicalR(t *testing.T) {
	g := billtest.NewGateway("gw")
	for _, r := range []string{
		"0100000000000000000000000000000000000000000000000000000000000080", // identity, sign bit set
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p, i.e. y = 0
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p + 1
	} {
		b := g.Bill(billtest.Session{User: "u", Start: time.Unix(1700000000, 0), Seconds: 60})
		rb, _ := hex.DecodeString(r)
		var p edwards25519.Point
		if _, err := p.SetBytes(rb); err != nil {
			t.Fatalf("%s does not decode even leniently: %v", r, err)
		}
		copy(b.Signature[:32], rb)
		j := sigCase{b: b, pub: g.Pub}.job(t)
		if newVerifier().prepare(&j) {
			t.Errorf("R %s accepted", r)
		}
	}
	var r edwards25519.Point
	var sc edwards25519.Scalar
	if !bill.DecodeSignature(make([]byte, 64), &r, &sc) {
		t.Error("R with y = 0 refused")
	}
}

// Test_RFC8032_5_1_7_Cofactored pins the one known difference from
// crypto/ed25519: a signature whose R carries a small-order component,
// made by the holder of the private key, satisfies the RFC's group
// equation [8][S]B = [8]R + [8][k]A (which the batch checks) but not
// [S]B = R + [k]A (which crypto/ed25519 checks).
func Test_RFC8032_5_1_7_Cofactored(t *testing.T) {
	g := billtest.NewGateway("gw-torsion")
	b := g.Unsigned(billtest.Session{User: "x", Start: time.Unix(1700000000, 0), Seconds: 60})
	// A point of order 8 (the small-order points are listed in, e.g.,
	// "Taming the many EdDSAs", Chalkias et al., 2020).
	tb, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	var T edwards25519.Point
	if _, err := T.SetBytes(tb); err != nil {
		t.Fatal(err)
	}
	var p4, p8 edwards25519.Point
	p4.Double(&T)
	p4.Double(&p4)
	p8.MultByCofactor(&T)
	if p8.Equal(edIdentity) != 1 || p4.Equal(edIdentity) == 1 {
		t.Fatal("T is not of order 8")
	}
	h := sha512.Sum512(g.Priv.Seed())
	a, _ := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	var rb [64]byte
	rb[0] = 42
	r, _ := edwards25519.NewScalar().SetUniformBytes(rb[:])
	R := new(edwards25519.Point).ScalarBaseMult(r)
	R.Add(R, &T)
	enc, err := b.MarshalBinary() // signature still zero
	if err != nil {
		t.Fatal(err)
	}
	kh := sha512.New()
	kh.Write(R.Bytes())
	kh.Write(g.Pub)
	kh.Write([]byte(bill.SignContext))
	kh.Write(enc[:len(enc)-bill.SignatureSize])
	k, _ := edwards25519.NewScalar().SetUniformBytes(kh.Sum(nil))
	S := edwards25519.NewScalar().MultiplyAdd(k, a, r)
	copy(b.Signature[:32], R.Bytes())
	copy(b.Signature[32:], S.Bytes())

	msg := append([]byte(bill.SignContext), enc[:len(enc)-bill.SignatureSize]...)
	if ed25519.Verify(g.Pub, msg, b.Signature[:]) {
		t.Fatal("crypto/ed25519 accepts a torsioned R; the test is wrong")
	}
	// rfc/bill's Verify checks the same equation as the batch: the bill
	// is good to every edgebill verifier alike.
	if err := b.Verify(g.Pub); err != nil {
		t.Fatalf("rfc/bill refuses what the batch accepts: %v", err)
	}
	valid := billtest.NewGateway(g.ID).Bill(billtest.Session{User: "y", Start: time.Unix(1700000000, 0), Seconds: 60})
	jobs := []sigJob{sigCase{b: b, pub: g.Pub}.job(t), sigCase{b: valid, pub: g.Pub}.job(t)}
	newVerifier().verify(jobs)
	if !jobs[0].ok || !jobs[1].ok {
		t.Fatalf("cofactored equation: torsioned %v, valid %v; want both true", jobs[0].ok, jobs[1].ok)
	}
}

func BenchmarkVerify(b *testing.B) {
	cases := sigCases(b, 64)
	for i := range cases {
		g := billtest.NewGateway(fmt.Sprint(i))
		cases[i] = sigCase{b: g.Bill(billtest.Session{User: "u", Start: time.Unix(1700000000, 0), Seconds: 60}), pub: g.Pub}
	}
	b.Run("crypto-ed25519", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			c := cases[i%len(cases)]
			if c.b.Verify(c.pub) != nil {
				b.Fatal("refused")
			}
		}
	})
	for _, n := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			v := newVerifier()
			jobs := make([]sigJob, n)
			for i := range jobs {
				jobs[i] = cases[i].job(b)
			}
			b.ReportAllocs()
			for b.Loop() {
				v.verify(jobs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
		})
	}
}
