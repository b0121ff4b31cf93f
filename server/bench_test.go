package server_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/server"
	"github.com/edgebill/edgebill/server/internal/billtest"
)

// benchBills is how many bills each ingest benchmark sends
// (EDGEBILL_BENCH_BILLS overrides).
func benchBills() int {
	if v, err := strconv.Atoi(os.Getenv("EDGEBILL_BENCH_BILLS")); err == nil && v > 0 {
		return v
	}
	return 60000
}

const benchSecret = "bench-secret"

// benchTariff is the benchmark bills' tariff (billtest's default id and
// version), with every feature that costs time to price: a fee, time
// with rounding, volume tiers, a time-of-day band in a time zone, a cap.
const benchTariff = "T1;id=plan;v=1;cur=CNY;sc=4;tz=Asia/Shanghai;fee=5000;time=600/1m/up;both=1024@0,10240@100,50/MB/up;band=peak/19:00-23:00/x1.5;cap=300000"

func pgxConnect(url string) (*pgx.Conn, error) { return pgx.Connect(context.Background(), url) }

// benchGateways makes n signed bills spread over 200 gateways, registered
// in the database at url with the bills' tariff.
func benchGateways(b *testing.B, url string, n int) ([]*billtest.Gateway, []*bill.Bill) {
	var gws []*billtest.Gateway
	for i := range 200 {
		g := billtest.NewGateway(fmt.Sprintf("gw-bench-%03d", i))
		g.Secret = benchSecret // one secret, so radclient can send for all
		gws = append(gws, g)
	}
	var sql strings.Builder
	sql.WriteString("INSERT INTO billd.gateways (id, public_key, secret) VALUES ")
	for i, g := range gws {
		if i > 0 {
			sql.WriteString(",")
		}
		fmt.Fprintf(&sql, "('%s', '\\x%x', '%s')", g.ID, g.Pub, g.Secret)
	}
	conn, err := pgxConnect(url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql.String()); err != nil {
		b.Fatal(err)
	}
	// The bills' tariff, known to billd: each bill is priced at ingest.
	if _, err := conn.Exec(context.Background(), `INSERT INTO billd.tariffs (id, version, text, source) VALUES ('plan', 1, $1, 'bench')`, benchTariff); err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-3 * time.Hour)
	bills := make([]*bill.Bill, n)
	for i := range n {
		g := gws[i%len(gws)]
		bills[i] = g.Bill(billtest.Session{User: fmt.Sprintf("user%06d", i), Start: start.Add(time.Duration(i) * time.Millisecond),
			Seconds: int64(60 + i%3600), In: uint64(1_000_000 + i), Out: uint64(5_000_000 + i), PPPoE: uint16(i), Charge: int64(i % 10000)})
	}
	return gws, bills
}

// loadResult is what a load run measured.
type loadResult struct {
	n       int
	elapsed time.Duration
	lat     []time.Duration
	resent  int
}

func (r *loadResult) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r *loadResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

