package relay

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/rfc/ppp"
)

// side is where a frame comes from.
type side uint8

const (
	lan side = 0
	wan side = 1
)

func (s side) other() side { return 1 - s }

func (s side) String() string {
	if s == lan {
		return "lan"
	}
	return "wan"
}

// Authorisation states of a session.
const (
	authNone uint8 = iota
	authPending
	authAccepted
	authRefused
)

// traffic counts one direction's IP packets (DESIGN.md "Usage").
type traffic struct {
	octets, packets atomic.Uint64
}

// session is one relayed PPPoE session. The SESSION_ID is unique at the
// gateway (a PADS reusing one in use is refused), so the table is one
// array indexed by it that serves both directions: a LAN frame must come
// from sub, a WAN frame from ac.
type session struct {
	id      uint16
	sub, ac [6]byte

	// Read by the pumps without the lock.
	up      atomic.Bool // the BRAS accepted the credentials: IP flows
	traffic [2]traffic  // [lan] = in (from the subscriber), [wan] = out
	spoofed atomic.Uint64

	mu        sync.Mutex
	closed    bool
	created   time.Time
	lastSeen  time.Time // last control frame, or last change in packets
	lastTotal uint64
	offloaded bool

	key      uint64 // 0 until up
	started  time.Time
	user     string
	authSt   uint8
	authProt ppp.Protocol
	authID   uint8  // Identifier of the held PAP request / CHAP response
	held     []byte // the credentials frame, while the Authorizer thinks
	auth     gateway.Authorization
	ip       netip.Addr
	echo     [2]int // Echo-Requests from each side not yet answered
	cause    gateway.TerminateCause
	// pendingEnd is the cause of an end due once the frame being
	// handled has been sent.
	pendingEnd gateway.TerminateCause
}

func (s *session) subMAC() net.HardwareAddr { return append(net.HardwareAddr(nil), s.sub[:]...) }
func (s *session) acMAC() net.HardwareAddr  { return append(net.HardwareAddr(nil), s.ac[:]...) }
