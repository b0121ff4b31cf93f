package gateway

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// This file is the contract between the two halves of gatewayd: the
// relay (gateway/relay: PPPoE relay, PPP snooping, authorisation, the
// counters) and the billing side (gateway/billing: meter and price, the
// journal, bill delivery, the live view). The relay calls Sessions; the
// billing side reads counters through Counters.

// Usage is one session's traffic so far, counted on the PPP payload (the
// IP packet bytes) as in DESIGN.md "Usage": In is from the subscriber,
// Out is to the subscriber (RFC 2866 on a NAS).
type Usage struct {
	InOctets, OutOctets   uint64
	InPackets, OutPackets uint64
}

// Authorization is what the ISP's RADIUS said about a dial, kept for the
// session: the Access-Accept's tariff and interim interval.
type Authorization struct {
	// Tariff is the tariff text (rfc/tariff) joined from the
	// EdgeBill-Tariff attributes, in packet order.
	Tariff string
	// InterimInterval is Acct-Interim-Interval; zero means the
	// gateway's configured default.
	InterimInterval time.Duration
	// Credit is EdgeBill-Credit in the tariff's minor units, if sent.
	Credit    int64
	HasCredit bool
	// Class is the RADIUS Class attribute, echoed in accounting.
	Class []byte
}

// Session describes one relayed PPPoE session once the subscriber is
// authorised and the BRAS has accepted it.
type Session struct {
	// Key is the gateway-local identity of the session, unique across
	// restarts (the journal keeps the counter).
	Key uint64
	// AcctSessionID is the gateway's Acct-Session-Id for it.
	AcctSessionID  string
	PPPoESessionID uint16
	SubscriberMAC  net.HardwareAddr
	BRASMAC        net.HardwareAddr
	User           string
	// FramedIP is the address IPCP gave the subscriber; it may be
	// learnt after Opened (see Sessions.Addressed).
	FramedIP netip.Addr
	Started  time.Time
	Auth     Authorization
}

// TerminateCause is an Acct-Terminate-Cause value (RFC 2866 §5.10).
type TerminateCause uint32

// RFC 2866 §5.10 causes the gateway uses.
const (
	CauseUserRequest    TerminateCause = 1
	CauseLostCarrier    TerminateCause = 2
	CauseLostService    TerminateCause = 3
	CauseIdleTimeout    TerminateCause = 4
	CauseSessionTimeout TerminateCause = 5
	CauseAdminReset     TerminateCause = 6
	CauseAdminReboot    TerminateCause = 7
	CausePortError      TerminateCause = 8
	CauseNASError       TerminateCause = 9
	CauseNASRequest     TerminateCause = 10
	CauseNASReboot      TerminateCause = 11
)

// Sessions receives the relay's session events; the billing side
// implements it. Calls for one session come in order, from any goroutine;
// implementations must not block the relay for long (no network I/O).
type Sessions interface {
	// Opened: the BRAS accepted the subscriber's credentials.
	Opened(s Session)
	// Addressed: IPCP gave the subscriber an address.
	Addressed(key uint64, ip netip.Addr)
	// Closed: the session ended (LCP Terminate, PADT, echo failure,
	// idle, gateway shutdown) with its final usage.
	Closed(key uint64, at time.Time, u Usage, cause TerminateCause)
}

// Counters gives the live usage of an open session; the relay implements
// it with counters it updates per frame (or reads from the kernel).
type Counters interface {
	Usage(key uint64) (Usage, bool)
}

// Ender ends an open session as the gateway's own decision (the billing
// side's, when the running charge reaches the credit); the relay
// implements it. End reports whether it knew the session; if it did, the
// session's Closed follows, with the final usage and cause (or the cause
// of an end that was already under way). reason is text for the
// subscriber (LCP Terminate-Request data, the PADT's Generic-Error).
// End may call Sessions.Closed before it returns: the caller must not
// hold a lock that Closed takes.
type Ender interface {
	End(key uint64, cause TerminateCause, reason string) bool
}

// Authorizer decides whether a subscriber may dial: an Access-Request
// with Service-Type Authorize-Only to the ISP's RADIUS.
type Authorizer interface {
	Authorize(ctx context.Context, user string, subscriber net.HardwareAddr) (Decision, error)
}

// Decision is an Authorizer's answer.
type Decision struct {
	Accept bool
	// ReplyMessage is shown to the subscriber on a refusal (PAP-Nak
	// message, CHAP-Failure text).
	ReplyMessage string
	Auth         Authorization
}
