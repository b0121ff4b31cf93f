package recon

// The reconciliation's SQL beyond reading the two sides (load.go): the
// chain breaks and missing bills, the verdicts replaced, the daily
// summary. Every statement runs in the run's one transaction.
const (
	// The bill before each of the bills the matcher found odd ($1, $2:
	// gateway and sequence of each), by sequence in the whole table: its
	// place in the arrays, sequence and hash.
	sqlChainProbe = `SELECT w.i, p.sequence, p.hash
FROM unnest($1::text[], $2::int8[]) WITH ORDINALITY AS w(gateway_id, sequence, i)
JOIN LATERAL (SELECT x.sequence, x.hash FROM billd.bills x
	WHERE x.gateway_id = w.gateway_id AND x.sequence < w.sequence
	ORDER BY x.sequence DESC, x.received_at LIMIT 1) p ON true`

	// Breaks in a gateway's chain at the odd bills ($2.. : gateway, bill
	// id, stop time and sequence of each, and the sequence and hash of
	// the bill before it, 0 and NULL if none). The hashes compared are
	// the stored octets.
	sqlChain = `WITH c AS (
	SELECT w.*, b.username, b.start_time, b.prev_hash
	FROM unnest($2::text[], $3::bytea[], $4::timestamptz[], $5::int8[], $6::int8[], $7::bytea[])
		AS w(gateway_id, bill_id, stop_time, sequence, pseq, phash)
	JOIN billd.bills b ON b.gateway_id = w.gateway_id AND b.bill_id = w.bill_id AND b.stop_time = w.stop_time
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
		$1
	FROM c
	WHERE pseq < sequence - 1 OR (sequence > 1 AND pseq = sequence - 1 AND phash IS DISTINCT FROM prev_hash)
	RETURNING ` + returningSums + `
) ` + selectSums

	// Closed background sessions of the range no bill claims ($2: their
	// radacctids; $3: why, if only bills that cannot claim have them),
	// unless the scope is "billed" and the user has no bill in the 30
	// days before.
	sqlMissing = `WITH ins AS (
	INSERT INTO billd.verdicts (period, kind, radacctid, username,
		acct_start, acct_stop, acct_seconds, acct_in, acct_out, detail, reconciled_at)
	SELECT r.acctstoptime, 'missing_bill', r.radacctid, r.username,
		r.acctstarttime, r.acctstoptime, r.acctsessiontime, r.acctinputoctets, r.acctoutputoctets, m.detail, $1
	FROM unnest($2::int8[], $3::text[]) AS m(radacctid, detail)
	JOIN public.radacct r ON r.radacctid = m.radacctid
	WHERE r.acctstoptime IS NOT NULL
		AND ($4::text = 'all' OR EXISTS (SELECT 1 FROM billd.bills b WHERE b.username = r.username
			AND b.stop_time >= $5::timestamptz - interval '30 days' AND b.stop_time < $6::timestamptz + $7::interval))
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
