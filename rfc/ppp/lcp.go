package ppp

import (
	"encoding/binary"
	"fmt"
)

// LCPOptionType is the Type of an LCP Configuration Option (RFC 1661 §6).
type LCPOptionType uint8

// LCP Configuration Option types.
const (
	LCPMRU             LCPOptionType = 1 // Maximum-Receive-Unit, RFC 1661 §6.1
	LCPACCM            LCPOptionType = 2 // Async-Control-Character-Map, RFC 1662 §7.1 (kept raw)
	LCPAuthProtocol    LCPOptionType = 3 // Authentication-Protocol, RFC 1661 §6.2
	LCPQualityProtocol LCPOptionType = 4 // Quality-Protocol, RFC 1661 §6.3 (kept raw)
	LCPMagicNumber     LCPOptionType = 5 // Magic-Number, RFC 1661 §6.4
	LCPPFC             LCPOptionType = 7 // Protocol-Field-Compression, RFC 1661 §6.5
	LCPACFC            LCPOptionType = 8 // Address-and-Control-Field-Compression, RFC 1661 §6.6
)

// String returns the option's RFC name.
func (t LCPOptionType) String() string {
	switch t {
	case LCPMRU:
		return "MRU"
	case LCPACCM:
		return "ACCM"
	case LCPAuthProtocol:
		return "Authentication-Protocol"
	case LCPQualityProtocol:
		return "Quality-Protocol"
	case LCPMagicNumber:
		return "Magic-Number"
	case LCPPFC:
		return "Protocol-Field-Compression"
	case LCPACFC:
		return "Address-and-Control-Field-Compression"
	}
	return fmt.Sprintf("LCPOption(%d)", uint8(t))
}

// DefaultMRU is the MRU both ends assume until another is negotiated
// (RFC 1661 §6.1). Over PPPoE the largest MRU is 1492 (RFC 2516 §7)
// unless RFC 4638's PPP-Max-Payload raised it.
const DefaultMRU = 1500

// CHAPAlgorithm is the Algorithm octet of an Authentication-Protocol
// option naming CHAP (RFC 1994 §3).
type CHAPAlgorithm uint8

// CHAPMD5 is CHAP with MD5 (RFC 1994 §3), the only algorithm edgebill
// implements.
const CHAPMD5 CHAPAlgorithm = 5

// String names the algorithm.
func (a CHAPAlgorithm) String() string {
	switch a {
	case CHAPMD5:
		return "MD5"
	case 0x80:
		return "MS-CHAP"
	case 0x81:
		return "MS-CHAP-v2"
	}
	return fmt.Sprintf("CHAPAlgorithm(%d)", uint8(a))
}

// Auth is the value of an Authentication-Protocol option (RFC 1661 §6.2):
// the protocol and, for CHAP, its algorithm (RFC 1994 §3).
type Auth struct {
	Protocol  Protocol
	Algorithm CHAPAlgorithm // only for ProtoCHAP
}

// The two authentication methods edgebill speaks.
var (
	AuthPAP     = Auth{Protocol: ProtoPAP}
	AuthCHAPMD5 = Auth{Protocol: ProtoCHAP, Algorithm: CHAPMD5}
)

// String renders the method, e.g. "CHAP/MD5".
func (a Auth) String() string {
	if a.Protocol == ProtoCHAP {
		return "CHAP/" + a.Algorithm.String()
	}
	return a.Protocol.String()
}

// Option returns the Authentication-Protocol option naming a.
func (a Auth) Option() Option {
	d := []byte{byte(a.Protocol >> 8), byte(a.Protocol)}
	if a.Protocol == ProtoCHAP {
		d = append(d, byte(a.Algorithm))
	}
	return Option{Type: uint8(LCPAuthProtocol), Data: d}
}

// MRUOption returns a Maximum-Receive-Unit option (RFC 1661 §6.1).
func MRUOption(mru uint16) Option {
	return Option{Type: uint8(LCPMRU), Data: binary.BigEndian.AppendUint16(nil, mru)}
}

// MagicNumberOption returns a Magic-Number option (RFC 1661 §6.4).
func MagicNumberOption(magic uint32) Option {
	return Option{Type: uint8(LCPMagicNumber), Data: binary.BigEndian.AppendUint32(nil, magic)}
}

// PFCOption returns a Protocol-Field-Compression option (RFC 1661 §6.5).
func PFCOption() Option { return Option{Type: uint8(LCPPFC)} }

