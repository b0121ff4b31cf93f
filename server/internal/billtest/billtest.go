package billtest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/radiusx"
)

// Gateway is a fake gateway: an id, a key pair, a RADIUS secret and its
// chain head.
type Gateway struct {
	ID     string
	Secret string
	Pub    ed25519.PublicKey
	Priv   ed25519.PrivateKey
	Seq    uint64
	Head   [bill.HashSize]byte
	nextID uint64
}

// NewGateway makes a gateway whose key derives from id (deterministic, so
// benchmarks and tests can remake it).
func NewGateway(id string) *Gateway {
	seed := sha256.Sum256([]byte("billtest key " + id))
	priv := ed25519.NewKeyFromSeed(seed[:])
	return &Gateway{ID: id, Secret: "secret-" + id, Pub: priv.Public().(ed25519.PublicKey), Priv: priv}
}

// Session describes the usage a bill is for.
type Session struct {
	User      string
	SessionID string // default: the gateway id and the sequence
	Start     time.Time
	Seconds   int64
	In, Out   uint64
	PPPoE     uint16
	MAC       net.HardwareAddr // default 02:00:00:00:00:01
	TariffID  string
	TariffVer uint32
	Charge    int64
	Currency  string // default CNY
	Scale     uint8  // default 4
}

// Bill makes the gateway's next bill for s: numbered, chained and signed.
func (g *Gateway) Bill(s Session) *bill.Bill {
	b := g.Unsigned(s)
	if err := b.Sign(g.Priv); err != nil {
		panic(err)
	}
	g.Head = b.Hash()
	return b
}

// Unsigned is Bill without the signature, so a test can tamper with the
// bill before signing or sign with another key. It still advances the
// sequence (the chain head is set by Bill, or by the caller with Chain).
func (g *Gateway) Unsigned(s Session) *bill.Bill {
	g.Seq++
	g.nextID++
	var id [bill.IDSize]byte
	binary.BigEndian.PutUint64(id[:8], g.nextID)
	h := sha256.Sum256([]byte(g.ID))
	copy(id[8:], h[:8])
	if s.SessionID == "" {
		s.SessionID = fmt.Sprintf("%s-%d", g.ID, g.Seq)
	}
	if s.MAC == nil {
		s.MAC = net.HardwareAddr{2, 0, 0, 0, 0, 1}
	}
	if s.Currency == "" {
		s.Currency = "CNY"
	}
	if s.Scale == 0 {
		s.Scale = 4
	}
	if s.TariffID == "" {
		s.TariffID = "plan"
		s.TariffVer = 1
	}
	b := &bill.Bill{
		GatewayID:      g.ID,
		SessionID:      s.SessionID,
		ID:             id,
		UserName:       s.User,
		SubscriberMAC:  s.MAC,
		PPPoESessionID: s.PPPoE,
		BRASMAC:        net.HardwareAddr{2, 0xb, 0xa5, 0, 0, 1},
		FramedIP:       netip.AddrFrom4([4]byte{100, 64, 0, 7}),
		Start:          s.Start.UTC().Truncate(time.Second),
		Stop:           s.Start.UTC().Truncate(time.Second).Add(time.Duration(s.Seconds) * time.Second),
		SessionTime:    time.Duration(s.Seconds) * time.Second,
		InputOctets:    s.In,
		OutputOctets:   s.Out,
		InputPackets:   s.In / 500,
		OutputPackets:  s.Out / 500,
		TerminateCause: rfc2866.AcctTerminateCause_Value_UserRequest,
		TariffID:       s.TariffID,
		TariffVersion:  s.TariffVer,
		Charge:         s.Charge,
		Currency:       s.Currency,
		Scale:          s.Scale,
		Sequence:       g.Seq,
	}
	if g.Seq > 1 {
		b.PrevHash = g.Head
	}
	return b
}

// Packet is the Accounting-Request Stop carrying b, signed with secret
// (Request Authenticator and Message-Authenticator), with the given
// Identifier and Acct-Delay-Time.
func Packet(b *bill.Bill, secret string, id uint8, delay uint32) []byte {
	p := radius.New(radius.CodeAccountingRequest, []byte(secret))
	p.Identifier = id
	if err := bill.ToPacket(b, p); err != nil {
		panic(err)
	}
	rfc2866.AcctDelayTime_Set(p, rfc2866.AcctDelayTime(delay))
	rfc2865.NASIPAddress_Set(p, net.IPv4(127, 0, 0, 1))
	raw, err := radiusx.Encode(p)
	if err != nil {
		panic(err)
	}
	return raw
}

// RandomID is a random bill id.
func RandomID() [bill.IDSize]byte {
	var id [bill.IDSize]byte
	rand.Read(id[:])
	return id
}
