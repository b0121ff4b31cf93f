package report

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Reader runs the report queries.
type Reader struct {
	Pool *pgxpool.Pool
	// DriftBasisPoints: a gateway whose bills differ from the background
	// records in one direction by at least this share of the background
	// (usage or charge, summed over the period) drifts (default 100 = 1%).
	DriftBasisPoints int64
	// MinPairs is the fewest matched bills a gateway needs in a period
	// for its drift to be judged (default 20).
	MinPairs int64
}

func (r *Reader) drift() (int64, int64) {
	bp, n := r.DriftBasisPoints, r.MinPairs
	if bp <= 0 {
		bp = 100
	}
	if n <= 0 {
		n = 20
	}
	return bp, n
}

// Count is the number of verdicts of one kind in one period.
type Count struct {
	Period time.Time `json:"period"`
	Kind   string    `json:"kind"`
	N      int64     `json:"n"`
}

// Counts returns verdict counts per bucket ("day" from the daily summary,
// "hour" from the verdicts themselves) in [from, to), optionally for one
// gateway.
func (r *Reader) Counts(ctx context.Context, from, to time.Time, bucket, gateway string) ([]Count, error) {
	var q string
	switch bucket {
	case "", "day":
		q = `SELECT day, kind, sum(n)::bigint FROM billd.verdict_days WHERE day >= date_trunc('day', $1::timestamptz) AND day < $2
			AND ($3 = '' OR gateway_id = $3) GROUP BY 1, 2 ORDER BY 1, 2`
	case "hour":
		// Matches are kept apart (billd.matches), as pairs.
		q = `SELECT h, kind, sum(n)::bigint FROM (
			SELECT date_trunc('hour', period) AS h, kind, count(*) AS n FROM billd.verdicts WHERE period >= $1 AND period < $2
				AND ($3 = '' OR gateway_id = $3) GROUP BY 1, 2
			UNION ALL
			SELECT date_trunc('hour', period), 'match', count(*) FROM billd.matches WHERE period >= $1 AND period < $2
				AND ($3 = '' OR gateway_id = $3) GROUP BY 1) x
			GROUP BY 1, 2 ORDER BY 1, 2`
	default:
		return nil, fmt.Errorf("report: bucket %q: want day or hour", bucket)
	}
	rows, err := r.Pool.Query(ctx, q, from, to, gateway)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Count, error) {
		var c Count
		err := row.Scan(&c.Period, &c.Kind, &c.N)
		c.Period = c.Period.UTC()
		return c, err
	})
}

// Totals sums counts by kind.
func Totals(cs []Count) map[string]int64 {
	m := map[string]int64{}
	for _, c := range cs {
		m[c.Kind] += c.N
	}
	return m
}

// Filter selects findings.
type Filter struct {
	From, To time.Time
	// Kinds to include; empty means every kind but match.
	Kinds   []string
	Gateway string
	User    string
	Limit   int // default 100, at most 10000 (CSV: unlimited with -1)
	Offset  int
}

// Finding is one verdict with both sides' figures.
type Finding struct {
	Period        time.Time  `json:"period"`
	Kind          string     `json:"kind"`
	GatewayID     string     `json:"gateway_id,omitempty"`
	BillID        string     `json:"bill_id,omitempty"`
	RadacctID     *int64     `json:"radacctid,omitempty"`
	UserName      string     `json:"username,omitempty"`
	SessionID     string     `json:"session_id,omitempty"`
	AcctSessionID string     `json:"acct_session_id,omitempty"`
	SeqFrom       *int64     `json:"seq_from,omitempty"`
	SeqTo         *int64     `json:"seq_to,omitempty"`
	BillStart     *time.Time `json:"bill_start,omitempty"`
	BillSeconds   *int64     `json:"bill_seconds,omitempty"`
	BillIn        *int64     `json:"bill_in,omitempty"`
	BillOut       *int64     `json:"bill_out,omitempty"`
	BillCharge    *int64     `json:"bill_charge,omitempty"`
	SelfCharge    *int64     `json:"self_charge,omitempty"`
	AcctStart     *time.Time `json:"acct_start,omitempty"`
	AcctStop      *time.Time `json:"acct_stop,omitempty"`
	AcctSeconds   *int64     `json:"acct_seconds,omitempty"`
	AcctIn        *int64     `json:"acct_in,omitempty"`
	AcctOut       *int64     `json:"acct_out,omitempty"`
	AcctCharge    *int64     `json:"acct_charge,omitempty"`
	DiffSeconds   *int64     `json:"diff_seconds,omitempty"`
	DiffIn        *int64     `json:"diff_in,omitempty"`
	DiffOut       *int64     `json:"diff_out,omitempty"`
	DiffCharge    *int64     `json:"diff_charge,omitempty"`
	TariffID      string     `json:"tariff_id,omitempty"`
	TariffVersion *int64     `json:"tariff_version,omitempty"`
	Currency      string     `json:"currency,omitempty"`
	Scale         *int16     `json:"scale,omitempty"`
	Detail        string     `json:"detail,omitempty"`
}

