package web

import (
	"context"
	"crypto/subtle"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/edgebill/edgebill/server/report"
)

// Config configures the handler.
type Config struct {
	// Token guards the API and the dashboard; it must not be empty.
	Token string
	// Days is the dashboard's default period (default 14).
	Days int
	// Gatherer serves /metrics (nil: no /metrics).
	Gatherer prometheus.Gatherer
	// Now is the clock (nil: time.Now), for tests.
	Now func() time.Time
}

// Server serves the API and the dashboard.
type Server struct {
	r   *report.Reader
	cfg Config
	log *zap.Logger
	mux *http.ServeMux
}

// ErrNoToken is returned by New for an empty token.
var ErrNoToken = errors.New("web: an API token is required")

// New makes the handler.
func New(r *report.Reader, cfg Config, log *zap.Logger) (*Server, error) {
	if cfg.Token == "" {
		return nil, ErrNoToken
	}
	if cfg.Days <= 0 {
		cfg.Days = 14
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{r: r, cfg: cfg, log: log.Named("web"), mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	if cfg.Gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	s.mux.Handle("GET /api/v1/verdicts/counts", s.auth(s.apiCounts))
	s.mux.Handle("GET /api/v1/findings", s.auth(s.apiFindings))
	s.mux.Handle("GET /api/v1/findings.csv", s.auth(s.apiFindingsCSV))
	s.mux.Handle("GET /api/v1/sessions", s.auth(s.apiSession))
	s.mux.Handle("GET /api/v1/gateways", s.auth(s.apiGateways))
	s.mux.Handle("GET /api/v1/gateways/{id}/accuracy", s.auth(s.apiAccuracy))
	s.mux.Handle("GET /api/v1/progress", s.auth(s.apiProgress))
	s.mux.Handle("GET /session", s.auth(s.pageSession))
	s.mux.Handle("GET /{$}", s.auth(s.pageDashboard))
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

const cookieName = "billd_token"

func (s *Server) auth(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	want := []byte(s.cfg.Token)
	ok := func(got string) bool { return subtle.ConstantTimeCompare([]byte(got), want) == 1 }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authed := false
		if v, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && ok(v) {
			authed = true
		} else if v := r.URL.Query().Get("token"); v != "" && ok(v) {
			authed = true
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		} else if c, err := r.Cookie(cookieName); err == nil && ok(c.Value) {
			authed = true
		}
		if !authed {
			w.Header().Set("WWW-Authenticate", `Bearer realm="billd"`)
			http.Error(w, "a valid token is required (Authorization: Bearer TOKEN, or ?token=TOKEN)", http.StatusUnauthorized)
			return
		}
		if err := h(w, r); err != nil {
			var be badRequest
			switch {
			case errors.As(err, &be):
				http.Error(w, be.Error(), http.StatusBadRequest)
			case errors.Is(err, report.ErrNotFound):
				http.Error(w, "not found", http.StatusNotFound)
			case errors.Is(err, context.Canceled):
			default:
				s.log.Warn("request failed", zap.String("path", r.URL.Path), zap.Error(err))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}
	})
}

type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }

func badf(format string, args ...any) error { return badRequest{fmt.Sprintf(format, args...)} }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.r.Pool.Ping(ctx); err != nil {
		http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// parseTime reads RFC 3339 or a date (2006-01-02, UTC).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	return time.Time{}, badf("time %q: want RFC 3339 (2024-03-01T00:00:00Z) or a date (2024-03-01)", v)
}

// period reads from and to, by default the last cfg.Days days to now.
func (s *Server) period(r *http.Request) (time.Time, time.Time, error) {
	q := r.URL.Query()
	to := s.cfg.Now().UTC().Add(time.Hour).Truncate(time.Hour)
	from := to.AddDate(0, 0, -s.cfg.Days).Truncate(24 * time.Hour)
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = parseTime(v); err != nil {
			return from, to, err
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = parseTime(v); err != nil {
			return from, to, err
		}
	}
	if !from.Before(to) {
		return from, to, badf("from %v is not before to %v", from, to)
	}
	return from, to, nil
}

func (s *Server) filter(r *http.Request) (report.Filter, error) {
	from, to, err := s.period(r)
	if err != nil {
		return report.Filter{}, err
	}
	q := r.URL.Query()
	f := report.Filter{From: from, To: to, Gateway: q.Get("gateway"), User: q.Get("user")}
	if v := q.Get("kind"); v != "" {
		f.Kinds = strings.Split(v, ",")
	}
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, badf("%s %q: want a non-negative integer", name, v)
			}
			*dst = n
		}
	}
	return f, nil
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (s *Server) apiCounts(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.period(r)
	if err != nil {
		return err
	}
	bucket := r.URL.Query().Get("bucket")
	if bucket != "" && bucket != "day" && bucket != "hour" {
		return badf("bucket %q: want day or hour", bucket)
	}
	cs, err := s.r.Counts(r.Context(), from, to, bucket, r.URL.Query().Get("gateway"))
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []report.Count{}
	}
	return writeJSON(w, map[string]any{"from": from, "to": to, "counts": cs, "totals": report.Totals(cs)})
}

