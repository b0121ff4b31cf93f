-- billd's tables, in schema billd, beside FreeRADIUS's stock schema
-- (radacct & co. in public) in the same database.
--
-- Tables that grow per session (bills, verdicts) are partitioned by
-- range of time: one partition a month, made ahead of time by
-- store.EnsurePartitions (run by `billd migrate` and daily by `billd
-- serve`), and a DEFAULT partition that catches a row no monthly
-- partition holds yet (a gateway with a wrong clock), so an insert never
-- fails for want of a partition. EnsurePartitions moves such rows into
-- the monthly partition when it makes it.

-- Gateways: who may send bills, with what RADIUS secret, signed with
-- what Ed25519 key.
CREATE TABLE billd.gateways (
	id          text PRIMARY KEY CHECK (id <> '' AND octet_length(id) <= 247),
	public_key  bytea NOT NULL CHECK (octet_length(public_key) = 32),
	secret      text NOT NULL CHECK (secret <> ''),
	owner       text NOT NULL DEFAULT '',
	status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
	-- When set, packets naming this gateway are taken only from here.
	source      cidr,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Tariffs by id and version, as the ISP's RADIUS hands them out
-- (EdgeBill-Tariff in radgroupreply / radreply), kept for good: a bill
-- names the version it was priced with long after the plan moved on.
CREATE TABLE billd.tariffs (
	id          text NOT NULL,
	version     bigint NOT NULL,
	text        text NOT NULL,
	source      text NOT NULL,
	first_seen  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (id, version)
);

-- Bills, one row per bill identity (gateway, bill id). The primary key
-- holds stop_time because a partitioned table's unique keys must hold
-- its partition key; a bill's stop time is part of what it signs, so a
-- retransmission or replay of a bill lands on the same key.
CREATE TABLE billd.bills (
	gateway_id        text NOT NULL,
	bill_id           bytea NOT NULL,
	stop_time         timestamptz NOT NULL,
	start_time        timestamptz NOT NULL,
	sequence          bigint NOT NULL,
	session_id        text NOT NULL,
	username          text NOT NULL,
	subscriber_mac    macaddr,
	pppoe_session_id  integer NOT NULL,
	bras_mac          macaddr,
	framed_ip         inet,
	session_ms        bigint NOT NULL,
	input_octets      bigint NOT NULL,
	output_octets     bigint NOT NULL,
	input_packets     bigint NOT NULL,
	output_packets    bigint NOT NULL,
	terminate_cause   integer NOT NULL,
	tariff_id         text NOT NULL,
	tariff_version    bigint NOT NULL,
	charge            bigint NOT NULL,
	currency          text NOT NULL,
	scale             smallint NOT NULL,
	hash              bytea NOT NULL,
	prev_hash         bytea NOT NULL,
	-- verified | bad_signature | unknown_gateway | gateway_disabled
	status            text NOT NULL,
	-- The canonical encoding, signature included: the evidence.
	encoded           bytea NOT NULL,
	source            inet,
	received_at       timestamptz NOT NULL DEFAULT now(),
	received_by       text NOT NULL DEFAULT '',
	PRIMARY KEY (gateway_id, bill_id, stop_time)
) PARTITION BY RANGE (stop_time);
CREATE TABLE billd.bills_default PARTITION OF billd.bills DEFAULT;
-- Matching: a user's bills by time.
CREATE INDEX bills_user_stop ON billd.bills (username, stop_time);
-- Chain checks: a gateway's bills by sequence.
CREATE INDEX bills_gateway_seq ON billd.bills (gateway_id, sequence);
-- Continuous reconciliation: bills that arrived since the last pass
-- (late ones reopen their hour).
CREATE INDEX bills_received ON billd.bills USING brin (received_at);

-- Live progress of open sessions from Start and Interim-Update; the row
-- goes when the session's bill arrives.
CREATE TABLE billd.progress (
	gateway_id       text NOT NULL,
	session_id       text NOT NULL,
	username         text NOT NULL,
	status           text NOT NULL,
	start_time       timestamptz,
	session_seconds  bigint NOT NULL DEFAULT 0,
	input_octets     bigint NOT NULL DEFAULT 0,
	output_octets    bigint NOT NULL DEFAULT 0,
	running_charge   bigint,
	source           inet,
	updated_at       timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (gateway_id, session_id)
);

-- Accounting-Requests from an authenticated client that carry no usable
-- bill (a Stop whose bill attributes do not decode): kept, never dropped.
CREATE TABLE billd.rejected (
	id           bigserial PRIMARY KEY,
	received_at  timestamptz NOT NULL DEFAULT now(),
	gateway_id   text NOT NULL,
	source       inet,
	reason       text NOT NULL,
	packet       bytea NOT NULL
);
CREATE INDEX rejected_time ON billd.rejected (received_at);

-- Verdicts: what reconciliation found, one row per subject: a bill
-- (gateway_id, bill_id), a background session without a bill
-- (radacctid, kind missing_bill) or a break in a gateway's chain
-- (gateway_id, seq_from..seq_to, kind chain_gap). period is the
-- subject's stop time. A reconciliation of [from, to) replaces every
-- verdict whose period falls in it, in one transaction, so re-running a
-- range gives the same rows. Figures: bill_* from the bill, acct_* from
-- radacct, diff_* = bill - acct; self_charge is what the bill's tariff
-- gives for the bill's own usage, acct_charge for the background usage.
--
-- Most verdicts are matches: the btree indexes are partial, on the
-- findings only, and every row is reached by time through a BRIN index,
-- so writing a million matches costs little more than the heap.
CREATE TABLE billd.verdicts (
	period          timestamptz NOT NULL,
	kind            text NOT NULL CHECK (kind IN ('match', 'within_tolerance', 'usage_mismatch',
	                    'charge_mismatch', 'missing_bill', 'orphan_bill', 'bad_signature',
	                    'chain_gap', 'duplicate')),
	gateway_id      text,
	bill_id         bytea,
	radacctid       bigint,
	username        text,
	seq_from        bigint,
	seq_to          bigint,
	bill_start      timestamptz,
	bill_seconds    bigint,
	bill_in         bigint,
	bill_out        bigint,
	bill_charge     bigint,
	self_charge     bigint,
	acct_start      timestamptz,
	acct_stop       timestamptz,
	acct_seconds    bigint,
	acct_in         bigint,
	acct_out        bigint,
	acct_charge     bigint,
	diff_seconds    bigint,
	diff_in         bigint,
	diff_out        bigint,
	diff_charge     bigint,
	tariff_id       text,
	tariff_version  bigint,
	detail          text NOT NULL DEFAULT '',
	reconciled_at   timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (period);
CREATE TABLE billd.verdicts_default PARTITION OF billd.verdicts DEFAULT;
CREATE INDEX verdicts_period ON billd.verdicts USING brin (period);
CREATE INDEX verdicts_findings ON billd.verdicts (period) WHERE kind <> 'match';
CREATE INDEX verdicts_findings_gateway ON billd.verdicts (gateway_id, period) WHERE kind <> 'match';
CREATE INDEX verdicts_findings_user ON billd.verdicts (username, period) WHERE kind <> 'match';

-- Verdict counts and sums per day (UTC), gateway and kind, kept by each
-- reconciliation as it replaces verdicts: what reports, the dashboard
-- and per-gateway accuracy read. gateway_id is '' for missing bills.
CREATE TABLE billd.verdict_days (
	day           timestamptz NOT NULL,
	gateway_id    text NOT NULL,
	kind          text NOT NULL,
	n             bigint NOT NULL,
	bill_charge   bigint NOT NULL,
	acct_charge   bigint NOT NULL,
	acct_octets   bigint NOT NULL,
	diff_seconds  bigint NOT NULL,
	diff_octets   bigint NOT NULL,
	diff_charge   bigint NOT NULL,
	PRIMARY KEY (day, gateway_id, kind)
);
CREATE INDEX verdict_days_gateway ON billd.verdict_days (gateway_id, day);

-- How far continuous reconciliation has gone.
CREATE TABLE billd.watermark (
	name           text PRIMARY KEY,
	reconciled_to  timestamptz NOT NULL,
	updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per reconciliation run, for the record.
CREATE TABLE billd.runs (
	id           bigserial PRIMARY KEY,
	started_at   timestamptz NOT NULL,
	finished_at  timestamptz NOT NULL,
	range_from   timestamptz NOT NULL,
	range_to     timestamptz NOT NULL,
	mode         text NOT NULL,
	instance     text NOT NULL DEFAULT '',
	counts       jsonb NOT NULL
);
