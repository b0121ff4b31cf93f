// Package recon reconciles gateway bills with the BRAS's accounting as
// FreeRADIUS 3.2 stores it (radacct, rlm_sql's postgresql dialect), in
// set-based SQL (sql.go), in one transaction per range:
//
//   - match: one parallel hash join of the bills near the range with the
//     background sessions near it gives each bill its best session
//     (DISTINCT ON), and, as the bills leave that sort in their
//     gateway's chain order, a window over them marks repeated chain
//     places and the bills that do not simply follow the one before;
//   - chain: only those few are looked at again against the whole table
//     (chain_gap);
//   - claim: one hash aggregate over the claims and the closed background
//     sessions of the range finds the sessions with more than one
//     claimant (decided by DISTINCT ON) or none (missing_bill);
//   - matches: a pair whose two sides agree exactly, whose bill's charge
//     is what ingest priced its usage at (bills.self_charge) and that
//     nobody else claims is a match, judged in SQL and written as a pair
//     to billd.matches;
//   - the rest, a few per cent, are read through a cursor and judged in Go
//     (Judge, rfc/tariff: the same code the gateway priced with) and
//     written with COPY to billd.verdicts with both sides' figures.
//
// A daily summary per gateway and kind (billd.verdict_days) is kept by
// deltas. See package server for the matching rules and the verdict kinds,
// and docs/decisions.md for why matches are stored apart and what a run
// costs next to a bare join.
//
// Most of these steps are serial in Postgres, so Reconcile judges a long
// range as pieces at once, on as many connections (Config.Parallel).
//
// Reconcile judges a range on demand; Step and Run do it continuously,
// behind a watermark that trails the clock by a grace period, judging
// again the hours that late bills arrive in.
package recon
