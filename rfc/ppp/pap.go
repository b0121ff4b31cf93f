package ppp

import (
	"encoding/binary"
	"fmt"
	"io"
)

// PAPCode is the Code field of a PAP packet (RFC 1334 §2.2).
type PAPCode uint8

// PAP codes (RFC 1334 §2.2).
const (
	PAPAuthenticateRequest PAPCode = 1 // §2.2.1
	PAPAuthenticateAck     PAPCode = 2 // §2.2.2
	PAPAuthenticateNak     PAPCode = 3 // §2.2.2
)

// String returns the code's RFC 1334 name.
func (c PAPCode) String() string {
	switch c {
	case PAPAuthenticateRequest:
		return "Authenticate-Request"
	case PAPAuthenticateAck:
		return "Authenticate-Ack"
	case PAPAuthenticateNak:
		return "Authenticate-Nak"
	}
	return fmt.Sprintf("PAPCode(%d)", uint8(c))
}

// PAPPacket is a PAP packet (RFC 1334 §2.2). An Authenticate-Request
// carries PeerID and Password; an Ack or Nak carries Message.
//
//	Authenticate-Request: Code Identifier Length Peer-ID-Length Peer-ID Passwd-Length Password
//	Authenticate-Ack/Nak: Code Identifier Length Msg-Length Message
type PAPPacket struct {
	Code       PAPCode
	Identifier uint8
	PeerID     string
	Password   []byte
	Message    string
}

// AppendBinary appends the encoded packet to b.
func (p *PAPPacket) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, byte(p.Code), p.Identifier, 0, 0)
	switch p.Code {
	case PAPAuthenticateRequest:
		if len(p.PeerID) > 255 || len(p.Password) > 255 {
			return b[:start], fmt.Errorf("%w: PAP Peer-ID or Password longer than 255", ErrTooLong)
		}
		b = append(b, byte(len(p.PeerID)))
		b = append(b, p.PeerID...)
		b = append(b, byte(len(p.Password)))
		b = append(b, p.Password...)
	case PAPAuthenticateAck, PAPAuthenticateNak:
		if len(p.Message) > 255 {
			return b[:start], fmt.Errorf("%w: PAP Message longer than 255", ErrTooLong)
		}
		b = append(b, byte(len(p.Message)))
		b = append(b, p.Message...)
	default:
		return b[:start], fmt.Errorf("%w: PAP %v", ErrUnknownCode, p.Code)
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b, nil
}

// MarshalBinary encodes the packet.
func (p *PAPPacket) MarshalBinary() ([]byte, error) { return p.AppendBinary(nil) }

// UnmarshalBinary decodes a PAP packet, copying its fields. Octets after
// the last field within Length are ignored, and an Ack or Nak without a
// Msg-Length octet, as some peers send, reads as an empty Message.
func (p *PAPPacket) UnmarshalBinary(b []byte) error {
	body, err := splitHeader(b)
	if err != nil {
		return err
	}
	q := PAPPacket{Code: PAPCode(b[0]), Identifier: b[1]}
	switch q.Code {
	case PAPAuthenticateRequest:
		id, rest, err := lengthPrefixed(body, "Peer-ID")
		if err != nil {
			return err
		}
		pw, _, err := lengthPrefixed(rest, "Password")
		if err != nil {
			return err
		}
		q.PeerID = string(id)
		if len(pw) > 0 {
			q.Password = append([]byte(nil), pw...)
		}
	case PAPAuthenticateAck, PAPAuthenticateNak:
		if len(body) > 0 {
			msg, _, err := lengthPrefixed(body, "Message")
			if err != nil {
				return err
			}
			q.Message = string(msg)
		}
	default:
		return fmt.Errorf("%w: PAP %v", ErrUnknownCode, q.Code)
	}
	*p = q
	return nil
}

// lengthPrefixed splits a one-octet-length-prefixed field off b.
func lengthPrefixed(b []byte, what string) (field, rest []byte, err error) {
	if len(b) < 1 {
		return nil, nil, fmt.Errorf("ppp: PAP %s length: %w", what, io.ErrUnexpectedEOF)
	}
	n := int(b[0])
	if 1+n > len(b) {
		return nil, nil, fmt.Errorf("%w: PAP %s of %d octets with %d left", ErrMalformed, what, n, len(b)-1)
	}
	return b[1 : 1+n], b[1+n:], nil
}
