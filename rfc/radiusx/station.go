package radiusx

import "net"

// AppendCallingStationID appends mac in the form RFC 3580 §3.21 gives
// Calling-Station-Id for IEEE 802 access: upper-case hex octets separated
// by "-", as "00-10-A4-23-19-C0". Every edgebill component writes a
// subscriber's MAC this way, so the BRAS's radacct, the gateway's
// requests and its bills spell it alike.
func AppendCallingStationID(dst []byte, mac net.HardwareAddr) []byte {
	const digits = "0123456789ABCDEF"
	for i, o := range mac {
		if i > 0 {
			dst = append(dst, '-')
		}
		dst = append(dst, digits[o>>4], digits[o&0x0f])
	}
	return dst
}

// CallingStationID returns mac as AppendCallingStationID writes it.
func CallingStationID(mac net.HardwareAddr) string {
	return string(AppendCallingStationID(make([]byte, 0, 3*len(mac)), mac))
}
