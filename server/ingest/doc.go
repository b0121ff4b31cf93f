// Package ingest is billd's RADIUS accounting listener for gateway bills
// (RFC 2866 over UDP).
//
// Each Accounting-Request is checked before anything else: the secret is
// the registered gateway's (found by NAS-Identifier, RFC 2865 §5.32, and
// its registered source network) or a configured client network's; the
// Request Authenticator (RFC 2866 §3) and the Message-Authenticator
// (RFC 3579 §3.2, required, RFC 5080 §2.2.2 for accounting) must verify,
// else the packet is dropped silently and the reason counted. An
// authentic request is looked up in the RFC 5080 §2.2.2 duplicate cache
// (source address and port, Identifier, Authenticator): a retransmission
// of an answered request gets the cached response, one still being
// committed is discarded.
//
// A Stop carries a bill (rfc/bill.FromPacket); its Ed25519 signature is
// checked against the gateway's registered key, and it is stored
// whatever the outcome, flagged bad_signature, unknown_gateway or
// gateway_disabled when it is not verified. A Stop whose bill does not
// decode is stored in billd.rejected. Start and Interim-Update keep the
// session's live progress. Accounting-On/Off are answered at once.
//
// Rows go to a bounded queue; committer goroutines take what has queued
// (up to BatchMax rows) and write it in one transaction with
// synchronous_commit on (store.Commit), then send every response the
// batch was holding. The Accounting-Response is never sent before the
// commit. Writes are idempotent by the bill's identity (gateway id, bill
// id), and a second request for a bill already in flight (a
// retransmission with a new Acct-Delay-Time, hence a new Authenticator)
// waits on the same commit: a bill is stored once and every request for
// it acknowledged. While Postgres is down the committers hold their
// batches and retry, the queue fills, and further requests are dropped
// unanswered (counted queue_full): memory stays bounded and the
// gateways' retransmissions bring the bills back when it returns.
package ingest
