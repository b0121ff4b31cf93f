package ppp

import (
	"errors"
	"fmt"
	"time"
)

// RFC 1661 §4.6 defaults for the counters and the timer.
const (
	DefaultRestartTimer = 3 * time.Second
	DefaultMaxTerminate = 2
	DefaultMaxConfigure = 10
	DefaultMaxFailure   = 5
)

// ErrUnmatchedReply is a Configure-Ack, -Nak or -Reject that does not
// answer our last Configure-Request (wrong Identifier, or an Ack whose
// options differ, or a Reject that is not a subset of what we sent). RFC
// 1661 §5.2-5.4 make such packets invalid: they are silently discarded.
var ErrUnmatchedReply = errors.New("ppp: reply does not match our Configure-Request")

// Policy decides the content of option negotiation for one control
// protocol; the Machine decides when packets are sent. It is called only
// from the Machine's methods, never concurrently.
type Policy interface {
	// Reset starts a fresh negotiation: forget the adjustments earlier
	// Naks and Rejects made. It is called before the first
	// Configure-Request after the automaton was not negotiating.
	Reset()
	// Request returns the options of our next Configure-Request.
	Request() []Option
	// CheckRequest judges the peer's Configure-Request. A non-empty
	// reject lists options to Configure-Reject, copied unchanged from req
	// (RFC 1661 §5.4); otherwise a non-empty nak lists options to
	// Configure-Nak with values we would accept, or options we want the
	// peer to add (§5.3); otherwise the request is acknowledged whole
	// (§5.2).
	CheckRequest(req []Option) (nak, reject []Option)
	// Nak adjusts our next request to the peer's Configure-Nak. A non-nil
	// error means negotiation cannot succeed: the Machine closes the
	// layer instead of sending another request.
	Nak(opts []Option) error
	// Reject removes the options the peer rejected from our next request;
	// an error is handled as for Nak.
	Reject(opts []Option) error
}

// Config configures a Machine. The zero value of each numeric field
// selects the RFC 1661 §4.6 default.
type Config struct {
	// Protocol is the control protocol the Machine runs: ProtoLCP, or an
	// NCP such as ProtoIPCP. LCP knows codes 1-11; an NCP knows 1-7 (RFC
	// 1332 §2), and anything else is answered with a Code-Reject.
	Protocol Protocol
	// Policy negotiates the options. Required.
	Policy Policy
	// RestartTimer is the Restart timer period (default 3 s).
	RestartTimer time.Duration
	// MaxTerminate, MaxConfigure and MaxFailure are the counters of
	// §4.6 (defaults 2, 10 and 5). After MaxFailure Configure-Naks
	// without an Ack, options we would Nak are Rejected instead.
	MaxTerminate, MaxConfigure, MaxFailure int
	// MRU bounds the length of Code-Rejects (RFC 1661 §5.6), normally
	// the peer's negotiated MRU; default DefaultMRU.
	MRU int
	// Passive is the [p] option (§4.2 Stopped): when the peer never
	// answers, wait in Stopped for its Configure-Request instead of
	// signalling This-Layer-Finished.
	Passive bool
	// RestartOnOpen is the [r] option (§4.3 Open): an Open in Stopped,
	// Stopping, Closing or Opened renegotiates the link by a Down
	// followed by an Up.
	RestartOnOpen bool
}

// Machine is the RFC 1661 option negotiation automaton (§4) for one
// control protocol, as a pure state machine: events go in through its
// methods, the actions to take come out, in order, with the packets to
// send. It reads no clock: every method takes the current time, and
// Deadline says when the caller must call Timeout. A Machine serves
// either end of a link (it is symmetric) and any control protocol that
// uses LCP's packet exchange (LCP, IPCP). It is not safe for concurrent
// use.
type Machine struct {
	cfg   Config
	state State

	restart  int // restart counter (§4.6)
	failures int // Configure-Naks sent since the last Configure-Ack
	deadline time.Time
	timing   bool

	lastID    uint8  // Identifier of the last packet we originated
	req       Packet // our last Configure-Request
	sentReq   bool
	term      []byte // Data of our Terminate-Requests
	local     []Option
	peer      []Option
	policyErr error // from the Policy during the current event
}