const findingColumns = `v.period, v.kind, COALESCE(v.gateway_id, ''), COALESCE(encode(v.bill_id, 'hex'), ''), v.radacctid,
	COALESCE(v.username, ''), COALESCE(b.session_id, ''), COALESCE(r.acctsessionid, ''), v.seq_from, v.seq_to,
	v.bill_start, v.bill_seconds, v.bill_in, v.bill_out, v.bill_charge, v.self_charge,
	v.acct_start, v.acct_stop, v.acct_seconds, v.acct_in, v.acct_out, v.acct_charge,
	v.diff_seconds, v.diff_in, v.diff_out, v.diff_charge, COALESCE(v.tariff_id, ''), v.tariff_version,
	COALESCE(b.currency, ''), b.scale, v.detail`

const findingJoins = `LEFT JOIN billd.bills b ON b.gateway_id = v.gateway_id AND b.bill_id = v.bill_id AND b.stop_time = v.period
	LEFT JOIN public.radacct r ON r.radacctid = v.radacctid`

func scanFinding(row pgx.CollectableRow) (Finding, error) {
	var f Finding
	err := row.Scan(&f.Period, &f.Kind, &f.GatewayID, &f.BillID, &f.RadacctID, &f.UserName, &f.SessionID,
		&f.AcctSessionID, &f.SeqFrom, &f.SeqTo, &f.BillStart, &f.BillSeconds, &f.BillIn, &f.BillOut,
		&f.BillCharge, &f.SelfCharge, &f.AcctStart, &f.AcctStop, &f.AcctSeconds, &f.AcctIn, &f.AcctOut,
		&f.AcctCharge, &f.DiffSeconds, &f.DiffIn, &f.DiffOut, &f.DiffCharge, &f.TariffID, &f.TariffVersion,
		&f.Currency, &f.Scale, &f.Detail)
	f.Period = f.Period.UTC()
	return f, err
}

// Findings returns the verdicts f selects, newest first.
func (r *Reader) Findings(ctx context.Context, f Filter) ([]Finding, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit < 0:
		limit = 1 << 30
	case limit > 10000:
		limit = 10000
	}
	kinds := f.Kinds
	// Matches (billd.matches, read with their figures through
	// billd.verdicts_all) only when asked for: a day holds a match per bill.
	from := "billd.verdicts"
	if slices.Contains(kinds, "match") {
		from = "billd.verdicts_all"
	}
	q := `SELECT ` + findingColumns + ` FROM ` + from + ` v ` + findingJoins + `
		WHERE v.period >= $1 AND v.period < $2
		AND (cardinality($3::text[]) = 0 AND v.kind <> 'match' OR v.kind = ANY($3))
		AND ($4 = '' OR v.gateway_id = $4) AND ($5 = '' OR v.username = $5)
		ORDER BY v.period DESC, v.kind, v.gateway_id, v.bill_id, v.radacctid LIMIT $6 OFFSET $7`
	if kinds == nil {
		kinds = []string{}
	}
	rows, err := r.Pool.Query(ctx, q, f.From, f.To, kinds, f.Gateway, f.User, limit, f.Offset)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanFinding)
}

