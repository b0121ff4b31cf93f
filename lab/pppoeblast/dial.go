package pppoeblast

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mdlayher/packet"
)

// Session is a PPPoE session as the host sees it after PADS.
type Session struct {
	ID     uint16
	Local  net.HardwareAddr // the host's address
	Peer   net.HardwareAddr // where session frames go: the AC, or a relay
	ACName string
}

// ErrNoAnswer is returned when discovery gets no PADO or PADS in time.
var ErrNoAnswer = errors.New("pppoeblast: no answer to discovery")

// Dialer runs PPPoE discovery as a host (RFC 2516 §5.1, §5.3).
type Dialer struct {
	// MAC is the host's address; Conn its discovery socket.
	MAC  net.HardwareAddr
	Conn Conn
	// Tries is how many PADI, and then PADR, are sent before giving up
	// (default 5), each waiting Timeout (default 1 s) for its answer.
	Tries   int
	Timeout time.Duration
	// ServiceName asked for (default: any).
	ServiceName string
}

// Dial runs discovery and returns the session.
func (d *Dialer) Dial(ctx context.Context) (Session, error) {
	tries, timeout := d.Tries, d.Timeout
	if tries <= 0 {
		tries = 5
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	uniq := make([]byte, 8)
	rand.Read(uniq)
	svc := Tag{TagServiceName, []byte(d.ServiceName)}
	padi := AppendDiscovery(nil, Broadcast, d.MAC, CodePADI, 0, []Tag{svc, {TagHostUniq, uniq}})

	pado, err := d.exchange(ctx, padi, Broadcast, CodePADO, uniq, tries, timeout)
	if err != nil {
		return Session{}, fmt.Errorf("PADI: %w", err)
	}
	tags := []Tag{svc, {TagHostUniq, uniq}}
	for _, t := range pado.Tags {
		// RFC 2516 §5.3: the AC-Cookie and Relay-Session-Id of the PADO go
		// back in the PADR.
		if t.Type == TagACCookie || t.Type == TagRelaySessionID {
			tags = append(tags, Tag{t.Type, bytes.Clone(t.Value)})
		}
	}
	acName := ""
	if t, ok := pado.Tag(TagACName); ok {
		acName = string(t.Value)
	}
	peer := bytes.Clone(pado.Src)
	padr := AppendDiscovery(nil, peer, d.MAC, CodePADR, 0, tags)
	pads, err := d.exchange(ctx, padr, peer, CodePADS, uniq, tries, timeout)
	if err != nil {
		return Session{}, fmt.Errorf("PADR: %w", err)
	}
	if pads.Session == 0 {
		return Session{}, fmt.Errorf("pppoeblast: PADS refused the session")
	}
	return Session{ID: pads.Session, Local: d.MAC, Peer: bytes.Clone(pads.Src), ACName: acName}, nil
}

// Hangup sends PADT for s (RFC 2516 §5.5).
func (d *Dialer) Hangup(s Session) error {
	padt := AppendDiscovery(nil, s.Peer, s.Local, CodePADT, s.ID, nil)
	_, err := d.Conn.WriteTo(padt, &packet.Addr{HardwareAddr: s.Peer})
	return err
}

// exchange sends req until an answer with code and our Host-Uniq comes;
// the answer returned owns its bytes.
func (d *Dialer) exchange(ctx context.Context, req []byte, to net.HardwareAddr, code uint8, uniq []byte, tries int, timeout time.Duration) (Discovery, error) {
	buf := make([]byte, 2048)
	for try := 0; try < tries; try++ {
		if _, err := d.Conn.WriteTo(req, &packet.Addr{HardwareAddr: to}); err != nil {
			return Discovery{}, err
		}
		deadline := time.Now().Add(timeout)
		for i := 0; i < 1000 && time.Now().Before(deadline); i++ {
			if err := ctx.Err(); err != nil {
				return Discovery{}, err
			}
			rd := time.Now().Add(200 * time.Millisecond)
			if rd.After(deadline) {
				rd = deadline
			}
			d.Conn.SetReadDeadline(rd)
			n, _, err := d.Conn.ReadFrom(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				return Discovery{}, err
			}
			ans, err := ParseDiscovery(bytes.Clone(buf[:n]))
			if err != nil || ans.Code != code || !bytes.Equal(ans.Dst, d.MAC) {
				continue
			}
			if t, ok := ans.Tag(TagHostUniq); !ok || !bytes.Equal(t.Value, uniq) {
				continue
			}
			return ans, nil
		}
	}
	return Discovery{}, ErrNoAnswer
}
