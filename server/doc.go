// Package server is billd, the reconciliation server: it takes in the
// signed bills gateways send as RADIUS Accounting-Request Stops, keeps
// them in Postgres beside FreeRADIUS's radacct, reconciles every session
// against the BRAS's own record of it, and shows ISP operations what is
// wrong. This package is the command line (Main, used by cmd/billd), the
// configuration (ParseConfig; testdata/billd.conf has every key) and the
// wiring of a running billd (NewBilld, Run); the work is in:
//
//   - store: migrations (embedded, versioned, schema billd beside public),
//     monthly partitions made ahead with a default partition behind
//     them, the gateway registry, tariff versions, group commit;
//   - ingest: the UDP accounting listener (per-gateway secrets,
//     Request Authenticator and Message-Authenticator checks, the RFC 5080
//     duplicate cache, Ed25519 signature checks in batches, pricing on
//     arrival, a bounded queue, answers only after a synchronous group
//     commit);
//   - recon: matching of bills to radacct and the verdicts, both tables
//     read set-wise and joined in billd, continuous (watermark, grace)
//     and on demand;
//   - report and web: the JSON API, CSV, dashboard and metrics.
//
// # Decisions
//
// Identity. A bill is stored once per (gateway id, bill id); the stop
// time is in the primary key only because a partitioned table's unique
// keys must hold the partition key, and a bill signs its stop time, so
// retransmissions, replays and a second billd land on the same key
// (INSERT ... ON CONFLICT DO NOTHING). Two bills in one gateway's
// sequence place, or two bills for one background session, are kept and
// judged duplicate.
//
// Never dropped. A bill from an unknown gateway (through a configured
// client network), with a bad signature, or from a disabled gateway is
// stored with that status and judged bad_signature (the detail says
// which); reconciliation first re-checks bills of gateways registered
// since (store.Reverify). An authenticated Stop whose bill does not
// decode goes to billd.rejected. Only what fails RADIUS authentication is
// dropped, silently and counted, as RFC 5080 §2.2.2 asks.
//
// Tariffs. The server prices with the tariff text the ISP's own RADIUS
// hands out: EdgeBill-Tariff in radgroupreply and radreply. Before each
// reconciliation billd copies every version found there into
// billd.tariffs, keyed by the id and version the text names, and keeps
// it after the plan moves on; an ISP that changes a text without a new
// version gets a warning and the first text stays. Tariff text sent by a
// gateway is never trusted for pricing. `billd tariffs add` takes one by
// hand. A bill naming a version billd has never seen is a
// charge_mismatch whose detail says so.
//
// Matching. A bill is matched to a radacct row of the same user whose
// interval overlaps the bill's and whose end (stop time, else last
// update) is within match_window of the bill's stop; ties go to the
// PPPoE session id (the BRAS's NAS-Port / NAS-Port-Id), then the calling
// station (subscriber MAC), then the longest overlap, the nearest start.
// Each radacct row goes to one verified bill (the best, then the first
// received); a verified bill that loses its row to another is a
// duplicate. Bounding matches by match_window is what makes a range's
// verdicts independent of how ranges are cut: every decision about a
// subject depends only on rows within 3*match_window of it, and
// reconciling [a, c) or [a, b) then [b, c) gives the same rows.
//
// Verdicts, in order of precedence for a bill: bad_signature, duplicate,
// orphan_bill (no background session), usage_mismatch (time or octets
// outside tolerance: absolute seconds and octets, or a percentage),
// charge_mismatch (the bill's charge is not exactly what its tariff gives
// for the bill's own usage, or the tariff is unknown), match (all equal,
// and the background usage prices to the same charge), within_tolerance.
// A closed radacct session no verified bill claims is missing_bill; a
// break in a gateway's chain (a sequence gap, or a previous-hash that
// does not name the bill before) is chain_gap, at the bill after it.
// Each verdict keeps both sides' figures, the bill minus background
// differences, and the charges the bill's tariff gives for both usages.
// A match, where the two sides are equal, is kept as the pair alone
// (billd.matches) and its figures read through it from the bill and the
// radacct row (the view billd.verdicts_all); every other verdict is a row
// of billd.verdicts with the figures as judged. Ingest prices each bill
// on arrival (bills.self_charge), so matches are found from that price
// and only the others priced again (docs/decisions.md).
//
// Accounting-Response Message-Authenticator. No RFC says over which
// Authenticator it is computed; rfc/radiusx signs it over sixteen zeros,
// as FreeRADIUS 3.2 (rad_sign) does and its radclient checks, and
// accepts either form on receipt.
//
// Scale. billd holds no state Postgres does not: several may run behind
// the ISP's RADIUS load balancing, and reconciliation runs are serialised
// by an advisory lock.
package server
