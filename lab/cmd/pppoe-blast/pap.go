package main

// PAP (RFC 1334 §2) on top of pppoeblast's discovery-only sessions, for
// what sits in the middle and forwards a session's IP only once its
// authentication succeeded (gatewayd: it snoops the BRAS's
// Authenticate-Ack). The dialer sends one Authenticate-Request and
// waits for the answer; the access concentrator acks every request. No
// LCP is run: neither end, nor a relay, needs it for that.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"

	"github.com/edgebill/edgebill/lab/pppoeblast"
)

// PPP protocol PAP and its codes (RFC 1334 §2.2).
const (
	protoPAP   = 0xc023
	papRequest = 1
	papAck     = 2
	papNak     = 3
)

// papFilter admits PPPoE session frames carrying PAP, so that a PAP
// socket costs the blasted frames nothing but this test in the kernel.
func papFilter() ([]bpf.RawInstruction, error) {
	return bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: pppoeblast.EtherTypeSession, SkipTrue: 3},
		bpf.LoadAbsolute{Off: 20, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: protoPAP, SkipTrue: 1},
		bpf.RetConstant{Val: 0xffff},
		bpf.RetConstant{Val: 0},
	})
}

func openPAP(ifname string) (*packet.Conn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	f, err := papFilter()
	if err != nil {
		return nil, err
	}
	c, err := packet.Listen(ifi, packet.Raw, pppoeblast.EtherTypeSession, &packet.Config{Filter: f})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ifname, err)
	}
	return c, nil
}

// appendPAP appends a PPPoE session frame carrying a PAP packet with the
// given code, identifier and data.
func appendPAP(b []byte, dst, src net.HardwareAddr, session uint16, code, id byte, data []byte) []byte {
	b = append(b, dst[:6]...)
	b = append(b, src[:6]...)
	b = binary.BigEndian.AppendUint16(b, pppoeblast.EtherTypeSession)
	b = append(b, 0x11, 0x00)
	b = binary.BigEndian.AppendUint16(b, session)
	b = binary.BigEndian.AppendUint16(b, uint16(2+4+len(data)))
	b = binary.BigEndian.AppendUint16(b, protoPAP)
	b = append(b, code, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(data)))
	return append(b, data...)
}

// papFrame is a parsed PAP frame: the session it is in and the packet.
type papFrame struct {
	dst, src net.HardwareAddr
	session  uint16
	code, id byte
	data     []byte
}

func parsePAP(b []byte) (papFrame, bool) {
	if len(b) < 26 || binary.BigEndian.Uint16(b[12:]) != pppoeblast.EtherTypeSession ||
		b[14] != 0x11 || b[15] != 0 || binary.BigEndian.Uint16(b[20:]) != protoPAP {
		return papFrame{}, false
	}
	n := int(binary.BigEndian.Uint16(b[18:]))
	l := int(binary.BigEndian.Uint16(b[24:]))
	if 20+n > len(b) || l < 4 || 2+l > n {
		return papFrame{}, false
	}
	return papFrame{
		dst: net.HardwareAddr(b[0:6]), src: net.HardwareAddr(b[6:12]),
		session: binary.BigEndian.Uint16(b[16:]), code: b[22], id: b[23], data: b[26 : 22+l],
	}, true
}

// errRefused is a PAP Authenticate-Nak.
var errRefused = errors.New("PAP: authentication refused")

// papLogin authenticates session s with PAP: an Authenticate-Request
// every second, up to five, until an Ack (nil) or a Nak (errRefused with
// its message).
func papLogin(ctx context.Context, ifname string, s pppoeblast.Session, user, password string) error {
	if len(user) > 255 || len(password) > 255 {
		return errors.New("PAP: user or password over 255 octets")
	}
	c, err := openPAP(ifname)
	if err != nil {
		return err
	}
	defer c.Close()
	data := append(append(append([]byte{byte(len(user))}, user...), byte(len(password))), password...)
	buf := make([]byte, 2048)
	for try := byte(1); try <= 5; try++ {
		req := appendPAP(nil, s.Peer, s.Local, s.ID, papRequest, try, data)
		if _, err := c.WriteTo(req, &packet.Addr{HardwareAddr: s.Peer}); err != nil {
			return err
		}
		deadline := time.Now().Add(time.Second)
		for i := 0; i < 1000 && time.Now().Before(deadline); i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			c.SetReadDeadline(deadline)
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break
				}
				return err
			}
			p, ok := parsePAP(buf[:n])
			if !ok || p.session != s.ID || p.id != try || p.dst.String() != s.Local.String() {
				continue
			}
			switch p.code {
			case papAck:
				return nil
			case papNak:
				msg := ""
				if len(p.data) > 0 && int(p.data[0]) < len(p.data) {
					msg = string(p.data[1 : 1+int(p.data[0])])
				}
				return fmt.Errorf("%w: %q", errRefused, msg)
			}
		}
	}
	return errors.New("PAP: no answer to Authenticate-Request")
}

// papAcker answers every PAP Authenticate-Request on its socket with an
// Authenticate-Ack, and counts them.
type papAcker struct {
	c        *packet.Conn
	mac      net.HardwareAddr
	requests atomic.Uint64
}

func (a *papAcker) run(ctx context.Context) error {
	buf := make([]byte, 2048)
	out := make([]byte, 0, 64)
	msg := []byte{2, 'o', 'k'}
	for ctx.Err() == nil {
		a.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _, err := a.c.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		p, ok := parsePAP(buf[:n])
		if !ok || p.code != papRequest || p.src.String() == a.mac.String() {
			continue
		}
		a.requests.Add(1)
		out = appendPAP(out[:0], p.src, a.mac, p.session, papAck, p.id, msg)
		if _, err := a.c.WriteTo(out, &packet.Addr{HardwareAddr: p.src}); err != nil {
			return err
		}
	}
	return nil
}
