//go:build linux

package system

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/edgebill/edgebill/lab"
)

// Metrics is one scrape of a Prometheus text endpoint: each sample's
// value by its name with labels, as written ("name" or
// `name{a="b"}`).
type Metrics map[string]float64

// Get sums the samples of name (every label set).
func (m Metrics) Get(name string) float64 {
	var v float64
	for k, x := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			v += x
		}
	}
	return v
}

// Has reports whether name has a sample.
func (m Metrics) Has(name string) bool {
	for k := range m {
		if k == name || strings.HasPrefix(k, name+"{") {
			return true
		}
	}
	return false
}

// httpGet fetches url from inside ns.
func httpGet(ctx context.Context, ns *lab.Netns, url string) ([]byte, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: ns.DialContext, DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return b, nil
}

// Scrape reads a Prometheus text endpoint inside ns.
func Scrape(ctx context.Context, ns *lab.Netns, url string) (Metrics, error) {
	b, err := httpGet(ctx, ns, url)
	if err != nil {
		return nil, err
	}
	return ParseMetrics(strings.NewReader(string(b)))
}

// ParseMetrics reads the Prometheus text format's samples (comments and
// lines it cannot read are skipped).
func ParseMetrics(r io.Reader) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// GatewayMetrics scrapes gateway g's /metrics.
func (s *System) GatewayMetrics(ctx context.Context, g *Gateway) (Metrics, error) {
	return Scrape(ctx, g.NS, "http://"+GatewayMetrics+"/metrics")
}

// BilldMetrics scrapes billd's /metrics.
func (s *System) BilldMetrics(ctx context.Context) (Metrics, error) {
	return Scrape(ctx, s.Top.ISP, "http://"+s.BilldHTTP+"/metrics")
}

// NasdStats are the nasd counters Settle and the reports use.
type NasdStats struct {
	Sessions     int    `json:"sessions"`
	SessionsUp   uint64 `json:"sessions_up"`   // ever reached the network phase
	SessionsDown uint64 `json:"sessions_down"` // of those, ended
	AuthAccept   uint64 `json:"auth_accept"`
	AuthReject   uint64 `json:"auth_reject"`
	AcctSent     uint64 `json:"acct_sent"`
	AcctPending  int64  `json:"acct_pending"`
	AcctFailed   uint64 `json:"acct_failed"`
}

