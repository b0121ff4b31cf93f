// Package recon reconciles gateway bills with the BRAS's accounting as
// FreeRADIUS 3.2 stores it (radacct, rlm_sql's postgresql dialect), one
// transaction per range:
//
//   - read: the bills near the range and the background sessions near it
//     are each read once, set-wise, by one query on its own connection,
//     at the same time (load.go: Postgres's binary format decoded
//     straight from pgx's buffers into rows that hold no pointers);
//   - chain: each gateway's bills are put in chain order; a bill that
//     repeats its predecessor's sequence is a duplicate, one that does
//     not simply follow it is looked at again against the whole table
//     (chain_gap; side.go);
//   - match: each bill gets its best background session from its user's,
//     sorted by end (match.go); each background session goes to one
//     claimant, and one no bill claims is a missing_bill;
//   - judge: a pair whose two sides agree exactly, whose bill's charge is
//     what ingest priced its usage at (bills.self_charge) and that nobody
//     else claims is a match; the rest, a few per cent, go through Judge
//     (rfc/tariff: the same code the gateway priced with);
//   - write: matches go by COPY to billd.matches as pairs, while judge
//     runs; every other verdict to billd.verdicts with both sides'
//     figures.
//
// A daily summary per gateway and kind (billd.verdict_days) is kept by
// deltas. See package server for the matching rules and the verdict kinds,
// TestMatcherAgreesWithSQL for those rules written as SQL (the form they
// had until the join moved into billd), and docs/decisions.md for why the
// join is done here and what a run costs next to a bare SQL join.
//
// A range with more background sessions than Config.PieceSessions is
// judged in pieces, to bound the rows held at once.
//
// Reconcile judges a range on demand; Step and Run do it continuously,
// behind a watermark that trails the clock by a grace period, judging
// again the hours that late bills arrive in.
package recon