// BillSide is a bill as stored.
type BillSide struct {
	GatewayID      string    `json:"gateway_id"`
	BillID         string    `json:"bill_id"`
	Sequence       int64     `json:"sequence"`
	SessionID      string    `json:"session_id"`
	UserName       string    `json:"username"`
	SubscriberMAC  string    `json:"subscriber_mac,omitempty"`
	PPPoESessionID int32     `json:"pppoe_session_id"`
	FramedIP       string    `json:"framed_ip,omitempty"`
	Start          time.Time `json:"start"`
	Stop           time.Time `json:"stop"`
	SessionMs      int64     `json:"session_ms"`
	In             int64     `json:"input_octets"`
	Out            int64     `json:"output_octets"`
	TariffID       string    `json:"tariff_id"`
	TariffVersion  int64     `json:"tariff_version"`
	Charge         int64     `json:"charge"`
	Currency       string    `json:"currency"`
	Scale          int16     `json:"scale"`
	Status         string    `json:"status"`
	ReceivedAt     time.Time `json:"received_at"`
}

// AcctSide is a radacct row as FreeRADIUS stored it.
type AcctSide struct {
	RadacctID      int64      `json:"radacctid"`
	AcctSessionID  string     `json:"acct_session_id"`
	UserName       string     `json:"username"`
	NASIPAddress   string     `json:"nas_ip_address"`
	NASPortID      string     `json:"nas_port_id,omitempty"`
	CallingStation string     `json:"calling_station_id,omitempty"`
	FramedIP       string     `json:"framed_ip,omitempty"`
	Start          *time.Time `json:"start,omitempty"`
	Stop           *time.Time `json:"stop,omitempty"`
	SessionTime    *int64     `json:"session_time,omitempty"`
	In             *int64     `json:"input_octets,omitempty"`
	Out            *int64     `json:"output_octets,omitempty"`
	TerminateCause string     `json:"terminate_cause,omitempty"`
}

// Session is one session's two sides and the verdict given them.
type Session struct {
	Bill    *BillSide `json:"bill,omitempty"`
	Acct    *AcctSide `json:"acct,omitempty"`
	Verdict *Finding  `json:"verdict,omitempty"`
	// Also are other verdicts about the same subjects (a chain gap at the
	// bill, a missing bill for the session).
	Also []Finding `json:"also,omitempty"`
}

// ErrNotFound is returned for a session that is not there.
var ErrNotFound = errors.New("report: not found")

// SessionByBill returns a bill, the background session its verdict
// matched it with, and the verdicts.
func (r *Reader) SessionByBill(ctx context.Context, gateway, billHex string) (*Session, error) {
	id, err := hex.DecodeString(billHex)
	if err != nil {
		return nil, fmt.Errorf("report: bill id %q is not hex", billHex)
	}
	var s Session
	b, err := r.bill(ctx, `WHERE gateway_id = $1 AND bill_id = $2 ORDER BY received_at LIMIT 1`, gateway, id)
	if err != nil {
		return nil, err
	}
	s.Bill = b
	vs, err := r.verdicts(ctx, `v.gateway_id = $1 AND v.bill_id = $2 AND v.period = $3`, gateway, id, b.Stop)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		if vs[i].Kind != "chain_gap" && s.Verdict == nil {
			s.Verdict = &vs[i]
		} else {
			s.Also = append(s.Also, vs[i])
		}
	}
	if s.Verdict != nil && s.Verdict.RadacctID != nil {
		if s.Acct, err = r.acct(ctx, *s.Verdict.RadacctID); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return &s, nil
}

