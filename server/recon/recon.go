package recon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/edgebill/edgebill/rfc/tariff"
	"github.com/edgebill/edgebill/server/store"
)

// Config configures reconciliation. The zero value of each field is the
// default in its comment.
type Config struct {
	// Window bounds matching: a bill is matched only to a background
	// session whose end (stop time, else last update) is within Window of
	// the bill's stop time (default 15m). It is what makes the verdicts
	// of a range independent of how the range is split: every decision
	// about a bill or a session in [from, to) depends only on rows within
	// 3*Window of it.
	Window time.Duration
	// Grace is how long after a session ends continuous reconciliation
	// waits for its bill and its background record (default 15m).
	Grace time.Duration
	// Interval is how often continuous reconciliation runs (default 1m).
	Interval time.Duration
	// Start is where continuous reconciliation begins on a database that
	// has no watermark yet (default: 24 hours before now-Grace).
	Start time.Time
	// Tolerance is how far usage may differ and still agree.
	Tolerance Tolerance
	// MissingScope says which background sessions without a bill are
	// missing_bill: "all" (default) or "billed": only users with a bill
	// in the 30 days before, for an ISP where not every subscriber is
	// behind an edgebill gateway.
	MissingScope string
	// Instance names this billd in the run log.
	Instance string
	// PieceSessions bounds billd's memory in a run: an on-demand range
	// with more background sessions than this is cut into pieces of
	// about as many, each judged in its own transaction (default
	// 1,000,000: a piece holds about 330 MB of rows, and billd's RSS
	// peaks near 460 MB; 0 keeps the default, -1 never cuts). Smaller
	// pieces cost time: each re-reads its margins and probes again for
	// the first bill of each gateway.
	PieceSessions int
	// Parallel is how many pieces are judged at once (default 1: one
	// run already keeps two cores busy reading; more helps only on a
	// server with more cores).
	Parallel int
	// SplitMin is the shortest range Reconcile cuts (default 2h).
	SplitMin time.Duration
	// Registerer receives the metrics (nil: not registered).
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Window <= 0 {
		c.Window = 15 * time.Minute
	}
	if c.Grace <= 0 {
		c.Grace = 15 * time.Minute
	}
	if c.Interval <= 0 {
		c.Interval = time.Minute
	}
	if c.MissingScope == "" {
		c.MissingScope = "all"
	}
	if c.Parallel <= 0 {
		c.Parallel = 1
	}
	if c.PieceSessions == 0 {
		c.PieceSessions = 1_000_000
	}
	if c.SplitMin <= 0 {
		c.SplitMin = 2 * time.Hour
	}
}

// Engine reconciles bills against radacct.
type Engine struct {
	st  *store.Store
	cfg Config
	log *zap.Logger
	m   *metrics

	mu      sync.Mutex
	tariffs map[store.TariffKey]*tariff.Tariff
}

type metrics struct {
	verdicts  *prometheus.CounterVec
	last      *prometheus.GaugeVec
	seconds   prometheus.Histogram
	watermark prometheus.Gauge
	errors    prometheus.Counter
}

// New makes an engine on st.
func New(st *store.Store, cfg Config, log *zap.Logger) (*Engine, error) {
	cfg.setDefaults()
	if cfg.MissingScope != "all" && cfg.MissingScope != "billed" {
		return nil, fmt.Errorf("recon: missing scope %q: want all or billed", cfg.MissingScope)
	}
	if log == nil {
		log = zap.NewNop()
	}
	m := &metrics{
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billd_verdicts_total",
			Help: "Verdicts written by reconciliation runs, by kind (a re-run counts again).",
		}, []string{"kind"}),
		last: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "billd_verdicts_last_run",
			Help: "Verdicts of the last reconciliation run, by kind.",
		}, []string{"kind"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "billd_reconcile_seconds",
			Help:    "Duration of reconciliation runs.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		watermark: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "billd_reconcile_watermark_timestamp_seconds",
			Help: "Continuous reconciliation has judged everything that ended before this time.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "billd_reconcile_errors_total",
			Help: "Reconciliation runs that failed.",
		}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(m.verdicts, m.last, m.seconds, m.watermark, m.errors)
	}
	return &Engine{st: st, cfg: cfg, log: log.Named("recon"), m: m}, nil
}

