package ppp

import (
	"fmt"
	"net/netip"
)

// IPCPOptionType is the Type of an IPCP Configuration Option (RFC 1332 §3,
// RFC 1877 §1). IPCP packets are Packets with codes 1-7 (RFC 1332 §2).
type IPCPOptionType uint8

// IPCP Configuration Option types.
const (
	IPCPIPAddresses   IPCPOptionType = 1   // IP-Addresses, RFC 1332 §3.1, deprecated (kept raw)
	IPCPIPCompression IPCPOptionType = 2   // IP-Compression-Protocol, RFC 1332 §3.2 (kept raw)
	IPCPIPAddress     IPCPOptionType = 3   // IP-Address, RFC 1332 §3.3
	IPCPPrimaryDNS    IPCPOptionType = 129 // Primary DNS Server Address, RFC 1877 §1.1
	IPCPPrimaryNBNS   IPCPOptionType = 130 // Primary NBNS Server Address, RFC 1877 §1.2 (kept raw)
	IPCPSecondaryDNS  IPCPOptionType = 131 // Secondary DNS Server Address, RFC 1877 §1.3
	IPCPSecondaryNBNS IPCPOptionType = 132 // Secondary NBNS Server Address, RFC 1877 §1.4 (kept raw)
)

// String returns the option's RFC name.
func (t IPCPOptionType) String() string {
	switch t {
	case IPCPIPAddresses:
		return "IP-Addresses"
	case IPCPIPCompression:
		return "IP-Compression-Protocol"
	case IPCPIPAddress:
		return "IP-Address"
	case IPCPPrimaryDNS:
		return "Primary-DNS-Address"
	case IPCPPrimaryNBNS:
		return "Primary-NBNS-Address"
	case IPCPSecondaryDNS:
		return "Secondary-DNS-Address"
	case IPCPSecondaryNBNS:
		return "Secondary-NBNS-Address"
	}
	return fmt.Sprintf("IPCPOption(%d)", uint8(t))
}

// isAddress reports whether options of type t carry one IPv4 address.
func (t IPCPOptionType) isAddress() bool {
	switch t {
	case IPCPIPAddress, IPCPPrimaryDNS, IPCPPrimaryNBNS, IPCPSecondaryDNS, IPCPSecondaryNBNS:
		return true
	}
	return false
}

// AddrOption returns an IPCP option of type t carrying the IPv4 address a
// (IP-Address, RFC 1332 §3.3; DNS and NBNS, RFC 1877 §1). An invalid a is
// sent as 0.0.0.0, which asks the peer to supply the address.
func AddrOption(t IPCPOptionType, a netip.Addr) Option {
	var b [4]byte
	if a.Is4() {
		b = a.As4()
	}
	return Option{Type: uint8(t), Data: b[:]}
}

// Addr returns the IPv4 address an IP-Address, DNS or NBNS option
// carries; 0.0.0.0 is returned as netip.IPv4Unspecified().
func (o Option) Addr() (netip.Addr, error) {
	if !IPCPOptionType(o.Type).isAddress() || len(o.Data) != 4 {
		return netip.Addr{}, fmt.Errorf("%w: %v of %d octets, want 6", ErrOptionData, IPCPOptionType(o.Type), len(o.Data)+2)
	}
	return netip.AddrFrom4([4]byte(o.Data)), nil
}

// IPCPConfig is the typed view of a set of IPCP options. An absent option
// leaves its field invalid (the zero netip.Addr); an option sent as
// 0.0.0.0 (asking the peer for a value) is netip.IPv4Unspecified().
type IPCPConfig struct {
	Address      netip.Addr
	PrimaryDNS   netip.Addr
	SecondaryDNS netip.Addr
	Other        []Option // NBNS, compression and unknown options, in order
}

// ParseIPCPConfig reads the IPCP options it knows from opts.
func ParseIPCPConfig(opts []Option) (IPCPConfig, error) {
	var c IPCPConfig
	for _, o := range opts {
		var dst *netip.Addr
		switch IPCPOptionType(o.Type) {
		case IPCPIPAddress:
			dst = &c.Address
		case IPCPPrimaryDNS:
			dst = &c.PrimaryDNS
		case IPCPSecondaryDNS:
			dst = &c.SecondaryDNS
		default:
			c.Other = append(c.Other, o)
			continue
		}
		a, err := o.Addr()
		if err != nil {
			return IPCPConfig{}, err
		}
		*dst = a
	}
	return c, nil
}

// Options encodes the config: IP-Address, Primary DNS, Secondary DNS (each
// only when valid), then Other.
func (c IPCPConfig) Options() []Option {
	var opts []Option
	if c.Address.IsValid() {
		opts = append(opts, AddrOption(IPCPIPAddress, c.Address))
	}
	if c.PrimaryDNS.IsValid() {
		opts = append(opts, AddrOption(IPCPPrimaryDNS, c.PrimaryDNS))
	}
	if c.SecondaryDNS.IsValid() {
		opts = append(opts, AddrOption(IPCPSecondaryDNS, c.SecondaryDNS))
	}
	return append(opts, c.Other...)
}
