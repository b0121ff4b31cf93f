package store

import (
	"context"
	"fmt"
	"strings"
)

// verdictsView is billd.verdicts_all: every verdict with both sides'
// figures, matches included (kept as pairs in billd.matches, their
// figures read through the pair from billd.bills and radacct). What the
// reports and the session view read; select by period (and subject), so
// the matches' side is reached through its BRIN index. %s is the
// background side of a match: radacct's row, or NULLs while FreeRADIUS's
// schema is not loaded yet.
const verdictsView = `CREATE OR REPLACE VIEW billd.verdicts_all AS
SELECT period, kind, gateway_id, bill_id, radacctid, username, seq_from, seq_to,
	bill_start, bill_seconds, bill_in, bill_out, bill_charge, self_charge,
	acct_start, acct_stop, acct_seconds, acct_in, acct_out, acct_charge,
	diff_seconds, diff_in, diff_out, diff_charge, tariff_id, tariff_version, detail, reconciled_at
FROM billd.verdicts
UNION ALL
SELECT m.period, 'match', m.gateway_id, m.bill_id, m.radacctid, b.username, NULL, NULL,
	b.start_time, b.session_ms / 1000, b.input_octets, b.output_octets, b.charge, m.charge,
	%s, m.charge,
	0, 0, 0, 0, b.tariff_id, b.tariff_version, '', m.reconciled_at
FROM billd.matches m
JOIN billd.bills b ON b.gateway_id = m.gateway_id AND b.bill_id = m.bill_id AND b.stop_time = m.period
%s`

const (
	acctSide = `r.acctstarttime, COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime),
	COALESCE(r.acctsessiontime, EXTRACT(EPOCH FROM COALESCE(r.acctstoptime, r.acctupdatetime) - r.acctstarttime)::bigint, 0),
	COALESCE(r.acctinputoctets, 0), COALESCE(r.acctoutputoctets, 0)`
	acctJoin    = `JOIN public.radacct r ON r.radacctid = m.radacctid`
	noAcctSide  = `NULL::timestamptz, NULL::timestamptz, NULL::bigint, NULL::bigint, NULL::bigint`
	viewReadsRA = `SELECT position('acctsessiontime' IN pg_get_viewdef('billd.verdicts_all'::regclass)) > 0`
)

// EnsureVerdictsView makes billd.verdicts_all, reading radacct when
// FreeRADIUS's schema is there (and NULLs for the background side of a
// match until it is). Migrate runs it, and so does every reconciliation,
// which needs radacct anyway.
func (s *Store) EnsureVerdictsView(ctx context.Context) error {
	var hasRadacct, hasView bool
	if err := s.Pool.QueryRow(ctx, `SELECT to_regclass('public.radacct') IS NOT NULL, to_regclass('billd.verdicts_all') IS NOT NULL`).Scan(&hasRadacct, &hasView); err != nil {
		return err
	}
	if hasView {
		var reads bool
		if err := s.Pool.QueryRow(ctx, viewReadsRA).Scan(&reads); err != nil {
			return err
		}
		if reads == hasRadacct {
			return nil
		}
	}
	side, join := noAcctSide, ""
	if hasRadacct {
		side, join = acctSide, acctJoin
	}
	if _, err := s.Pool.Exec(ctx, fmt.Sprintf(verdictsView, side, join)); err != nil {
		if strings.Contains(err.Error(), "tuple concurrently updated") {
			return nil // another billd made it at the same moment
		}
		return fmt.Errorf("store: view billd.verdicts_all: %w", err)
	}
	return nil
}