// Result is what one run did.
type Result struct {
	From, To time.Time
	Counts   map[Kind]int
	Took     time.Duration
	// Judged is how many bills went through Judge (rfc/tariff): those
	// not found matches from ingest's price alone.
	Judged int
	// Steps is how long each step took, summed over the pieces: delete,
	// bills (reading them; accts, reading the background sessions at the
	// same time, and accts.wait, what was left of that), match, judge,
	// matches and verdicts (writing them), chain (chain.wait: looking up
	// chain breaks' predecessors while the matches were written),
	// missing, days.
	Steps map[string]time.Duration
	// Pieces is how many pieces the range was judged in.
	Pieces int
}

// Total is the number of verdicts written.
func (r *Result) Total() int {
	n := 0
	for _, c := range r.Counts {
		n += c
	}
	return n
}

// refreshTariffs copies new tariff versions from the RADIUS tables and
// reloads the parsed set.
func (e *Engine) refreshTariffs(ctx context.Context) error {
	if _, err := e.st.SyncTariffs(ctx); err != nil {
		return fmt.Errorf("recon: tariffs: %w", err)
	}
	ts, bad, err := e.st.Tariffs(ctx)
	if err != nil {
		return fmt.Errorf("recon: tariffs: %w", err)
	}
	for k, err := range bad {
		e.log.Warn("stored tariff does not parse", zap.Stringer("tariff", k), zap.Error(err))
	}
	e.mu.Lock()
	e.tariffs = ts
	e.mu.Unlock()
	return nil
}

func (e *Engine) lookup() Tariffs {
	e.mu.Lock()
	ts := e.tariffs
	e.mu.Unlock()
	return func(id string, v uint32) *tariff.Tariff { return ts[store.TariffKey{ID: id, Version: v}] }
}

var matchColumns = []string{"period", "gateway_id", "bill_id", "radacctid", "charge", "octets", "reconciled_at"}

var verdictColumns = []string{"period", "kind", "gateway_id", "bill_id", "radacctid", "username",
	"bill_start", "bill_seconds", "bill_in", "bill_out", "bill_charge", "self_charge",
	"acct_start", "acct_stop", "acct_seconds", "acct_in", "acct_out", "acct_charge",
	"diff_seconds", "diff_in", "diff_out", "diff_charge", "tariff_id", "tariff_version", "detail", "reconciled_at"}

