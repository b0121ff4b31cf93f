package bill

import (
	"crypto/sha512"
	"fmt"

	"filippo.io/edwards25519"
)

// SignContext is prefixed to a bill's encoding, up to the signature, to
// form the message its gateway signs (Ed25519, RFC 8032 §5.1.6): it keeps
// a gateway key's signature over a bill from ever being valid for
// anything else it signs. Exported for verifiers that check many bills at
// once (billd's ingest); everyone else calls Verify.
const SignContext = signContext

// verifyEd25519 reports whether sig is pub's Ed25519 signature of msg by
// the verification of RFC 8032 §5.1.7 as the RFC gives it: decode A, R
// and S, refusing a non-canonical R or S (as crypto/ed25519 does), and
// check the cofactored group equation [8][S]B = [8]R + [8][k]A.
//
// This is edgebill's one rule for a bill's signature, in every verifier
// (Verify, billd's batch check, an auditor's): a batch check can only
// check the cofactored equation, and a signature must not be good to
// one verifier and bad to another. It accepts every signature
// crypto/ed25519 accepts; crypto/ed25519 checks the cofactorless
// [S]B = R + [k]A (§5.1.7 allows either) and so refuses, where this
// accepts, a signature whose R has a small-order component, which only
// the holder of the private key can make (TestVerifyCofactored). This is
// the choice ZIP 215 made for Zcash, for the same reasons. A public key of
// small order is refused (see smallOrder), as no honest key is one.
func verifyEd25519(pub, msg, sig []byte) bool {
	if len(pub) != 32 || len(sig) != 64 {
		return false
	}
	var a, r edwards25519.Point
	if _, err := a.SetBytes(pub); err != nil || smallOrder(&a) {
		return false
	}
	var s, k edwards25519.Scalar
	if !DecodeSignature(sig, &r, &s) {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(pub)
	h.Write(msg)
	var d [sha512.Size]byte
	if _, err := k.SetUniformBytes(h.Sum(d[:0])); err != nil {
		return false
	}
	a.Negate(&a)
	return CofactoredEquation(&k, &a, &s, &r)
}

// DecodeSignature decodes an Ed25519 signature's R and S (RFC 8032
// §5.1.7, step 1) into r and s, refusing what crypto/ed25519 refuses: S
// not below the group order, R not a canonical point encoding. The first
// half of verifyEd25519, for verifiers that check many at once.
func DecodeSignature(sig []byte, r *edwards25519.Point, s *edwards25519.Scalar) bool {
	if len(sig) != 64 {
		return false
	}
	if _, err := s.SetCanonicalBytes(sig[32:]); err != nil {
		return false
	}
	if !canonicalPoint(sig[:32]) {
		return false
	}
	if _, err := r.SetBytes(sig[:32]); err != nil {
		return false
	}
	if sig[31]&0x80 != 0 {
		// x = 0 with the sign bit set is not a canonical encoding (§5.1.3
		// step 4): the points with x = 0 are the two with y = ±1.
		x, _, _, _ := r.ExtendedCoordinates()
		var zero [32]byte
		if [32]byte(x.Bytes()) == zero {
			return false
		}
	}
	return true
}

// CofactoredEquation reports whether [8]([S]B - [k]A - R) is the
// identity, given negA = -A: edgebill's signature rule (verifyEd25519),
// for one signature.
func CofactoredEquation(k *edwards25519.Scalar, negA *edwards25519.Point, s *edwards25519.Scalar, r *edwards25519.Point) bool {
	var p edwards25519.Point
	p.VarTimeDoubleScalarBaseMult(k, negA, s) // [S]B - [k]A
	p.Subtract(&p, r)
	p.MultByCofactor(&p)
	return p.Equal(edwards25519.NewIdentityPoint()) == 1
}

// smallOrder reports whether [8]p is the identity: p is one of the eight
// points of small order. A public key that is one "verifies" signatures
// made without any private key ([8]R = [8]([S]B - [k]A) with S = 0 and R
// of small order, for every message), so no verifier takes one.
func smallOrder(p *edwards25519.Point) bool {
	var q edwards25519.Point
	return q.MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1
}

// CheckPublicKey reports whether pub can be a gateway's key: 32 octets
// that decode to a curve point (RFC 8032 §5.1.3) not of small order.
// billd refuses to register any other; Verify refuses signatures under
// one.
func CheckPublicKey(pub []byte) error {
	if len(pub) != 32 {
		return fmt.Errorf("%w: public key of %d octets", ErrKey, len(pub))
	}
	var a edwards25519.Point
	if _, err := a.SetBytes(pub); err != nil {
		return fmt.Errorf("%w: public key is not a curve point", ErrKey)
	}
	if smallOrder(&a) {
		return fmt.Errorf("%w: public key is a point of small order", ErrKey)
	}
	return nil
}

// canonicalPoint reports whether the 255-bit y of a point encoding is
// below p = 2^255 - 19 (RFC 8032 §5.1.3, decoding step 1).
func canonicalPoint(b []byte) bool {
	if b[31]&0x7f != 0x7f {
		return true
	}
	for i := 30; i > 0; i-- {
		if b[i] != 0xff {
			return true
		}
	}
	return b[0] < 0xed
}
