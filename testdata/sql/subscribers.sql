-- Test and demo subscribers for FreeRADIUS's stock tables (test-only
-- fixtures: every password here is made up for the lab).
--
-- A plan is a group whose radgroupreply carries the tariff
-- (EdgeBill-Tariff, rfc/tariff text). An account status that refuses the
-- dial is a group whose radgroupcheck sets Auth-Type := Reject and whose
-- radgroupreply says why. Priority orders a user's groups: status first.

INSERT INTO radcheck (username, attribute, op, value) VALUES
  ('alice',   'Cleartext-Password', ':=', 'alice-pw'),
  ('bob',     'Cleartext-Password', ':=', 'bob-pw'),
  ('carol',   'Cleartext-Password', ':=', 'carol-pw'),
  ('dave',    'Cleartext-Password', ':=', 'dave-pw'),
  ('erin',    'Cleartext-Password', ':=', 'erin-pw');

-- dave is in arrears, erin is not yet activated.
INSERT INTO radusergroup (username, groupname, priority) VALUES
  ('dave',  'status-arrears',       0),
  ('erin',  'status-not-activated', 0),
  ('alice', 'plan-time',            1),
  ('bob',   'plan-volume',          1),
  ('carol', 'plan-peak',            1),
  ('dave',  'plan-time',            1),
  ('erin',  'plan-time',            1);

INSERT INTO radgroupcheck (groupname, attribute, op, value) VALUES
  ('status-arrears',       'Auth-Type', ':=', 'Reject'),
  ('status-not-activated', 'Auth-Type', ':=', 'Reject');

INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES
  ('status-arrears',       'Reply-Message', ':=', 'Account in arrears: please pay your bill'),
  ('status-not-activated', 'Reply-Message', ':=', 'Account not yet activated'),
  ('plan-time',   'Acct-Interim-Interval', ':=', '60'),
  ('plan-volume', 'Acct-Interim-Interval', ':=', '60'),
  ('plan-peak',   'Acct-Interim-Interval', ':=', '60');
