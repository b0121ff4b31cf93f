-- What billd's own copy of a bill's tariff gives for the bill's own
-- usage, priced by ingest when the bill arrives (rfc/tariff, the code the
-- gateway priced with). NULL when billd did not know the tariff then or
-- the usage cannot be priced; reconciliation prices those itself.
-- Reconciliation reads it instead of pricing every bill again: for the
-- usual pair, whose background usage is the bill's own, it is also the
-- background charge, so a match is judged in SQL without a round trip.
ALTER TABLE billd.bills ADD COLUMN self_charge bigint;