// NewMachine returns a Machine in the Initial state.
func NewMachine(cfg Config) *Machine {
	if cfg.RestartTimer <= 0 {
		cfg.RestartTimer = DefaultRestartTimer
	}
	if cfg.MaxTerminate <= 0 {
		cfg.MaxTerminate = DefaultMaxTerminate
	}
	if cfg.MaxConfigure <= 0 {
		cfg.MaxConfigure = DefaultMaxConfigure
	}
	if cfg.MaxFailure <= 0 {
		cfg.MaxFailure = DefaultMaxFailure
	}
	if cfg.MRU <= 0 {
		cfg.MRU = DefaultMRU
	}
	return &Machine{cfg: cfg}
}

// Protocol returns the control protocol the Machine runs.
func (m *Machine) Protocol() Protocol { return m.cfg.Protocol }

// State returns the current state.
func (m *Machine) State() State { return m.state }

// Deadline returns when the Restart timer fires, and false when it is not
// running. The caller calls Timeout at or after that time.
func (m *Machine) Deadline() (time.Time, bool) { return m.deadline, m.timing }

// LocalOptions returns the options of our Configure-Request that the peer
// acknowledged, valid once the layer is up (after tlu). The caller must
// not modify them.
func (m *Machine) LocalOptions() []Option { return m.local }

// PeerOptions returns the options of the peer's Configure-Request we
// acknowledged, valid once the layer is up (after tlu). The caller must
// not modify them.
func (m *Machine) PeerOptions() []Option { return m.peer }

// Up signals that the lower layer is up (event Up).
func (m *Machine) Up(now time.Time) []Action { return m.run(now, EventUp, nil) }

// Down signals that the lower layer is down (event Down).
func (m *Machine) Down(now time.Time) []Action { return m.run(now, EventDown, nil) }

// Open administratively opens the layer (event Open).
func (m *Machine) Open(now time.Time) []Action {
	acts := m.run(now, EventOpen, nil)
	if m.cfg.RestartOnOpen {
		switch m.state {
		case StateStopped, StateStopping, StateOpened:
			acts = append(acts, m.run(now, EventDown, nil)...)
			acts = append(acts, m.run(now, EventUp, nil)...)
		}
	}
	return acts
}

// Close administratively closes the layer (event Close). reason, if not
// empty, is sent as the data of the Terminate-Requests (RFC 1661 §5.5).
func (m *Machine) Close(now time.Time, reason string) []Action {
	m.term = []byte(reason)
	return m.run(now, EventClose, nil)
}

// Rejected signals that the peer Protocol-Rejected this Machine's
// protocol: the LCP Machine received a Protocol-Reject naming it (RFC
// 1661 §5.7). It is event RXJ-.
func (m *Machine) Rejected(now time.Time) []Action { return m.run(now, EventRXJMinus, nil) }

// Timeout fires the Restart timer (event TO+ or TO-, by the restart
// counter). It does nothing when the timer is not running or now is
// before Deadline, so a late or stale timer is harmless.
func (m *Machine) Timeout(now time.Time) []Action {
	if !m.timing || now.Before(m.deadline) {
		return nil
	}
	m.timing = false
	if m.restart > 0 {
		return m.run(now, EventTOPlus, nil)
	}
	return m.run(now, EventTOMinus, nil)
}

// received is the packet behind a receive event.
type received struct {
	pkt   Packet
	raw   []byte // the packet as received, up to its Length
	reply Packet // our Configure-Ack/Nak/Reject for a Configure-Request
}

// Receive handles a packet of the Machine's protocol (the information
// field after the Protocol field). It returns the event the packet
// raised and the actions taken. A packet that is malformed or that
// answers no request of ours is discarded, as RFC 1661 §5 requires: the
// event is zero, no action is taken and err says why. err is also set,
// with actions, when the Policy gave up on a Configure-Nak or -Reject and
// the Machine closed the layer.
func (m *Machine) Receive(now time.Time, b []byte) (Event, []Action, error) {
	var r received
	if err := r.pkt.UnmarshalBinary(b); err != nil {
		return 0, nil, err
	}
	r.raw = b[:r.pkt.Len()]
	ev, err := m.classify(&r)
	if err != nil {
		return 0, nil, err
	}
	m.policyErr = nil
	acts := m.run(now, ev, &r)
	if err := m.policyErr; err != nil {
		m.policyErr = nil
		return ev, acts, err
	}
	return ev, acts, nil
}

