package recon_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap/zaptest"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/tariff"
	"github.com/edgebill/edgebill/server/internal/billtest"
	"github.com/edgebill/edgebill/server/recon"
	"github.com/edgebill/edgebill/server/store"
)

// planTariff is the plan the planted bills name: a fee, a per-started-
// minute time rate and a volume rate either way.
const planTariff = "T1;id=plan;v=1;cur=CNY;sc=4;fee=100;time=600/1m;both=50/MB"

type fixture struct {
	t     *testing.T
	st    *store.Store
	pg    *lab.Postgres
	plan  *tariff.Tariff
	base  time.Time
	gws   map[string]*billtest.Gateway
	bills []store.BillRow
	racct int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pg := lab.StartPostgres(t, &lab.PostgresOptions{NoFsync: true})
	ctx := context.Background()
	st := billtest.Store(t, pg, 1)
	// The plan as the ISP's RADIUS hands it out; billd takes it from there.
	if err := pg.Exec(ctx, fmt.Sprintf(`INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('plan-a', 'EdgeBill-Tariff', ':=', '%s')`, planTariff)); err != nil {
		t.Fatal(err)
	}
	plan, err := tariff.Parse(planTariff)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, st: st, pg: pg, plan: plan, base: time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Hour), gws: map[string]*billtest.Gateway{}}
}

func (f *fixture) gateway(id string) *billtest.Gateway {
	if g := f.gws[id]; g != nil {
		return g
	}
	g := billtest.NewGateway(id)
	if err := f.st.AddGateway(context.Background(), store.Gateway{ID: g.ID, PublicKey: g.Pub, Secret: g.Secret}, false); err != nil {
		f.t.Fatal(err)
	}
	f.gws[id] = g
	return g
}

func (f *fixture) price(s billtest.Session) int64 {
	c, err := f.plan.Total(tariff.Usage{Start: s.Start, Stop: s.Start.Add(time.Duration(s.Seconds) * time.Second), In: s.In, Out: s.Out})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// sess is a session of user starting at minute m after base.
func (f *fixture) sess(user string, m int, secs int64, in, out uint64) billtest.Session {
	s := billtest.Session{User: user, Start: f.base.Add(time.Duration(m) * time.Minute), Seconds: secs, In: in, Out: out, PPPoE: 0x1234}
	s.Charge = f.price(s)
	return s
}

// radacct stores a background session as FreeRADIUS would have.
func (f *fixture) radacct(s billtest.Session, secs int64, in, out uint64, port string) {
	f.racct++
	stop := s.Start.Add(time.Duration(secs) * time.Second)
	err := f.pg.Exec(context.Background(), fmt.Sprintf(`INSERT INTO radacct (acctsessionid, acctuniqueid, username,
		nasipaddress, nasportid, acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctinputoctets,
		acctoutputoctets, callingstationid, acctterminatecause)
		VALUES ('bras-%d', 'u-%d', '%s', '10.0.0.1', '%s', '%s', '%s', '%s', %d, %d, %d, '02-00-00-00-00-01', 'User-Request')`,
		f.racct, f.racct, s.User, port, s.Start.Format(time.RFC3339), stop.Format(time.RFC3339), stop.Format(time.RFC3339), secs, in, out))
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) add(b *bill.Bill, status string) {
	enc, err := b.MarshalBinary()
	if err != nil {
		f.t.Fatal(err)
	}
	f.bills = append(f.bills, store.BillRow{Bill: b, Hash: b.Hash(), Encoded: enc, Status: status,
		Source: netip.MustParseAddr("127.0.0.1"), ReceivedAt: time.Now().Add(time.Duration(len(f.bills)) * time.Millisecond)})
}

func (f *fixture) commit() {
	if _, err := f.st.Commit(context.Background(), &store.Batch{Bills: f.bills}, "test"); err != nil {
		f.t.Fatal(err)
	}
	f.bills = nil
}

// priceAtIngest fills bills.self_charge as ingest does: the bill's tariff
// over the bill's own usage.
func (f *fixture) priceAtIngest() {
	f.t.Helper()
	ctx := context.Background()
	rows, err := f.st.Pool.Query(ctx, `SELECT gateway_id, bill_id, stop_time, start_time, input_octets, output_octets FROM billd.bills`)
	if err != nil {
		f.t.Fatal(err)
	}
	type key struct {
		gw          string
		id          []byte
		start, stop time.Time
		in, out     int64
	}
	var ks []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.gw, &k.id, &k.stop, &k.start, &k.in, &k.out); err != nil {
			f.t.Fatal(err)
		}
		ks = append(ks, k)
	}
	rows.Close()
	for _, k := range ks {
		c, err := f.plan.Total(tariff.Usage{Start: k.start, Stop: k.stop, In: uint64(k.in), Out: uint64(k.out)})
		if err != nil {
			f.t.Fatal(err)
		}
		if _, err := f.st.Pool.Exec(ctx, `UPDATE billd.bills SET self_charge = $1 WHERE gateway_id = $2 AND bill_id = $3 AND stop_time = $4`,
			c, k.gw, k.id, k.stop); err != nil {
			f.t.Fatal(err)
		}
	}
}

