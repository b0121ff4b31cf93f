// Package radclient is a RADIUS client (RFC 2865 access, RFC 2866
// accounting, RFC 5176 dynamic authorization) with the transport
// behaviour RFC 5080 §2.2.1 asks of one: retransmission with exponential
// backoff and jitter (IRT, MRC, MRT, MRD), failover between several
// servers, and a new Identifier whenever the packet changes (an
// accounting retransmission with an updated Acct-Delay-Time, RFC 2866
// §5.2).
//
// Every request is signed with a Message-Authenticator (RFC 3579 §3.2,
// via rfc/radiusx.Encode). Every reply must carry a valid Response
// Authenticator (radiusx.VerifyResponse), and a reply to an Access-Request
// or Status-Server a valid Message-Authenticator too: the BlastRADIUS
// (CVE-2024-3596) mitigation FreeRADIUS 3.2 enforces on its side with
// require_message_authenticator. Other replies (Accounting-Response,
// CoA and Disconnect ACK/NAK) are checked for one when they carry it, as
// FreeRADIUS does not sign Accounting-Responses. A reply that does not
// verify is dropped and counted, as RFC 5080 §2.2.2 says, and the request
// stays outstanding.
//
// The Identifier space is 256 per UDP socket (RFC 2865 §3), so a Client
// opens several connected sockets per server and keeps up to 256
// requests outstanding on each; callers beyond that wait for a free
// Identifier (or their context).
//
// It lives in internal/ because two products use it (nasd, the lab BRAS,
// and gatewayd) and it is no wire contract.
package radclient