// NasdStats reads nasd's /stats.
func (s *System) NasdStats(ctx context.Context) (NasdStats, error) {
	var st NasdStats
	b, err := httpGet(ctx, s.Top.ISP, "http://"+NasdStatus+"/stats")
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

// RSS returns the resident memory of process pid, in octets, from
// /proc (0 if it is gone).
func RSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// Conn opens a connection to the lab's database (through isp).
func (s *System) Conn(ctx context.Context) (*pgx.Conn, error) {
	return s.Top.PG.Connect(ctx)
}

// Inflight says what is still on its way; Settle waits for all zeros.
type Inflight struct {
	NasdSessions    int   // sessions nasd holds
	NasdAcctPending int64 // accounting requests nasd has not had answered
	OpenRadacct     int64 // radacct rows without a stop time
	GatewaySessions int   // sessions in the relays' and billing's tables
	BillsPending    int   // bills journaled, not yet acknowledged by billd
	Bills           int64 // bills billd stored
}

func (f Inflight) settled() bool {
	return f.NasdSessions == 0 && f.NasdAcctPending == 0 && f.OpenRadacct == 0 && f.GatewaySessions == 0 && f.BillsPending == 0
}

func (f Inflight) String() string {
	return fmt.Sprintf("nasd sessions %d, nasd accounting pending %d, open radacct rows %d, gateway sessions %d, bills pending %d, bills stored %d",
		f.NasdSessions, f.NasdAcctPending, f.OpenRadacct, f.GatewaySessions, f.BillsPending, f.Bills)
}

// Inflight reads what is in flight now. Gateways not running are left
// out.
func (s *System) Inflight(ctx context.Context) (Inflight, error) {
	var f Inflight
	st, err := s.NasdStats(ctx)
	if err != nil {
		return f, fmt.Errorf("nasd: %w", err)
	}
	f.NasdSessions, f.NasdAcctPending = st.Sessions, st.AcctPending
	for _, g := range s.Gateways {
		if !g.D.Running() {
			continue
		}
		m, err := s.GatewayMetrics(ctx, g)
		if err != nil {
			return f, fmt.Errorf("%s: %w", g.ID, err)
		}
		f.GatewaySessions += int(max(m.Get("gatewayd_relay_sessions"), m.Get("gatewayd_billing_sessions_live"), m.Get("gatewayd_journal_sessions")))
		f.BillsPending += int(m.Get("gatewayd_bills_pending"))
	}
	c, err := s.Conn(ctx)
	if err != nil {
		return f, err
	}
	defer c.Close(ctx)
	if err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM radacct WHERE acctstoptime IS NULL), (SELECT count(*) FROM billd.bills)`).Scan(&f.OpenRadacct, &f.Bills); err != nil {
		return f, err
	}
	return f, nil
}

// Settle waits until nothing is in flight (Inflight all zeros, the bill
// count steady over a second) or ctx ends; the error then says what was
// still moving.
func (s *System) Settle(ctx context.Context) error {
	var last Inflight
	var lastErr error
	steady := 0
	for {
		f, err := s.Inflight(ctx)
		switch {
		case err != nil:
			lastErr, steady = err, 0
		case f.settled() && f.Bills == last.Bills:
			steady++
			lastErr = nil
		default:
			steady, lastErr = 0, nil
		}
		if err == nil {
			last = f
		}
		if steady >= 3 {
			return nil
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("system: not settled: %w", lastErr)
			}
			return fmt.Errorf("system: not settled: %v", last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Range is the reconciliation range that covers the System's life: from
// an hour before it started to a minute from now.
func (s *System) Range() (from, to time.Time) {
	return s.Started.Add(-time.Hour).UTC().Truncate(time.Second), time.Now().Add(time.Minute).UTC().Truncate(time.Second)
}

// Reconcile runs `billd reconcile` over Range and returns the verdict
// counts by kind.
func (s *System) Reconcile(ctx context.Context) (map[string]int, error) {
	from, to := s.Range()
	out, err := s.BilldCLI(ctx, "reconcile", "-from", from.Format(time.RFC3339), "-to", to.Format(time.RFC3339), "-json")
	if err != nil {
		return nil, err
	}
	var res struct {
		Counts map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return nil, fmt.Errorf("system: billd reconcile -json: %v\n%s", err, out)
	}
	return res.Counts, nil
}

// Verdict is one of billd's verdicts with both sides' figures (nil where
// a side has none) and, for a bill, the bill's terminate cause and
// sequence.
type Verdict struct {
	Kind      string
	GatewayID string
	BillID    string
	RadacctID *int64
	User      string
	Detail    string

	BillSeconds, BillIn, BillOut, BillCharge, SelfCharge *int64
	AcctSeconds, AcctIn, AcctOut, AcctCharge             *int64
	DiffSeconds, DiffIn, DiffOut, DiffCharge             *int64
	TerminateCause, Sequence                             *int64
	SessionID, TariffID                                  string
}

// Verdicts reads every verdict in Range.
func (s *System) Verdicts(ctx context.Context) ([]Verdict, error) {
	c, err := s.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	from, to := s.Range()
	rows, err := c.Query(ctx, `SELECT v.kind, COALESCE(v.gateway_id, ''), COALESCE(encode(v.bill_id, 'hex'), ''), v.radacctid,
		COALESCE(v.username, ''), v.detail,
		v.bill_seconds, v.bill_in, v.bill_out, v.bill_charge, v.self_charge,
		v.acct_seconds, v.acct_in, v.acct_out, v.acct_charge,
		v.diff_seconds, v.diff_in, v.diff_out, v.diff_charge,
		b.terminate_cause::bigint, b.sequence, COALESCE(b.session_id, ''), COALESCE(v.tariff_id, '')
		FROM billd.verdicts_all v
		LEFT JOIN billd.bills b ON b.gateway_id = v.gateway_id AND b.bill_id = v.bill_id
		WHERE v.period >= $1 AND v.period < $2
		ORDER BY v.period, v.gateway_id, v.username`, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Verdict, error) {
		var v Verdict
		err := r.Scan(&v.Kind, &v.GatewayID, &v.BillID, &v.RadacctID, &v.User, &v.Detail,
			&v.BillSeconds, &v.BillIn, &v.BillOut, &v.BillCharge, &v.SelfCharge,
			&v.AcctSeconds, &v.AcctIn, &v.AcctOut, &v.AcctCharge,
			&v.DiffSeconds, &v.DiffIn, &v.DiffOut, &v.DiffCharge,
			&v.TerminateCause, &v.Sequence, &v.SessionID, &v.TariffID)
		return v, err
	})
}

// Bill is one stored bill, as billd keeps it.
type Bill struct {
	GatewayID, SessionID, User, Status string
	Sequence                           int64
	TerminateCause                     int64
	Charge                             int64
	In, Out, MS                        int64
}

// Bills reads every bill billd stored.
func (s *System) Bills(ctx context.Context) ([]Bill, error) {
	c, err := s.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT gateway_id, session_id, username, status, sequence, terminate_cause, charge,
		input_octets, output_octets, session_ms FROM billd.bills ORDER BY gateway_id, sequence`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Bill, error) {
		var b Bill
		err := r.Scan(&b.GatewayID, &b.SessionID, &b.User, &b.Status, &b.Sequence, &b.TerminateCause, &b.Charge, &b.In, &b.Out, &b.MS)
		return b, err
	})
}

// Session is one of the BRAS's sessions, as FreeRADIUS stored it.
type Session struct {
	RadacctID         int64
	User, AcctSession string
	Open              bool
	Seconds, In, Out  int64
	Cause             string
}

// Sessions reads radacct.
func (s *System) Sessions(ctx context.Context) ([]Session, error) {
	c, err := s.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT radacctid, username, acctsessionid, acctstoptime IS NULL, COALESCE(acctsessiontime, 0)::bigint,
		COALESCE(acctinputoctets, 0), COALESCE(acctoutputoctets, 0), COALESCE(acctterminatecause, '') FROM radacct ORDER BY radacctid`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var x Session
		err := r.Scan(&x.RadacctID, &x.User, &x.AcctSession, &x.Open, &x.Seconds, &x.In, &x.Out, &x.Cause)
		return x, err
	})
}

// NasdRaw is nasd's /stats document as it is.
func (s *System) NasdRaw(ctx context.Context) (string, error) {
	b, err := httpGet(ctx, s.Top.ISP, "http://"+NasdStatus+"/stats")
	return string(b), err
}
