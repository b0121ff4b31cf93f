package ppp

import (
	"errors"
	"net/netip"
	"slices"
)

// Errors a Policy returns when negotiation cannot succeed; the Machine
// then closes the layer and Receive returns the error.
var (
	// ErrLoopback: the peer's Configure-Naks keep carrying the very
	// Magic-Number our own last Nak suggested, so we are talking to
	// ourselves over a looped-back link (RFC 1661 §6.4).
	ErrLoopback = errors.New("ppp: link is looped back")
	// ErrAuthRefused: the peer rejected, or Naked every one of, the
	// authentication methods we require (RFC 1661 §6.2).
	ErrAuthRefused = errors.New("ppp: peer refuses the authentication we require")
	// ErrNoAddress: the peer rejected IP-Address while we have no address
	// of our own to use (RFC 1332 §3.3).
	ErrNoAddress = errors.New("ppp: peer will not assign an IP address")
)

// minMRU is the smallest MRU accepted from the peer; smaller requests are
// Naked up to it (as pppd does; RFC 1661 §6.1 leaves it to us).
const minMRU = 128

// defaultLoopLimit is how many Naks echoing our own Magic-Number suggestion
// mark the link as looped back (pppd's default too).
const defaultLoopLimit = 10

// LCPPolicy negotiates LCP options (RFC 1661 §6) for either end of a
// PPPoE link. Set the exported fields, then hand a pointer to a Machine.
type LCPPolicy struct {
	// MRU is the Maximum-Receive-Unit we request; 0 requests none.
	MRU uint16
	// MaxPeerMRU is the largest MRU we accept from the peer; a larger one
	// is Naked down to it (1492 over PPPoE, RFC 2516 §7). 0: no limit.
	MaxPeerMRU uint16
	// Auth lists the authentication methods we demand of the peer, most
	// preferred first: the authenticator's (BRAS's) side. Empty: we do not
	// authenticate the peer.
	Auth []Auth
	// AcceptAuth lists the methods we agree to authenticate ourselves
	// with, most preferred first: the client's side. A request for
	// another is Naked with the first; empty rejects Authentication-Protocol.
	AcceptAuth []Auth
	// Magic draws a Magic-Number, which RFC 1661 §6.4 wants random and
	// non-zero; it is injected so tests are deterministic. nil: no
	// Magic-Number is requested.
	Magic func() uint32
	// PFC and ACFC request these compression options and accept the
	// peer's. False, the default, rejects them, as RFC 2516 §7 asks over
	// PPPoE (ACFC MUST be rejected, PFC is NOT RECOMMENDED).
	PFC, ACFC bool
	// LoopLimit is how many consecutive Configure-Naks return our own
	// Magic-Number suggestion before the link counts as looped back
	// (default 10).
	LoopLimit int

	mru          uint16
	auth         int // index into Auth
	magic        uint32
	noMRU        bool
	noMagic      bool
	noPFC        bool
	noACFC       bool
	lastNakMagic uint32 // the Magic-Number we suggested in our last Nak
	loops        int
}

var _ Policy = (*LCPPolicy)(nil)

// Reset implements Policy: a fresh negotiation with a new Magic-Number.
func (p *LCPPolicy) Reset() {
	p.mru = p.MRU
	p.auth = 0
	p.magic = p.newMagic()
	p.noMRU, p.noMagic, p.noPFC, p.noACFC = false, false, false, false
	p.lastNakMagic, p.loops = 0, 0
}

func (p *LCPPolicy) newMagic() uint32 {
	if p.Magic == nil {
		return 0
	}
	for range 8 {
		if v := p.Magic(); v != 0 && v != p.magic {
			return v
		}
	}
	if p.magic+1 == 0 { // a broken source: still never zero or repeated
		return 1
	}
	return p.magic + 1
}

// MagicNumber returns the Magic-Number of our current request, 0 if none.
func (p *LCPPolicy) MagicNumber() uint32 {
	if p.noMagic {
		return 0
	}
	return p.magic
}

// Request implements Policy.
func (p *LCPPolicy) Request() []Option {
	var opts []Option
	if p.mru != 0 && !p.noMRU {
		opts = append(opts, MRUOption(p.mru))
	}
	if p.auth < len(p.Auth) {
		opts = append(opts, p.Auth[p.auth].Option())
	}
	if p.magic != 0 && !p.noMagic {
		opts = append(opts, MagicNumberOption(p.magic))
	}
	if p.PFC && !p.noPFC {
		opts = append(opts, PFCOption())
	}
	if p.ACFC && !p.noACFC {
		opts = append(opts, ACFCOption())
	}
	return opts
}

