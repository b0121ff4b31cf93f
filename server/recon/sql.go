package recon

// The reconciliation's SQL. Every statement runs in the run's one
// transaction on its own connection; the temporary tables go at commit.
// $1 and $2 are the range [from, to), $3 the match window; bills within
// 2*Window and background sessions ending within 3*Window of the range
// take part in the decisions, so the verdicts of a range do not depend on
// how the range was cut (see Config.Window).
//
// Where the time goes (BenchmarkReconcile, a million each side): the
// candidate join (sqlBest) is the one pass over both tables and runs in
// parallel workers, so it reads billd.bills and radacct directly: a
// temporary table cannot be read by parallel workers, and a subquery
// fenced with OFFSET 0 cannot be either. Then each further step reads
// the narrow temporary tables once. Matches, nearly every bill, are
// judged in SQL from the charge ingest priced (bills.self_charge) and
// written as pairs to billd.matches; only the others go to Go for
// rfc/tariff and their figures.
const (
	// Each bill near the range with its best background session, if any:
	// same user, intervals overlapping, end (stop time, else last update)
	// within Window of the bill's stop; ties broken by PPPoE session id
	// (NAS-Port-Id is the session id alone or ends in ":<session id>", as
	// nasd and many BRASes write it), then calling station (subscriber
	// MAC), then the longest overlap, the nearest start, the lowest
	// radacctid.
	//
	// same says the pair is a match as Judge would find it with no
	// tolerance: a verified bill whose charge is what ingest's pricing
	// gave for its usage, and a background record with the same seconds,
	// octets, start and stop second (so the same usage, priced by pure
	// code to the same charge).
	//
	// The bills come out of DISTINCT ON in their gateway's chain order,
	// so the chain is checked in the same pass, by a window that needs no
	// sort of its own: seq_dup marks a bill that repeats a sequence a bill
	// received before it took; chain_odd a bill that is not simply the
	// successor of the bill before it (a gap, a fork, the first bill of
	// its gateway near the range, or the bill after a repeat), which
	// sqlChain looks at again against the whole table.
	//
	// Written for parallel workers: the join reads both tables directly
	// (a temporary table, or a subquery fenced with OFFSET 0, would keep
	// the workers out).
	sqlBest = `CREATE TEMP TABLE recon_best ON COMMIT DROP AS
SELECT gateway_id, bill_id, stop_time, sequence, status, received_at, radacctid, port_eq, mac_eq, overlap, start_gap,
	same, charge, octets,
	COALESCE(lag(sequence) OVER g = sequence, false) AS seq_dup,
	sequence > 1 AND (lag(sequence) OVER g IS DISTINCT FROM sequence - 1 OR lag(hash) OVER g IS DISTINCT FROM prev_hash) AS chain_odd
FROM (
	SELECT DISTINCT ON (b.gateway_id, b.sequence, b.received_at, b.bill_id, b.stop_time)
		b.gateway_id, b.bill_id, b.stop_time, b.sequence, b.hash, b.prev_hash, b.status, b.received_at, r.radacctid,
		COALESCE(r.nasportid = b.pppoe_session_id::text
			OR split_part(r.nasportid, ':', -1) = b.pppoe_session_id::text, false) AS port_eq,
		COALESCE(lower(translate(r.callingstationid, ':-.', '')) = replace(b.subscriber_mac::text, ':', ''), false) AS mac_eq,
		LEAST(b.stop_time, COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime)) - GREATEST(b.start_time, r.acctstarttime) AS overlap,
		abs(EXTRACT(EPOCH FROM r.acctstarttime - b.start_time)) AS start_gap,
		COALESCE(b.status = 'verified' AND b.self_charge = b.charge
			AND b.session_ms / 1000 = COALESCE(r.acctsessiontime, EXTRACT(EPOCH FROM COALESCE(r.acctstoptime, r.acctupdatetime) - r.acctstarttime)::bigint, 0)
			AND b.input_octets = COALESCE(r.acctinputoctets, 0) AND b.output_octets = COALESCE(r.acctoutputoctets, 0)
			AND date_trunc('second', b.start_time) = date_trunc('second', r.acctstarttime)
			AND date_trunc('second', b.stop_time) = date_trunc('second', r.acctstarttime) + b.session_ms / 1000 * interval '1 second',
			false) AS same,
		b.charge, b.input_octets + b.output_octets AS octets
	FROM billd.bills b
	LEFT JOIN public.radacct r ON r.username = b.username
		AND COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime) >= b.stop_time - $3::interval
		AND COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime) <= b.stop_time + $3::interval
		AND COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime) >= b.start_time
		AND r.acctstarttime <= b.stop_time
		AND COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime) >= $1::timestamptz - 3 * $3::interval
		AND COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime) < $2::timestamptz + 3 * $3::interval
	WHERE b.stop_time >= $1::timestamptz - 2 * $3::interval AND b.stop_time < $2::timestamptz + 2 * $3::interval
	ORDER BY b.gateway_id, b.sequence, b.received_at, b.bill_id, b.stop_time,
		port_eq DESC, mac_eq DESC, overlap DESC, start_gap, r.radacctid
) x
WINDOW g AS (PARTITION BY gateway_id ORDER BY sequence, received_at, bill_id, stop_time)`

	// Breaks in a gateway's chain at a bill in the range. The bill before
	// it (by sequence) is looked up in the whole table: an index probe
	// for the few bills the ordered pass found odd.
	sqlChain = `WITH c AS (
	SELECT w.gateway_id, w.bill_id, w.stop_time, w.sequence, b.username, b.start_time, b.prev_hash,
		COALESCE(p.sequence, 0) AS pseq, p.hash AS phash
	FROM recon_best w
	JOIN billd.bills b ON b.gateway_id = w.gateway_id AND b.bill_id = w.bill_id AND b.stop_time = w.stop_time
	LEFT JOIN LATERAL (SELECT x.sequence, x.hash FROM billd.bills x
		WHERE x.gateway_id = w.gateway_id AND x.sequence < w.sequence
		ORDER BY x.sequence DESC, x.received_at LIMIT 1) p ON true
	WHERE w.chain_odd AND NOT w.seq_dup AND w.stop_time >= $1 AND w.stop_time < $2
), ins AS (
	INSERT INTO billd.verdicts (period, kind, gateway_id, bill_id, username, seq_from, seq_to,
		bill_start, detail, reconciled_at)
	SELECT stop_time, 'chain_gap', gateway_id, bill_id, username,
		CASE WHEN pseq < sequence - 1 THEN pseq + 1 ELSE sequence END,
		CASE WHEN pseq < sequence - 1 THEN sequence - 1 ELSE sequence END,
		start_time,
		CASE WHEN pseq < sequence - 1 AND pseq + 1 = sequence - 1 THEN 'bill ' || (pseq + 1) || ' missing before bill ' || sequence
		     WHEN pseq < sequence - 1 THEN 'bills ' || (pseq + 1) || ' to ' || (sequence - 1) || ' missing before bill ' || sequence
		     ELSE 'bill ' || sequence || ' does not follow bill ' || (sequence - 1) || ': its previous hash ' ||
		          left(encode(prev_hash, 'hex'), 12) || ' is not ' || left(encode(phash, 'hex'), 12) END,
		$3
	FROM c
	WHERE pseq < sequence - 1 OR (sequence > 1 AND pseq = sequence - 1 AND phash IS DISTINCT FROM prev_hash)
	RETURNING ` + returningSums + `
) ` + selectSums

	// Each background session goes to one bill: a verified bill that does
	// not repeat a chain place (a claimant), among those whose best it
	// is. Nearly every session has exactly one; recon_claims keeps the
	// others, found by one hash aggregate over the claims and the closed
	// background sessions of the range together: more than one claimant
	// (contested, decided by recon_win) or none (missing_bill).
	sqlClaims = `CREATE TEMP TABLE recon_claims ON COMMIT DROP AS
SELECT radacctid, count(*) FILTER (WHERE claim) AS claimants
FROM (
	SELECT radacctid, true AS claim FROM recon_best WHERE radacctid IS NOT NULL AND status = 'verified' AND NOT seq_dup
	UNION ALL
	SELECT radacctid, false FROM public.radacct
	WHERE COALESCE(acctstoptime, acctupdatetime, acctstarttime) >= $1 AND COALESCE(acctstoptime, acctupdatetime, acctstarttime) < $2
		AND acctstoptime IS NOT NULL
) c
GROUP BY radacctid HAVING count(*) FILTER (WHERE claim) <> 1`

	// A contested session goes to the best claimant by the same order,
	// then the first received.
	sqlWin = `CREATE TEMP TABLE recon_win ON COMMIT DROP AS
SELECT DISTINCT ON (radacctid) gateway_id, bill_id, stop_time, radacctid
FROM recon_best
WHERE radacctid IN (SELECT radacctid FROM recon_claims WHERE claimants > 1) AND status = 'verified' AND NOT seq_dup
ORDER BY radacctid, port_eq DESC, mac_eq DESC, overlap DESC, start_gap, received_at, gateway_id, bill_id, stop_time`

	// The bills of recon_best that are matches: same, a claimant, and the
	// only one or the winner.
	matchWhere = `b.same AND b.status = 'verified' AND NOT b.seq_dup AND b.stop_time >= $1 AND b.stop_time < $2
	AND (NOT EXISTS (SELECT 1 FROM recon_claims c WHERE c.radacctid = b.radacctid)
		OR EXISTS (SELECT 1 FROM recon_win w WHERE w.gateway_id = b.gateway_id AND w.bill_id = b.bill_id AND w.stop_time = b.stop_time))`

	// The matches of the range, judged in SQL, written as pairs; then
	// their sums for the daily summary (a grouped scan of the winners
	// costs less than collecting what the insert returns).
	sqlMatches = `INSERT INTO billd.matches (period, gateway_id, bill_id, radacctid, charge, octets, reconciled_at)
SELECT stop_time, gateway_id, bill_id, radacctid, charge, octets, $3
FROM recon_best b WHERE ` + matchWhere
	sqlMatchSums = `SELECT date_trunc('day', stop_time), gateway_id, 'match', count(*), sum(charge)::bigint, sum(charge)::bigint,
	sum(octets)::bigint, 0::bigint, 0::bigint, 0::bigint
FROM recon_best b WHERE ` + matchWhere + ` GROUP BY 1, 2`

	// The bills of the range that are not matches judged in SQL, for
	// Judge (recon_judge), and why a bill is a duplicate. The cheap tests
	// come first (j0), so only those bills are joined to the winners.
	sqlJudge = `CREATE TEMP TABLE recon_judge ON COMMIT DROP AS
WITH j0 AS MATERIALIZED (
	SELECT b.gateway_id, b.bill_id, b.stop_time, b.radacctid, b.status, b.same, b.seq_dup, b.sequence,
		b.radacctid IN (SELECT radacctid FROM recon_claims WHERE claimants > 1) AS contested
	FROM recon_best b
	WHERE b.stop_time >= $1 AND b.stop_time < $2
		AND (b.radacctid IS NULL OR b.status <> 'verified' OR b.seq_dup OR NOT b.same
			OR b.radacctid IN (SELECT radacctid FROM recon_claims WHERE claimants > 1))
)
SELECT j0.*,
	CASE WHEN contested THEN w.gateway_id ELSE j0.gateway_id END AS win_gw,
	CASE WHEN contested THEN w.bill_id ELSE j0.bill_id END AS win_id,
	CASE WHEN contested THEN w.stop_time ELSE j0.stop_time END AS win_stop
FROM j0 LEFT JOIN recon_win w ON w.radacctid = j0.radacctid AND j0.contested
WHERE j0.radacctid IS NULL OR j0.status <> 'verified' OR j0.seq_dup OR NOT j0.same
	OR (j0.contested AND (w.gateway_id, w.bill_id, w.stop_time) IS DISTINCT FROM (j0.gateway_id, j0.bill_id, j0.stop_time))`

	// Their figures and their best background session's, read through a
	// cursor (index probes: they are few).
	sqlPairs = `DECLARE recon_pairs NO SCROLL CURSOR FOR
SELECT b.gateway_id, b.bill_id, b.stop_time, b.username, b.status,
	CASE WHEN j.seq_dup THEN 'sequence ' || j.sequence || ' was already billed by an earlier bill'
	     WHEN j.radacctid IS NOT NULL AND b.status = 'verified'
	          AND (j.win_gw, j.win_id, j.win_stop) IS DISTINCT FROM (b.gateway_id, b.bill_id, b.stop_time)
	     THEN 'background session ' || j.radacctid || ' is already billed by ' || j.win_gw || ' bill ' || encode(j.win_id, 'hex')
	     ELSE '' END,
	b.start_time, b.session_ms, b.input_octets, b.output_octets, b.charge, b.tariff_id, b.tariff_version,
	r.radacctid, r.acctstarttime, COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime), r.acctstoptime IS NULL,
	COALESCE(r.acctsessiontime, EXTRACT(EPOCH FROM COALESCE(r.acctstoptime, r.acctupdatetime) - r.acctstarttime)::bigint, 0),
	COALESCE(r.acctinputoctets, 0), COALESCE(r.acctoutputoctets, 0)
FROM recon_judge j
JOIN billd.bills b ON b.gateway_id = j.gateway_id AND b.bill_id = j.bill_id AND b.stop_time = j.stop_time
LEFT JOIN public.radacct r ON r.radacctid = j.radacctid`

	// Closed background sessions in the range no bill claims.
	sqlMissing = `WITH ins AS (
	INSERT INTO billd.verdicts (period, kind, radacctid, username,
		acct_start, acct_stop, acct_seconds, acct_in, acct_out, detail, reconciled_at)
	SELECT r.acctstoptime, 'missing_bill', r.radacctid, r.username,
		r.acctstarttime, r.acctstoptime, r.acctsessiontime, r.acctinputoctets, r.acctoutputoctets,
		CASE WHEN r.radacctid IN (SELECT b.radacctid FROM recon_best b WHERE b.radacctid IS NOT NULL
			AND (b.status <> 'verified' OR b.seq_dup))
			THEN 'only bills that are not verified or repeat a chain place claim it' ELSE '' END, $3
	FROM recon_claims c
	JOIN public.radacct r ON r.radacctid = c.radacctid
	WHERE c.claimants = 0
		AND ($4::text = 'all' OR EXISTS (SELECT 1 FROM billd.bills b WHERE b.username = r.username
			AND b.stop_time >= $1::timestamptz - interval '30 days' AND b.stop_time < $2::timestamptz + $5::interval))
	RETURNING ` + returningSums + `
) ` + selectSums

	// The verdicts and matches replaced, summed per day, gateway and kind,
	// so the daily summary can take them out again.
	sqlDelete = `WITH ins AS (DELETE FROM billd.verdicts WHERE period >= $1 AND period < $2
	RETURNING ` + returningSums + `
), m AS (DELETE FROM billd.matches WHERE period >= $1 AND period < $2 RETURNING period, gateway_id, charge, octets)
` + selectSums + `
UNION ALL
SELECT date_trunc('day', period), gateway_id, 'match', count(*), sum(charge)::bigint, sum(charge)::bigint,
	sum(octets)::bigint, 0::bigint, 0::bigint, 0::bigint
FROM m GROUP BY 1, 2`

	returningSums = `period, gateway_id, kind, bill_charge, acct_charge, acct_in, acct_out, diff_seconds, diff_in, diff_out, diff_charge`
	selectSums    = `SELECT date_trunc('day', period), COALESCE(gateway_id, ''), kind, count(*), COALESCE(sum(bill_charge), 0)::bigint,
	COALESCE(sum(acct_charge), 0)::bigint, COALESCE(sum(COALESCE(acct_in, 0) + COALESCE(acct_out, 0)), 0)::bigint,
	COALESCE(sum(diff_seconds), 0)::bigint,
	COALESCE(sum(COALESCE(diff_in, 0) + COALESCE(diff_out, 0)), 0)::bigint, COALESCE(sum(diff_charge), 0)::bigint
FROM ins GROUP BY 1, 2, 3`

	// The daily summary takes the change in the range's verdicts.
	sqlDays = `INSERT INTO billd.verdict_days (day, gateway_id, kind, n, bill_charge, acct_charge, acct_octets, diff_seconds, diff_octets, diff_charge)
SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[])
ON CONFLICT (day, gateway_id, kind) DO UPDATE SET n = verdict_days.n + EXCLUDED.n,
	bill_charge = verdict_days.bill_charge + EXCLUDED.bill_charge, acct_charge = verdict_days.acct_charge + EXCLUDED.acct_charge,
	acct_octets = verdict_days.acct_octets + EXCLUDED.acct_octets,
	diff_seconds = verdict_days.diff_seconds + EXCLUDED.diff_seconds, diff_octets = verdict_days.diff_octets + EXCLUDED.diff_octets,
	diff_charge = verdict_days.diff_charge + EXCLUDED.diff_charge`
	sqlDaysClean = `DELETE FROM billd.verdict_days WHERE day >= $1 AND day < $2 AND n = 0`
)
