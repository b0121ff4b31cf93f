// Package billing is the billing half of gatewayd: it implements
// gateway.Sessions for the relay, meters and prices every open session
// live with rfc/tariff's Meter fed from gateway.Counters, enforces the
// credit an authorisation gave (EdgeBill-Credit), sends an Accounting
// Start when a session opens and Interim-Updates with the running charge
// (RFC 2866 §5.1 Acct-Status-Type Start and Interim-Update, RFC 2869
// §2.1 interim accounting, EdgeBill-Running-Charge), checkpoints
// sessions in the journal, and at session end makes the bill
// (rfc/bill), signs and chains it and journals it, for package delivery
// to send.
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
//
// # Credit
//
// An Access-Accept may carry EdgeBill-Credit, the most the session may
// cost, in the minor units of its tariff; without one there is no limit
// (and a session without a tariff, which costs nothing, has none
// either). At every metering step (the Poll tick, and the session's
// open, where a session fee alone may exceed the credit) the running
// charge is compared with the credit; the first time it has reached it,
// and is not zero, billing asks Config.Ender (the relay) to end the
// session the way the gateway ends any session itself: an LCP
// Terminate-Request to the subscriber with the text "credit exhausted",
// PADT to both sides, and the relay's Closed with the final usage, which
// is billed once through the journal like any other end. So the bill's
// charge is at least the credit and at most one metering step above it:
// what one tick (or, at the open, the session fee) added, with the few
// frames relayed between the reading and the end. Should the
// relay not report the session closed within creditGrace, billing
// closes and bills it as it stood at the cut.
//
// The time a credit lasts is known whenever the tariff charges for
// time: the first whole second at which, with no more traffic, the
// charge reaches the credit (worked out by bisection with tariff.Total,
// again only when the octets change). Run wakes at that second as well
// as at its ticks, so a time-priced session is cut to the second; the
// live view shows the credit left, that time (LiveSession.CreditSeconds)
// and a warning once a tenth of the credit or five minutes are left.
//
// Acct-Terminate-Cause of such a session: Session-Timeout (RFC 2866
// §5.10 value 5), CreditCause. The usual prepaid arrangement with a BRAS
// turns the credit into a time budget (RADIUS Session-Timeout, RFC 2865
// §5.27) and the BRAS, when it runs out, reports Session-Timeout; the
// operator's systems already read that value as "the authorised budget
// ran out, a normal end", which is what happened, so the gateway reports
// it the same way, even when traffic rather than time used the credit up
// (RFC 2866 has no cause for a spent volume or money budget). The other
// candidates say something else: Admin-Reset is an operator's action (a
// Disconnect-Request), NAS-Request is the relay's fallback for ends of
// its own with no better cause (errors), Service-Unavailable and
// User-Error name faults; and Idle-Timeout, Lost-Carrier, Admin-Reboot
// and NAS-Reboot are taken by idle, echo silence, shutdown and crash
// recovery. gatewayd does not enforce a RADIUS Session-Timeout of its
// own, so in its bills Session-Timeout means the credit and nothing
// else; the log line and gatewayd_billing_credit_exhausted_total say so
// too.
//
// # Accounting Start
//
// When a session opens, an Accounting-Request Start goes to the
// accounting servers (startPacket: the Acct-Session-Id and User-Name the
// bill will carry, NAS-Identifier, Event-Timestamp and
// EdgeBill-Start-Time at the session's start, the Class, the gateway,
// PPPoE session and tariff attributes the interims carry, and the charge
// at the open), through the same queue and sender as the interims, so
// it always goes before the session's first interim, and with a
// Message-Authenticator as every request of internal/radclient.
//
// Starts are best effort, not journaled for store-and-forward, for the
// same reasons as interims: a Start is not a bill. The Stop's bill is
// complete on its own (its start time, usage, charge, signature and
// chain), journaled and delivered until acknowledged, so a lost Start
// costs the operator nothing but a late view of the session as live,
// and its next interim gives that view anyway. A Start delivered late
// would do harm instead: arriving after its session's bill, it would
// show at the server (billd's live progress) a session that has ended.
// So the sender neither waits for an unreachable server beyond one
// exchange (DefaultInterimTimeout) nor holds the session up (the queue
// is never waited on: a full queue drops the Start, counted), and a
// Start or interim still queued when its session is billed is not sent
// at all (counted "stale" in gatewayd_accounting_starts_total and
// gatewayd_interim_updates_total).
package billing
