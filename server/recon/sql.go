package recon

// The reconciliation's SQL beyond reading the two sides (load.go) and
// looking up what the chain and missing verdicts need (side.go): the
// verdicts replaced, the daily summary. Every statement runs in the
// run's one transaction.
const (
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
