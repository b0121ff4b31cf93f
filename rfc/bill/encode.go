package bill

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"time"

	"layeh.com/radius/rfc2866"
)

// Errors returned by UnmarshalBinary besides io.ErrUnexpectedEOF and the
// validation errors.
var (
	ErrFormat       = errors.New("bill: unknown format version")
	ErrTrailing     = errors.New("bill: trailing bytes after the signature")
	ErrNonCanonical = errors.New("bill: non-canonical encoding")
)

// Errors returned by Sign and Verify.
var (
	ErrKey       = errors.New("bill: malformed Ed25519 key")
	ErrUnsigned  = errors.New("bill: not signed")
	ErrSignature = errors.New("bill: signature does not verify")
)

// signContext is prefixed to the encoding, up to the signature, to form
// the message the gateway signs. It keeps a gateway key's signature over a
// bill from ever being valid for anything else it signs.
const signContext = "edgebill bill\x00"

// Offsets of the fixed part of the encoding (doc.go has the diagram).
const (
	offVersion    = 0
	offSequence   = 1
	offPrevHash   = 9
	offID         = 41
	offSubMAC     = 57
	offBRASMAC    = 63
	offPPPoE      = 69
	offFlags      = 71
	offFramedIP   = 72
	offStart      = 76
	offStop       = 80
	offSessionMs  = 84
	offInOctets   = 92
	offOutOctets  = 100
	offInPackets  = 108
	offOutPackets = 116
	offTermCause  = 124
	offTariffVer  = 128
	offCharge     = 132
	offScale      = 140
	fixedLen      = 141

	flagFramedIP = 1 << 0

	// MaxEncodedLen is the longest encoding: the fixed part, five
	// length-prefixed strings at their longest, and the signature.
	MaxEncodedLen = fixedLen + 1 + maxVendorString + 1 + maxAttrString + 1 + maxAttrString +
		1 + maxVendorString + 1 + 3 + SignatureSize
)

// encodedLen is the length of b's encoding; b must be valid.
func (b *Bill) encodedLen() int {
	return fixedLen + 5 + len(b.GatewayID) + len(b.SessionID) + len(b.UserName) +
		len(b.TariffID) + len(b.Currency) + SignatureSize
}

// AppendBinary appends the canonical encoding of b, signature included,
// to dst. It fails if b does not pass Validate.
func (b *Bill) AppendBinary(dst []byte) ([]byte, error) {
	if err := b.Validate(); err != nil {
		return dst, err
	}
	dst = b.appendUnsigned(dst)
	return append(dst, b.Signature[:]...), nil
}

// MarshalBinary returns the canonical encoding of b.
func (b *Bill) MarshalBinary() ([]byte, error) {
	return b.AppendBinary(make([]byte, 0, b.encodedLen()))
}

