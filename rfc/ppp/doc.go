// Package ppp is the Point-to-Point Protocol as edgebill speaks it over
// PPPoE: the Protocol field, the Link Control Protocol, PAP, CHAP with
// MD5, IPCP with DNS options, and the option negotiation automaton as a
// pure state machine. It is a codec: no sockets, no clock, no logging.
//
// What it implements, by RFC section:
//
//   - RFC 1661 §2: the Protocol field (Protocol, SplitProtocol,
//     AppendProtocol, Frame), in the form RFC 2516 §4 and §7 carry it in a
//     PPPoE session: no Address, Control or FCS; the one-octet compressed
//     form (§6.6) is accepted when parsing.
//   - RFC 1661 §4: the option negotiation automaton (Machine): the states
//     of §4.2, the events of §4.3, the actions of §4.4, the state
//     transition table of §4.1 (Transition), the Restart timer and the
//     Max-Terminate, Max-Configure and Max-Failure counters of §4.6, and
//     the [p] passive and [r] restart options. Time is injected: the
//     Machine reports a Deadline and the caller calls Timeout.
//     Option content is decided by a Policy; LCPPolicy and IPCPPolicy
//     serve both the access concentrator and the client.
//   - RFC 1661 §5: LCP packets of every code (Packet): Configure-Request,
//     -Ack, -Nak, -Reject (§5.1-5.4), Terminate-Request and -Ack (§5.5),
//     Code-Reject (§5.6), Protocol-Reject (§5.7), Echo-Request and -Reply
//     (§5.8), Discard-Request (§5.9); IPCP uses the same shape with codes
//     1-7 (RFC 1332 §2).
//   - RFC 1661 §6: LCP options MRU (§6.1), Authentication-Protocol (§6.2,
//     with the CHAP Algorithm octet of RFC 1994 §3), Magic-Number and loop
//     detection (§6.4), Protocol-Field-Compression (§6.5) and
//     Address-and-Control-Field-Compression (§6.6). Every option is kept
//     raw (Option), so unknown ones re-encode byte for byte and a
//     Configure-Reject is built from the bytes received.
//   - RFC 1334 §2: PAP Authenticate-Request, -Ack and -Nak (PAPPacket).
//   - RFC 1994 §4: CHAP Challenge, Response, Success and Failure
//     (CHAPPacket) and the MD5 response (CHAPMD5Response).
//   - RFC 1332 §3.3 and RFC 1877 §1: IPCP IP-Address and the Primary and
//     Secondary DNS options; NBNS and compression options are kept raw.
//
// A control packet (RFC 1661 §5), after the Protocol field:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     Code      |  Identifier   |            Length             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|    Data (options: Type, Length, Data ...) ...
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Encoders append (AppendBinary) and back-patch the Length field;
// decoders (UnmarshalBinary) copy what they keep, check every length
// before indexing, report truncation as io.ErrUnexpectedEOF and never
// panic on wire input.
package ppp
