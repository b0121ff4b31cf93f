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
// checked against the gateway's registered key before the bill is
// written, and it is stored whatever the outcome, flagged bad_signature,
// unknown_gateway or gateway_disabled when it is not verified. A Stop
// whose bill does not decode is stored in billd.rejected. Start and
// Interim-Update keep the session's live progress. Accounting-On/Off are
// answered at once. Each bill is also priced on arrival with billd's own
// copy of the tariff it names (billd.tariffs, reloaded every
// TariffRefresh, and at once, at most once a second, after copying new
// ones from the RADIUS tables when a bill names one billd lacks): what
// that tariff gives for the bill's own usage, as reconciliation computes
// it, goes to bills.self_charge, NULL when the tariff is unknown.
//
// Rows go to a bounded queue. One batcher takes what has queued (up to
// BatchMax rows, waiting BatchWait after the first for more), checks the
// batch's signatures together, and hands it to a free committer, which
// writes it in one transaction with synchronous_commit on
// (store.Commit), then sends every response the batch was holding. While
// the committers write, the next batch queues and its signatures are
// checked: the two overlap. The Accounting-Response is never sent
// before the commit. Writes are idempotent by the bill's identity
// (gateway id, bill id), and a second request for a bill already in
// flight (a retransmission with a new Acct-Delay-Time, hence a new
// Authenticator) waits on the same commit: a bill is stored once and
// every request for it acknowledged. While Postgres is down the
// committers hold their batches and retry, the batcher waits, the queue
// fills, and further requests are dropped unanswered (counted
// queue_full): memory stays bounded and the gateways' retransmissions
// bring the bills back when it returns.
//
// Signatures are checked in batches (verifier): one multi-scalar
// multiplication checks RFC 8032 §5.1.7's cofactored group equation for
// up to 64 signatures with random 128-bit weights, about 17 µs a
// signature instead of 39 µs one at a time; a failed batch is checked
// one signature at a time, so one bad signature never fails another
// bill. The cofactored equation is edgebill's one rule for a bill's
// signature (rfc/bill's Verify checks it too, for one bill), so a bill is
// good or bad to every edgebill verifier alike; it accepts everything
// crypto/ed25519 accepts, and more only where the gateway's own key made
// a signature with a torsioned nonce (rfc/bill TestVerifyCofactored).
// Config.VerifyEach checks each with rfc/bill's Verify instead (the same
// rule, more CPU).
//
// Where the time goes (BenchmarkIngest, two cores shared with Postgres
// and the load generator, 15,000 bills/s), in CPU a bill, roughly: 13 µs
// in the readers (RADIUS checks, decoding, pricing), 12 to 17 µs in the
// batch signature check, 10 µs writing and answering, 23 µs in Postgres.
// Every commit costs Postgres a fixed few hundred microseconds (a WAL
// flush, a transaction, planning) whatever its size, which is why
// BatchWait trades up to 2ms of batching for commits of about 60 rows
// instead of about 12. billd_ingest_precommit_seconds,
// billd_commit_seconds and billd_ack_latency_seconds split a request's
// time the same way in service.
package ingest