// appendUnsigned appends the encoding up to the signature; b is valid.
func (b *Bill) appendUnsigned(dst []byte) []byte {
	dst = append(dst, FormatVersion)
	dst = binary.BigEndian.AppendUint64(dst, b.Sequence)
	dst = append(dst, b.PrevHash[:]...)
	dst = append(dst, b.ID[:]...)
	dst = append(dst, b.SubscriberMAC...)
	dst = append(dst, b.BRASMAC...)
	dst = binary.BigEndian.AppendUint16(dst, b.PPPoESessionID)
	if b.FramedIP.IsValid() {
		a := b.FramedIP.As4()
		dst = append(dst, flagFramedIP)
		dst = append(dst, a[:]...)
	} else {
		dst = append(dst, 0, 0, 0, 0, 0)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(b.Start.Unix()))
	dst = binary.BigEndian.AppendUint32(dst, uint32(b.Stop.Unix()))
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.SessionTime/time.Millisecond))
	dst = binary.BigEndian.AppendUint64(dst, b.InputOctets)
	dst = binary.BigEndian.AppendUint64(dst, b.OutputOctets)
	dst = binary.BigEndian.AppendUint64(dst, b.InputPackets)
	dst = binary.BigEndian.AppendUint64(dst, b.OutputPackets)
	dst = binary.BigEndian.AppendUint32(dst, uint32(b.TerminateCause))
	dst = binary.BigEndian.AppendUint32(dst, b.TariffVersion)
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.Charge))
	dst = append(dst, b.Scale)
	for _, s := range [...]string{b.GatewayID, b.SessionID, b.UserName, b.TariffID, b.Currency} {
		dst = append(dst, byte(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// UnmarshalBinary decodes a canonical encoding into b, copying what it
// keeps. It rejects truncation (io.ErrUnexpectedEOF), an unknown version
// (ErrFormat), bytes after the signature (ErrTrailing), any other
// encoding of the same bill (ErrNonCanonical) and a bill that fails
// Validate. b is unchanged on error. It does not check the signature.
func (b *Bill) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return io.ErrUnexpectedEOF
	}
	if data[offVersion] != FormatVersion {
		return fmt.Errorf("%w %d", ErrFormat, data[offVersion])
	}
	if len(data) < fixedLen {
		return io.ErrUnexpectedEOF
	}
	var nb Bill
	be := binary.BigEndian
	nb.Sequence = be.Uint64(data[offSequence:])
	copy(nb.PrevHash[:], data[offPrevHash:offID])
	copy(nb.ID[:], data[offID:offSubMAC])
	macs := make(net.HardwareAddr, 2*MACSize)
	copy(macs, data[offSubMAC:offPPPoE])
	nb.SubscriberMAC = macs[:MACSize:MACSize]
	nb.BRASMAC = macs[MACSize:]
	nb.PPPoESessionID = be.Uint16(data[offPPPoE:])
	ip := [4]byte(data[offFramedIP:offStart])
	switch data[offFlags] {
	case flagFramedIP:
		nb.FramedIP = netip.AddrFrom4(ip)
	case 0:
		if ip != [4]byte{} {
			return fmt.Errorf("%w: framed IP octets without the framed IP flag", ErrNonCanonical)
		}
	default:
		return fmt.Errorf("%w: flags %#02x", ErrNonCanonical, data[offFlags])
	}
	nb.Start = time.Unix(int64(be.Uint32(data[offStart:])), 0).UTC()
	nb.Stop = time.Unix(int64(be.Uint32(data[offStop:])), 0).UTC()
	ms := be.Uint64(data[offSessionMs:])
	if ms > math.MaxInt64/uint64(time.Millisecond) {
		return invalid(ErrSessionTime, "session time of %d ms overflows", ms)
	}
	nb.SessionTime = time.Duration(ms) * time.Millisecond
	nb.InputOctets = be.Uint64(data[offInOctets:])
	nb.OutputOctets = be.Uint64(data[offOutOctets:])
	nb.InputPackets = be.Uint64(data[offInPackets:])
	nb.OutputPackets = be.Uint64(data[offOutPackets:])
	nb.TerminateCause = rfc2866.AcctTerminateCause(be.Uint32(data[offTermCause:]))
	nb.TariffVersion = be.Uint32(data[offTariffVer:])
	nb.Charge = int64(be.Uint64(data[offCharge:])) // negative is refused by Validate
	nb.Scale = data[offScale]

	rest := data[fixedLen:]
	for _, s := range [...]*string{&nb.GatewayID, &nb.SessionID, &nb.UserName, &nb.TariffID, &nb.Currency} {
		if len(rest) < 1 {
			return io.ErrUnexpectedEOF
		}
		n := 1 + int(rest[0]) // in int: 1+rest[0] in byte wraps to 0 for a length of 255
		if len(rest) < n {
			return io.ErrUnexpectedEOF
		}
		*s = string(rest[1:n])
		rest = rest[n:]
	}
	if len(rest) < SignatureSize {
		return io.ErrUnexpectedEOF
	}
	if len(rest) > SignatureSize {
		return fmt.Errorf("%w: %d", ErrTrailing, len(rest)-SignatureSize)
	}
	copy(nb.Signature[:], rest)
	if err := nb.Validate(); err != nil {
		return err
	}
	*b = nb
	return nil
}

// signedMessage appends to buf the message Sign signs: the context string
// and the encoding up to the signature. b is valid.
func (b *Bill) signedMessage(buf []byte) []byte {
	return b.appendUnsigned(append(buf, signContext...))
}

// Sign validates b and sets its Signature with priv.
func (b *Bill) Sign(priv ed25519.PrivateKey) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: private key of %d octets", ErrKey, len(priv))
	}
	if err := b.Validate(); err != nil {
		return err
	}
	var buf [len(signContext) + MaxEncodedLen]byte
	copy(b.Signature[:], ed25519.Sign(priv, b.signedMessage(buf[:0])))
	return nil
}

// Verify checks b's Signature against the gateway's public key, by the
// rule of verifyEd25519 (RFC 8032 §5.1.7, the cofactored equation). It
// fails with ErrUnsigned for an all-zero signature, ErrSignature for a
// wrong one, or a validation error.
func (b *Bill) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: public key of %d octets", ErrKey, len(pub))
	}
	if err := b.Validate(); err != nil {
		return err
	}
	if b.Signature == [SignatureSize]byte{} {
		return ErrUnsigned
	}
	var buf [len(signContext) + MaxEncodedLen]byte
	if !verifyEd25519(pub, b.signedMessage(buf[:0]), b.Signature[:]) {
		return fmt.Errorf("%w: bill %d of gateway %q", ErrSignature, b.Sequence, b.GatewayID)
	}
	return nil
}

// Hash is the SHA-256 of b's canonical encoding, signature included: what
// the gateway's next bill holds in PrevHash. It is all zero for a bill
// that fails Validate, which no valid bill names.
func (b *Bill) Hash() [HashSize]byte {
	if b.Validate() != nil {
		return [HashSize]byte{}
	}
	var buf [MaxEncodedLen]byte
	enc := b.appendUnsigned(buf[:0])
	enc = append(enc, b.Signature[:]...)
	return sha256.Sum256(enc)
}