// CheckRequest implements Policy.
func (p *LCPPolicy) CheckRequest(req []Option) (nak, reject []Option) {
	for _, o := range req {
		switch LCPOptionType(o.Type) {
		case LCPMRU:
			v, err := o.MRU()
			switch {
			case err != nil:
				reject = append(reject, o)
			case p.MaxPeerMRU != 0 && v > p.MaxPeerMRU:
				nak = append(nak, MRUOption(p.MaxPeerMRU))
			case v < minMRU:
				nak = append(nak, MRUOption(minMRU))
			}
		case LCPAuthProtocol:
			if len(p.AcceptAuth) == 0 {
				reject = append(reject, o)
				continue
			}
			if a, err := o.Auth(); err != nil || !slices.Contains(p.AcceptAuth, a) {
				nak = append(nak, p.AcceptAuth[0].Option())
			}
		case LCPMagicNumber:
			v, err := o.MagicNumber()
			switch {
			case err != nil:
				reject = append(reject, o)
			case v == 0 || (v == p.magic && !p.noMagic):
				// §6.4: zero MUST be Naked; our own value may mean
				// a looped-back link, so Nak with a different one.
				if p.Magic == nil {
					reject = append(reject, o)
					continue
				}
				p.lastNakMagic = p.newMagic()
				nak = append(nak, MagicNumberOption(p.lastNakMagic))
			}
		case LCPPFC:
			if !p.PFC || len(o.Data) != 0 {
				reject = append(reject, o)
			}
		case LCPACFC:
			if !p.ACFC || len(o.Data) != 0 {
				reject = append(reject, o)
			}
		default:
			reject = append(reject, o)
		}
	}
	return nak, reject
}

// Nak implements Policy.
func (p *LCPPolicy) Nak(opts []Option) error {
	looped := false
	for _, o := range opts {
		switch LCPOptionType(o.Type) {
		case LCPMRU:
			// Take a smaller MRU; never one above what we can receive.
			if v, err := o.MRU(); err == nil && v >= minMRU && v <= p.MRU {
				p.mru = v
			}
		case LCPAuthProtocol:
			if p.auth >= len(p.Auth) {
				continue // a hint for an option we do not send
			}
			// Move only forward through our preferences, to the
			// peer's suggestion if we accept it, so a peer cannot keep
			// us cycling.
			a, err := o.Auth()
			if i := slices.Index(p.Auth, a); err == nil && i > p.auth {
				p.auth = i
			} else {
				p.auth++
			}
			if p.auth >= len(p.Auth) {
				return ErrAuthRefused
			}
		case LCPMagicNumber:
			if p.magic == 0 || p.noMagic {
				continue
			}
			// §6.4: a Nak carrying the value we suggested in our own
			// last Nak suggests a loop; either way choose anew.
			if v, err := o.MagicNumber(); err == nil && v == p.lastNakMagic && v != 0 {
				looped = true
			}
			p.magic = p.newMagic()
		case LCPPFC:
			p.noPFC = true
		case LCPACFC:
			p.noACFC = true
		}
	}
	if !looped {
		p.loops = 0
		return nil
	}
	p.loops++
	limit := p.LoopLimit
	if limit <= 0 {
		limit = defaultLoopLimit
	}
	if p.loops >= limit {
		return ErrLoopback
	}
	return nil
}

// Reject implements Policy.
func (p *LCPPolicy) Reject(opts []Option) error {
	for _, o := range opts {
		switch LCPOptionType(o.Type) {
		case LCPMRU:
			p.noMRU = true
		case LCPAuthProtocol:
			if p.auth < len(p.Auth) {
				return ErrAuthRefused
			}
		case LCPMagicNumber:
			p.noMagic = true
		case LCPPFC:
			p.noPFC = true
		case LCPACFC:
			p.noACFC = true
		}
	}
	return nil
}

