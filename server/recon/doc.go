// Package recon reconciles gateway bills with the BRAS's accounting as
// FreeRADIUS 3.2 stores it (radacct, rlm_sql's postgresql dialect), in
// set-based SQL: the bills of a range and their candidate background
// sessions are matched with one hash join into temporary tables, each
// background session is given to one bill, chains are checked with a
// window over the bills, and missing bills found with an anti-join. Only
// pricing runs in Go (rfc/tariff, the same code the gateway priced with),
// over the matched pairs read in bulk through a cursor; the verdicts go
// back with COPY, replacing the range's in one transaction, and a daily
// summary per gateway and kind is kept by deltas. See package server for
// the matching rules and the verdict kinds.
//
// Reconcile judges a range on demand; Step and Run do it continuously,
// behind a watermark that trails the clock by a grace period, judging
// again the hours that late bills arrive in.
package recon
