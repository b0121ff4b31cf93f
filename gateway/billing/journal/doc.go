// Package journal is gatewayd's durable state: the checkpoints of open
// sessions, the bills not yet acknowledged by the network system, the
// bill sequence and hash-chain head (rfc/bill), the gateway's Ed25519
// signing key (RFC 8032), the Session.Key counter, and a bounded history
// of acknowledged bills for the subscriber's live view.
//
// # Why bbolt
//
// The journal is a single go.etcd.io/bbolt file. bbolt is a
// copy-on-write B+tree: a transaction writes new pages, fsyncs them,
// then writes one of two checksummed meta pages and fsyncs again. A
// process killed at any instant (kill -9) or a power cut leaves either
// the previous or the new meta page valid, so a reopened journal shows
// every committed transaction whole and nothing of an uncommitted one;
// there is no log to replay and no repair step. That atomicity is what
// billing needs: a session's checkpoint is deleted, its bill stored, and
// the chain head advanced in one transaction, so after a crash a
// session is either still open (and is billed at its checkpoint) or
// billed, never both and never neither.
//
// The alternatives were weighed for a home gateway (MIPS or ARM, 64 to
// 256 MB of RAM, flash storage, few sessions): SQLite needs cgo (hard to
// cross-compile for mipsle) or a pure-Go port that adds megabytes to
// the binary; LSM stores (Pebble, Badger) keep large memtables and
// compact in the background, too heavy here; a hand-written append-only
// log would need its own checksums, torn-write handling and compaction.
// bbolt is pure Go, adds a few hundred kilobytes, keeps its data in one
// file, and has one writer at a time, which the gateway's write rate (a
// few transactions per second at most, batched per tick) never strains.
// Each commit costs two fsyncs; on flash that is milliseconds, which is
// why the billing side batches the events of one tick into one
// transaction and never writes on the relay's goroutine.
//
// # Layout
//
//	meta      schema, signing-key (Ed25519 seed), seq, head, keys
//	sessions  Key (8 octets, big-endian) -> checkpoint (JSON)
//	pending   Sequence (8 octets, big-endian) -> bill record
//	history   Sequence (8 octets, big-endian) -> bill record, acknowledged
//
// A bill record is: version (1), made (8, Unix ns), acked (8, Unix ns,
// 0 while pending), class length (2), class, then the bill's canonical
// rfc/bill encoding, signature included.
package journal
