package radiusx

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"layeh.com/radius"
)

// MessageAuthenticatorType is the Message-Authenticator attribute type
// (RFC 3579 §3.2); its value is 16 octets of HMAC-MD5.
const MessageAuthenticatorType radius.Type = 80

const (
	headerLen  = 20
	maValueLen = md5.Size
	maAttrLen  = 2 + maValueLen
)

// Errors returned when a packet fails verification. The caller drops the
// packet silently (RFC 5080 §2.2.2) and counts the reason.
var (
	ErrNoMessageAuthenticator  = errors.New("radiusx: Message-Authenticator missing")
	ErrBadMessageAuthenticator = errors.New("radiusx: Message-Authenticator does not verify")
	ErrBadAuthenticator        = errors.New("radiusx: packet Authenticator does not verify")
	ErrMalformed               = errors.New("radiusx: malformed packet")
	ErrUnknownCode             = errors.New("radiusx: unknown packet code")
)

// zeroAuth reports whether the Message-Authenticator of a packet with this
// code is computed over a zeroed Authenticator field: requests whose
// Authenticator is itself a hash of the packet (RFC 5080 §2.2.2 for
// Accounting-Request, RFC 5176 §3.3 for CoA and Disconnect).
func zeroAuth(c radius.Code) bool {
	switch c {
	case radius.CodeAccountingRequest, radius.CodeCoARequest, radius.CodeDisconnectRequest:
		return true
	}
	return false
}

// zeroAuthResponse reports whether a response of this code is signed,
// for its Message-Authenticator, over a zeroed Authenticator field rather
// than the request's. RFC 3579 §3.2 defines only the Access replies. For
// Accounting-Response FreeRADIUS 3.2 (rad_sign) zeroes the field, as for
// the request it answers, and its radclient refuses anything else; for
// CoA and Disconnect ACK/NAK it takes the request's Authenticator like
// the Access replies. Encode does the same; VerifyResponse accepts either
// form for an Accounting-Response.
func zeroAuthResponse(c radius.Code) bool {
	return c == radius.CodeAccountingResponse
}

// isResponse reports whether a packet of this code answers a request, so
// both its hashes take the request's Authenticator.
func isResponse(c radius.Code) bool {
	switch c {
	case radius.CodeAccessAccept, radius.CodeAccessReject, radius.CodeAccessChallenge,
		radius.CodeAccountingResponse, radius.CodeCoAACK, radius.CodeCoANAK,
		radius.CodeDisconnectACK, radius.CodeDisconnectNAK:
		return true
	}
	return false
}

// Encode returns the wire form of p with a Message-Authenticator as its
// first attribute (replacing any p already holds) and the Authenticator
// field computed as its code requires. p is not modified.
//
// For an Access-Request or Status-Server, p.Authenticator must be the
// random Request Authenticator. For a response, p.Authenticator must be
// the request's Authenticator, as (*radius.Packet).Response leaves it.
func Encode(p *radius.Packet) ([]byte, error) {
	return AppendEncode(nil, p)
}

// AppendEncode is Encode appending to b.
func AppendEncode(b []byte, p *radius.Packet) ([]byte, error) {
	if !isResponse(p.Code) && !zeroAuth(p.Code) &&
		p.Code != radius.CodeAccessRequest && p.Code != radius.CodeStatusServer {
		return b, fmt.Errorf("%w %d", ErrUnknownCode, p.Code)
	}
	size := headerLen + maAttrLen
	for _, a := range p.Attributes {
		if a.Type == MessageAuthenticatorType {
			continue
		}
		if len(a.Attribute) > 253 {
			return b, fmt.Errorf("radiusx: attribute %d: value of %d octets is over 253", a.Type, len(a.Attribute))
		}
		size += 2 + len(a.Attribute)
	}
	if size > radius.MaxPacketLength {
		return b, fmt.Errorf("radiusx: packet of %d octets is over %d", size, radius.MaxPacketLength)
	}
	start := len(b)
	b = append(b, byte(p.Code), p.Identifier, 0, 0)
	binary.BigEndian.PutUint16(b[start+2:], uint16(size))
	if zeroAuth(p.Code) || zeroAuthResponse(p.Code) {
		b = append(b, make([]byte, 16)...)
	} else {
		b = append(b, p.Authenticator[:]...)
	}
	b = append(b, byte(MessageAuthenticatorType), maAttrLen)
	b = append(b, make([]byte, maValueLen)...)
	for _, a := range p.Attributes {
		if a.Type == MessageAuthenticatorType {
			continue
		}
		b = append(b, byte(a.Type), byte(2+len(a.Attribute)))
		b = append(b, a.Attribute...)
	}
	pkt := b[start:]
	mac := hmac.New(md5.New, p.Secret)
	mac.Write(pkt)
	mac.Sum(pkt[headerLen+2 : headerLen+2 : headerLen+maAttrLen])

	switch {
	case isResponse(p.Code):
		authenticate(pkt, p.Authenticator[:], p.Secret)
	case zeroAuth(p.Code):
		var nul [16]byte
		authenticate(pkt, nul[:], p.Secret)
	}
	return b, nil
}

