-- Bills by stop time, for reconciliation: a pass over a range (a minute
-- of continuous reconciliation, or one piece of a long range) reads only
-- the blocks that hold it instead of the whole month's partition. Bills
-- arrive roughly in stop-time order, which is what BRIN needs; it costs
-- ingest next to nothing. autosummarize: autovacuum summarizes each block
-- range as it fills (an unsummarized range is read by every query).
CREATE INDEX bills_stop ON billd.bills USING brin (stop_time) WITH (pages_per_range = 32, autosummarize = on);

-- The same for the verdicts' BRIN (a partitioned index takes no ALTER
-- ... SET, so it is made again; it holds only the findings now, and its
-- partitions' indexes inherit the option).
DROP INDEX billd.verdicts_period;
CREATE INDEX verdicts_period ON billd.verdicts USING brin (period) WITH (autosummarize = on);
