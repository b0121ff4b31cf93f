package nas_test

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/nas/link"
	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// injector is a station on the hub that sends hand-made frames and keeps
// every frame it sees.
type injector struct {
	t    *testing.T
	h    *hubNAS
	port *link.Port

	mu     sync.Mutex
	frames [][]byte
	mine   map[string]bool // MACs it sent from
}

func newInjector(t *testing.T, h *hubNAS) *injector {
	inj := &injector{t: t, h: h, port: h.hub.Port(net.HardwareAddr{0x02, 0x11, 0, 0, 0, 1}, 1<<14), mine: map[string]bool{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<16)
		for {
			n, err := inj.port.ReadFrame(buf)
			if err != nil {
				return
			}
			inj.mu.Lock()
			inj.frames = append(inj.frames, append([]byte(nil), buf[:n]...))
			inj.mu.Unlock()
		}
	}()
	t.Cleanup(func() { inj.port.Close(); <-done })
	return inj
}

func (inj *injector) raw(b []byte) {
	if len(b) >= 12 {
		inj.mu.Lock()
		inj.mine[string(b[6:12])] = true
		inj.mu.Unlock()
	}
	if err := inj.port.WriteFrame(b); err != nil {
		inj.t.Fatal(err)
	}
}

func (inj *injector) send(d *pppoe.Discovery) {
	b, err := d.MarshalBinary()
	if err != nil {
		inj.t.Fatal(err)
	}
	inj.raw(b)
}

// discovery returns the discovery frames from the AC to the injector's
// MACs with code c.
func (inj *injector) discovery(c pppoe.Code) []*pppoe.Discovery {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	var out []*pppoe.Discovery
	for _, f := range inj.frames {
		if len(f) < 20 || binary.BigEndian.Uint16(f[12:14]) != uint16(pppoe.EtherTypeDiscovery) || !inj.mine[string(f[0:6])] {
			continue
		}
		var d pppoe.Discovery
		if d.UnmarshalBinary(f) == nil && d.Code == c {
			out = append(out, &d)
		}
	}
	return out
}

func (inj *injector) count(c pppoe.Code) int { return len(inj.discovery(c)) }

func (inj *injector) last(c pppoe.Code) *pppoe.Discovery {
	ds := inj.discovery(c)
	if len(ds) == 0 {
		inj.t.Fatalf("no %v", c)
	}
	return ds[len(ds)-1]
}

func (inj *injector) sessionIDs(c pppoe.Code) []uint16 {
	var ids []uint16
	for _, d := range inj.discovery(c) {
		ids = append(ids, d.SessionID)
	}
	return ids
}

// padi sends a PADI from mac (Host-Uniq = the MAC) and returns the PADO.
func (inj *injector) padi(mac net.HardwareAddr, extra ...pppoe.Tag) *pppoe.Discovery {
	inj.t.Helper()
	before := inj.count(pppoe.CodePADO)
	tags := append([]pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""), {Type: pppoe.TagHostUniq, Value: mac}}, extra...)
	inj.send(&pppoe.Discovery{Dst: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, Src: mac, Code: pppoe.CodePADI, Tags: tags})
	deadline := time.Now().Add(2 * time.Second)
	for inj.count(pppoe.CodePADO) == before {
		if time.Now().After(deadline) {
			inj.t.Fatal("no PADO")
		}
		time.Sleep(2 * time.Millisecond)
	}
	return inj.last(pppoe.CodePADO)
}

func (inj *injector) padr(mac net.HardwareAddr, cookie []byte, extra ...pppoe.Tag) {
	tags := []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""), {Type: pppoe.TagHostUniq, Value: mac}}
	if cookie != nil {
		tags = append(tags, pppoe.Tag{Type: pppoe.TagACCookie, Value: cookie})
	}
	tags = append(tags, extra...)
	inj.send(&pppoe.Discovery{Dst: inj.h.srv.HardwareAddr(), Src: mac, Code: pppoe.CodePADR, Tags: tags})
}

// sendSession sends a PPP frame in s's session, as if from s.
func (inj *injector) sendSession(s *client.Session, proto ppp.Protocol, info []byte) {
	f := pppoe.Session{Dst: inj.h.srv.HardwareAddr(), Src: s.MAC(), SessionID: s.SessionID(), Payload: append(ppp.AppendProtocol(nil, proto), info...)}
	b, err := f.MarshalBinary()
	if err != nil {
		inj.t.Fatal(err)
	}
	if err := inj.port.WriteFrame(b); err != nil {
		inj.t.Fatal(err)
	}
}

// sessionFrames returns the session frames the AC sent in session id.
func (inj *injector) sessionFrames(id uint16) []pppoe.Session {
	inj.mu.Lock()
	defer inj.mu.Unlock()
	var out []pppoe.Session
	for _, f := range inj.frames {
		var s pppoe.Session
		if s.UnmarshalBinary(f) == nil && s.SessionID == id && string(s.Src) == string(inj.h.srv.HardwareAddr()) {
			out = append(out, s)
		}
	}
	return out
}