// IPCPPolicy negotiates IPCP options (RFC 1332 §3, RFC 1877) for either
// end: the BRAS sets Local and Peer (and the DNS servers it hands out),
// the client leaves Local unset and sets RequestDNS.
type IPCPPolicy struct {
	// Local is the address we request. Invalid or 0.0.0.0: we request
	// 0.0.0.0, asking the peer to Nak with one (RFC 1332 §3.3).
	Local netip.Addr
	// Peer is the address the peer must use: any other request is Naked
	// with it, and a request without IP-Address gets it as a hint.
	// Invalid: any non-zero address the peer asks for is accepted, and a
	// request for 0.0.0.0 is rejected.
	Peer netip.Addr
	// PrimaryDNS and SecondaryDNS are handed to a peer that asks (RFC
	// 1877 §1.1, §1.3): another value is Naked with ours. Invalid: the
	// option is rejected.
	PrimaryDNS, SecondaryDNS netip.Addr
	// RequestDNS asks the peer for its DNS servers (we request 0.0.0.0
	// and take the values it Naks with).
	RequestDNS bool

	local, dns1, dns2      netip.Addr
	noAddr, noDNS1, noDNS2 bool
}

var _ Policy = (*IPCPPolicy)(nil)

// Reset implements Policy.
func (p *IPCPPolicy) Reset() {
	p.local = netip.IPv4Unspecified()
	if p.Local.Is4() {
		p.local = p.Local
	}
	p.dns1, p.dns2 = netip.IPv4Unspecified(), netip.IPv4Unspecified()
	p.noAddr, p.noDNS1, p.noDNS2 = false, false, false
}

// Request implements Policy.
func (p *IPCPPolicy) Request() []Option {
	var opts []Option
	if !p.noAddr {
		opts = append(opts, AddrOption(IPCPIPAddress, p.local))
	}
	if p.RequestDNS && !p.noDNS1 {
		opts = append(opts, AddrOption(IPCPPrimaryDNS, p.dns1))
	}
	if p.RequestDNS && !p.noDNS2 {
		opts = append(opts, AddrOption(IPCPSecondaryDNS, p.dns2))
	}
	return opts
}

// CheckRequest implements Policy.
func (p *IPCPPolicy) CheckRequest(req []Option) (nak, reject []Option) {
	sawAddr := false
	for _, o := range req {
		t := IPCPOptionType(o.Type)
		var want netip.Addr
		switch t {
		case IPCPIPAddress:
			sawAddr = true
			want = p.Peer
		case IPCPPrimaryDNS:
			want = p.PrimaryDNS
		case IPCPSecondaryDNS:
			want = p.SecondaryDNS
		default:
			reject = append(reject, o) // NBNS, compression, unknown
			continue
		}
		a, err := o.Addr()
		switch {
		case err != nil:
			reject = append(reject, o)
		case want.Is4() && a != want:
			nak = append(nak, AddrOption(t, want))
		case !want.Is4() && (t != IPCPIPAddress || a.IsUnspecified()):
			reject = append(reject, o)
		}
	}
	if !sawAddr && p.Peer.Is4() {
		// RFC 1332 §3.3: Nak to tell the peer its address. A peer that
		// never adds it is acknowledged after Max-Failure Naks, since
		// the Machine cannot reject an option that was not sent.
		nak = append(nak, AddrOption(IPCPIPAddress, p.Peer))
	}
	return nak, reject
}

// Nak implements Policy.
func (p *IPCPPolicy) Nak(opts []Option) error {
	for _, o := range opts {
		a, err := o.Addr()
		if err != nil || !a.Is4() || a.IsUnspecified() {
			continue
		}
		switch IPCPOptionType(o.Type) {
		case IPCPIPAddress:
			p.local = a
			p.noAddr = false
		case IPCPPrimaryDNS:
			if p.RequestDNS {
				p.dns1 = a
			}
		case IPCPSecondaryDNS:
			if p.RequestDNS {
				p.dns2 = a
			}
		}
	}
	return nil
}

// Reject implements Policy.
func (p *IPCPPolicy) Reject(opts []Option) error {
	for _, o := range opts {
		switch IPCPOptionType(o.Type) {
		case IPCPIPAddress:
			if p.local.IsUnspecified() {
				return ErrNoAddress
			}
			p.noAddr = true
		case IPCPPrimaryDNS:
			p.noDNS1 = true
		case IPCPSecondaryDNS:
			p.noDNS2 = true
		}
	}
	return nil
}