// knownCode reports whether the Machine's protocol defines c.
func (m *Machine) knownCode(c Code) bool {
	if m.cfg.Protocol == ProtoLCP {
		return c >= CodeConfigureRequest && c <= CodeDiscardRequest
	}
	return c >= CodeConfigureRequest && c <= CodeCodeReject
}

// classify turns a received packet into its event (RFC 1661 §4.3),
// consulting the Policy for a Configure-Request.
func (m *Machine) classify(r *received) (Event, error) {
	p := &r.pkt
	if !m.knownCode(p.Code) {
		return EventRUC, nil
	}
	switch p.Code {
	case CodeConfigureRequest:
		return m.classifyRequest(r), nil
	case CodeConfigureAck:
		if !m.sentReq || p.Identifier != m.req.Identifier || !sameOptions(p.Options, m.req.Options) {
			return 0, fmt.Errorf("%w: Configure-Ack id %d", ErrUnmatchedReply, p.Identifier)
		}
		return EventRCA, nil
	case CodeConfigureNak:
		if !m.sentReq || p.Identifier != m.req.Identifier {
			return 0, fmt.Errorf("%w: Configure-Nak id %d", ErrUnmatchedReply, p.Identifier)
		}
		return EventRCN, nil
	case CodeConfigureReject:
		if !m.sentReq || p.Identifier != m.req.Identifier || !subsequence(p.Options, m.req.Options) {
			return 0, fmt.Errorf("%w: Configure-Reject id %d", ErrUnmatchedReply, p.Identifier)
		}
		return EventRCN, nil
	case CodeTerminateRequest:
		return EventRTR, nil
	case CodeTerminateAck:
		return EventRTA, nil
	case CodeCodeReject:
		// §5.6: rejecting a code the automaton needs is catastrophic;
		// rejecting Echo, Discard or an extension is not.
		if len(p.Data) > 0 && Code(p.Data[0]) >= CodeConfigureRequest && Code(p.Data[0]) <= CodeCodeReject {
			return EventRXJMinus, nil
		}
		return EventRXJPlus, nil
	case CodeProtocolReject:
		proto, _, err := p.RejectedProtocol()
		if err != nil {
			return 0, err
		}
		if proto == ProtoLCP {
			return EventRXJMinus, nil
		}
		return EventRXJPlus, nil
	default: // Echo-Request, Echo-Reply, Discard-Request
		if _, _, err := p.Magic(); err != nil {
			return 0, err
		}
		return EventRXR, nil
	}
}

// classifyRequest judges a Configure-Request as RCR+ or RCR- and prepares
// the reply (which only some states send).
func (m *Machine) classifyRequest(r *received) Event {
	p := &r.pkt
	nak, rej := m.cfg.Policy.CheckRequest(p.Options)
	if len(rej) == 0 && len(nak) > 0 && m.failures >= m.cfg.MaxFailure {
		// §4.6 Max-Failure: not converging, so reject, in the order
		// received, what we would have Naked. Options the peer did not
		// send cannot be rejected; if only those remain, give up
		// wanting them and acknowledge. A Magic-Number collision stays
		// a Nak: §6.4 says MUST, and loop detection depends on it.
		var keep []Option
		for _, n := range nak {
			if m.cfg.Protocol == ProtoLCP && n.Type == uint8(LCPMagicNumber) {
				keep = append(keep, n)
			}
		}
		for _, o := range p.Options {
			if m.cfg.Protocol == ProtoLCP && o.Type == uint8(LCPMagicNumber) {
				continue
			}
			for _, n := range nak {
				if o.Type == n.Type {
					rej = append(rej, o)
					break
				}
			}
		}
		nak = keep
	}
	switch {
	case len(rej) > 0:
		r.reply = Packet{Code: CodeConfigureReject, Identifier: p.Identifier, Options: rej}
		return EventRCRMinus
	case len(nak) > 0:
		r.reply = Packet{Code: CodeConfigureNak, Identifier: p.Identifier, Options: nak}
		return EventRCRMinus
	}
	r.reply = Packet{Code: CodeConfigureAck, Identifier: p.Identifier, Options: p.Options}
	return EventRCRPlus
}

