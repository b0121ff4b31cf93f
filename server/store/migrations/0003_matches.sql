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
CREATE INDEX matches_period ON billd.matches USING brin (period) WITH (autosummarize = on);

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

-- billd.verdicts_all, every verdict with the matches' figures read
-- through their pairs, is made by `billd migrate` outside the versioned
-- migrations (store.ensureVerdictsView): it reads FreeRADIUS's radacct,
-- which may be loaded after billd's schema.
