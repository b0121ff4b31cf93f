package bill

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"filippo.io/edwards25519"
)

// torsionSigned returns b signed by priv with a nonce point R that has a
// small-order component: R = [r]B + T, T of order 8. Only the holder of
// priv can make such a signature; it satisfies the cofactored equation
// of RFC 8032 §5.1.7 but not the cofactorless one.
func torsionSigned(t *testing.T, b *Bill, priv ed25519.PrivateKey) {
	t.Helper()
	// A point of order 8 (the small-order points are listed in "Taming
	// the many EdDSAs", Chalkias et al., 2020).
	tb, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	var T edwards25519.Point
	if _, err := T.SetBytes(tb); err != nil {
		t.Fatal(err)
	}
	var p4 edwards25519.Point
	p4.Double(&T)
	p4.Double(&p4)
	if new(edwards25519.Point).MultByCofactor(&T).Equal(edwards25519.NewIdentityPoint()) != 1 ||
		p4.Equal(edwards25519.NewIdentityPoint()) == 1 {
		t.Fatal("T is not of order 8")
	}
	h := sha512.Sum512(priv.Seed())
	a, _ := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	var rb [64]byte
	rb[0] = 42
	r, _ := edwards25519.NewScalar().SetUniformBytes(rb[:])
	R := new(edwards25519.Point).ScalarBaseMult(r)
	R.Add(R, &T)
	var buf [len(signContext) + MaxEncodedLen]byte
	msg := b.signedMessage(buf[:0])
	kh := sha512.New()
	kh.Write(R.Bytes())
	kh.Write(priv.Public().(ed25519.PublicKey))
	kh.Write(msg)
	k, _ := edwards25519.NewScalar().SetUniformBytes(kh.Sum(nil))
	S := edwards25519.NewScalar().MultiplyAdd(k, a, r)
	copy(b.Signature[:32], R.Bytes())
	copy(b.Signature[32:], S.Bytes())
}

// Verify checks the cofactored equation, the one RFC 8032 §5.1.7 gives
// and the only one a batch check can check: a torsioned nonce made by the
// key's holder verifies (crypto/ed25519, cofactorless, refuses it), while
// the same signature under another key, or with S not reduced, does not.
func TestVerifyCofactored(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	b := sampleBill()
	torsionSigned(t, b, priv)
	var buf [len(signContext) + MaxEncodedLen]byte
	if ed25519.Verify(pub, b.signedMessage(buf[:0]), b.Signature[:]) {
		t.Fatal("crypto/ed25519 accepts a torsioned R: the test makes the wrong signature")
	}
	if err := b.Verify(pub); err != nil {
		t.Fatalf("Verify refuses a signature that holds the cofactored equation: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if err := b.Verify(other); err == nil {
		t.Fatal("Verify accepts the signature under another key")
	}
	// S + L: the same residue, not a canonical encoding.
	c := *b
	l, _ := hex.DecodeString("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
	var carry uint16
	for i := range 32 {
		v := uint16(c.Signature[32+i]) + uint16(l[i]) + carry
		c.Signature[32+i], carry = byte(v), v>>8
	}
	if err := c.Verify(pub); err == nil {
		t.Fatal("Verify accepts S not below the group order")
	}
}

// On honest signatures the two equations agree.
func TestVerifyAgreesWithCryptoEd25519(t *testing.T) {
	for i := range 200 {
		pub, priv, _ := ed25519.GenerateKey(nil)
		b := sampleBill()
		b.Sequence = uint64(i + 2)
		if err := b.Sign(priv); err != nil {
			t.Fatal(err)
		}
		var buf [len(signContext) + MaxEncodedLen]byte
		msg := b.signedMessage(buf[:0])
		for _, flip := range []int{-1, i % 64} {
			sig := b.Signature
			if flip >= 0 {
				sig[flip] ^= 1 << (i % 8)
			}
			if got, want := verifyEd25519(pub, msg, sig[:]), ed25519.Verify(pub, msg, sig[:]); got != want {
				t.Fatalf("case %d flip %d: cofactored %v, crypto/ed25519 %v", i, flip, got, want)
			}
		}
	}
}

// FuzzVerify: on any signature a fuzzer can find (it cannot make a
// torsioned nonce satisfy the equation without the key), the cofactored
// check agrees with crypto/ed25519, and never panics.
func FuzzVerify(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	b := sampleBill()
	if err := b.Sign(priv); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Signature[:], []byte(pub))
	f.Add(make([]byte, 64), make([]byte, 32))
	f.Fuzz(func(t *testing.T, sig, key []byte) {
		if len(sig) != 64 || len(key) != 32 {
			return
		}
		var buf [len(signContext) + MaxEncodedLen]byte
		msg := b.signedMessage(buf[:0])
		got, want := verifyEd25519(key, msg, sig), ed25519.Verify(key, msg, sig)
		if CheckPublicKey(key) != nil {
			// No key of small order, though crypto/ed25519 takes some
			// signatures under one.
			want = false
		}
		if got != want {
			t.Fatalf("cofactored %v, crypto/ed25519 %v", got, want)
		}
	})
}

// A public key of small order "verifies" a signature made without any
// key (R of small order, S = 0) under the cofactored equation; it is
// refused as a key and its signatures are refused.
func TestSmallOrderKeyRefused(t *testing.T) {
	b := sampleBill()
	var zero [32]byte // y = 0: a point of order 4
	copy(b.Signature[:32], zero[:])
	if err := b.Verify(zero[:]); err == nil {
		t.Fatal("Verify accepts a signature under a key of small order")
	}
	if err := CheckPublicKey(zero[:]); err == nil {
		t.Fatal("CheckPublicKey takes a key of small order")
	}
	pub, _, _ := ed25519.GenerateKey(nil)
	if err := CheckPublicKey(pub); err != nil {
		t.Fatalf("CheckPublicKey refuses a real key: %v", err)
	}
}
