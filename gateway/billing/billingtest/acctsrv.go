package billingtest

import (
	"errors"
	"net"
	"sync"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/radiusx"
)

// Request is one verified Accounting-Request.
type Request struct {
	Packet *radius.Packet
	Status rfc2866.AcctStatusType
	// Bill is the decoded bill of a Stop (nil otherwise, or when it did
	// not decode: BillErr).
	Bill    *bill.Bill
	BillErr error
	Delay   uint32 // Acct-Delay-Time
	At      time.Time
}

// AccountingServer is the listener.
type AccountingServer struct {
	Secret []byte
	addr   *net.UDPAddr

	mu       sync.Mutex
	conn     *net.UDPConn
	done     chan struct{}
	requests []Request
	bad      int
	drop     func(r *Request) bool
	// Seen is signalled (non-blocking) on every recorded request.
	Seen chan struct{}
}

// NewAccountingServer binds a loopback port and, if up, starts
// answering.
func NewAccountingServer(secret string, up bool) (*AccountingServer, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	s := &AccountingServer{Secret: []byte(secret), addr: c.LocalAddr().(*net.UDPAddr), Seen: make(chan struct{}, 1)}
	if !up {
		c.Close()
		return s, nil
	}
	s.start(c)
	return s, nil
}

// Addr is host:port.
func (s *AccountingServer) Addr() string { return s.addr.String() }

// Up starts answering (again) on the same port.
func (s *AccountingServer) Up() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return nil
	}
	c, err := net.ListenUDP("udp", s.addr)
	if err != nil {
		return err
	}
	s.startLocked(c)
	return nil
}

func (s *AccountingServer) start(c *net.UDPConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.startLocked(c)
}

func (s *AccountingServer) startLocked(c *net.UDPConn) {
	s.conn = c
	s.done = make(chan struct{})
	go s.serve(c, s.done)
}

// Down stops answering and closes the port (the kernel answers ICMP
// port unreachable).
func (s *AccountingServer) Down() {
	s.mu.Lock()
	c, done := s.conn, s.done
	s.conn = nil
	s.mu.Unlock()
	if c != nil {
		c.Close()
		<-done
	}
}

// SetDrop installs f to decide which requests go unanswered (and
// unrecorded), as a lossy network would; nil answers all.
func (s *AccountingServer) SetDrop(f func(r *Request) bool) {
	s.mu.Lock()
	s.drop = f
	s.mu.Unlock()
}

// Close is Down.
func (s *AccountingServer) Close() { s.Down() }

// Requests returns a copy of what was recorded.
func (s *AccountingServer) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Bad counts requests that failed verification.
func (s *AccountingServer) Bad() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bad
}

func (s *AccountingServer) serve(c *net.UDPConn, done chan struct{}) {
	defer close(done)
	buf := make([]byte, 4096)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pkt := buf[:n]
		if err := radiusx.VerifyRequest(pkt, s.Secret); err != nil {
			s.mu.Lock()
			s.bad++
			s.mu.Unlock()
			continue
		}
		p, err := radius.Parse(pkt, s.Secret)
		if err != nil || p.Code != radius.CodeAccountingRequest {
			s.mu.Lock()
			s.bad++
			s.mu.Unlock()
			continue
		}
		r := Request{
			Packet: p,
			Status: rfc2866.AcctStatusType_Get(p),
			Delay:  uint32(rfc2866.AcctDelayTime_Get(p)),
			At:     time.Now(),
		}
		if r.Status == rfc2866.AcctStatusType_Value_Stop {
			r.Bill, r.BillErr = bill.FromPacket(p)
		}
		s.mu.Lock()
		drop := s.drop
		s.mu.Unlock()
		if drop != nil && drop(&r) {
			continue
		}
		s.mu.Lock()
		s.requests = append(s.requests, r)
		s.mu.Unlock()
		select {
		case s.Seen <- struct{}{}:
		default:
		}
		resp := p.Response(radius.CodeAccountingResponse)
		b, err := radiusx.Encode(resp)
		if err != nil {
			continue
		}
		c.WriteToUDP(b, from)
	}
}
