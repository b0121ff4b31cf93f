package relay

import (
	"fmt"
	"sync/atomic"
)

// DropReason says why the relay dropped a frame.
type DropReason uint8

// Drop reasons (the metrics' label values are their String forms).
const (
	DropMalformed      DropReason = iota // fails RFC 2516 / RFC 1661 framing
	DropUnknownSession                   // session frame or PADT for no session
	DropSpoofed                          // a session's frame from another MAC
	DropNotUp                            // IP frame before the session is up
	DropPADIRate                         // PADI or PADR over the rate limit
	DropSessionLimit                     // PADI while at the session limit
	DropNoOffer                          // PADR that matches no PADO relayed
	DropRelayID                          // PADO/PADS without our Relay-Session-Id
	DropUnexpected                       // a frame that has no business here
	DropHeld                             // credentials resent while held
	DropLinkRefused                      // the outgoing socket refused it
	DropNotForUs                         // a session frame addressed to another MAC
	NumDropReasons
)

var dropNames = [NumDropReasons]string{
	"malformed", "unknown_session", "spoofed", "not_up", "padi_rate",
	"session_limit", "no_offer", "relay_id", "unexpected", "held", "link_refused",
	"not_for_us",
}

// String returns the reason's metric label.
func (d DropReason) String() string {
	if d < NumDropReasons {
		return dropNames[d]
	}
	return fmt.Sprintf("DropReason(%d)", uint8(d))
}

// Stats are the relay's counters since New.
type Stats struct {
	// Frames relayed by user space, from the LAN and from the WAN.
	FromLAN, FromWAN uint64
	// Drops by reason, user space and kernel program together.
	Drops [NumDropReasons]uint64
	// Sessions now in the table (any state) and up (IP flowing).
	Sessions, Up int
	// Dials authorised, refused, and refused because the Authorizer
	// failed (counted in Refused too).
	Accepted, Refused, AuthErrors uint64
	// GenericErrors sent to subscribers (refused PADI/PADR).
	GenericErrors uint64
	// Offloaded reports whether the kernel program forwards sessions.
	Offloaded bool
}

// counters are the live counters; the per-side ones sit on their own
// cache lines since each pump goroutine writes its own.
type counters struct {
	frames [2]struct {
		n atomic.Uint64
		_ [56]byte
	}
	drops                         [NumDropReasons]atomic.Uint64
	accepted, refused, authErrors atomic.Uint64
	genericErrors                 atomic.Uint64
}

func (c *counters) drop(d DropReason) { c.drops[d].Add(1) }
