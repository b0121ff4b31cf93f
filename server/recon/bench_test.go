package recon_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/tariff"
	"github.com/edgebill/edgebill/server/recon"
	"github.com/edgebill/edgebill/server/store"
)

// BenchSessionsEnv sets the number of sessions of BenchmarkReconcile
// (default 1,000,000; 100,000 under -short).
const BenchSessionsEnv = "EDGEBILL_BENCH_SESSIONS"

func benchSessions() int {
	if v, err := strconv.Atoi(os.Getenv(BenchSessionsEnv)); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return 100_000
	}
	return 1_000_000
}

// loadSessions fills radacct and billd.bills with n sessions each, over
// one day: n/10 users with 10 sessions each, 10 users a gateway. About 2%
// of them are planted wrong (usage off, charge off, a bill or a
// background record missing) so every path of the verdicts is taken.
func loadSessions(b *testing.B, st *store.Store, plan *tariff.Tariff, day time.Time, n int) {
	ctx := context.Background()
	conn, err := st.Pool.Acquire(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	enc := make([]byte, 250)
	bras := net.HardwareAddr{2, 0xb, 0xa5, 0, 0, 1}
	sub := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	src := netip.MustParseAddr("127.0.0.1")
	recv := day.Add(24 * time.Hour)

	var bills, accts [][]any
	flush := func() {
		if len(bills) > 0 {
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"billd", "bills"}, []string{"gateway_id", "bill_id", "stop_time",
				"start_time", "sequence", "session_id", "username", "subscriber_mac", "pppoe_session_id", "bras_mac",
				"framed_ip", "session_ms", "input_octets", "output_octets", "input_packets", "output_packets",
				"terminate_cause", "tariff_id", "tariff_version", "charge", "currency", "scale", "hash", "prev_hash",
				"status", "encoded", "source", "received_at", "self_charge"}, pgx.CopyFromRows(bills)); err != nil {
				b.Fatal(err)
			}
		}
		if len(accts) > 0 {
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"radacct"}, []string{"acctsessionid", "acctuniqueid", "username",
				"nasipaddress", "nasportid", "acctstarttime", "acctupdatetime", "acctstoptime", "acctsessiontime",
				"acctinputoctets", "acctoutputoctets", "callingstationid", "acctterminatecause"}, pgx.CopyFromRows(accts)); err != nil {
				b.Fatal(err)
			}
		}
		bills, accts = bills[:0], accts[:0]
	}
	users := max(n/10, 1)
	seqs := map[int]int64{}
	for i := range n {
		u := i % users
		k := i / users // the user's k-th session of the day
		gw := u / 10
		user := fmt.Sprintf("user%07d", u)
		gwID := fmt.Sprintf("gw%06d", gw)
		start := day.Add(time.Duration(k)*2*time.Hour + time.Duration(u%3600)*time.Second)
		secs := int64(600 + u%3000)
		stop := start.Add(time.Duration(secs) * time.Second)
		in, out := int64(1_000_000+i%5_000_000), int64(5_000_000+i%20_000_000)
		charge, err := plan.Total(tariff.Usage{Start: start, Stop: stop, In: uint64(in), Out: uint64(out)})
		if err != nil {
			b.Fatal(err)
		}
		self := charge // what ingest's pricing stores (bills.self_charge)
		acctIn, acctSecs := in, secs
		haveBill, haveAcct := true, true
		switch i % 100 {
		case 17:
			acctIn += 3_000_000 // usage mismatch
		case 23:
			charge += 500 // charge mismatch
		case 31:
			haveBill = false // missing bill (and a chain gap)
			seqs[gw]++
		case 47:
			haveAcct = false // orphan bill
		case 59:
			acctSecs-- // within tolerance
		}
		if haveBill {
			seqs[gw]++
			seq := seqs[gw]
			h := sha256.Sum256([]byte(gwID + strconv.FormatInt(seq, 10)))
			var prev [32]byte
			if seq > 1 {
				prev = sha256.Sum256([]byte(gwID + strconv.FormatInt(seq-1, 10)))
			}
			var id [16]byte
			binary.BigEndian.PutUint64(id[:], uint64(i)+1)
			framed := netip.AddrFrom4([4]byte{100, 64, byte(u >> 8), byte(u)})
			bills = append(bills, []any{gwID, id[:], stop, start, seq, fmt.Sprintf("%s-%d", gwID, seq), user, sub, int32(4660),
				bras, framed, secs * 1000, in, out, in / 500, out / 500, int32(1), plan.ID(), int64(plan.Version()), charge,
				"CNY", int16(4), h[:], prev[:], "verified", enc, src, recv, self})
		}
		if haveAcct {
			accts = append(accts, []any{fmt.Sprintf("bras-%d", i), fmt.Sprintf("u-%d", i), user, netip.MustParseAddr("10.0.0.1"),
				"4660", start, stop, stop, acctSecs, acctIn, out, "02-00-00-00-00-01", "User-Request"})
		}
		if len(bills) >= 50_000 || len(accts) >= 50_000 {
			flush()
		}
	}
	flush()
	// As autovacuum would have by the time a day is reconciled: the
	// statistics, the visibility map and the BRIN summaries.
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE billd.bills`); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE radacct`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkReconcile reconciles n bills against n radacct rows (n is one
// million unless EDGEBILL_BENCH_SESSIONS says otherwise) and reports, next
// to it, bare SQL joins of the two tables on the same data: counted
// (bare-join-s), into a temporary table (bare-join-table-s) and into a
// table as durable as the verdicts (bare-join-kept-s), and the ratios. The
// timed runs judge a range for the first time; rerun-s is the same range
// judged again (its verdicts replaced). Run it with -benchtime 3x: the
// figures are medians of three runs, the peers' too.
func BenchmarkReconcile(b *testing.B) {
	n := benchSessions()
	pg := lab.StartPostgres(b, &lab.PostgresOptions{Settings: map[string]string{
		"max_wal_size": "4GB", "checkpoint_timeout": "30min",
	}})
	ctx := context.Background()
	if err := pg.ExecFile(ctx, lab.StockSchemaSQL); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, pg.URL, store.Options{}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx, 1); err != nil {
		b.Fatal(err)
	}
	if err := pg.Exec(ctx, fmt.Sprintf(`INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('plan-a', 'EdgeBill-Tariff', ':=', '%s')`, planTariff)); err != nil {
		b.Fatal(err)
	}
	plan, _ := tariff.Parse(planTariff)
	day := time.Now().UTC().AddDate(0, 0, -2).Truncate(24 * time.Hour)
	if err := st.EnsurePartitions(ctx, day, day.Add(48*time.Hour)); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	loadSessions(b, st, plan, day, n)
	b.Logf("loaded %d sessions each side in %v", n, time.Since(t0).Round(time.Millisecond))

	const join = `FROM billd.bills b JOIN public.radacct r
		ON r.username = b.username AND r.acctstarttime <= b.stop_time AND r.acctstoptime >= b.start_time`
	const pairs = `SELECT b.gateway_id, b.bill_id, b.stop_time, r.radacctid, b.session_ms / 1000 - r.acctsessiontime AS diff_seconds,
		b.input_octets - r.acctinputoctets AS diff_in, b.output_octets - r.acctoutputoctets AS diff_out ` + join
	// Each peer runs four times, the first to warm the cache as the runs
	// below find it; the median of the other three is reported.
	peer := func(sql string) time.Duration {
		var took []time.Duration
		for i := range 4 {
			t := time.Now()
			if err := pgx.BeginFunc(ctx, st.Pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, sql)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			if i > 0 {
				took = append(took, time.Since(t))
			}
		}
		return median(took)
	}
	bareTook := peer(`SELECT count(*) ` + join)
	bareTableTook := peer(`CREATE TEMP TABLE bare ON COMMIT DROP AS ` + pairs)
	bareKeptTook := peer(`CREATE TABLE bare_kept AS ` + pairs + `; DROP TABLE bare_kept`)

	e, err := recon.New(st, recon.Config{Tolerance: recon.Tolerance{Seconds: 2}}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	from, to := day, day.Add(24*time.Hour)
	var res *recon.Result
	var runs []time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		// Each timed run judges the range afresh, as the first run over
		// new data does.
		if err := pg.Exec(ctx, `TRUNCATE billd.verdicts, billd.matches, billd.verdict_days`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t := time.Now()
		res, err = e.Reconcile(ctx, from, to)
		if err != nil {
			b.Fatal(err)
		}
		runs = append(runs, time.Since(t))
	}
	b.StopTimer()
	// The median run, like the peers' (run with -benchtime 3x).
	per := median(runs)
	t1 := time.Now()
	again, err := e.Reconcile(ctx, from, to)
	if err != nil {
		b.Fatal(err)
	}
	rerun := time.Since(t1)
	if fmt.Sprint(again.Counts) != fmt.Sprint(res.Counts) {
		b.Fatalf("re-run verdicts %v, first run %v", again.Counts, res.Counts)
	}
	b.ReportMetric(float64(n), "sessions")
	b.ReportMetric(per.Seconds(), "reconcile-s")
	b.ReportMetric(rerun.Seconds(), "rerun-s")
	b.ReportMetric(bareTook.Seconds(), "bare-join-s")
	b.ReportMetric(per.Seconds()/bareTook.Seconds(), "x-bare-join")
	b.ReportMetric(bareTableTook.Seconds(), "bare-join-table-s")
	b.ReportMetric(per.Seconds()/bareTableTook.Seconds(), "x-bare-join-table")
	b.ReportMetric(bareKeptTook.Seconds(), "bare-join-kept-s")
	b.ReportMetric(per.Seconds()/bareKeptTook.Seconds(), "x-bare-join-kept")
	b.Logf("reconcile %d x %d: %v, re-run %v (bare join counted %v, %.2fx; into a temporary table %v, %.2fx; into a table %v, %.2fx); "+
		"runs %v; verdicts %v; judged by Judge %d; pieces %d; steps %v",
		n, n, per.Round(time.Millisecond), rerun.Round(time.Millisecond), bareTook.Round(time.Millisecond), per.Seconds()/bareTook.Seconds(),
		bareTableTook.Round(time.Millisecond), per.Seconds()/bareTableTook.Seconds(),
		bareKeptTook.Round(time.Millisecond), per.Seconds()/bareKeptTook.Seconds(), runs, res.Counts, res.Judged, res.Pieces, res.Steps)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
