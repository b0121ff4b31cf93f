package pppoetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"

	"github.com/edgebill/edgebill/rfc/ppp"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// Broadcast is the Ethernet broadcast address.
var Broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// SessionFrame builds a PPPoE session frame with a PPP packet.
func SessionFrame(dst, src net.HardwareAddr, id uint16, proto ppp.Protocol, pkt []byte) []byte {
	s := pppoe.Session{Dst: dst, Src: src, SessionID: id, Payload: append(ppp.AppendProtocol(nil, proto), pkt...)}
	b, err := s.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

// IPFrame builds a session frame carrying n octets as IPv4 (the octets
// are not a real IP packet; nobody on the path looks).
func IPFrame(dst, src net.HardwareAddr, id uint16, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)
	}
	if n > 0 {
		p[0] = 0x45
	}
	return SessionFrame(dst, src, id, ppp.ProtoIPv4, p)
}

// Received is one frame a peer got, parsed as far as it goes.
type Received struct {
	Raw       []byte
	Discovery *pppoe.Discovery // discovery frames
	Session   uint16
	Src       net.HardwareAddr
	Proto     ppp.Protocol // session frames
	Info      []byte       // PPP information field
}

// endpoint reads a Link in a goroutine and hands frames to handle.
type endpoint struct {
	link Link
	mac  net.HardwareAddr
	wg   sync.WaitGroup
}

func (e *endpoint) start(handle func(Received)) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, _, err := e.link.ReadFrom(buf)
			if err != nil {
				return
			}
			f := append([]byte(nil), buf[:n]...)
			if n < 20 || string(f[0:6]) != string(e.mac) && f[0]&1 == 0 {
				continue
			}
			rv := Received{Raw: f, Src: net.HardwareAddr(f[6:12])}
			switch {
			case f[12] == 0x88 && f[13] == 0x63:
				var d pppoe.Discovery
				if d.UnmarshalBinary(f) != nil {
					continue
				}
				rv.Discovery, rv.Session = &d, d.SessionID
			case f[12] == 0x88 && f[13] == 0x64:
				sf, err := pppoe.ParseSession(f)
				if err != nil {
					continue
				}
				p, info, err := ppp.SplitProtocol(sf.Payload())
				if err != nil {
					continue
				}
				rv.Session, rv.Proto, rv.Info = sf.SessionID(), p, info
			default:
				continue
			}
			handle(rv)
		}
	}()
}

// sendAddr is the address WriteTo gets: a packet.Conn wants one (and
// ignores it for SOCK_RAW but for the interface), a hub port ignores it.
var sendAddr = &packet.Addr{HardwareAddr: Broadcast}

func (e *endpoint) send(b []byte) error {
	_, err := e.link.WriteTo(b, sendAddr)
	return err
}

// Client is a scripted PPPoE subscriber.
type Client struct {
	endpoint
	frames chan Received

	mu      sync.Mutex
	session uint16
	ac      net.HardwareAddr
	magic   uint32

	// IP received in the session (what the BRAS sent that arrived).
	InPackets, InOctets atomic.Uint64
	// Echoes counts LCP Echo-Requests answered.
	Echoes atomic.Uint64
	// NoEcho stops answering Echo-Requests (a dead subscriber).
	NoEcho atomic.Bool
}

// NewClient starts a subscriber on link with source mac.
func NewClient(link Link, mac net.HardwareAddr) *Client {
	c := &Client{endpoint: endpoint{link: link, mac: mac}, frames: make(chan Received, 256), magic: 0x5ab5c0de}
	c.start(c.handle)
	return c
}

// Close closes the link and waits for the reader.
func (c *Client) Close() {
	c.link.Close()
	c.wg.Wait()
}

