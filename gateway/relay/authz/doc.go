// Package authz asks the ISP's RADIUS whether a subscriber may dial: an
// Access-Request with Service-Type Authorize-Only (RFC 5176 §3.1; value
// 17, RFC 3576 §6.1), User-Name (RFC 2865 §5.1), Calling-Station-Id
// (RFC 2865 §5.31, the subscriber's MAC in the RFC 3580 §3.21 form
// "00-10-A4-23-19-C0") and NAS-Identifier (RFC 2865 §5.32, the gateway
// id), signed with a Message-Authenticator (RFC 3579 §3.2). The reply
// must carry a valid Response Authenticator and Message-Authenticator or
// it is dropped (internal/radclient does the transport: retransmission,
// failover between servers, verification).
//
// An Access-Accept gives the session's gateway.Authorization: the
// EdgeBill-Tariff attributes joined in packet order, Acct-Interim-Interval
// (RFC 2869 §5.16), EdgeBill-Credit and Class (RFC 2865 §5.25). An
// Access-Reject (or an Access-Challenge, which an Authorize-Only request
// cannot satisfy) gives a refusal with its Reply-Message (RFC 2865 §5.18),
// shown to the subscriber in the PAP-Nak or CHAP-Failure.
//
// When no server answers, Authorize fails closed (an error: the relay
// refuses the dial) unless Config.FailOpen is set.
package authz
