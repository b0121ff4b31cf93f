// Package delivery sends the journal's pending bills to the network
// system, each as an Accounting-Request Stop (RFC 2866 §4.1, §5.1; the
// bill's attributes per rfc/bill's ToPacket, signed with a
// Message-Authenticator, RFC 3579 §3.2), strictly in sequence order, and
// removes a bill from the journal only when a verified
// Accounting-Response acknowledges it (RFC 2866 §2: a server answers
// only once it has recorded the request).
//
// It is store-and-forward: a bill stays in the journal for as long as no
// server answers, across restarts; the RADIUS client retransmits with
// backoff, fails over between servers, and gives every transmission an
// Acct-Delay-Time (RFC 2866 §5.2) counted from the end of the session,
// so a bill sent a day late says so. A bill acknowledged but not yet
// removed when the gateway dies is sent again at the next start; billd
// stores a bill once however often it arrives (its unique id).
package delivery