// plant makes one case of every verdict kind and returns what each
// subject's verdict must be.
func (f *fixture) plant() map[string]string {
	g1 := f.gateway("gw-1")
	// match: both sides agree.
	s := f.sess("alice", 0, 600, 10<<20, 40<<20)
	f.radacct(s, 600, 10<<20, 40<<20, "4660")
	f.add(g1.Bill(s), store.StatusVerified)
	// within tolerance: a second and 200 octets off.
	s = f.sess("bob", 1, 300, 5<<20, 5<<20)
	f.radacct(s, 299, 5<<20-200, 5<<20, "4660")
	f.add(g1.Bill(s), store.StatusVerified)
	// usage mismatch: the bill has 50 MB less than the BRAS counted.
	s = f.sess("carol", 2, 1200, 100<<20, 100<<20)
	f.radacct(s, 1200, 150<<20, 100<<20, "4660")
	f.add(g1.Bill(s), store.StatusVerified)
	// charge mismatch: usage agrees, the charge is 1000 too high.
	s = f.sess("dave", 3, 900, 1<<20, 2<<20)
	f.radacct(s, 900, 1<<20, 2<<20, "4660")
	s.Charge += 1000
	f.add(g1.Bill(s), store.StatusVerified)
	// missing bill: the BRAS saw erin, no gateway billed her.
	s = f.sess("erin", 4, 60, 1000, 1000)
	f.radacct(s, 60, 1000, 1000, "4660")
	// orphan bill: a bill for frank, no background session.
	s = f.sess("frank", 5, 60, 1000, 1000)
	f.add(g1.Bill(s), store.StatusVerified)
	// duplicate: ivan's session billed twice by gw-1 (two bills, two
	// sequence numbers); the second received is the duplicate.
	s = f.sess("ivan", 6, 300, 1<<20, 1<<20)
	f.radacct(s, 300, 1<<20, 1<<20, "4660")
	f.add(g1.Bill(s), store.StatusVerified)
	f.add(g1.Bill(s), store.StatusVerified)
	// PPPoE session id breaks a tie: jack has two overlapping sessions;
	// the one on port 99 overlaps his bill more, but the bill's PPPoE
	// session id is 0x1234 = 4660.
	s = f.sess("jack", 7, 600, 3<<20, 3<<20)
	f.radacct(billtest.Session{User: "jack", Start: s.Start.Add(-time.Minute)}, 660, 9<<20, 9<<20, "99")
	f.radacct(s, 600, 3<<20, 3<<20, "4660")
	f.add(g1.Bill(s), store.StatusVerified)

	// bad signature: gw-bad's bill is signed with a key not its own.
	gb := f.gateway("gw-bad")
	s = f.sess("gina", 8, 120, 1000, 1000)
	f.radacct(s, 120, 1000, 1000, "4660")
	forged := gb.Unsigned(s)
	if err := forged.Sign(billtest.NewGateway("someone-else").Priv); err != nil {
		f.t.Fatal(err)
	}
	f.add(forged, store.StatusBadSignature)

	// chain gap: gw-2's bill 3 never arrived.
	g2 := f.gateway("gw-2")
	for i, u := range []string{"h1", "h2", "h3", "h4"} {
		s := f.sess(u, 10+i, 60, 1000, 1000)
		f.radacct(s, 60, 1000, 1000, "4660")
		b := g2.Bill(s)
		if i != 2 { // bill 3's session is on the BRAS but its bill was lost
			f.add(b, store.StatusVerified)
		}
	}
	// duplicate by chain place: gw-3 bills lee with the sequence it gave
	// kim (a gateway restored from an old backup); mia's bill follows kim's.
	g3 := f.gateway("gw-3")
	before := g3.Head
	for _, u := range []string{"kim", "lee", "mia"} {
		s := f.sess(u, 14+len(u), 60, 1000, 1000)
		f.radacct(s, 60, 1000, 1000, "4660")
		if u == "lee" {
			kim := g3.Head
			g3.Seq--
			g3.Head = before
			f.add(g3.Bill(s), store.StatusVerified)
			g3.Head = kim
			continue
		}
		before = g3.Head
		f.add(g3.Bill(s), store.StatusVerified)
	}
	f.commit()
	return map[string]string{
		"kim": "match", "lee": "duplicate+missing_bill", "mia": "match",
		"alice": "match", "bob": "within_tolerance", "carol": "usage_mismatch", "dave": "charge_mismatch",
		"erin": "missing_bill", "frank": "orphan_bill", "ivan": "duplicate+match", "jack": "match+missing_bill", // jack's other session has no bill
		"gina": "bad_signature+missing_bill", "h1": "match", "h2": "match", "h3": "missing_bill", "h4": "chain_gap+match",
	}
}

