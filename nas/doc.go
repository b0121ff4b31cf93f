// Package nas is the lab access concentrator (BRAS), nasd, and the
// subscriber side: a PPPoE/PPP client library (nas/client) and
// pppoe-dial, a dialer that emulates many subscribers.
//
// Server is nasd's engine: a user-space PPPoE server terminating PPP,
// since the lab's kernels have no PPP driver. What it implements:
//
//   - PPPoE discovery (RFC 2516 §5): PADO with AC-Name and Service-Name
//     to a PADI for a service it offers (§5.2); a stateless AC-Cookie
//     (Appendix A), HMAC-SHA256 over the issue time, the host's MAC and
//     the Relay-Session-Id (hosts behind one relay share its MAC), so a
//     PADI costs no state and a PADR with a missing, stale or forged
//     cookie, or one made for another MAC or Relay-Session-Id, allocates
//     nothing (making and checking a cookie allocate nothing at all:
//     BenchmarkCookie, about 175 ns each); PADS with a fresh session id
//     (§5.4), or with session 0 and Service-Name-Error or
//     AC-System-Error (session limit); Host-Uniq and Relay-Session-Id
//     echoed (Appendix A);
//     PPP-Max-Payload granted up to the link's MTU (RFC 4638 §4); PADT in
//     both directions (§5.5); PADIs rate-limited per source and per
//     interface. The TR-101 line identification of a PADR goes to RADIUS
//     as Agent-Circuit-Id and Agent-Remote-Id (RFC 4679 §3).
//   - PPP (RFC 1661) through rfc/ppp's automaton: LCP with MRU,
//     Magic-Number (loop detection, §6.4), Authentication-Protocol PAP
//     (RFC 1334) or CHAP-MD5 (RFC 1994) and echo keepalive with a failure
//     limit (§5.8); IPCP with an address from Framed-IP-Address or nasd's
//     pool and DNS servers (RFC 1332, RFC 1877); Protocol-Reject for
//     anything else (§5.7).
//   - RADIUS authentication (RFC 2865) through internal/radclient:
//     Access-Request with User-Password or CHAP-Password and
//     CHAP-Challenge, Service-Type Framed, Framed-Protocol PPP,
//     NAS-Identifier, NAS-IP-Address, NAS-Port, NAS-Port-Id,
//     NAS-Port-Type PPPoEoE (RFC 4603), Calling- and Called-Station-Id,
//     and a Message-Authenticator (RFC 3579 §3.2); the Reply-Message of a
//     refusal reaches the subscriber in PAP Authenticate-Nak or CHAP
//     Failure; Session-Timeout, Idle-Timeout, Acct-Interim-Interval and
//     Class are applied.
//   - RADIUS accounting (RFC 2866, RFC 2869): Start, Interim-Update and
//     Stop with Acct-Session-Id, Acct-Session-Time, 64-bit octets through
//     the Gigawords attributes, packets, Event-Timestamp, Acct-Delay-Time
//     and Terminate-Cause; Accounting-On before serving and Accounting-Off
//     at a clean shutdown; every record retransmitted until acknowledged
//     (RFC 5080 §2.2.1), in order per session, accounting giving way to
//     authentication while logins are in flight.
//   - Usage (DESIGN.md): the IP packets in a session, the PPP information
//     field, counted each way, input being what the subscriber sent; ICMP
//     echo requests (RFC 792) and datagrams to a UDP echo port (RFC 862)
//     are answered, the rest sunk, so traffic flows with no kernel PPP.
//   - Dynamic authorization (RFC 5176): Disconnect-Request ends the
//     sessions it names with Terminate-Cause Admin-Reset; CoA-Request
//     changes Session-Timeout, Idle-Timeout and Acct-Interim-Interval;
//     ACK or NAK with Error-Cause; Message-Authenticator required,
//     Event-Timestamp checked against a window (§3.5), duplicates answered
//     from a cache without being carried out again (RFC 5080 §2.2.2).
//   - Operation: a strict configuration file (Parse, reference copy in
//     testdata/nasd.conf), zap logs, a JSON status listing (GET /sessions,
//     GET /stats) that `nasd status` prints.
//
// Concurrency: one goroutine reads the link and handles every frame under
// the lock of the session it belongs to; one timer goroutine fires the
// sessions' timers (the automaton's Restart timer, CHAP, keepalive,
// session and idle timeouts, interims) at Config.Tick granularity; RADIUS
// exchanges run in their own goroutines and come back under the session's
// lock. A session holds no goroutine of its own: an idle one costs about
// 3 KiB.
package nas