// authenticate writes MD5(Code+Identifier+Length+auth+Attributes+Secret)
// into the Authenticator field (RFC 2865 §3, RFC 2866 §3).
func authenticate(pkt, auth, secret []byte) {
	h := md5.New()
	h.Write(pkt[:4])
	h.Write(auth)
	h.Write(pkt[headerLen:])
	h.Write(secret)
	h.Sum(pkt[4:4:headerLen])
}

// VerifyRequest checks a request received from the wire: its length, the
// Message-Authenticator (required), and for Accounting, CoA and
// Disconnect requests the Request Authenticator. It does not allocate.
func VerifyRequest(b, secret []byte) error {
	pkt, err := frame(b)
	if err != nil {
		return err
	}
	c := radius.Code(pkt[0])
	switch {
	case c == radius.CodeAccessRequest || c == radius.CodeStatusServer:
		return checkMA(pkt, pkt[4:headerLen], secret)
	case zeroAuth(c):
		var nul [16]byte
		if err := checkMA(pkt, nul[:], secret); err != nil {
			return err
		}
		if !checkAuthenticator(pkt, nul[:], secret) {
			return ErrBadAuthenticator
		}
		return nil
	}
	return fmt.Errorf("%w %d for a request", ErrUnknownCode, c)
}

// VerifyResponse checks a response against the request it answers (the
// request's wire form or at least its 20-octet header): the Response
// Authenticator and the Message-Authenticator, which is required.
func VerifyResponse(resp, req, secret []byte) error {
	pkt, err := frame(resp)
	if err != nil {
		return err
	}
	if len(req) < headerLen {
		return fmt.Errorf("%w: request shorter than its header", ErrMalformed)
	}
	if !isResponse(radius.Code(pkt[0])) {
		return fmt.Errorf("%w %d for a response", ErrUnknownCode, pkt[0])
	}
	if pkt[1] != req[1] {
		return fmt.Errorf("%w: identifier %d answers %d", ErrMalformed, pkt[1], req[1])
	}
	reqAuth := req[4:headerLen]
	if !checkAuthenticator(pkt, reqAuth, secret) {
		return ErrBadAuthenticator
	}
	if zeroAuthResponse(radius.Code(pkt[0])) {
		var nul [16]byte
		if checkMA(pkt, nul[:], secret) == nil {
			return nil
		}
	}
	return checkMA(pkt, reqAuth, secret)
}

// VerifyMessageAuthenticator checks only the Message-Authenticator of a
// response, given the request's Authenticator.
func VerifyMessageAuthenticator(pkt, auth, secret []byte) error {
	pkt, err := frame(pkt)
	if err != nil {
		return err
	}
	return checkMA(pkt, auth, secret)
}

// frame checks the header and attribute framing and returns the packet cut
// to its Length field.
func frame(b []byte) ([]byte, error) {
	if len(b) < headerLen {
		return nil, io.ErrUnexpectedEOF
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n < headerLen || n > radius.MaxPacketLength {
		return nil, fmt.Errorf("%w: length %d", ErrMalformed, n)
	}
	if len(b) < n {
		return nil, io.ErrUnexpectedEOF
	}
	b = b[:n]
	for a := b[headerLen:]; len(a) > 0; {
		if len(a) < 2 || a[1] < 2 || int(a[1]) > len(a) {
			return nil, fmt.Errorf("%w: attribute overruns the packet", ErrMalformed)
		}
		a = a[a[1]:]
	}
	return b, nil
}

// findMA returns the offset of the single Message-Authenticator value, or
// -1 when there is none. Two of them make the packet malformed.
func findMA(pkt []byte) (int, error) {
	off := -1
	for i := headerLen; i < len(pkt); i += int(pkt[i+1]) {
		if radius.Type(pkt[i]) != MessageAuthenticatorType {
			continue
		}
		if pkt[i+1] != maAttrLen {
			return -1, fmt.Errorf("%w: Message-Authenticator of length %d", ErrMalformed, pkt[i+1])
		}
		if off >= 0 {
			return -1, fmt.Errorf("%w: two Message-Authenticators", ErrMalformed)
		}
		off = i + 2
	}
	return off, nil
}

// checkMA computes HMAC-MD5 over the packet with auth in the Authenticator
// field and the Message-Authenticator value zeroed, without copying it.
func checkMA(pkt, auth, secret []byte) error {
	off, err := findMA(pkt)
	if err != nil {
		return err
	}
	if off < 0 {
		return ErrNoMessageAuthenticator
	}
	var nul [maValueLen]byte
	mac := hmac.New(md5.New, secret)
	mac.Write(pkt[:4])
	mac.Write(auth)
	mac.Write(pkt[headerLen:off])
	mac.Write(nul[:])
	mac.Write(pkt[off+maValueLen:])
	var sum [md5.Size]byte
	if !hmac.Equal(mac.Sum(sum[:0]), pkt[off:off+maValueLen]) {
		return ErrBadMessageAuthenticator
	}
	return nil
}

func checkAuthenticator(pkt, auth, secret []byte) bool {
	h := md5.New()
	h.Write(pkt[:4])
	h.Write(auth)
	h.Write(pkt[headerLen:])
	h.Write(secret)
	var sum [md5.Size]byte
	return hmac.Equal(h.Sum(sum[:0]), pkt[4:headerLen])
}
