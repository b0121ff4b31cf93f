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

-- Plans: the tariff each plan's subscribers are priced with (rfc/tariff
-- text, one EdgeBill-Tariff attribute each). Scale 4: 1/10000 CNY.
--   time-basic:    1 CNY a session, 0.10 CNY per started 10 s, capped at 50 CNY
--   volume-tiered: 0.05 CNY a session, first MB free, next 10 MB at 0.20 CNY/MB, then 0.05 CNY/MB
--   peak-offpeak:  0.03 CNY per started 10 s, double 19:00-23:00, half 00:00-08:00
--                  Shanghai time, plus 0.02 CNY/MB both ways, capped at 200 CNY
INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES
  ('plan-time',   'EdgeBill-Tariff', ':=', 'T1;id=time-basic;v=1;cur=CNY;sc=4;tz=Asia/Shanghai;fee=10000;time=1000/10s/up;cap=500000'),
  ('plan-volume', 'EdgeBill-Tariff', ':=', 'T1;id=volume-tiered;v=2;cur=CNY;sc=4;tz=Asia/Shanghai;fee=500;both=1@0,10@2000,500/MB/up'),
  ('plan-peak',   'EdgeBill-Tariff', ':=', 'T1;id=peak-offpeak;v=1;cur=CNY;sc=4;tz=Asia/Shanghai;time=300/10s/up;both=200/MB/up;band=peak/19:00-23:00/x2;band=offpeak/00:00-08:00/x0.5;cap=2000000');
