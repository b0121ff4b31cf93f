// Package billing is the billing half of gatewayd: it implements
// gateway.Sessions for the relay, meters and prices every open session
// live with rfc/tariff's Meter fed from gateway.Counters, sends
// Accounting Interim-Updates with the running charge (RFC 2866 §5.1
// Acct-Status-Type Interim-Update, RFC 2869 §2.1 interim accounting,
// EdgeBill-Running-Charge), checkpoints sessions in the journal, and at
// session end makes the bill (rfc/bill), signs and chains it and
// journals it, for package delivery to send.
//
// # Flow
//
// The relay's calls (Opened, Addressed, Closed) only append to an
// in-memory queue and never block on disk or network. Run drains the
// queue and polls the counters once per Poll interval (one second), and
// writes everything one tick changed in one journal transaction:
//
//   - Opened, Addressed: the session's checkpoint (a state change);
//   - every CheckpointInterval (at most the session's interim interval):
//     the checkpoints of all open sessions;
//   - Closed: the bill, made from the relay's final usage, signed,
//     chained and stored as pending in the same transaction that deletes
//     the session's checkpoint and advances the chain head; only then is
//     delivery told (OnBill).
//
// After a crash New finds the checkpoints of sessions that were open and
// bills each at its checkpoint (usage and elapsed time as last saved)
// with Acct-Terminate-Cause NAS-Reboot (RFC 2866 §5.10), again deleting
// the checkpoint in the transaction that stores the bill: a session is
// billed exactly once whatever the moment of the crash. On a clean
// shutdown Run closes and bills every session still open with
// Config.ShutdownCause (Admin-Reboot by default).
//
// # Times and prices
//
// A session's time is measured on the monotonic clock from
// gateway.Session.Started; the bill's Start, Stop and SessionTime come
// from rfc/bill's SetTimes with that duration, and the meter is fed the
// same instants, so the running charge is always tariff.Price of the
// usage so far and the bill's charge is exactly
// tariff.Price(Usage{bill.Start, bill.Stop, in, out}) — what billd
// recomputes. The under-billing fault (Config.UnderbillPercent, for the
// lab's demonstration of a dishonest or broken gateway) lowers only the
// bill's charge and is logged at every start.
package billing