// blast sends the packets over sockets connected to addr, keeping up to
// window requests outstanding on each, and measures each from request to
// response. A request unanswered for a second is sent again (a
// retransmission: same Identifier and Authenticator).
//
// With rate > 0 the load is open: requests leave at rate per second in
// all (paced per socket), whatever the answers, as many gateways'
// bills would; window then only bounds what is outstanding.
func blast(b *testing.B, addr string, pkts [][]byte, sockets, window int, rate float64) *loadResult {
	per := (len(pkts) + sockets - 1) / sockets
	var gap time.Duration
	if rate > 0 {
		gap = time.Duration(float64(time.Second) * float64(sockets) / rate)
	}
	res := &loadResult{n: len(pkts), lat: make([]time.Duration, 0, len(pkts))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for s := range sockets {
		lo, hi := s*per, min((s+1)*per, len(pkts))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(mine [][]byte) {
			defer wg.Done()
			conn, err := net.Dial("udp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			conn.(*net.UDPConn).SetReadBuffer(4 << 20)
			var (
				sent    [256]time.Time
				pending [256]int // index+1 of the packet using the Identifier
				lat     = make([]time.Duration, 0, len(mine))
				resent  int
			)
			next, out := 0, 0
			buf := make([]byte, 4096)
			t0 := time.Now()
			for len(lat) < len(mine) {
				for out < window && next < len(mine) {
					if gap > 0 && time.Since(t0) < time.Duration(next)*gap {
						break // not yet time for the next one
					}
					id := mine[next][1]
					if pending[id] != 0 {
						break // Identifier still in use: wait for its answer
					}
					sent[id], pending[id] = time.Now(), next+1
					conn.Write(mine[next])
					next++
					out++
				}
				wait := time.Second
				if gap > 0 && next < len(mine) {
					wait = max(time.Until(t0.Add(time.Duration(next)*gap)), 50*time.Microsecond)
				}
				conn.SetReadDeadline(time.Now().Add(wait))
				n, err := conn.Read(buf)
				if err != nil {
					if wait < time.Second {
						continue // time to send the next one
					}
					// Nothing for a second: send every outstanding request again.
					for id := range pending {
						if pending[id] != 0 {
							conn.Write(mine[pending[id]-1])
							resent++
						}
					}
					continue
				}
				if n < 20 || pending[buf[1]] == 0 {
					continue
				}
				lat = append(lat, time.Since(sent[buf[1]]))
				pending[buf[1]] = 0
				out--
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.resent += resent
			mu.Unlock()
		}(pkts[lo:hi])
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// BenchmarkIngest measures bills acknowledged per second after a durable
// commit (synchronous_commit on, fsync on), every signature verified and
// every bill priced, with a Go load generator (many sockets, a window of
// requests each), and reports the p50 and p99 time from request to
// response. Each part also logs where the server spent a request's time
// (billd's own histograms: until its group commit starts, the commit)
// and the CPU each bill cost this process (billd and the load generator)
// and Postgres.
func BenchmarkIngest(b *testing.B) {
	pg := lab.StartPostgres(b, nil)
	// As in production, FreeRADIUS's schema is in the same database.
	if err := pg.ExecFile(context.Background(), lab.StockSchemaSQL); err != nil {
		b.Fatal(err)
	}
	var out, errb strings.Builder
	if code := server.Main(context.Background(), []string{"migrate", "-database", pg.URL}, &out, &errb); code != 0 {
		b.Fatalf("migrate: %s", errb.String())
	}
	n := benchBills()
	_, bills := benchGateways(b, pg.URL, n)
	pkts := make([][]byte, n)
	for i, bl := range bills {
		pkts[i] = billtest.Packet(bl, benchSecret, uint8(i), 0)
	}
	// A Postgres that has run a while recycles its WAL segment files; a
	// fresh cluster makes and zero-fills a new 16 MB file each time one
	// fills (about every 16,000 bills here), and every commit waits for
	// that. Writing 120 MB of WAL and a checkpoint leave segments to
	// recycle, as on a server in service.
	if err := pg.Exec(context.Background(), `CREATE TABLE warm_wal AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 120000) g;
		DROP TABLE warm_wal; CHECKPOINT`); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := server.Config{DatabaseURL: pg.URL, ListenAcct: "127.0.0.1:0", ListenHTTP: "off", NoReconcile: true}
	// EDGEBILL_BENCH_BATCH_WAIT and EDGEBILL_BENCH_COMMITTERS override
	// batch_wait and committers, to tune them.
	if v, err := time.ParseDuration(os.Getenv("EDGEBILL_BENCH_BATCH_WAIT")); err == nil {
		cfg.BatchWait = v
	}
	if v, err := strconv.Atoi(os.Getenv("EDGEBILL_BENCH_COMMITTERS")); err == nil {
		cfg.Committers = v
	}
	bd, err := server.NewBilld(ctx, cfg, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- bd.Run(ctx) }()
	defer func() { cancel(); <-done }()
	// Warm up: the gateway cache, the connections, the statement cache.
	addr := bd.Ingest.Addr().String()
	blast(b, addr, pkts[:200], 4, 16, 0)
	pkts = pkts[200:]
	m := bd.Ingest.Metrics()
	run := func(b *testing.B, load func() *loadResult) {
		cpu0, pre0, commit0, rows0 := benchCPU(), histCounts(m.PreCommitSeconds), histCounts(m.CommitSeconds), histCounts(m.CommitRows)
		var lsn0, lsn1 int64
		walLSN := `SELECT pg_current_wal_lsn() - '0/0'::pg_lsn`
		bd.Store.Pool.QueryRow(context.Background(), walLSN).Scan(&lsn0)
		var res *loadResult
		for b.Loop() {
			res = load()
		}
		bd.Store.Pool.QueryRow(context.Background(), walLSN).Scan(&lsn1)
		cpu := benchCPU()
		pre, commit, rows := histCounts(m.PreCommitSeconds).since(pre0), histCounts(m.CommitSeconds).since(commit0), histCounts(m.CommitRows).since(rows0)
		b.ReportMetric(res.rate(), "bills/s")
		b.ReportMetric(float64(res.pct(0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(res.pct(0.99).Microseconds())/1000, "p99-ms")
		b.ReportMetric(0, "ns/op")
		b.Logf("%d bills in %v: %.0f bills/s acknowledged after commit, p50 %v, p99 %v, %d resent",
			res.n, res.elapsed.Round(time.Millisecond), res.rate(), res.pct(0.5), res.pct(0.99), res.resent)
		b.Logf("server side: %d group commits of %.0f rows on average; p99 until the commit starts %s, p99 commit %s",
			commit.n, rows.sum/float64(max(commit.n, 1)), pre.quantile(0.99), commit.quantile(0.99))
		b.Logf("CPU per bill: this process (billd and load generator) %.1f µs, Postgres %.1f µs; WAL %.0f octets per bill",
			(cpu[0]-cpu0[0])/float64(res.n)*1e6, (cpu[1]-cpu0[1])/float64(res.n)*1e6, float64(lsn1-lsn0)/float64(res.n))
	}
	// Closed loop: as fast as billd answers (16 sockets, 96 requests
	// outstanding on each): the capacity.
	half := len(pkts) / 2
	b.Run("saturate", func(b *testing.B) {
		run(b, func() *loadResult { return blast(b, addr, pkts[:half], 16, 96, 0) })
	})
	// Open loop at the target rate: the latency there.
	rate := 15000.0
	if v, err := strconv.ParseFloat(os.Getenv("EDGEBILL_BENCH_RATE"), 64); err == nil && v > 0 {
		rate = v
	}
	b.Run(fmt.Sprintf("rate=%.0f", rate), func(b *testing.B) {
		run(b, func() *loadResult { return blast(b, addr, pkts[half:], 16, 255, rate) })
	})
	var stored int
	if err := bd.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM billd.bills WHERE status = 'verified'`).Scan(&stored); err != nil {
		b.Fatal(err)
	}
	if stored != n {
		b.Fatalf("%d verified bills stored, want %d", stored, n)
	}
	var priced int
	if err := bd.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM billd.bills WHERE self_charge IS NOT NULL`).Scan(&priced); err != nil {
		b.Fatal(err)
	}
	if priced != n {
		b.Fatalf("%d bills priced at ingest, want %d", priced, n)
	}
}

// BenchmarkRadclientPeers runs FreeRADIUS's radclient with the same load
// shape (-p 256 requests in parallel) twice in one run: Accounting Stops
// to FreeRADIUS 3.2 with rlm_sql on Postgres, and signed bills to billd
// on the same Postgres. The rates are the records durably stored per
// second by each.
func BenchmarkRadclientPeers(b *testing.B) {
	bin := testenv.Binary(b, "radclient")
	n := min(benchBills(), 20000)
	pg := lab.StartPostgres(b, nil)
	fr := lab.StartFreeRADIUS(b, pg, nil)
	var out, errb strings.Builder
	if code := server.Main(context.Background(), []string{"migrate", "-database", pg.URL}, &out, &errb); code != 0 {
		b.Fatalf("migrate: %s", errb.String())
	}
	_, bills := benchGateways(b, pg.URL, n)
	dir := b.TempDir()
	var brasIn, billIn strings.Builder
	start := time.Now().Add(-2 * time.Hour)
	for i, bl := range bills {
		if i > 0 {
			brasIn.WriteString("\n")
			billIn.WriteString("\n")
		}
		brasIn.WriteString(brasStop(i, bl.UserName, start.Add(time.Duration(i)*time.Millisecond), 60, 1000, 2000))
		billIn.WriteString(radclientBill(bl))
	}
	brasFile, billFile := filepath.Join(dir, "bras.txt"), filepath.Join(dir, "bills.txt")
	os.WriteFile(brasFile, []byte(brasIn.String()), 0o644)
	os.WriteFile(billFile, []byte(billIn.String()), 0o644)
	dict := filepath.Join(dir, "dict")
	os.Mkdir(dict, 0o755)
	os.WriteFile(filepath.Join(dict, "dictionary"), []byte("$INCLUDE "+filepath.Join(lab.RepoRoot(), "rfc", "radiusx", "dictionary.edgebill")+"\n"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bd, err := server.NewBilld(ctx, server.Config{DatabaseURL: pg.URL, ListenAcct: "127.0.0.1:0", ListenHTTP: "off", NoReconcile: true}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- bd.Run(ctx) }()
	defer func() { cancel(); <-done }()

	run := func(addr, secret, file string, extra ...string) time.Duration {
		args := append([]string{"-q", "-s", "-p", "256", "-r", "10", "-t", "2", "-f", file}, extra...)
		args = append(args, addr, "acct", secret)
		t0 := time.Now()
		out, err := exec.Command(bin, args...).CombinedOutput()
		took := time.Since(t0)
		if err != nil {
			b.Fatalf("radclient: %v\n%s", err, out)
		}
		return took
	}
	var frTook, bdTook time.Duration
	for b.Loop() {
		frTook = run(fr.AcctAddr, fr.NASSecret, brasFile)
		bdTook = run(bd.Ingest.Addr().String(), benchSecret, billFile, "-d", dict)
	}
	b.StopTimer()
	conn, err := pgxConnect(pg.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(context.Background())
	var racct, stored int
	conn.QueryRow(context.Background(), `SELECT count(*) FROM radacct`).Scan(&racct)
	conn.QueryRow(context.Background(), `SELECT count(*) FROM billd.bills WHERE status = 'verified'`).Scan(&stored)
	if racct != n || stored != n {
		b.Fatalf("radacct %d rows, billd %d verified bills; want %d each", racct, stored, n)
	}
	fr_, bd_ := float64(n)/frTook.Seconds(), float64(n)/bdTook.Seconds()
	b.ReportMetric(fr_, "freeradius-records/s")
	b.ReportMetric(bd_, "billd-bills/s")
	b.ReportMetric(bd_/fr_, "x")
	b.ReportMetric(0, "ns/op")
	b.Logf("radclient -p 256, %d requests each: FreeRADIUS rlm_sql %.0f records/s (%v), billd %.0f bills/s (%v), %.1fx",
		n, fr_, frTook.Round(time.Millisecond), bd_, bdTook.Round(time.Millisecond), bd_/fr_)
}

// benchCPU returns the CPU seconds used so far by this process and by
// its descendants (the private Postgres), from /proc; zeros where there
// is no /proc.
func benchCPU() [2]float64 {
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	cpu := map[int]float64{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime stime: fields 4, 14 and 15.
		s := string(st)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		parent[pid], _ = strconv.Atoi(f[1])
		ut, _ := strconv.ParseFloat(f[11], 64)
		stt, _ := strconv.ParseFloat(f[12], 64)
		cpu[pid] = (ut + stt) / 100 // USER_HZ
	}
	me := os.Getpid()
	var out [2]float64
	for pid, c := range cpu {
		if pid == me {
			out[0] += c
			continue
		}
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == me {
				out[1] += c
				break
			}
		}
	}
	return out
}

// hist is a Prometheus histogram's cumulative bucket counts.
type hist struct {
	bounds []float64
	counts []uint64
	n      uint64
	sum    float64
}

func histCounts(h prometheus.Histogram) hist {
	var d dto.Metric
	if err := h.Write(&d); err != nil {
		return hist{}
	}
	var r hist
	for _, bk := range d.GetHistogram().GetBucket() {
		r.bounds = append(r.bounds, bk.GetUpperBound())
		r.counts = append(r.counts, bk.GetCumulativeCount())
	}
	r.n, r.sum = d.GetHistogram().GetSampleCount(), d.GetHistogram().GetSampleSum()
	return r
}

// since is what h observed after h0 was taken.
func (h hist) since(h0 hist) hist {
	r := hist{bounds: h.bounds, counts: make([]uint64, len(h.counts)), n: h.n - h0.n, sum: h.sum - h0.sum}
	for i := range h.counts {
		r.counts[i] = h.counts[i]
		if i < len(h0.counts) {
			r.counts[i] -= h0.counts[i]
		}
	}
	return r
}

// quantile says which bucket of h, in seconds, holds quantile q: "<= its
// upper bound".
func (h hist) quantile(q float64) string {
	for i, c := range h.counts {
		if float64(c) >= q*float64(h.n) {
			return "<= " + time.Duration(h.bounds[i]*float64(time.Second)).String()
		}
	}
	if len(h.bounds) == 0 {
		return "?"
	}
	return "> " + time.Duration(h.bounds[len(h.bounds)-1]*float64(time.Second)).String()
}