func (c *Client) handle(rv Received) {
	if rv.Discovery == nil && (rv.Proto == ppp.ProtoIPv4 || rv.Proto == ppp.ProtoIPv6) {
		c.InPackets.Add(1)
		c.InOctets.Add(uint64(len(rv.Info)))
		return
	}
	if rv.Proto == ppp.ProtoLCP && len(rv.Info) >= 4 && ppp.Code(rv.Info[0]) == ppp.CodeEchoRequest && !c.NoEcho.Load() {
		var p ppp.Packet
		if p.UnmarshalBinary(rv.Info) == nil {
			rep := ppp.EchoReply(&p, c.magic)
			b, _ := rep.MarshalBinary()
			c.SendPPP(ppp.ProtoLCP, b)
			c.Echoes.Add(1)
		}
		return
	}
	select {
	case c.frames <- rv:
	default:
	}
}

// Session returns the PPPoE session id and the MAC of the AC as the
// client sees it (the relay's).
func (c *Client) Session() (uint16, net.HardwareAddr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session, c.ac
}

// SetSession sets the session the client speaks in (spoofing tests).
func (c *Client) SetSession(id uint16, ac net.HardwareAddr) {
	c.mu.Lock()
	c.session, c.ac = id, ac
	c.mu.Unlock()
}

// Next returns the next frame matching ok, or an error at ctx's end.
func (c *Client) Next(ctx context.Context, ok func(Received) bool) (Received, error) {
	for {
		select {
		case rv := <-c.frames:
			if ok == nil || ok(rv) {
				return rv, nil
			}
		case <-ctx.Done():
			return Received{}, ctx.Err()
		}
	}
}

// IsDiscovery matches discovery frames of a code.
func IsDiscovery(code pppoe.Code) func(Received) bool {
	return func(rv Received) bool { return rv.Discovery != nil && rv.Discovery.Code == code }
}

// IsPPP matches session frames of a protocol (and code, if not 0).
func IsPPP(proto ppp.Protocol, code uint8) func(Received) bool {
	return func(rv Received) bool {
		return rv.Discovery == nil && rv.Proto == proto && (code == 0 || len(rv.Info) > 0 && rv.Info[0] == code)
	}
}

// SendRaw sends a frame as is.
func (c *Client) SendRaw(b []byte) error { return c.send(b) }

// SendPPP sends a PPP packet in the client's session.
func (c *Client) SendPPP(proto ppp.Protocol, pkt []byte) error {
	id, ac := c.Session()
	return c.send(SessionFrame(ac, c.mac, id, proto, pkt))
}

// SendIP sends one IPv4 frame of n octets in the client's session.
func (c *Client) SendIP(n int) error {
	id, ac := c.Session()
	return c.send(IPFrame(ac, c.mac, id, n))
}

// Discover runs PADI/PADO/PADR/PADS (RFC 2516 §5.1-5.4) and returns the
// PADO and PADS as received.
func (c *Client) Discover(ctx context.Context) (pado, pads *pppoe.Discovery, err error) {
	hu := make([]byte, 8)
	rand.Read(hu)
	padi := pppoe.Discovery{Dst: Broadcast, Src: c.mac, Code: pppoe.CodePADI,
		Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""), {Type: pppoe.TagHostUniq, Value: hu}}}
	b, _ := padi.MarshalBinary()
	for try := 0; ; try++ {
		if err := c.send(b); err != nil {
			return nil, nil, err
		}
		tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		rv, err := c.Next(tctx, IsDiscovery(pppoe.CodePADO))
		cancel()
		if err == nil {
			pado = rv.Discovery
			break
		}
		if ctx.Err() != nil || try > 10 {
			return nil, nil, fmt.Errorf("no PADO: %w", err)
		}
	}
	if t, ok := pado.ErrorTag(); ok {
		return pado, nil, fmt.Errorf("PADO carries %v %q", t.Type, t.Value)
	}
	padr := pppoe.Discovery{Dst: pado.Src, Src: c.mac, Code: pppoe.CodePADR,
		Tags: []pppoe.Tag{pppoe.NewStringTag(pppoe.TagServiceName, ""), {Type: pppoe.TagHostUniq, Value: hu}}}
	if ck, ok := pado.ACCookie(); ok {
		padr.Tags = append(padr.Tags, pppoe.Tag{Type: pppoe.TagACCookie, Value: ck})
	}
	if rs, ok := pado.RelaySessionID(); ok {
		padr.Tags = append(padr.Tags, pppoe.Tag{Type: pppoe.TagRelaySessionID, Value: rs})
	}
	b, _ = padr.MarshalBinary()
	if err := c.send(b); err != nil {
		return nil, nil, err
	}
	rv, err := c.Next(ctx, IsDiscovery(pppoe.CodePADS))
	if err != nil {
		return pado, nil, fmt.Errorf("no PADS: %w", err)
	}
	pads = rv.Discovery
	if pads.SessionID == 0 {
		return pado, pads, errors.New("PADS for session 0")
	}
	c.SetSession(pads.SessionID, pads.Src)
	return pado, pads, nil
}

