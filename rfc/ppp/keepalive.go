package ppp

// DefaultEchoFailures is Keepalive's default MaxFailures.
const DefaultEchoFailures = 3

// Keepalive keeps the books of LCP echo keepalive (RFC 1661 §5.8) for a
// caller that owns the clock: call Tick every interval while LCP is
// Opened, send what it returns, and pass each Echo-Reply received to
// Reply. The zero value is ready to use.
type Keepalive struct {
	// MaxFailures is how many Echo-Requests in a row may go unanswered
	// before the peer counts as gone; default DefaultEchoFailures.
	MaxFailures int

	id      uint8
	pending int
	magic   uint32
}

// Tick returns the next Echo-Request, carrying our negotiated
// Magic-Number (zero if none), or dead = true when MaxFailures requests
// in a row went unanswered, in which case nothing is to be sent and the
// caller takes the link down.
func (k *Keepalive) Tick(magic uint32) (req Packet, dead bool) {
	limit := k.MaxFailures
	if limit <= 0 {
		limit = DefaultEchoFailures
	}
	if k.pending >= limit {
		return Packet{}, true
	}
	k.pending++
	k.id++
	k.magic = magic
	return EchoRequest(k.id, magic, nil), false
}

// Pending returns how many Echo-Requests are unanswered.
func (k *Keepalive) Pending() int { return k.pending }

// Reply accounts a received packet: an Echo-Reply clears the unanswered
// count and Reply returns true. It returns false, changing nothing, for
// any other packet and for an Echo-Reply carrying our own non-zero
// Magic-Number, which means our request came back to us over a
// looped-back link (§6.4).
func (k *Keepalive) Reply(p *Packet) bool {
	if p.Code != CodeEchoReply {
		return false
	}
	magic, _, err := p.Magic()
	if err != nil || (magic != 0 && magic == k.magic) {
		return false
	}
	k.pending = 0
	return true
}