// SessionByRadacct returns a background session, the bill whose verdict
// names it (if any), and the verdicts.
func (r *Reader) SessionByRadacct(ctx context.Context, radacctID int64) (*Session, error) {
	var s Session
	a, err := r.acct(ctx, radacctID)
	if err != nil {
		return nil, err
	}
	s.Acct = a
	at := time.Now()
	if a.Stop != nil {
		at = *a.Stop
	}
	// A verdict naming the session is dated by its bill's stop, within
	// the match window of the session's end, or by the session's stop.
	vs, err := r.verdicts(ctx, `v.radacctid = $1 AND v.period >= $2 AND v.period < $3`, radacctID, at.Add(-sessionWindow), at.Add(sessionWindow))
	if err != nil {
		return nil, err
	}
	for i := range vs {
		v := &vs[i]
		if s.Verdict == nil && (v.Kind == "missing_bill" || kindName(v.Kind).good()) {
			s.Verdict = v
		} else {
			s.Also = append(s.Also, *v)
		}
	}
	if s.Verdict == nil && len(s.Also) > 0 {
		s.Verdict, s.Also = &s.Also[0], s.Also[1:]
	}
	if s.Verdict != nil && s.Verdict.BillID != "" {
		id, _ := hex.DecodeString(s.Verdict.BillID)
		if s.Bill, err = r.bill(ctx, `WHERE gateway_id = $1 AND bill_id = $2 ORDER BY received_at LIMIT 1`, s.Verdict.GatewayID, id); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	return &s, nil
}

// sessionWindow bounds how far from a background session's end
// SessionByRadacct looks for the verdicts naming it: far wider than any
// sensible match window (recon.Config.Window, 15 minutes by default).
const sessionWindow = 6 * time.Hour

type kindName string

func (k kindName) good() bool { return k == "match" || k == "within_tolerance" }

func (r *Reader) verdicts(ctx context.Context, where string, args ...any) ([]Finding, error) {
	rows, err := r.Pool.Query(ctx, `SELECT `+findingColumns+` FROM billd.verdicts_all v `+findingJoins+` WHERE `+where+` ORDER BY v.kind`, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanFinding)
}

func (r *Reader) bill(ctx context.Context, where string, args ...any) (*BillSide, error) {
	var b BillSide
	var id []byte
	var mac, framed *string
	err := r.Pool.QueryRow(ctx, `SELECT gateway_id, bill_id, sequence, session_id, username, subscriber_mac::text,
		pppoe_session_id, host(framed_ip), start_time, stop_time, session_ms, input_octets, output_octets, tariff_id,
		tariff_version, charge, currency, scale, status, received_at FROM billd.bills `+where, args...).Scan(
		&b.GatewayID, &id, &b.Sequence, &b.SessionID, &b.UserName, &mac, &b.PPPoESessionID, &framed, &b.Start,
		&b.Stop, &b.SessionMs, &b.In, &b.Out, &b.TariffID, &b.TariffVersion, &b.Charge, &b.Currency, &b.Scale,
		&b.Status, &b.ReceivedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	b.BillID = hex.EncodeToString(id)
	b.SubscriberMAC, b.FramedIP = deref(mac), deref(framed)
	b.Start, b.Stop, b.ReceivedAt = b.Start.UTC(), b.Stop.UTC(), b.ReceivedAt.UTC()
	return &b, nil
}

func (r *Reader) acct(ctx context.Context, id int64) (*AcctSide, error) {
	var a AcctSide
	var port, calling, framed, cause, sess, user *string
	err := r.Pool.QueryRow(ctx, `SELECT radacctid, acctsessionid, username, host(nasipaddress), nasportid, callingstationid,
		host(framedipaddress), acctstarttime, acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets,
		acctterminatecause FROM public.radacct WHERE radacctid = $1`, id).Scan(&a.RadacctID, &sess, &user,
		&a.NASIPAddress, &port, &calling, &framed, &a.Start, &a.Stop, &a.SessionTime, &a.In, &a.Out, &cause)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	a.AcctSessionID, a.UserName = deref(sess), deref(user)
	a.NASPortID, a.CallingStation, a.FramedIP, a.TerminateCause = deref(port), deref(calling), deref(framed), deref(cause)
	return &a, nil
}

func deref[T any](p *T) T {
	var z T
	if p != nil {
		return *p
	}
	return z
}

// Gateway is a gateway's record over a period.
type Gateway struct {
	ID     string `json:"id"`
	Owner  string `json:"owner"`
	Status string `json:"status"`
	// Registered is false for a gateway id seen only on bills.
	Registered bool `json:"registered"`
	// Bills is the number of bill verdicts; Good are match or within
	// tolerance; Accuracy is Good/Bills (1 when there are none).
	Bills    int64            `json:"bills"`
	Good     int64            `json:"good"`
	Accuracy float64          `json:"accuracy"`
	Kinds    map[string]int64 `json:"kinds"`
	// Sums over the matched bills: background charge and octets, and the
	// bill minus background differences.
	AcctCharge int64 `json:"acct_charge"`
	AcctOctets int64 `json:"acct_octets"`
	DiffCharge int64 `json:"diff_charge"`
	DiffOctets int64 `json:"diff_octets"`
	// DriftBasisPoints is the larger of the relative charge and usage
	// differences, in hundredths of a percent, signed.
	DriftBasisPoints int64  `json:"drift_bp"`
	Drifting         bool   `json:"drifting"`
	Why              string `json:"why,omitempty"`
}

// Gateways returns every gateway registered or seen on a verdict in
// [from, to), worst accuracy first.
func (r *Reader) Gateways(ctx context.Context, from, to time.Time) ([]Gateway, error) {
	bp, minPairs := r.drift()
	rows, err := r.Pool.Query(ctx, `SELECT d.gateway_id, d.kind, sum(d.n)::bigint, sum(d.acct_charge)::bigint,
		sum(d.acct_octets)::bigint, sum(d.diff_charge)::bigint, sum(d.diff_octets)::bigint
		FROM billd.verdict_days d WHERE d.day >= date_trunc('day', $1::timestamptz) AND d.day < $2 AND d.gateway_id <> ''
		GROUP BY 1, 2`, from, to)
	if err != nil {
		return nil, err
	}
	byID := map[string]*Gateway{}
	get := func(id string) *Gateway {
		g := byID[id]
		if g == nil {
			g = &Gateway{ID: id, Kinds: map[string]int64{}}
			byID[id] = g
		}
		return g
	}
	for rows.Next() {
		var id, kind string
		var n, ac, ao, dc, do int64
		if err := rows.Scan(&id, &kind, &n, &ac, &ao, &dc, &do); err != nil {
			rows.Close()
			return nil, err
		}
		g := get(id)
		g.Kinds[kind] += n
		if kind == "chain_gap" {
			continue
		}
		g.Bills += n
		switch kind {
		case "match", "within_tolerance", "usage_mismatch", "charge_mismatch":
			g.AcctCharge += ac
			g.AcctOctets += ao
			g.DiffCharge += dc
			g.DiffOctets += do
		}
		if kindName(kind).good() {
			g.Good += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	reg, err := r.Pool.Query(ctx, `SELECT id, owner, status FROM billd.gateways`)
	if err != nil {
		return nil, err
	}
	for reg.Next() {
		var id, owner, status string
		if err := reg.Scan(&id, &owner, &status); err != nil {
			reg.Close()
			return nil, err
		}
		g := get(id)
		g.Owner, g.Status, g.Registered = owner, status, true
	}
	reg.Close()
	if err := reg.Err(); err != nil {
		return nil, err
	}
	out := make([]Gateway, 0, len(byID))
	for _, g := range byID {
		g.Accuracy = 1
		if g.Bills > 0 {
			g.Accuracy = float64(g.Good) / float64(g.Bills)
		}
		matched := g.Kinds["match"] + g.Kinds["within_tolerance"] + g.Kinds["usage_mismatch"] + g.Kinds["charge_mismatch"]
		dc := ratioBP(g.DiffCharge, g.AcctCharge)
		do := ratioBP(g.DiffOctets, g.AcctOctets)
		g.DriftBasisPoints = dc
		if abs(do) > abs(dc) {
			g.DriftBasisPoints = do
		}
		if matched >= minPairs && abs(g.DriftBasisPoints) >= bp {
			g.Drifting = true
			var why []string
			if abs(dc) >= bp {
				why = append(why, fmt.Sprintf("charges %s than the background usage prices to", pct(dc)))
			}
			if abs(do) >= bp {
				why = append(why, fmt.Sprintf("usage %s than the BRAS counted", pct(do)))
			}
			g.Why = fmt.Sprintf("over %d matched bills: %s", matched, strings.Join(why, "; "))
		}
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Drifting != out[j].Drifting {
			return out[i].Drifting
		}
		if out[i].Accuracy != out[j].Accuracy {
			return out[i].Accuracy < out[j].Accuracy
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func ratioBP(diff, base int64) int64 {
	if base == 0 {
		if diff == 0 {
			return 0
		}
		if diff > 0 {
			return 10000
		}
		return -10000
	}
	return diff * 10000 / abs(base)
}

func pct(bp int64) string {
	dir := "higher"
	if bp < 0 {
		dir = "lower"
	}
	return fmt.Sprintf("%d.%02d%% %s", abs(bp)/100, abs(bp)%100, dir)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Day is one gateway's verdicts on one day.
type Day struct {
	Day      time.Time        `json:"day"`
	Bills    int64            `json:"bills"`
	Good     int64            `json:"good"`
	Accuracy float64          `json:"accuracy"`
	Kinds    map[string]int64 `json:"kinds"`
	DiffBP   int64            `json:"drift_bp"`
}

// Accuracy returns a gateway's accuracy per day in [from, to).
func (r *Reader) Accuracy(ctx context.Context, gateway string, from, to time.Time) ([]Day, error) {
	rows, err := r.Pool.Query(ctx, `SELECT day, kind, n, acct_charge, diff_charge FROM billd.verdict_days
		WHERE gateway_id = $1 AND day >= date_trunc('day', $2::timestamptz) AND day < $3 ORDER BY day`, gateway, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Day
	var ac, dc int64
	for rows.Next() {
		var day time.Time
		var kind string
		var n, a, d int64
		if err := rows.Scan(&day, &kind, &n, &a, &d); err != nil {
			return nil, err
		}
		if len(out) == 0 || !out[len(out)-1].Day.Equal(day.UTC()) {
			if len(out) > 0 {
				out[len(out)-1].DiffBP = ratioBP(dc, ac)
			}
			out = append(out, Day{Day: day.UTC(), Kinds: map[string]int64{}})
			ac, dc = 0, 0
		}
		x := &out[len(out)-1]
		x.Kinds[kind] += n
		if kind != "chain_gap" {
			x.Bills += n
		}
		if kindName(kind).good() {
			x.Good += n
		}
		ac += a
		dc += d
	}
	if len(out) > 0 {
		out[len(out)-1].DiffBP = ratioBP(dc, ac)
	}
	for i := range out {
		out[i].Accuracy = 1
		if out[i].Bills > 0 {
			out[i].Accuracy = float64(out[i].Good) / float64(out[i].Bills)
		}
	}
	return out, rows.Err()
}

// Progress is the live state of an open session, from the gateway's
// Start and Interim-Update.
type Progress struct {
	GatewayID      string     `json:"gateway_id"`
	SessionID      string     `json:"session_id"`
	UserName       string     `json:"username"`
	Status         string     `json:"status"`
	Start          *time.Time `json:"start,omitempty"`
	SessionSeconds int64      `json:"session_seconds"`
	In             int64      `json:"input_octets"`
	Out            int64      `json:"output_octets"`
	RunningCharge  *int64     `json:"running_charge,omitempty"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Progress lists open sessions, most recently updated first, optionally
// of one gateway or user.
func (r *Reader) Progress(ctx context.Context, gateway, user string, limit int) ([]Progress, error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	rows, err := r.Pool.Query(ctx, `SELECT gateway_id, session_id, username, status, start_time, session_seconds,
		input_octets, output_octets, running_charge, updated_at FROM billd.progress
		WHERE ($1 = '' OR gateway_id = $1) AND ($2 = '' OR username = $2) ORDER BY updated_at DESC LIMIT $3`, gateway, user, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Progress, error) {
		var p Progress
		err := row.Scan(&p.GatewayID, &p.SessionID, &p.UserName, &p.Status, &p.Start, &p.SessionSeconds, &p.In, &p.Out,
			&p.RunningCharge, &p.UpdatedAt)
		return p, err
	})
}
