package seed

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/tariff"
	"github.com/edgebill/edgebill/server/internal/billtest"
	"github.com/edgebill/edgebill/server/recon"
	"github.com/edgebill/edgebill/server/store"
)

// Tariff is the plan every seeded bill names.
const Tariff = "T1;id=seed-plan;v=1;cur=CNY;sc=4;fee=100;time=600/1m;both=50/MB"

// Result is what Week made.
type Result struct {
	Store    *store.Store
	PG       *lab.Postgres
	From, To time.Time
	Counts   map[recon.Kind]int
}

// Week seeds days days (ending now) of sessions for four gateways; gw-drift
// bills 5% more octets than the BRAS counts, gw-lossy loses bills.
func Week(t testing.TB, days int) *Result {
	t.Helper()
	pg := lab.StartPostgres(t, &lab.PostgresOptions{NoFsync: true})
	ctx := context.Background()
	if err := pg.ExecFile(ctx, lab.StockSchemaSQL); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, pg.URL, store.Options{}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := st.Migrate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := pg.Exec(ctx, `INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('seed', 'EdgeBill-Tariff', ':=', '`+Tariff+`')`); err != nil {
		t.Fatal(err)
	}
	plan, err := tariff.Parse(Tariff)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().UTC().Add(-time.Hour).Truncate(time.Hour)
	from := end.AddDate(0, 0, -days).Truncate(24 * time.Hour)
	if err := st.EnsurePartitions(ctx, from, end); err != nil {
		t.Fatal(err)
	}
	var rows []store.BillRow
	var accts [][]any
	n := 0
	for gi, id := range []string{"gw-good", "gw-fine", "gw-drift", "gw-lossy"} {
		g := billtest.NewGateway(id)
		if err := st.AddGateway(ctx, store.Gateway{ID: id, PublicKey: g.Pub, Secret: g.Secret, Owner: "Flat " + fmt.Sprint(gi+1)}, false); err != nil {
			t.Fatal(err)
		}
		for s := from.Add(time.Duration(gi) * time.Minute); s.Before(end.Add(-time.Hour)); s = s.Add(97 * time.Minute) {
			n++
			user := fmt.Sprintf("%s-user%d", id, n%5)
			secs := int64(300 + n%900)
			in, out := uint64(1_000_000+n*1000), uint64(3_000_000+n*777)
			acctIn, acctSecs := in, secs
			bill := true
			switch {
			case id == "gw-drift":
				in += in / 20
			case id == "gw-lossy" && n%4 == 0:
				bill = false
			case id == "gw-fine" && n%3 == 0:
				acctSecs-- // within tolerance
			case id == "gw-good" && n%29 == 0:
				acctIn += 200_000 // a usage mismatch now and then, no drift
			}
			sess := billtest.Session{User: user, Start: s, Seconds: secs, In: in, Out: out, TariffID: "seed-plan", TariffVer: 1, PPPoE: 4660}
			c, err := plan.Total(tariff.Usage{Start: s, Stop: s.Add(time.Duration(secs) * time.Second), In: in, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			sess.Charge = c
			b := g.Bill(sess)
			if bill {
				enc, _ := b.MarshalBinary()
				rows = append(rows, store.BillRow{Bill: b, Hash: b.Hash(), Encoded: enc, Status: store.StatusVerified,
					Source: netip.MustParseAddr("127.0.0.1"), ReceivedAt: time.Now()})
			}
			stop := s.Add(time.Duration(acctSecs) * time.Second)
			accts = append(accts, []any{fmt.Sprintf("bras-%d", n), fmt.Sprintf("u-%d", n), user, netip.MustParseAddr("10.0.0.1"),
				"4660", s, stop, stop, acctSecs, int64(acctIn), int64(out), "02-00-00-00-00-01", "User-Request"})
		}
	}
	if _, err := st.Commit(ctx, &store.Batch{Bills: rows}, "seed"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Pool.CopyFrom(ctx, pgx.Identifier{"radacct"}, []string{"acctsessionid", "acctuniqueid", "username",
		"nasipaddress", "nasportid", "acctstarttime", "acctupdatetime", "acctstoptime", "acctsessiontime",
		"acctinputoctets", "acctoutputoctets", "callingstationid", "acctterminatecause"}, pgx.CopyFromRows(accts)); err != nil {
		t.Fatal(err)
	}
	e, err := recon.New(st, recon.Config{Tolerance: recon.Tolerance{Seconds: 2}}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Reconcile(ctx, from, end.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return &Result{Store: st, PG: pg, From: from, To: end.Add(time.Hour), Counts: res.Counts}
}
