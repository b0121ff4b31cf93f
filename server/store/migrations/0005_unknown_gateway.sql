-- Bills from gateways billd did not know when they arrived, by stop time.
-- Before each reconciliation, store.Reverify checks them again in case
-- the gateway has been registered since; without this index that look
-- was a scan of every bill of the range (about 0.13 s a million bills),
-- for what is nearly always no row at all. Partial: it holds those bills
-- alone, so ingest of known gateways' bills does not maintain it.
CREATE INDEX bills_unknown_gateway ON billd.bills (stop_time) WHERE status = 'unknown_gateway';