func (f *fixture) engine() *recon.Engine {
	// Pieces of a few sessions: the 3 h range is judged in pieces, which
	// must give the verdicts a single run gives.
	e, err := recon.New(f.st, recon.Config{Tolerance: recon.Tolerance{Seconds: 2, Octets: 1000}, PieceSessions: 4, Parallel: 2},
		zaptest.NewLogger(f.t))
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

type row struct {
	Subject, Kind, User, Detail           string
	BillSecs, BillIn, BillOut, BillCharge *int64
	AcctSecs, AcctIn, AcctOut, AcctCharge *int64
	DiffSecs, DiffIn, DiffOut, DiffCharge *int64
	SelfCharge, RadacctID, SeqFrom, SeqTo *int64
}

func (f *fixture) verdicts() []row {
	rows, err := f.st.Pool.Query(context.Background(), `SELECT CASE kind WHEN 'chain_gap' THEN 'c:' || gateway_id || ':' || seq_to
		WHEN 'missing_bill' THEN 'r:' || radacctid ELSE 'b:' || gateway_id || ':' || encode(bill_id, 'hex') END AS subject, kind, COALESCE(username, ''), detail,
		bill_seconds, bill_in, bill_out, bill_charge, acct_seconds, acct_in, acct_out, acct_charge,
		diff_seconds, diff_in, diff_out, diff_charge, self_charge, radacctid, seq_from, seq_to
		FROM billd.verdicts_all ORDER BY subject`)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.Subject, &r.Kind, &r.User, &r.Detail, &r.BillSecs, &r.BillIn, &r.BillOut, &r.BillCharge,
			&r.AcctSecs, &r.AcctIn, &r.AcctOut, &r.AcctCharge, &r.DiffSecs, &r.DiffIn, &r.DiffOut, &r.DiffCharge,
			&r.SelfCharge, &r.RadacctID, &r.SeqFrom, &r.SeqTo); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func byUser(rows []row) map[string]string {
	m := map[string]string{}
	for _, r := range rows {
		if m[r.User] != "" {
			parts := strings.Split(m[r.User]+"+"+r.Kind, "+")
			// order-independent join
			for i := range parts {
				for j := i + 1; j < len(parts); j++ {
					if parts[j] < parts[i] {
						parts[i], parts[j] = parts[j], parts[i]
					}
				}
			}
			m[r.User] = strings.Join(parts, "+")
		} else {
			m[r.User] = r.Kind
		}
	}
	return m
}

func TestReconcilePlantedCases(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	want := f.plant()
	e := f.engine()
	ctx := context.Background()
	from, to := f.base.Add(-time.Hour), f.base.Add(2*time.Hour)
	res, err := e.Reconcile(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	got := f.verdicts()
	if diff := cmp.Diff(want, byUser(got)); diff != "" {
		t.Fatalf("verdicts by user (-want +got):\n%s\n%+v", diff, res.Counts)
	}
	find := func(user, kind string) row {
		for _, r := range got {
			if r.User == user && r.Kind == kind {
				return r
			}
		}
		t.Fatalf("no %s verdict for %s", kind, user)
		return row{}
	}
	// Both sides' figures and their differences.
	bob := find("bob", "within_tolerance")
	if *bob.DiffSecs != 1 || *bob.DiffIn != 200 || *bob.DiffOut != 0 || *bob.BillSecs != 300 || *bob.AcctSecs != 299 {
		t.Errorf("bob: %+v", bob)
	}
	carol := find("carol", "usage_mismatch")
	if *carol.DiffIn != -50<<20 || *carol.BillIn != 100<<20 || *carol.AcctIn != 150<<20 {
		t.Errorf("carol: diff in %d, bill %d, acct %d", *carol.DiffIn, *carol.BillIn, *carol.AcctIn)
	}
	// The charge of carol's background usage: fee + 20 minutes + 250 MB.
	if want := f.price(billtest.Session{Start: f.base.Add(2 * time.Minute), Seconds: 1200, In: 150 << 20, Out: 100 << 20}); *carol.AcctCharge != want {
		t.Errorf("carol acct charge %d", *carol.AcctCharge)
	}
	dave := find("dave", "charge_mismatch")
	if *dave.DiffCharge != 1000 || *dave.BillCharge != *dave.SelfCharge+1000 || *dave.DiffIn != 0 {
		t.Errorf("dave: %+v charge %d self %d diff %d", dave, *dave.BillCharge, *dave.SelfCharge, *dave.DiffCharge)
	}
	erin := find("erin", "missing_bill")
	if erin.BillIn != nil || *erin.AcctIn != 1000 || *erin.AcctSecs != 60 {
		t.Errorf("erin: %+v", erin)
	}
	gap := find("h4", "chain_gap")
	if *gap.SeqFrom != 3 || *gap.SeqTo != 3 || !strings.Contains(gap.Detail, "bill 3 missing before bill 4") {
		t.Errorf("gap: %+v %s", gap, gap.Detail)
	}
	if dup := find("ivan", "duplicate"); !strings.Contains(dup.Detail, "already billed") {
		t.Errorf("ivan duplicate detail %q", dup.Detail)
	}
	if dup := find("lee", "duplicate"); !strings.Contains(dup.Detail, "sequence 1 was already billed") {
		t.Errorf("lee duplicate detail %q", dup.Detail)
	}
	if m := find("lee", "missing_bill"); !strings.Contains(m.Detail, "repeat a chain place") {
		t.Errorf("lee missing bill detail %q", m.Detail)
	}
	if bad := find("gina", "bad_signature"); bad.Detail != "bad_signature" || *bad.DiffIn != 0 {
		t.Errorf("gina: %+v", bad)
	}
	// jack matched the session on his PPPoE port, not the longer one.
	if j := find("jack", "match"); *j.AcctIn != 3<<20 {
		t.Errorf("jack matched the wrong session: %+v", j)
	}

	// The same range again: the same verdicts.
	if _, err := e.Reconcile(ctx, from, to); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, f.verdicts()); diff != "" {
		t.Fatalf("re-run differs (-first +second):\n%s", diff)
	}
	if res.Pieces < 2 {
		t.Errorf("the 3 h range was judged in %d piece(s); want several (PieceSessions 4)", res.Pieces)
	}
	// In one piece, one transaction: the same verdicts.
	one, err := recon.New(f.st, recon.Config{Tolerance: recon.Tolerance{Seconds: 2, Octets: 1000}, PieceSessions: -1}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := one.Reconcile(ctx, from, to); err != nil || r.Pieces != 1 {
		t.Fatalf("one piece: %v, %+v", err, r)
	}
	if diff := cmp.Diff(got, f.verdicts()); diff != "" {
		t.Fatalf("one piece differs (-pieces +one):\n%s", diff)
	}
	// Priced at ingest (bills.self_charge, as ingest fills it), the
	// matches are found from that price alone and only the others go
	// through Judge and rfc/tariff: the same verdicts.
	f.priceAtIngest()
	res2, err := e.Reconcile(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, f.verdicts()); diff != "" {
		t.Fatalf("matched from ingest's price differs (-Judge +ingest's price):\n%s", diff)
	}
	if nonMatch := res2.Total() - res2.Counts[recon.Match] - res2.Counts[recon.ChainGap] - res2.Counts[recon.MissingBill]; res2.Judged != nonMatch || res.Judged <= res2.Judged {
		t.Errorf("through Judge: %d bills unpriced, %d priced at ingest (want the %d bills that are not matches)", res.Judged, res2.Judged, nonMatch)
	}
	// Cut in pieces at awkward places: the same verdicts.
	for _, cut := range []time.Duration{7*time.Minute + 30*time.Second, 61 * time.Minute} {
		if _, err := e.Reconcile(ctx, from, f.base.Add(cut)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Reconcile(ctx, f.base.Add(cut), to); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, f.verdicts()); diff != "" {
			t.Fatalf("split at %v differs (-whole +split):\n%s", cut, diff)
		}
	}
	f.checkHours()
}

// checkHours holds billd.verdict_days, kept by deltas, to a sum made
// afresh from billd.verdicts_all.
func (f *fixture) checkHours() {
	f.t.Helper()
	q := func(sql string) []string {
		rows, err := f.st.Pool.Query(context.Background(), sql)
		if err != nil {
			f.t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var h time.Time
			var gw, kind string
			var n, bc, ac, ao, ds, do, dc int64
			if err := rows.Scan(&h, &gw, &kind, &n, &bc, &ac, &ao, &ds, &do, &dc); err != nil {
				f.t.Fatal(err)
			}
			out = append(out, fmt.Sprint(h.UTC(), gw, kind, n, bc, ac, ao, ds, do, dc))
		}
		return out
	}
	want := q(`SELECT date_trunc('day', period) h, COALESCE(gateway_id, '') g, kind, count(*), COALESCE(sum(bill_charge), 0)::bigint,
		COALESCE(sum(acct_charge), 0)::bigint, COALESCE(sum(COALESCE(acct_in, 0) + COALESCE(acct_out, 0)), 0)::bigint,
		COALESCE(sum(diff_seconds), 0)::bigint,
		COALESCE(sum(COALESCE(diff_in, 0) + COALESCE(diff_out, 0)), 0)::bigint, COALESCE(sum(diff_charge), 0)::bigint
		FROM billd.verdicts_all GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)
	got := q(`SELECT day, gateway_id, kind, n, bill_charge, acct_charge, acct_octets, diff_seconds, diff_octets, diff_charge
		FROM billd.verdict_days ORDER BY 1, 2, 3`)
	if diff := cmp.Diff(want, got); diff != "" {
		f.t.Fatalf("verdict_days (-from verdicts +kept):\n%s", diff)
	}
}

// The chain findings of the SQL agree with rfc/bill's own checker.
func TestChainAgreesWithCheckSorted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := f.gateway("gw-c")
	var links []bill.Link
	skip := map[int]bool{3: true, 7: true, 8: true, 15: true}
	for i := 1; i <= 20; i++ {
		s := f.sess(fmt.Sprintf("u%d", i), i, 30, 1, 1)
		b := g.Bill(s)
		if i == 12 {
			// Bill 12 names the wrong previous bill (a fork).
			b.PrevHash[0] ^= 1
			b.Sign(g.Priv)
			g.Head = b.Hash()
		}
		if skip[i] {
			continue
		}
		links = append(links, b.Link())
		f.add(b, store.StatusVerified)
	}
	f.commit()
	if _, err := f.engine().Reconcile(context.Background(), f.base.Add(-time.Hour), f.base.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, x := range bill.CheckSorted(links) {
		switch x.Kind {
		case bill.Gap:
			want = append(want, fmt.Sprintf("gap %d-%d at %d", x.From, x.To, x.Sequence))
		case bill.Fork:
			want = append(want, fmt.Sprintf("fork at %d", x.Sequence))
		default:
			t.Fatalf("unexpected finding %v", x)
		}
	}
	var got []string
	for _, r := range f.verdicts() {
		if r.Kind != "chain_gap" {
			continue
		}
		if strings.Contains(r.Detail, "missing") {
			got = append(got, fmt.Sprintf("gap %d-%d at %d", *r.SeqFrom, *r.SeqTo, *r.SeqTo+1))
		} else {
			got = append(got, fmt.Sprintf("fork at %d", *r.SeqFrom))
		}
	}
	sortStrings(want)
	sortStrings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("chain findings (-CheckSorted +SQL):\n%s", diff)
	}
}

func sortStrings(s []string) {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
}

func TestContinuousWatermarkAndLateBills(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	g := f.gateway("gw-1")
	s := f.sess("alice", 0, 600, 1000, 1000)
	f.radacct(s, 600, 1000, 1000, "4660")
	late := f.sess("bob", 5, 60, 1000, 1000)
	f.radacct(late, 60, 1000, 1000, "4660")
	f.add(g.Bill(s), store.StatusVerified)
	f.commit()

	e, err := recon.New(f.st, recon.Config{Grace: 10 * time.Minute, Start: f.base.Add(-time.Hour)}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	now := f.base.Add(time.Hour)
	res, err := e.Step(ctx, now)
	if err != nil || res == nil {
		t.Fatalf("Step: %v %v", res, err)
	}
	wm, _, err := e.Watermark(ctx)
	if err != nil || !wm.Equal(now.Add(-10*time.Minute)) {
		t.Fatalf("watermark %v (%v), want %v", wm, err, now.Add(-10*time.Minute))
	}
	if got := byUser(f.verdicts()); got["alice"] != "match" || got["bob"] != "missing_bill" {
		t.Fatalf("first pass: %v", got)
	}
	// bob's bill arrives late: the next pass judges his hour again.
	f.add(g.Bill(late), store.StatusVerified)
	f.commit()
	if _, err := e.Step(ctx, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := byUser(f.verdicts()); got["bob"] != "match" {
		t.Fatalf("after the late bill: %v", got)
	}
}
