-- Matches apart from the other verdicts.
--
-- Nearly every bill is a match, and a match's figures are the bill's own
-- and the background record's own, equal by definition: copying them
-- into a verdict row made writing the verdicts the largest part of a
-- reconciliation (a million 28-column rows, WAL included). A match is
-- now kept as the pair alone, in a narrow table with no index but BRIN
-- (the only way in is by time); its figures are read through the pair,
-- from billd.bills and radacct, by billd.verdicts_all. billd.verdicts
-- keeps every other verdict with both sides' figures as judged.
CREATE TABLE billd.matches (
	-- The bill's stop time, as billd.verdicts.period.
	period         timestamptz NOT NULL,
	gateway_id     text NOT NULL,
	bill_id        bytea NOT NULL,
	radacctid      bigint NOT NULL,
	-- The bill's charge (= what its tariff gives for either side's usage)
	-- and octets (in + out, equal on both sides), for the daily summary.
	charge         bigint NOT NULL,
	octets         bigint NOT NULL,
	reconciled_at  timestamptz NOT NULL
) PARTITION BY RANGE (period);
CREATE TABLE billd.matches_default PARTITION OF billd.matches DEFAULT;
CREATE INDEX matches_period ON billd.matches USING brin (period);

-- Monthly partitions for the months billd.verdicts already has.
DO $$
DECLARE p record;
BEGIN
	FOR p IN SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'billd.verdicts'::regclass AND c.relname <> 'verdicts_default'
	LOOP
		EXECUTE format('CREATE TABLE billd.%I PARTITION OF billd.matches %s',
			replace(p.relname, 'verdicts_', 'matches_'), p.bound);
	END LOOP;
END $$;

-- Matches judged before this migration move over.
INSERT INTO billd.matches (period, gateway_id, bill_id, radacctid, charge, octets, reconciled_at)
SELECT period, gateway_id, bill_id, radacctid, bill_charge, bill_in + bill_out, reconciled_at
FROM billd.verdicts WHERE kind = 'match';
DELETE FROM billd.verdicts WHERE kind = 'match';

-- Every verdict with both sides' figures, matches included: what the
-- reports and the session view read. Select by period (and subject) so
-- the matches' side is reached through its BRIN index.
CREATE VIEW billd.verdicts_all AS
SELECT period, kind, gateway_id, bill_id, radacctid, username, seq_from, seq_to,
	bill_start, bill_seconds, bill_in, bill_out, bill_charge, self_charge,
	acct_start, acct_stop, acct_seconds, acct_in, acct_out, acct_charge,
	diff_seconds, diff_in, diff_out, diff_charge, tariff_id, tariff_version, detail, reconciled_at
FROM billd.verdicts
UNION ALL
SELECT m.period, 'match', m.gateway_id, m.bill_id, m.radacctid, b.username, NULL, NULL,
	b.start_time, b.session_ms / 1000, b.input_octets, b.output_octets, b.charge, m.charge,
	r.acctstarttime, COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime),
	COALESCE(r.acctsessiontime, EXTRACT(EPOCH FROM COALESCE(r.acctstoptime, r.acctupdatetime) - r.acctstarttime)::bigint, 0),
	COALESCE(r.acctinputoctets, 0), COALESCE(r.acctoutputoctets, 0), m.charge,
	0, 0, 0, 0, b.tariff_id, b.tariff_version, '', m.reconciled_at
FROM billd.matches m
JOIN billd.bills b ON b.gateway_id = m.gateway_id AND b.bill_id = m.bill_id AND b.stop_time = m.period
JOIN public.radacct r ON r.radacctid = m.radacctid;