// ACFCOption returns an Address-and-Control-Field-Compression option
// (RFC 1661 §6.6). RFC 2516 §7 forbids requesting it over PPPoE.
func ACFCOption() Option { return Option{Type: uint8(LCPACFC)} }

// MRU returns the value of a Maximum-Receive-Unit option.
func (o Option) MRU() (uint16, error) {
	if o.Type != uint8(LCPMRU) || len(o.Data) != 2 {
		return 0, o.dataErr(LCPMRU, 2)
	}
	return binary.BigEndian.Uint16(o.Data), nil
}

// MagicNumber returns the value of a Magic-Number option.
func (o Option) MagicNumber() (uint32, error) {
	if o.Type != uint8(LCPMagicNumber) || len(o.Data) != 4 {
		return 0, o.dataErr(LCPMagicNumber, 4)
	}
	return binary.BigEndian.Uint32(o.Data), nil
}

// Auth returns the value of an Authentication-Protocol option. For CHAP
// the data must be exactly the Algorithm octet (RFC 1994 §3); for PAP
// there must be none (RFC 1334 §2.1.1). Other protocols are returned
// with whatever data they carry ignored.
func (o Option) Auth() (Auth, error) {
	if o.Type != uint8(LCPAuthProtocol) || len(o.Data) < 2 {
		return Auth{}, fmt.Errorf("%w: %v of %d octets", ErrOptionData, LCPAuthProtocol, len(o.Data)+2)
	}
	a := Auth{Protocol: Protocol(binary.BigEndian.Uint16(o.Data))}
	switch a.Protocol {
	case ProtoCHAP:
		if len(o.Data) != 3 {
			return Auth{}, fmt.Errorf("%w: CHAP Authentication-Protocol of %d octets, want 5", ErrOptionData, len(o.Data)+2)
		}
		a.Algorithm = CHAPAlgorithm(o.Data[2])
	case ProtoPAP:
		if len(o.Data) != 2 {
			return Auth{}, fmt.Errorf("%w: PAP Authentication-Protocol of %d octets, want 4", ErrOptionData, len(o.Data)+2)
		}
	}
	return a, nil
}

func (o Option) dataErr(t LCPOptionType, n int) error {
	if o.Type != uint8(t) {
		return fmt.Errorf("%w: option type %d is not %v", ErrOptionData, o.Type, t)
	}
	return fmt.Errorf("%w: %v of %d octets, want %d", ErrOptionData, t, len(o.Data)+2, n+2)
}

// LCPConfig is the typed view of a set of LCP options, such as the options
// one side requested and the other acknowledged. Absent options keep
// their zero value; options it does not model are in Other, in order.
type LCPConfig struct {
	MRU         uint16 // 0: not present (DefaultMRU applies)
	Auth        Auth   // zero Protocol: no authentication
	MagicNumber uint32 // 0: not present (RFC 1661 §6.4 forbids zero)
	PFC, ACFC   bool
	Other       []Option
}

// ParseLCPConfig reads the LCP options it knows from opts.
func ParseLCPConfig(opts []Option) (LCPConfig, error) {
	var c LCPConfig
	for _, o := range opts {
		var err error
		switch LCPOptionType(o.Type) {
		case LCPMRU:
			c.MRU, err = o.MRU()
		case LCPAuthProtocol:
			c.Auth, err = o.Auth()
		case LCPMagicNumber:
			c.MagicNumber, err = o.MagicNumber()
		case LCPPFC:
			c.PFC, err = true, flagErr(o)
		case LCPACFC:
			c.ACFC, err = true, flagErr(o)
		default:
			c.Other = append(c.Other, o)
		}
		if err != nil {
			return LCPConfig{}, err
		}
	}
	return c, nil
}

// Options encodes the config as options in the order RFC 1661 §6 numbers
// them, followed by Other.
func (c LCPConfig) Options() []Option {
	var opts []Option
	if c.MRU != 0 {
		opts = append(opts, MRUOption(c.MRU))
	}
	if c.Auth.Protocol != 0 {
		opts = append(opts, c.Auth.Option())
	}
	if c.MagicNumber != 0 {
		opts = append(opts, MagicNumberOption(c.MagicNumber))
	}
	if c.PFC {
		opts = append(opts, PFCOption())
	}
	if c.ACFC {
		opts = append(opts, ACFCOption())
	}
	return append(opts, c.Other...)
}

func flagErr(o Option) error {
	if len(o.Data) != 0 {
		return fmt.Errorf("%w: %v with %d octets of data", ErrOptionData, LCPOptionType(o.Type), len(o.Data))
	}
	return nil
}