// DialResult is how a dial went.
type DialResult struct {
	Session uint16
	AuthOK  bool
	Message string // PAP Ack/Nak message or CHAP Success/Failure text
	Address netip.Addr
}

// ErrRefused is returned by Dial when authentication failed.
var ErrRefused = errors.New("pppoetest: authentication refused")

// Dial discovers, negotiates LCP, authenticates with whatever the BRAS
// asks (PAP or CHAP-MD5), and runs IPCP for an address.
func (c *Client) Dial(ctx context.Context, user, password string) (DialResult, error) {
	if _, _, err := c.Discover(ctx); err != nil {
		return DialResult{}, err
	}
	id, _ := c.Session()
	res := DialResult{Session: id}
	auth, err := c.lcp(ctx)
	if err != nil {
		return res, err
	}
	switch auth.Protocol {
	case ppp.ProtoPAP:
		req := ppp.PAPPacket{Code: ppp.PAPAuthenticateRequest, Identifier: 1, PeerID: user, Password: []byte(password)}
		b, _ := req.MarshalBinary()
		c.SendPPP(ppp.ProtoPAP, b)
		rv, err := c.Next(ctx, IsPPP(ppp.ProtoPAP, 0))
		if err != nil {
			return res, fmt.Errorf("no PAP answer: %w", err)
		}
		var p ppp.PAPPacket
		if err := p.UnmarshalBinary(rv.Info); err != nil {
			return res, err
		}
		res.AuthOK, res.Message = p.Code == ppp.PAPAuthenticateAck, p.Message
	case ppp.ProtoCHAP:
		rv, err := c.Next(ctx, IsPPP(ppp.ProtoCHAP, uint8(ppp.CHAPChallenge)))
		if err != nil {
			return res, fmt.Errorf("no CHAP Challenge: %w", err)
		}
		var ch ppp.CHAPPacket
		if err := ch.UnmarshalBinary(rv.Info); err != nil {
			return res, err
		}
		sum := ppp.CHAPMD5Response(ch.Identifier, []byte(password), ch.Value)
		resp := ppp.CHAPPacket{Code: ppp.CHAPResponse, Identifier: ch.Identifier, Value: sum[:], Name: user}
		b, _ := resp.MarshalBinary()
		c.SendPPP(ppp.ProtoCHAP, b)
		rv, err = c.Next(ctx, IsPPP(ppp.ProtoCHAP, 0))
		if err != nil {
			return res, fmt.Errorf("no CHAP answer: %w", err)
		}
		var p ppp.CHAPPacket
		if err := p.UnmarshalBinary(rv.Info); err != nil {
			return res, err
		}
		res.AuthOK, res.Message = p.Code == ppp.CHAPSuccess, p.Message
	default:
		res.AuthOK = true
	}
	if !res.AuthOK {
		return res, ErrRefused
	}
	res.Address, err = c.ipcp(ctx)
	return res, err
}

