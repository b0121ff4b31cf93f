package ppp

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"io"
)

// CHAPCode is the Code field of a CHAP packet (RFC 1994 §4).
type CHAPCode uint8

// CHAP codes (RFC 1994 §4).
const (
	CHAPChallenge CHAPCode = 1 // §4.1
	CHAPResponse  CHAPCode = 2 // §4.1
	CHAPSuccess   CHAPCode = 3 // §4.2
	CHAPFailure   CHAPCode = 4 // §4.2
)

// String returns the code's RFC 1994 name.
func (c CHAPCode) String() string {
	switch c {
	case CHAPChallenge:
		return "Challenge"
	case CHAPResponse:
		return "Response"
	case CHAPSuccess:
		return "Success"
	case CHAPFailure:
		return "Failure"
	}
	return fmt.Sprintf("CHAPCode(%d)", uint8(c))
}

// CHAPPacket is a CHAP packet (RFC 1994 §4). A Challenge or Response
// carries Value and Name; a Success or Failure carries Message.
//
//	Challenge/Response: Code Identifier Length Value-Size Value Name
//	Success/Failure:    Code Identifier Length Message
type CHAPPacket struct {
	Code       CHAPCode
	Identifier uint8
	Value      []byte
	Name       string
	Message    string
}

// AppendBinary appends the encoded packet to b.
func (p *CHAPPacket) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, byte(p.Code), p.Identifier, 0, 0)
	switch p.Code {
	case CHAPChallenge, CHAPResponse:
		if len(p.Value) > 255 {
			return b[:start], fmt.Errorf("%w: CHAP Value of %d octets", ErrTooLong, len(p.Value))
		}
		b = append(b, byte(len(p.Value)))
		b = append(b, p.Value...)
		b = append(b, p.Name...)
	case CHAPSuccess, CHAPFailure:
		b = append(b, p.Message...)
	default:
		return b[:start], fmt.Errorf("%w: CHAP %v", ErrUnknownCode, p.Code)
	}
	if len(b)-start > 0xffff {
		return b[:start], fmt.Errorf("%w: CHAP packet of %d octets", ErrTooLong, len(b)-start)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b, nil
}

// MarshalBinary encodes the packet.
func (p *CHAPPacket) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// UnmarshalBinary decodes a CHAP packet, copying its fields.
func (p *CHAPPacket) UnmarshalBinary(b []byte) error {
	body, err := splitHeader(b)
	if err != nil {
		return err
	}
	q := CHAPPacket{Code: CHAPCode(b[0]), Identifier: b[1]}
	switch q.Code {
	case CHAPChallenge, CHAPResponse:
		if len(body) < 1 {
			return fmt.Errorf("ppp: CHAP Value-Size: %w", io.ErrUnexpectedEOF)
		}
		n := int(body[0])
		if 1+n > len(body) {
			return fmt.Errorf("%w: CHAP Value-Size %d with %d octets left", ErrMalformed, n, len(body)-1)
		}
		if n > 0 {
			q.Value = append([]byte(nil), body[1:1+n]...)
		}
		q.Name = string(body[1+n:])
	case CHAPSuccess, CHAPFailure:
		q.Message = string(body)
	default:
		return fmt.Errorf("%w: CHAP %v", ErrUnknownCode, q.Code)
	}
	*p = q
	return nil
}

// CHAPMD5Response computes the Response Value of CHAP with MD5 (RFC 1994
// §4.1, algorithm 5): the MD5 hash of the Identifier, the secret and the
// Challenge Value, concatenated in that order.
func CHAPMD5Response(id uint8, secret, challenge []byte) [md5.Size]byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write(secret)
	h.Write(challenge)
	var sum [md5.Size]byte
	h.Sum(sum[:0])
	return sum
}
