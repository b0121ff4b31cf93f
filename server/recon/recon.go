package recon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
	// FetchSize is how many pairs are priced per round trip (default 20000).
	FetchSize int
	// TempBuffers is the Postgres temp_buffers of the run's own
	// connection, which holds the matching's temporary tables: about 500
	// MB per million bills keeps them in memory (default "1GB"; memory is
	// taken only as used, and given back when the run ends).
	TempBuffers string
	// Parallel is how many pieces an on-demand range longer than
	// SplitMin is cut into and judged at once (default 2, the cores of a
	// small server; 1 judges every range in one transaction). Most of a
	// run's steps are serial in Postgres: pieces put them on more cores.
	Parallel int
	// SplitMin is the shortest range Reconcile cuts (default 2h).
	SplitMin time.Duration
	// WorkMem is the Postgres work_mem of the run: the sorts and hashes of
	// a million bills want about 400 MB each to stay off disk (default
	// "512MB"; a parallel join's workers may each take as much).
	WorkMem string
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
	if c.FetchSize <= 0 {
		c.FetchSize = 20000
	}
	if c.TempBuffers == "" {
		c.TempBuffers = "1GB"
	}
	if c.WorkMem == "" {
		c.WorkMem = "512MB"
	}
	if c.Parallel == 0 {
		c.Parallel = 2
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
	// Judged is how many bills were judged in Go (Judge, rfc/tariff):
	// those SQL could not find matches; the matches ingest priced are
	// judged in SQL.
	Judged int
	// Steps is how long each step took: delete, chain, match, claim,
	// matches, missing, pairs (pairs.judge, pairs.copy), days.
	Steps map[string]time.Duration
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
// A range of more than SplitMin is cut into Parallel pieces of about as
// many background sessions each, judged at once on as many connections,
// each piece in its own transaction (the pieces' verdicts are the
// range's, as above; a failure leaves the pieces that committed, and
// running the range again completes it).
func (e *Engine) Reconcile(ctx context.Context, from, to time.Time) (*Result, error) {
	from, to = from.UTC(), to.UTC()
	if e.cfg.Parallel <= 1 || to.Sub(from) <= e.cfg.SplitMin {
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
	cuts, err := e.cuts(ctx, conn, from, to, e.cfg.Parallel)
	if err != nil {
		return nil, err
	}
	res := make([]*Result, len(cuts)-1)
	errs := make([]error, len(cuts)-1)
	var wg sync.WaitGroup
	for i := range res {
		wg.Go(func() { res[i], errs[i] = e.reconcile(ctx, cuts[i], cuts[i+1], "on_demand", nil, false) })
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
			all.Steps[k] = max(all.Steps[k], d) // wall time: the pieces run at once
		}
		all.Judged += r.Judged
	}
	all.Took = time.Since(start)
	for _, k := range Kinds {
		e.m.last.WithLabelValues(string(k)).Set(float64(all.Counts[k]))
	}
	return all, nil
}

// cuts splits [from, to) into at most n pieces of about as many
// background sessions each (by their end, through billd's index on
// radacct), falling back to equal times where radacct has none.
func (e *Engine) cuts(ctx context.Context, conn *pgx.Conn, from, to time.Time, n int) ([]time.Time, error) {
	var total int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM public.radacct WHERE COALESCE(acctstoptime, acctupdatetime, acctstarttime) >= $1
		AND COALESCE(acctstoptime, acctupdatetime, acctstarttime) < $2`, from, to).Scan(&total); err != nil {
		return nil, fmt.Errorf("recon: %w", err)
	}
	cuts := []time.Time{from}
	for i := 1; i < n; i++ {
		t := from.Add(to.Sub(from) * time.Duration(i) / time.Duration(n))
		if total >= int64(n) {
			if err := conn.QueryRow(ctx, `SELECT COALESCE(acctstoptime, acctupdatetime, acctstarttime) FROM public.radacct
				WHERE COALESCE(acctstoptime, acctupdatetime, acctstarttime) >= $1 AND COALESCE(acctstoptime, acctupdatetime, acctstarttime) < $2
				ORDER BY COALESCE(acctstoptime, acctupdatetime, acctstarttime) OFFSET $3 LIMIT 1`, from, to, total*int64(i)/int64(n)).Scan(&t); err != nil {
				return nil, fmt.Errorf("recon: %w", err)
			}
		}
		if t.After(cuts[len(cuts)-1]) && t.Before(to) {
			cuts = append(cuts, t.UTC())
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
	res := &Result{From: from, To: to, Counts: map[Kind]int{}, Steps: map[string]time.Duration{}}
	mark := time.Now()
	step := func(name string) {
		now := time.Now()
		res.Steps[name] += now.Sub(mark)
		mark = now
	}
	now := time.Now().UTC()
	win := e.cfg.Window

	conn, err := e.st.Conn(ctx, map[string]string{"temp_buffers": e.cfg.TempBuffers, "work_mem": e.cfg.WorkMem})
	if err != nil {
		return nil, fmt.Errorf("recon: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if whole {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(store.LockReconcile)); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return err
		}
		// The pairs are read through a cursor: plan it for all its rows,
		// not for the first tenth.
		if _, err := tx.Exec(ctx, `SET LOCAL cursor_tuple_fraction = 1.0; SET LOCAL jit = off`); err != nil {
			return err
		}
		step("begin")
		days := daySums{}
		if err := days.scan(tx.Query(ctx, sqlDelete, from, to))(-1, nil); err != nil {
			return fmt.Errorf("recon: delete: %w", err)
		}
		step("delete")
		// Hash joins only: on a large range the planner at times prefers
		// a nested loop probing the bills' index once per background
		// session, several times slower and never parallel.
		if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sqlBest, from, to, win); err != nil {
			return fmt.Errorf("recon: matching: %w", err)
		}
		if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = on; ANALYZE recon_best`); err != nil {
			return err
		}
		step("match")
		if err := days.scan(tx.Query(ctx, sqlChain, from, to, now))(1, res.Counts); err != nil {
			return fmt.Errorf("recon: chain: %w", err)
		}
		step("chain")
		if _, err := tx.Exec(ctx, sqlClaims, from, to); err != nil {
			return fmt.Errorf("recon: claims: %w", err)
		}
		if _, err := tx.Exec(ctx, sqlWin); err != nil {
			return fmt.Errorf("recon: claims: %w", err)
		}
		if _, err := tx.Exec(ctx, `ANALYZE recon_claims; ANALYZE recon_win`); err != nil {
			return err
		}
		step("claim")
		if _, err := tx.Exec(ctx, sqlMatches, from, to, now); err != nil {
			return fmt.Errorf("recon: matches: %w", err)
		}
		if err := days.scan(tx.Query(ctx, sqlMatchSums, from, to))(1, res.Counts); err != nil {
			return fmt.Errorf("recon: matches: %w", err)
		}
		step("matches")
		if err := days.scan(tx.Query(ctx, sqlMissing, from, to, now, e.cfg.MissingScope, 2*win))(1, res.Counts); err != nil {
			return fmt.Errorf("recon: missing: %w", err)
		}
		step("missing")
		if err := e.judgePairs(ctx, tx, from, to, now, tariffs, res, days); err != nil {
			return err
		}
		step("pairs")
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

func (e *Engine) judgePairs(ctx context.Context, tx pgx.Tx, from, to, now time.Time, tariffs Tariffs, res *Result, days daySums) error {
	if _, err := tx.Exec(ctx, sqlJudge, from, to); err != nil {
		return fmt.Errorf("recon: pairs: %w", err)
	}
	if _, err := tx.Exec(ctx, `ANALYZE recon_judge`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, sqlPairs); err != nil {
		return fmt.Errorf("recon: pairs: %w", err)
	}
	fetch := fmt.Sprintf("FETCH %d FROM recon_pairs", e.cfg.FetchSize)
	var (
		p   Pair
		src verdictSource
		// Scan targets for the background side, NULL when unmatched;
		// pgtype values, so scanning allocates nothing for them.
		radID               pgtype.Int8
		acctStart, acctStop pgtype.Timestamptz
		acctOpen            pgtype.Bool
		acctSecs, aIn, aOut pgtype.Int8
	)
	var tJudge, tCopy time.Duration
	defer func() {
		res.Steps["pairs.judge"] += tJudge
		res.Steps["pairs.copy"] += tCopy
	}()
	// A bill Judge finds a match (one SQL could not judge: its tariff was
	// not known to ingest, say) is written as a pair, like the others.
	var matches [][]any
	for {
		rows, err := tx.Query(ctx, fetch)
		if err != nil {
			return fmt.Errorf("recon: fetch: %w", err)
		}
		src.reset()
		matches = matches[:0]
		fetched := 0
		for rows.Next() {
			fetched++
			res.Judged++
			if err := rows.Scan(&p.GatewayID, &p.BillID, &p.Period, &p.UserName, &p.Status, &p.DupReason,
				&p.BillStart, &p.BillMs, &p.BillIn, &p.BillOut, &p.BillCharge, &p.TariffID, &p.TariffVersion,
				&radID, &acctStart, &acctStop, &acctOpen, &acctSecs, &aIn, &aOut); err != nil {
				rows.Close()
				return fmt.Errorf("recon: pairs: %w", err)
			}
			tj := time.Now()
			p.BillStop = p.Period
			p.Matched = radID.Valid
			p.RadacctID, p.AcctStart, p.AcctStop = radID.Int64, acctStart.Time, acctStop.Time
			p.AcctOpen = acctOpen.Valid && acctOpen.Bool
			p.AcctSeconds, p.AcctIn, p.AcctOut = acctSecs.Int64, aIn.Int64, aOut.Int64
			v := Judge(&p, e.cfg.Tolerance, tariffs)
			res.Counts[v.Kind]++
			days.addVerdict(&p, &v)
			if v.Kind == Match {
				matches = append(matches, []any{p.Period, p.GatewayID, p.BillID, p.RadacctID, p.BillCharge, p.BillIn + p.BillOut, now})
			} else {
				src.add(&p, &v, now)
			}
			tJudge += time.Since(tj)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("recon: pairs: %w", err)
		}
		tc := time.Now()
		if len(src.recs) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"billd", "verdicts"}, verdictColumns, &src); err != nil {
				return fmt.Errorf("recon: write verdicts: %w", err)
			}
		}
		if len(matches) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"billd", "matches"}, matchColumns, pgx.CopyFromRows(matches)); err != nil {
				return fmt.Errorf("recon: write matches: %w", err)
			}
		}
		tCopy += time.Since(tc)
		if fetched < e.cfg.FetchSize {
			break
		}
	}
	_, err := tx.Exec(ctx, `CLOSE recon_pairs`)
	return err
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

// verdictSource feeds COPY from a slice of records it keeps between
// chunks; Values hands out pointers into the current record, so a row
// costs no allocation.
type verdictSource struct {
	recs []verdictRec
	i    int
	vals [26]any
}

func (s *verdictSource) reset() { s.recs, s.i = s.recs[:0], 0 }

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

func derefTime(p *time.Time) time.Time { return deref(p) }

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
			s := h.get(k)
			s.n += sign * d.n
			s.billCharge += sign * d.billCharge
			s.acctCharge += sign * d.acctCharge
			s.acctOctets += sign * d.acctOctets
			s.diffSeconds += sign * d.diffSeconds
			s.diffOctets += sign * d.diffOctets
			s.diffCharge += sign * d.diffCharge
			if counts != nil {
				counts[k.kind] += int(d.n)
			}
		}
		return rows.Err()
	}
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