func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) error {
	f, err := s.filter(r)
	if err != nil {
		return err
	}
	fs, err := s.r.Findings(r.Context(), f)
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []report.Finding{}
	}
	return writeJSON(w, map[string]any{"from": f.From, "to": f.To, "findings": fs})
}

// CSVHeader is the first line of the findings export.
var CSVHeader = []string{"period", "kind", "gateway_id", "bill_id", "radacctid", "username", "session_id",
	"acct_session_id", "seq_from", "seq_to", "bill_start", "bill_seconds", "bill_in", "bill_out", "bill_charge",
	"self_charge", "acct_start", "acct_stop", "acct_seconds", "acct_in", "acct_out", "acct_charge",
	"diff_seconds", "diff_in", "diff_out", "diff_charge", "tariff_id", "tariff_version", "currency", "scale", "detail"}

// WriteCSV writes findings as CSV with CSVHeader.
func WriteCSV(w *csv.Writer, fs []report.Finding) error {
	if err := w.Write(CSVHeader); err != nil {
		return err
	}
	i := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	t := func(p *time.Time) string {
		if p == nil {
			return ""
		}
		return p.UTC().Format(time.RFC3339)
	}
	for _, f := range fs {
		scale := ""
		if f.Scale != nil {
			scale = strconv.Itoa(int(*f.Scale))
		}
		rec := []string{f.Period.Format(time.RFC3339), f.Kind, f.GatewayID, f.BillID, i(f.RadacctID), f.UserName,
			f.SessionID, f.AcctSessionID, i(f.SeqFrom), i(f.SeqTo), t(f.BillStart), i(f.BillSeconds), i(f.BillIn),
			i(f.BillOut), i(f.BillCharge), i(f.SelfCharge), t(f.AcctStart), t(f.AcctStop), i(f.AcctSeconds),
			i(f.AcctIn), i(f.AcctOut), i(f.AcctCharge), i(f.DiffSeconds), i(f.DiffIn), i(f.DiffOut), i(f.DiffCharge),
			f.TariffID, i(f.TariffVersion), f.Currency, scale, f.Detail}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

func (s *Server) apiFindingsCSV(w http.ResponseWriter, r *http.Request) error {
	f, err := s.filter(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("limit") == "" {
		f.Limit = -1
	}
	fs, err := s.r.Findings(r.Context(), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="findings-%s-%s.csv"`, f.From.Format("20060102T150405Z"), f.To.Format("20060102T150405Z")))
	return WriteCSV(csv.NewWriter(w), fs)
}

func (s *Server) session(r *http.Request) (*report.Session, error) {
	q := r.URL.Query()
	switch {
	case q.Get("radacct") != "":
		id, err := strconv.ParseInt(q.Get("radacct"), 10, 64)
		if err != nil {
			return nil, badf("radacct %q: want a radacctid", q.Get("radacct"))
		}
		return s.r.SessionByRadacct(r.Context(), id)
	case q.Get("gateway") != "" && q.Get("bill") != "":
		return s.r.SessionByBill(r.Context(), q.Get("gateway"), q.Get("bill"))
	}
	return nil, badf("want ?gateway=ID&bill=HEX or ?radacct=ID")
}

func (s *Server) apiSession(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.session(r)
	if err != nil {
		return err
	}
	return writeJSON(w, ss)
}

func (s *Server) apiGateways(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.period(r)
	if err != nil {
		return err
	}
	gs, err := s.r.Gateways(r.Context(), from, to)
	if err != nil {
		return err
	}
	return writeJSON(w, map[string]any{"from": from, "to": to, "gateways": gs})
}

func (s *Server) apiAccuracy(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.period(r)
	if err != nil {
		return err
	}
	ds, err := s.r.Accuracy(r.Context(), r.PathValue("id"), from, to)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []report.Day{}
	}
	return writeJSON(w, map[string]any{"gateway": r.PathValue("id"), "from": from, "to": to, "days": ds})
}

func (s *Server) apiProgress(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badf("limit %q: want a non-negative integer", v)
		}
		limit = n
	}
	ps, err := s.r.Progress(r.Context(), q.Get("gateway"), q.Get("user"), limit)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []report.Progress{}
	}
	return writeJSON(w, map[string]any{"sessions": ps})
}
