package radiusx

import (
	"layeh.com/radius"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
)

// Octets64 joins a 32-bit Acct-*-Octets value and its Acct-*-Gigawords
// (RFC 2869 §5.1: how many times the counter wrapped around 2^32).
func Octets64(octets, gigawords uint32) uint64 {
	return uint64(gigawords)<<32 | uint64(octets)
}

// SplitOctets64 splits a 64-bit counter into its 32-bit octets and
// gigawords parts.
func SplitOctets64(n uint64) (octets, gigawords uint32) {
	return uint32(n), uint32(n >> 32)
}

// SetOctets64 sets Acct-Input-Octets, Acct-Input-Gigawords,
// Acct-Output-Octets and Acct-Output-Gigawords from 64-bit counters.
// Gigawords are always present, zero or not, so a reader never guesses.
func SetOctets64(p *radius.Packet, in, out uint64) error {
	io, ig := SplitOctets64(in)
	oo, og := SplitOctets64(out)
	if err := rfc2866.AcctInputOctets_Set(p, rfc2866.AcctInputOctets(io)); err != nil {
		return err
	}
	if err := rfc2869.AcctInputGigawords_Set(p, rfc2869.AcctInputGigawords(ig)); err != nil {
		return err
	}
	if err := rfc2866.AcctOutputOctets_Set(p, rfc2866.AcctOutputOctets(oo)); err != nil {
		return err
	}
	return rfc2869.AcctOutputGigawords_Set(p, rfc2869.AcctOutputGigawords(og))
}

// GetOctets64 reads the 64-bit input and output counters; absent
// attributes count as zero.
func GetOctets64(p *radius.Packet) (in, out uint64) {
	in = Octets64(uint32(rfc2866.AcctInputOctets_Get(p)), uint32(rfc2869.AcctInputGigawords_Get(p)))
	out = Octets64(uint32(rfc2866.AcctOutputOctets_Get(p)), uint32(rfc2869.AcctOutputGigawords_Get(p)))
	return in, out
}
