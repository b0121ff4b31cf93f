-- Extra reply attributes for the relay's FreeRADIUS test (on top of
-- testdata/sql/subscribers.sql, whose plans carry the tariffs): a credit
-- and a Class for alice.
INSERT INTO radreply (username, attribute, op, value) VALUES
  ('alice', 'EdgeBill-Credit', ':=', '123456'),
  ('alice', 'Class', ':=', 'plan-time');