// run applies event ev: the table's transition, the [p] option, and each
// action in order.
func (m *Machine) run(now time.Time, ev Event, r *received) []Action {
	c := table[ev][m.state]
	if !c.legal {
		return nil
	}
	from := m.state
	next := c.next
	if ev == EventTOMinus && m.cfg.Passive && from.negotiating() {
		c.acts = nil // [p]: wait in Stopped without tlf
	}
	if ev == EventRCN && r != nil && (from.negotiating() || from == StateOpened) {
		if err := m.adjust(&r.pkt); err != nil {
			// The Policy cannot go on: close instead (§4.3 Close).
			m.policyErr = err
			m.term = []byte(err.Error())
			return m.run(now, EventClose, nil)
		}
	}
	if ev == EventRCA && r != nil && (next == StateAckRcvd || next == StateOpened) {
		m.local = m.req.Options
	}
	acts := make([]Action, 0, len(c.acts))
	for _, k := range c.acts {
		a := Action{Kind: k}
		switch k {
		case ActionIRC:
			m.restart = m.cfg.MaxConfigure
			for _, k2 := range c.acts {
				if k2 == ActionSTR {
					m.restart = m.cfg.MaxTerminate
				}
			}
		case ActionZRC:
			m.restart = 0
			m.startTimer(now)
		case ActionSCR:
			if ev != EventTOPlus || !m.sentReq {
				if !from.negotiating() {
					m.cfg.Policy.Reset()
					m.failures = 0
				}
				m.req = Packet{Code: CodeConfigureRequest, Identifier: m.nextID(), Options: m.cfg.Policy.Request()}
				m.sentReq = true
			}
			a.Packet = m.req
			m.restart--
			m.startTimer(now)
		case ActionSCA:
			a.Packet = r.reply
			m.peer = r.pkt.Options
			m.failures = 0
		case ActionSCN:
			a.Packet = r.reply
			if r.reply.Code == CodeConfigureNak {
				m.failures++
			}
		case ActionSTR:
			a.Packet = Packet{Code: CodeTerminateRequest, Identifier: m.nextID(), Data: m.term}
			m.restart--
			m.startTimer(now)
		case ActionSTA:
			a.Packet = Packet{Code: CodeTerminateAck, Identifier: r.pkt.Identifier}
		case ActionSCJ:
			a.Packet = CodeReject(m.nextID(), r.raw, m.cfg.MRU)
		case ActionSER:
			if r.pkt.Code != CodeEchoRequest {
				continue // Echo-Reply and Discard-Request need no answer (§5.8, §5.9)
			}
			a.Packet = EchoReply(&r.pkt, m.localMagic())
		}
		acts = append(acts, a)
	}
	m.state = next
	if !next.timed() {
		m.timing = false
	}
	return acts
}

// adjust hands a valid Configure-Nak or -Reject to the Policy.
func (m *Machine) adjust(p *Packet) error {
	if p.Code == CodeConfigureReject {
		return m.cfg.Policy.Reject(p.Options)
	}
	return m.cfg.Policy.Nak(p.Options)
}

func (m *Machine) startTimer(now time.Time) {
	m.deadline = now.Add(m.cfg.RestartTimer)
	m.timing = true
}

func (m *Machine) nextID() uint8 {
	m.lastID++
	return m.lastID
}

// localMagic is our negotiated Magic-Number, zero if none (§5.8).
func (m *Machine) localMagic() uint32 {
	if m.cfg.Protocol != ProtoLCP {
		return 0
	}
	for _, o := range m.local {
		if v, err := o.MagicNumber(); err == nil {
			return v
		}
	}
	return 0
}

func sameOptions(a, b []Option) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// subsequence reports whether sub lists options of all, in order and
// unchanged (RFC 1661 §5.4: a Configure-Reject must not reorder or modify
// the rejected options).
func subsequence(sub, all []Option) bool {
	i := 0
	for _, o := range sub {
		for i < len(all) && !all[i].Equal(o) {
			i++
		}
		if i == len(all) {
			return false
		}
		i++
	}
	return true
}
