package relay

import (
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

// Mode selects how established sessions' IP frames are forwarded.
type Mode string

// Forwarding modes.
const (
	// ModeAuto uses the kernel offload when it loads and attaches, and
	// user space otherwise (the default).
	ModeAuto Mode = "auto"
	// ModeKernel requires the tc BPF offload (gateway/relay/kernel).
	ModeKernel Mode = "kernel"
	// ModeUser forwards every frame in user space (recvmmsg/sendmmsg).
	ModeUser Mode = "user"
)

// Config configures a Relay. The zero value of every field but LAN and
// WAN is a working default, given in its comment.
type Config struct {
	// LAN and WAN are the interface names (New opens them; NewWithPorts
	// ignores them).
	LAN, WAN string
	// Mode: ModeAuto (default), ModeKernel or ModeUser.
	Mode Mode

	// GatewayID names this gateway (NAS-Identifier, logs).
	GatewayID string
	// ACName is the AC-Name of the Generic-Error PADO the relay sends
	// when it refuses a PADI (default "edgebill-relay").
	ACName string
	// CircuitID and RemoteID, when set, are inserted into PADI and PADR
	// as a TR-101 Vendor-Specific tag (replacing any the subscriber
	// sent). In RemoteID, "{mac}" is replaced by the subscriber's MAC.
	CircuitID, RemoteID string

	// MaxSessions bounds relayed sessions (default 256).
	MaxSessions int
	// PADIRate and PADIBurst bound PADIs relayed per second over all
	// hosts (defaults 50 and 100); PADIHostRate and PADIHostBurst per
	// subscriber MAC (defaults 2 and 5).
	PADIRate, PADIHostRate   float64
	PADIBurst, PADIHostBurst int

	// HandshakeTimeout ends a session that is not up (authenticated by
	// the BRAS) this long after its PADS (default 60 s).
	HandshakeTimeout time.Duration
	// IdleTimeout ends a session from which no frame at all, data or
	// control, was seen in either direction for this long (default 5
	// min): both ends are gone.
	IdleTimeout time.Duration
	// EchoFailures ends a session when one side sent this many LCP
	// Echo-Requests in a row that the other side did not answer
	// (default 5).
	EchoFailures int

	// Authorizer is asked before a subscriber's credentials go
	// upstream; nil lets every dial through unasked.
	Authorizer gateway.Authorizer
	// AuthTimeout bounds one Authorize call (default 15 s); an error or
	// a timeout refuses the dial (the Authorizer decides about failing
	// open).
	AuthTimeout time.Duration
	// UnavailableMessage is the refusal text when the Authorizer fails
	// (default "Authorisation service unavailable").
	UnavailableMessage string

	// Sessions receives session events; nil discards them. Its methods
	// are called with the session's lock held, in order per session:
	// they must not call back into the Relay (Usage, End, Spoofed) on
	// the same goroutine, or they deadlock.
	Sessions gateway.Sessions
	// NewKey returns a session key unique across restarts (the
	// journal's counter); nil uses a counter started from the clock in
	// nanoseconds.
	NewKey func() uint64
	// AcctSessionID formats a key as Acct-Session-Id; nil uses 16
	// upper-case hex digits.
	AcctSessionID func(key uint64) string

	// Logger; nil means zap.NewNop().
	Logger *zap.Logger
	// Now is the clock (tests inject one); nil means time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	switch c.Mode {
	case "":
		c.Mode = ModeAuto
	case ModeAuto, ModeKernel, ModeUser:
	default:
		return fmt.Errorf("relay: unknown mode %q", c.Mode)
	}
	if c.ACName == "" {
		c.ACName = "edgebill-relay"
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 256
	}
	if c.MaxSessions > 0xfffe {
		return errors.New("relay: MaxSessions above 65534")
	}
	if c.PADIRate <= 0 {
		c.PADIRate = 50
	}
	if c.PADIBurst <= 0 {
		c.PADIBurst = 100
	}
	if c.PADIHostRate <= 0 {
		c.PADIHostRate = 2
	}
	if c.PADIHostBurst <= 0 {
		c.PADIHostBurst = 5
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 60 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.EchoFailures <= 0 {
		c.EchoFailures = 5
	}
	if c.AuthTimeout <= 0 {
		c.AuthTimeout = 15 * time.Second
	}
	if c.UnavailableMessage == "" {
		c.UnavailableMessage = "Authorisation service unavailable"
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AcctSessionID == nil {
		c.AcctSessionID = func(k uint64) string { return fmt.Sprintf("%016X", k) }
	}
	if len(c.CircuitID) > pppoe.MaxAgentIDLen || len(c.RemoteID) > pppoe.MaxAgentIDLen {
		return fmt.Errorf("relay: TR-101 ids are limited to %d octets", pppoe.MaxAgentIDLen)
	}
	return nil
}