// Reconcile judges every bill whose stop time and every background
// session whose stop time falls in [from, to), and every break in a
// gateway's chain at a bill in it, replacing the verdicts of that range
// in one transaction. Running it again over the same data gives the same
// verdicts; so does running it over the range cut into pieces.
//
// A range of more than SplitMin with more than PieceSessions background
// sessions is cut into pieces of about PieceSessions each, judged
// Parallel at a time, each piece in its own transaction (the pieces'
// verdicts are the range's, as above; a failure leaves the pieces that
// committed, and running the range again completes it).
func (e *Engine) Reconcile(ctx context.Context, from, to time.Time) (*Result, error) {
	from, to = from.UTC(), to.UTC()
	if e.cfg.PieceSessions < 0 || to.Sub(from) <= e.cfg.SplitMin {
		return e.reconcile(ctx, from, to, "on_demand", nil, true) // an empty range is refused there
	}
	start := time.Now()
	if err := e.prepare(ctx, from, to); err != nil {
		return nil, err
	}
	// The pieces run without the reconciliation lock each would take:
	// this connection holds it for them, so no other run (another billd's
	// continuous pass) overlaps them.
	conn, err := e.st.Conn(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("recon: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(store.LockReconcile)); err != nil {
		return nil, fmt.Errorf("recon: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(store.LockReconcile))
	cuts, err := e.cuts(ctx, conn, from, to)
	if err != nil {
		return nil, err
	}
	res := make([]*Result, len(cuts)-1)
	errs := make([]error, len(cuts)-1)
	sem := make(chan struct{}, e.cfg.Parallel)
	var wg sync.WaitGroup
	for i := range res {
		sem <- struct{}{}
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			res[i], errs[i] = e.reconcile(ctx, cuts[i], cuts[i+1], "on_demand", nil, false)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	all := &Result{From: from, To: to, Counts: map[Kind]int{}, Steps: map[string]time.Duration{}}
	for _, r := range res {
		for k, n := range r.Counts {
			all.Counts[k] += n
		}
		for k, d := range r.Steps {
			all.Steps[k] += d
		}
		all.Judged += r.Judged
	}
	all.Pieces = len(res)
	all.Took = time.Since(start)
	for _, k := range Kinds {
		e.m.last.WithLabelValues(string(k)).Set(float64(all.Counts[k]))
	}
	return all, nil
}

// cuts splits [from, to) into pieces of about PieceSessions background
// sessions each (by their end): a count says how many pieces, a sample of
// radacct's blocks where to cut them. Pieces need not be equal, only
// bounded near PieceSessions.
func (e *Engine) cuts(ctx context.Context, conn *pgx.Conn, from, to time.Time) ([]time.Time, error) {
	var est int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM public.radacct WHERE COALESCE(acctstoptime, acctupdatetime, acctstarttime) >= $1
		AND COALESCE(acctstoptime, acctupdatetime, acctstarttime) < $2`, from, to).Scan(&est); err != nil {
		return nil, fmt.Errorf("recon: cuts: %w", err)
	}
	n := (est + e.cfg.PieceSessions - 1) / e.cfg.PieceSessions
	if n <= 1 {
		return []time.Time{from, to}, nil
	}
	// About 20,000 rows of the sample per piece boundary's worth of
	// precision, at most the whole table.
	pct := min(100, 100*float64(20_000*n)/float64(est))
	fr := make([]float64, n-1)
	for i := range fr {
		fr[i] = float64(i+1) / float64(n)
	}
	var at []time.Time
	if err := conn.QueryRow(ctx, `SELECT COALESCE(percentile_disc($3::float8[]) WITHIN GROUP (ORDER BY e), '{}')
		FROM (SELECT COALESCE(acctstoptime, acctupdatetime, acctstarttime) AS e
			FROM public.radacct TABLESAMPLE SYSTEM ($4)
			WHERE COALESCE(acctstoptime, acctupdatetime, acctstarttime) >= $1
				AND COALESCE(acctstoptime, acctupdatetime, acctstarttime) < $2) s`,
		from, to, fr, pct).Scan(&at); err != nil {
		return nil, fmt.Errorf("recon: cuts: %w", err)
	}
	cuts := []time.Time{from}
	for _, t := range at {
		if t = t.UTC(); t.After(cuts[len(cuts)-1]) && t.Before(to) {
			cuts = append(cuts, t)
		}
	}
	return append(cuts, to), nil
}

// prepare does what a run needs before its transaction: new tariff
// versions, partitions, the verdicts view, re-checked signatures.
func (e *Engine) prepare(ctx context.Context, from, to time.Time) error {
	if err := e.refreshTariffs(ctx); err != nil {
		return err
	}
	if err := e.st.EnsurePartitions(ctx, from, to); err != nil {
		return err
	}
	if err := e.st.EnsureVerdictsView(ctx); err != nil {
		return err
	}
	if _, err := e.st.Reverify(ctx, from.Add(-2*e.cfg.Window), to.Add(2*e.cfg.Window)); err != nil {
		return fmt.Errorf("recon: %w", err)
	}
	return nil
}

// reconcile judges [from, to) in one transaction; whole is false for a
// piece of a range Reconcile split, which prepared the range and holds
// the lock.
func (e *Engine) reconcile(ctx context.Context, from, to time.Time, mode string, inTx func(pgx.Tx) error, whole bool) (*Result, error) {
	start := time.Now()
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return nil, fmt.Errorf("recon: empty range [%v, %v)", from, to)
	}
	if whole {
		if err := e.prepare(ctx, from, to); err != nil {
			return nil, err
		}
	}
	tariffs := e.lookup()
	res := &Result{From: from, To: to, Counts: map[Kind]int{}, Steps: map[string]time.Duration{}, Pieces: 1}
	mark := time.Now()
	step := func(name string) {
		now := time.Now()
		res.Steps[name] += now.Sub(mark)
		mark = now
	}
	now := time.Now().UTC()
	win := e.cfg.Window

	// Days are UTC days, in SQL (date_trunc) as in Go.
	utc := map[string]string{"timezone": "UTC"}
	conn, err := e.st.Conn(ctx, utc)
	if err != nil {
		return nil, fmt.Errorf("recon: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// The background sessions are read on a second connection while this
	// one reads the bills: two backends, two cores.
	side, err := e.st.Conn(ctx, utc)
	if err != nil {
		return nil, fmt.Errorf("recon: %w", err)
	}
	defer side.Close(context.WithoutCancel(ctx))
	rows := 0 // read from both sides
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if whole {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(store.LockReconcile)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return err
		}
		step("begin")
		days := daySums{}
		if err := days.scan(tx.Query(ctx, sqlDelete, from, to))(-1, nil); err != nil {
			return fmt.Errorf("recon: delete: %w", err)
		}
		step("delete")

		// Bills within 2*Window and background sessions ending within
		// 3*Window of the range take part in the decisions, so the
		// verdicts of a range do not depend on how the range was cut.
		w := win.Microseconds()
		m := &matcher{from: from.UnixMicro(), to: to.UnixMicro(), window: w}
		type loaded struct {
			a    *accts
			took time.Duration
			err  error
		}
		acctsc := make(chan loaded, 1)
		go func() {
			t := time.Now()
			a, err := loadAccts(ctx, side, m.from-3*w, m.to+3*w)
			acctsc <- loaded{a, time.Since(t), err}
		}()
		m.b, err = loadBills(ctx, tx, m.from-2*w, m.to+2*w)
		if err != nil {
			<-acctsc
			return err
		}
		step("bills")
		rows = len(m.b.rows)
		m.chain()
		l := <-acctsc
		if l.err != nil {
			return l.err
		}
		m.a = l.a
		rows += len(m.a.rows)
		res.Steps["accts"] = l.took
		step("accts.wait")
		// The second connection looks up what the chain and missing
		// verdicts need while this one writes the matches; judging (Go)
		// runs alongside too, its matches streamed into COPY.
		missc := make(chan missingSet, 1)
		sidec := make(chan *sideResult, 1)
		go func() { sidec <- e.side(ctx, side, m, missc, now, from, to) }()
		sent := false
		var sr *sideResult
		defer func() { // an early return: let the goroutines finish before m goes
			if !sent {
				close(missc)
			}
			if sr == nil {
				<-sidec
			}
		}()
		m.match()
		step("match")
		missc <- m.missing()
		sent = true
		chunks := make(chan []matchRow, 16)
		judged := make(chan *judgement, 1)
		go func() { judged <- e.judge(m, now, tariffs, chunks) }()
		var jd *judgement
		defer func() {
			if jd == nil {
				for range chunks {
				}
				<-judged
			}
		}()
		// Straight into the month's partition when the range lies in one:
		// Postgres routes no rows.
		into := "billd.matches"
		if last := to.Add(-time.Microsecond); last.Year() == from.Year() && last.Month() == from.Month() {
			into = store.Schema + "." + store.PartitionName("matches", from)
		}
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, &matchCopy{m: m, chunks: chunks, at: now.UnixMicro()},
			`COPY `+into+` (period, gateway_id, bill_id, radacctid, charge, octets, reconciled_at) FROM STDIN (FORMAT binary)`); err != nil {
			return fmt.Errorf("recon: write matches: %w", err)
		}
		jd = <-judged
		for k, n := range jd.counts {
			res.Counts[k] += n
		}
		res.Judged = jd.judged
		days.add(jd.days)
		res.Steps["judge"] = jd.took
		step("matches")
		sr = <-sidec
		if sr.err != nil {
			return sr.err
		}
		for k, n := range sr.counts {
			res.Counts[k] += n
		}
		days.add(sr.days)
		res.Steps["side"] = sr.took
		step("side.wait")
		if len(jd.verdicts.recs) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"billd", "verdicts"}, verdictColumns, &jd.verdicts); err != nil {
				return fmt.Errorf("recon: write verdicts: %w", err)
			}
		}
		if len(sr.chain) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"billd", "verdicts"}, chainColumns, pgx.CopyFromRows(sr.chain)); err != nil {
				return fmt.Errorf("recon: write chain verdicts: %w", err)
			}
		}
		if len(sr.missing) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"billd", "verdicts"}, missingColumns, pgx.CopyFromRows(sr.missing)); err != nil {
				return fmt.Errorf("recon: write missing verdicts: %w", err)
			}
		}
		step("verdicts")
		if err := days.write(ctx, tx, from, to); err != nil {
			return fmt.Errorf("recon: daily summary: %w", err)
		}
		step("days")
		counts, _ := json.Marshal(res.Counts)
		if _, err := tx.Exec(ctx, `INSERT INTO billd.runs (started_at, finished_at, range_from, range_to, mode, instance, counts)
			VALUES ($1, clock_timestamp(), $2, $3, $4, $5, $6)`, start, from, to, mode, e.cfg.Instance, counts); err != nil {
			return err
		}
		if inTx != nil {
			if err := inTx(tx); err != nil {
				return err
			}
		}
		step("finish")
		return nil
	})
	step("commit")
	if rows > 200_000 {
		// A large run's rows go back to the system now, not when the
		// collector gets round to it: the next large run would otherwise
		// stack its rows on this one's.
		debug.FreeOSMemory()
	}
	if err != nil {
		e.m.errors.Inc()
		return nil, err
	}
	res.Took = time.Since(start)
	e.m.seconds.Observe(res.Took.Seconds())
	for _, k := range Kinds {
		e.m.verdicts.WithLabelValues(string(k)).Add(float64(res.Counts[k]))
		e.m.last.WithLabelValues(string(k)).Set(float64(res.Counts[k]))
	}
	return res, nil
}

// judgement is what judge made of a run's bills.
type judgement struct {
	counts   map[Kind]int
	judged   int // through Judge
	days     daySums
	verdicts verdictSource // every verdict but the matches
	took     time.Duration
}

// judge gives every bill of the range its verdict: the pairs that are
// matches from ingest's price alone (nearly all) directly, the others
// through Judge and rfc/tariff. It sends the matches to out, for
// billd.matches, a chunk at a time, and closes it.
func (e *Engine) judge(m *matcher, now time.Time, tariffs Tariffs, out chan<- []matchRow) *judgement {
	start := time.Now()
	defer close(out)
	j := &judgement{counts: map[Kind]int{}, days: daySums{}}
	var p Pair
	const chunk = 4096
	pairs := make([]matchRow, 0, chunk)
	emit := func(r matchRow) {
		pairs = append(pairs, r)
		if len(pairs) == chunk {
			out <- pairs
			pairs = make([]matchRow, 0, chunk)
		}
	}
	// The daily sums of the matches, by day and gateway: the same few
	// keys over and over, found without making a time for each.
	type sumKey struct {
		day int64
		gw  int32
	}
	sums := map[sumKey]*daySum{}
	const day = int64(24 * time.Hour / time.Microsecond)
	for i := range m.b.rows {
		b := &m.b.rows[i]
		if !m.in(b.stop) {
			continue
		}
		if b.best >= 0 && b.status == m.b.verified && !b.seqDup {
			if a := &m.a.rows[b.best]; (a.claims == 1 || int(a.win) == i) && m.same(b, a) {
				emit(matchRow{bill: int32(i), acct: b.best})
				k := sumKey{b.stop - ((b.stop%day)+day)%day, b.gw}
				s := sums[k]
				if s == nil {
					s = &daySum{}
					sums[k] = s
				}
				s.n++
				s.billCharge += b.charge
				s.acctCharge += b.charge
				s.acctOctets += b.in + b.out
				continue
			}
		}
		m.pair(i, &p)
		j.judged++
		v := Judge(&p, e.cfg.Tolerance, tariffs)
		j.counts[v.Kind]++
		j.days.addVerdict(&p, &v)
		if v.Kind == Match {
			emit(matchRow{bill: int32(i), acct: b.best})
		} else {
			j.verdicts.add(&p, &v, now)
		}
	}
	if len(pairs) > 0 {
		out <- pairs
	}
	for k, s := range sums {
		j.days.get(dayKey{fromMicros(k.day), m.b.gws.names[k.gw], Match}).add(s, 1)
		j.counts[Match] += int(s.n)
	}
	j.took = time.Since(start)
	return j
}

// verdictRec is one row of billd.verdicts as COPY writes it, in
// verdictColumns order; NULLs are pgtype values that are not Valid.
type verdictRec struct {
	period                    time.Time
	kind, gw                  string
	billID                    []byte
	radID                     pgtype.Int8
	user                      string
	billStart                 time.Time
	billSecs, billIn, billOut int64
	billCharge                int64
	selfCharge                pgtype.Int8
	acctStart, acctStop       pgtype.Timestamptz
	acctSecs, acctIn, acctOut pgtype.Int8
	acctCharge                pgtype.Int8
	diffSecs, diffIn, diffOut pgtype.Int8
	diffCharge                pgtype.Int8
	tariffID                  string
	tariffVer                 int64
	detail                    string
	at                        time.Time
}

// verdictSource feeds COPY from a slice of records; Values hands out
// pointers into the current record, so a row costs no allocation.
type verdictSource struct {
	recs []verdictRec
	i    int
	vals [26]any
}

func i8(v int64, ok bool) pgtype.Int8 { return pgtype.Int8{Int64: v, Valid: ok} }

func i8p(p *int64) pgtype.Int8 {
	if p == nil {
		return pgtype.Int8{}
	}
	return pgtype.Int8{Int64: *p, Valid: true}
}

func (s *verdictSource) add(p *Pair, v *Verdict, now time.Time) {
	s.recs = append(s.recs, verdictRec{})
	r := &s.recs[len(s.recs)-1]
	m := v.HasAcct
	*r = verdictRec{
		period: p.Period, kind: string(v.Kind), gw: p.GatewayID, billID: p.BillID, radID: i8(p.RadacctID, m),
		user: p.UserName, billStart: p.BillStart, billSecs: v.BillSeconds, billIn: p.BillIn, billOut: p.BillOut,
		billCharge: p.BillCharge, selfCharge: i8p(v.SelfCharge),
		acctStart: pgtype.Timestamptz{Time: p.AcctStart, Valid: m}, acctStop: pgtype.Timestamptz{Time: p.AcctStop, Valid: m},
		acctSecs: i8(p.AcctSeconds, m), acctIn: i8(p.AcctIn, m), acctOut: i8(p.AcctOut, m), acctCharge: i8p(v.AcctCharge),
		diffSecs: i8(v.DiffSeconds, m), diffIn: i8(v.DiffIn, m), diffOut: i8(v.DiffOut, m), diffCharge: i8p(v.DiffCharge),
		tariffID: p.TariffID, tariffVer: p.TariffVersion, detail: v.Detail, at: now,
	}
}

func (s *verdictSource) Next() bool {
	s.i++
	return s.i <= len(s.recs)
}

func (s *verdictSource) Values() ([]any, error) {
	r := &s.recs[s.i-1]
	v := &s.vals
	v[0], v[1], v[2], v[3], v[4], v[5] = &r.period, &r.kind, &r.gw, &r.billID, &r.radID, &r.user
	v[6], v[7], v[8], v[9], v[10], v[11] = &r.billStart, &r.billSecs, &r.billIn, &r.billOut, &r.billCharge, &r.selfCharge
	v[12], v[13], v[14], v[15], v[16], v[17] = &r.acctStart, &r.acctStop, &r.acctSecs, &r.acctIn, &r.acctOut, &r.acctCharge
	v[18], v[19], v[20], v[21], v[22], v[23] = &r.diffSecs, &r.diffIn, &r.diffOut, &r.diffCharge, &r.tariffID, &r.tariffVer
	v[24], v[25] = &r.detail, &r.at
	return v[:], nil
}

func (s *verdictSource) Err() error { return nil }

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// watermarkName is the continuous reconciliation's row in billd.watermark.
const watermarkName = "continuous"

// Watermark returns how far continuous reconciliation has gone and when
// it last moved; zero times if it never ran.
func (e *Engine) Watermark(ctx context.Context) (to, updated time.Time, err error) {
	err = e.st.Pool.QueryRow(ctx, `SELECT reconciled_to, updated_at FROM billd.watermark WHERE name = $1`, watermarkName).Scan(&to, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, time.Time{}, nil
	}
	return to, updated, err
}

// maxLateHours bounds the hours one continuous pass re-reconciles for
// bills that arrived after their hour was judged.
const maxLateHours = 48

// Step runs one pass of continuous reconciliation: hours that received
// late bills since the last pass are judged again, then the range from
// the watermark to now-Grace, and the watermark moves, in the same
// transaction as the verdicts.
func (e *Engine) Step(ctx context.Context, now time.Time) (*Result, error) {
	target := now.Add(-e.cfg.Grace).UTC().Truncate(time.Second)
	wm, updated, err := e.Watermark(ctx)
	if err != nil {
		return nil, err
	}
	if wm.IsZero() {
		wm = e.cfg.Start
		if wm.IsZero() {
			wm = target.Add(-24 * time.Hour)
		}
	} else {
		// Bills received since the last pass whose stop time is already
		// behind the watermark reopen their hour.
		rows, err := e.st.Pool.Query(ctx, `SELECT DISTINCT date_trunc('hour', stop_time) AS h FROM billd.bills
			WHERE received_at >= $1 AND stop_time < $2 ORDER BY h DESC LIMIT $3`, updated.Add(-time.Minute), wm, maxLateHours)
		if err != nil {
			return nil, err
		}
		hours, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
		if err != nil {
			return nil, err
		}
		for _, h := range hours {
			end := h.Add(time.Hour)
			if end.After(wm) {
				end = wm
			}
			if _, err := e.reconcile(ctx, h, end, "late", nil, true); err != nil {
				return nil, err
			}
		}
	}
	if !wm.Before(target) {
		return nil, nil
	}
	res, err := e.reconcile(ctx, wm, target, "continuous", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO billd.watermark (name, reconciled_to, updated_at) VALUES ($1, $2, now())
			ON CONFLICT (name) DO UPDATE SET reconciled_to = EXCLUDED.reconciled_to, updated_at = EXCLUDED.updated_at`, watermarkName, target)
		return err
	}, true)
	if err != nil {
		return nil, err
	}
	e.m.watermark.Set(float64(target.Unix()))
	return res, nil
}

// Run reconciles continuously every Interval until ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	t := time.NewTicker(e.cfg.Interval)
	defer t.Stop()
	for {
		res, err := e.Step(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			e.log.Warn("continuous reconciliation failed; retrying next interval", zap.Error(err))
		case res != nil:
			e.log.Info("reconciled", zap.Time("from", res.From), zap.Time("to", res.To),
				zap.Int("verdicts", res.Total()), zap.Duration("took", res.Took), zap.Any("counts", res.Counts))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// dayKey and daySum are one row of billd.verdict_days.
type dayKey struct {
	day  time.Time
	gw   string
	kind Kind
}

type daySum struct {
	n, billCharge, acctCharge, acctOctets, diffSeconds, diffOctets, diffCharge int64
}

// daySums is the change a run makes to billd.verdict_days.
type daySums map[dayKey]*daySum

func (h daySums) get(k dayKey) *daySum {
	k.day = k.day.UTC() // one key for one day, however the time was made (pgx gives Local)
	s := h[k]
	if s == nil {
		s = &daySum{}
		h[k] = s
	}
	return s
}

// scan returns a function that adds (sign 1) or takes away (sign -1) the
// per-day sums a query returns, and counts the verdicts by kind.
func (h daySums) scan(rows pgx.Rows, err error) func(sign int64, counts map[Kind]int) error {
	return func(sign int64, counts map[Kind]int) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k dayKey
			var kind string
			var d daySum
			if err := rows.Scan(&k.day, &k.gw, &kind, &d.n, &d.billCharge, &d.acctCharge, &d.acctOctets, &d.diffSeconds, &d.diffOctets, &d.diffCharge); err != nil {
				return err
			}
			k.kind = Kind(kind)
			h.get(k).add(&d, sign)
			if counts != nil {
				counts[k.kind] += int(d.n)
			}
		}
		return rows.Err()
	}
}

// add adds the sums of t.
func (h daySums) add(t daySums) {
	for k, d := range t {
		h.get(k).add(d, 1)
	}
}

// add adds t's sums to s (sign 1) or takes them away (sign -1).
func (s *daySum) add(t *daySum, sign int64) {
	s.n += sign * t.n
	s.billCharge += sign * t.billCharge
	s.acctCharge += sign * t.acctCharge
	s.acctOctets += sign * t.acctOctets
	s.diffSeconds += sign * t.diffSeconds
	s.diffOctets += sign * t.diffOctets
	s.diffCharge += sign * t.diffCharge
}

func (h daySums) addVerdict(p *Pair, v *Verdict) {
	s := h.get(dayKey{p.Period.Truncate(24 * time.Hour), p.GatewayID, v.Kind})
	s.n++
	s.billCharge += p.BillCharge
	s.acctCharge += deref(v.AcctCharge)
	if v.HasAcct {
		s.acctOctets += p.AcctIn + p.AcctOut
		s.diffSeconds += v.DiffSeconds
		s.diffOctets += v.DiffIn + v.DiffOut
	}
	s.diffCharge += deref(v.DiffCharge)
}

func (h daySums) write(ctx context.Context, tx pgx.Tx, from, to time.Time) error {
	n := len(h)
	var (
		day             = make([]time.Time, 0, n)
		gw, kind        = make([]string, 0, n), make([]string, 0, n)
		cnt, bc, ac, ao = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		ds, do, dc      = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	)
	// In key order: pieces of one range write their days at once, and
	// rows taken in one order by all cannot deadlock.
	keys := slices.SortedFunc(maps.Keys(h), func(a, b dayKey) int {
		if c := a.day.Compare(b.day); c != 0 {
			return c
		}
		if c := strings.Compare(a.gw, b.gw); c != 0 {
			return c
		}
		return strings.Compare(string(a.kind), string(b.kind))
	})
	for _, k := range keys {
		s := h[k]
		if *s == (daySum{}) {
			continue
		}
		day, gw, kind = append(day, k.day), append(gw, k.gw), append(kind, string(k.kind))
		cnt, bc, ac, ao = append(cnt, s.n), append(bc, s.billCharge), append(ac, s.acctCharge), append(ao, s.acctOctets)
		ds, do, dc = append(ds, s.diffSeconds), append(do, s.diffOctets), append(dc, s.diffCharge)
	}
	if len(day) > 0 {
		if _, err := tx.Exec(ctx, sqlDays, day, gw, kind, cnt, bc, ac, ao, ds, do, dc); err != nil {
			return err
		}
	}
	df, dt := from.Truncate(24*time.Hour), to.Truncate(24*time.Hour)
	if dt.Before(to) {
		dt = dt.Add(24 * time.Hour)
	}
	_, err := tx.Exec(ctx, sqlDaysClean, df, dt)
	return err
}
