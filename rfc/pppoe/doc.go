// Package pppoe encodes and decodes PPP over Ethernet frames: the Ethernet
// II header, the PPPoE header, the discovery packets PADI, PADO, PADR, PADS
// and PADT with their tags (RFC 2516 §4, §5 and Appendix A), the
// PPP-Max-Payload tag (RFC 4638 §4), and the TR-101 PPPoE Intermediate
// Agent line identification carried in the Vendor-Specific tag (Broadband
// Forum, enterprise 3561: Agent-Circuit-Id and Agent-Remote-Id).
//
// It is a pure codec: no sockets, no clock, no logging.
//
// Every frame this package reads or writes starts with the Ethernet II
// header (no 802.1Q tag: AF_PACKET hands VLAN tags to user space as
// auxiliary data, not in the frame) followed by the PPPoE header
// (RFC 2516 §4):
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                 destination MAC (6 octets)                    |
//	+                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                               |                               |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
//	|                   source MAC (6 octets)                       |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  ETHER_TYPE 0x8863 or 0x8864  |  VER  | TYPE  |      CODE     |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          SESSION_ID           |            LENGTH             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|          payload: tags (discovery) or a PPP frame (session)   ~
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Discovery frames (ethertype 0x8863) are [Discovery] values; their payload
// is a list of tags, each TAG_TYPE (2 octets), TAG_LENGTH (2 octets) and
// TAG_VALUE (Appendix A). Tags are kept in order and unknown tags are kept
// as raw values, so a parsed frame re-encodes byte for byte: a relay
// forwards what it does not understand.
//
// Session frames (ethertype 0x8864, code 0) are [Session] values, or, on a
// relay's fast path, [SessionFrame] views that alias the caller's buffer
// and allocate nothing.
//
// Parsers check what RFC 2516 requires of every packet: VER and TYPE both
// 1 (§4), SESSION_ID 0 on PADI, PADO and PADR (§5.1 to §5.3), a PADI of at
// most 1484 octets including the PPPoE header (§5.1), tag lengths within
// the payload, and at most one Relay-Session-Id tag (Appendix A). Errors
// wrap the exported sentinels (ErrVersionType, ErrSessionID, ...) or
// io.ErrUnexpectedEOF when the frame is shorter than its header or its
// LENGTH says. Octets after LENGTH (Ethernet padding to 60 octets) are
// ignored. Which tags each code must carry (§5) is left to the caller;
// see [Discovery.CheckRequiredTags].
package pppoe