// lcp negotiates LCP (RFC 1661 §4): our Configure-Request acknowledged,
// the BRAS's acknowledged as sent. It returns the BRAS's
// Authentication-Protocol.
func (c *Client) lcp(ctx context.Context) (ppp.Auth, error) {
	req := ppp.Packet{Code: ppp.CodeConfigureRequest, Identifier: 1,
		Options: []ppp.Option{ppp.MRUOption(1492), ppp.MagicNumberOption(c.magic)}}
	b, _ := req.MarshalBinary()
	c.SendPPP(ppp.ProtoLCP, b)
	var acked, ackedTheirs bool
	var auth ppp.Auth
	for !acked || !ackedTheirs {
		rv, err := c.Next(ctx, IsPPP(ppp.ProtoLCP, 0))
		if err != nil {
			return auth, fmt.Errorf("LCP: %w", err)
		}
		var p ppp.Packet
		if err := p.UnmarshalBinary(rv.Info); err != nil {
			continue
		}
		switch p.Code {
		case ppp.CodeConfigureAck:
			acked = true
		case ppp.CodeConfigureRequest:
			if o, ok := p.Option(uint8(ppp.LCPAuthProtocol)); ok {
				auth, _ = o.Auth()
			}
			p.Code = ppp.CodeConfigureAck
			b, _ := p.MarshalBinary()
			c.SendPPP(ppp.ProtoLCP, b)
			ackedTheirs = true
		case ppp.CodeTerminateRequest:
			return auth, errors.New("LCP terminated")
		}
	}
	return auth, nil
}

// ipcp asks for an address with 0.0.0.0 and takes the one the BRAS
// offers in its Configure-Nak (RFC 1332 §3.3).
func (c *Client) ipcp(ctx context.Context) (netip.Addr, error) {
	addr := netip.IPv4Unspecified()
	var acked, ackedTheirs bool
	send := func(id uint8) {
		req := ppp.Packet{Code: ppp.CodeConfigureRequest, Identifier: id,
			Options: []ppp.Option{ppp.AddrOption(ppp.IPCPIPAddress, addr)}}
		b, _ := req.MarshalBinary()
		c.SendPPP(ppp.ProtoIPCP, b)
	}
	send(1)
	for !acked || !ackedTheirs {
		rv, err := c.Next(ctx, IsPPP(ppp.ProtoIPCP, 0))
		if err != nil {
			return addr, fmt.Errorf("IPCP: %w", err)
		}
		var p ppp.Packet
		if err := p.UnmarshalBinary(rv.Info); err != nil {
			continue
		}
		switch p.Code {
		case ppp.CodeConfigureNak:
			if o, ok := p.Option(uint8(ppp.IPCPIPAddress)); ok {
				addr, _ = o.Addr()
			}
			send(p.Identifier + 1)
		case ppp.CodeConfigureAck:
			acked = true
		case ppp.CodeConfigureRequest:
			p.Code = ppp.CodeConfigureAck
			b, _ := p.MarshalBinary()
			c.SendPPP(ppp.ProtoIPCP, b)
			ackedTheirs = true
		}
	}
	return addr, nil
}

// Hangup sends an LCP Terminate-Request, waits a little for the Ack, and
// sends a PADT (RFC 2516 §5.5).
func (c *Client) Hangup(ctx context.Context) {
	t := ppp.Packet{Code: ppp.CodeTerminateRequest, Identifier: 9}
	b, _ := t.MarshalBinary()
	c.SendPPP(ppp.ProtoLCP, b)
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	c.Next(tctx, IsPPP(ppp.ProtoLCP, uint8(ppp.CodeTerminateAck)))
	cancel()
	c.SendPADT()
}

// SendPADT sends a PADT for the client's session.
func (c *Client) SendPADT() error {
	id, ac := c.Session()
	b, _ := pppoe.NewPADT(ac, c.mac, id, "").MarshalBinary()
	return c.send(b)
}
