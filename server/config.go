package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/edgebill/edgebill/server/ingest"
)

// Config is billd's configuration. A zero field takes the default named
// in its comment; testdata/billd.conf is the reference file, with every
// key.
type Config struct {
	// DatabaseURL (database_url) is the Postgres database holding
	// FreeRADIUS's radacct; the DATABASE_URL environment variable and
	// the -database flag override it.
	DatabaseURL string
	// Instance (instance) names this billd in stored bills and runs
	// (default: the host name).
	Instance string
	// LogLevel (log_level): debug, info, warn or error (default info).
	LogLevel string

	// ListenAcct (listen_acct) is the RADIUS accounting address
	// (default ":1813").
	ListenAcct string
	// Clients (client = CIDR SECRET, repeatable) may send bills for
	// gateways not registered: stored, flagged unknown_gateway.
	Clients []ingest.Client
	// QueueSize (queue_size) bounds requests waiting for commit (32768).
	QueueSize int
	// BatchMax (batch_max): most rows per group commit (2048).
	BatchMax int
	// BatchWait (batch_wait): wait for a fuller batch (2ms; 0 means the
	// default).
	BatchWait time.Duration
	// Committers (committers): batches committing at once (2).
	Committers int
	// DupTTL (dup_ttl): the RFC 5080 duplicate cache's lifetime (5s).
	DupTTL time.Duration
	// GatewayRefresh (gateway_refresh): registry reload period (5s).
	GatewayRefresh time.Duration

	// NoReconcile (reconcile = false) turns continuous reconciliation
	// off in `billd serve` (default on).
	NoReconcile bool
	// ReconcileInterval (reconcile_interval): how often (1m).
	ReconcileInterval time.Duration
	// Grace (grace): wait after a session ends before judging it (15m).
	Grace time.Duration
	// MatchWindow (match_window): a bill and its background session end
	// within this of each other (15m).
	MatchWindow time.Duration
	// ToleranceSeconds, ToleranceOctets (tolerance_seconds,
	// tolerance_octets): absolute usage tolerances (0).
	ToleranceSeconds, ToleranceOctets int64
	// ToleranceBasisPoints (tolerance_percent, e.g. "0.5"): relative
	// usage tolerance, in hundredths of a percent (0).
	ToleranceBasisPoints int64
	// MissingScope (missing_scope): "all" background sessions without a
	// bill are missing bills, or only those of "billed" users (all).
	MissingScope string
	// PieceSessions (piece_sessions): an on-demand range with more
	// background sessions than this is judged in pieces of about as many,
	// to bound memory (1000000: RSS near 460 MB; 0 = the default).
	PieceSessions int

	// ListenHTTP (listen_http) serves the API, dashboard and metrics
	// ("" = off; default "127.0.0.1:8080").
	ListenHTTP string
	// APIToken (api_token) or APITokenFile (api_token_file) guards the
	// API and dashboard; required when listen_http is on.
	APIToken, APITokenFile string
	// DriftBasisPoints (drift_percent, e.g. "1"): the relative
	// difference that names a gateway as drifting (1%).
	DriftBasisPoints int64
	// DriftMinBills (drift_min_bills): matched bills needed to judge
	// drift (20).
	DriftMinBills int64
	// MonthsAhead (partition_months_ahead): monthly partitions made ahead
	// (3).
	MonthsAhead int
}

// Defaults fills zero fields with their defaults.
func (c *Config) Defaults() {
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.ListenAcct == "" {
		c.ListenAcct = ":1813"
	}
	if c.ListenHTTP == "" {
		c.ListenHTTP = "127.0.0.1:8080"
	}
	if c.MonthsAhead <= 0 {
		c.MonthsAhead = 3
	}
	if c.DriftBasisPoints <= 0 {
		c.DriftBasisPoints = 100
	}
	if c.DriftMinBills <= 0 {
		c.DriftMinBills = 20
	}
	if c.MissingScope == "" {
		c.MissingScope = "all"
	}
}

// ParseError says where a config file is wrong.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("config: line %d: %s", e.Line, e.Msg) }

// ErrConfig is wrapped by every *ParseError.
var ErrConfig = errors.New("config: invalid")

// Unwrap makes errors.Is(err, ErrConfig) true.
func (e *ParseError) Unwrap() error { return ErrConfig }

// ParseConfig reads a config file: one "key = value" a line, '#' starts a
// comment, blank lines are ignored. Unknown keys, a key given twice (but
// client) and bad values are errors naming the line.
func ParseConfig(r io.Reader) (Config, error) {
	var c Config
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		key, val, ok := strings.Cut(text, "=")
		if !ok {
			return c, &ParseError{line, fmt.Sprintf("%q is not key = value", text)}
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			uq, err := strconv.Unquote(val)
			if err != nil {
				return c, &ParseError{line, fmt.Sprintf("%s: %v", key, err)}
			}
			val = uq
		}
		if prev, dup := seen[key]; dup && key != "client" {
			return c, &ParseError{line, fmt.Sprintf("%s given again (first on line %d)", key, prev)}
		}
		seen[key] = line
		if err := c.set(key, val); err != nil {
			return c, &ParseError{line, err.Error()}
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func (c *Config) set(key, val string) error {
	dur := func(dst *time.Duration) error {
		d, err := time.ParseDuration(val)
		if err != nil || d < 0 {
			return fmt.Errorf("%s %q: want a duration like 5s, 15m", key, val)
		}
		*dst = d
		return nil
	}
	num := func(dst *int) error {
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return fmt.Errorf("%s %q: want a non-negative integer", key, val)
		}
		*dst = n
		return nil
	}
	num64 := func(dst *int64) error {
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%s %q: want a non-negative integer", key, val)
		}
		*dst = n
		return nil
	}
	percent := func(dst *int64) error {
		bp, err := ParsePercent(val)
		if err != nil {
			return fmt.Errorf("%s: %v", key, err)
		}
		*dst = bp
		return nil
	}
	switch key {
	case "database_url":
		c.DatabaseURL = val
	case "instance":
		c.Instance = val
	case "log_level":
		switch val {
		case "debug", "info", "warn", "error":
			c.LogLevel = val
		default:
			return fmt.Errorf("log_level %q: want debug, info, warn or error", val)
		}
	case "listen_acct":
		c.ListenAcct = val
	case "client":
		f := strings.Fields(val)
		if len(f) != 2 {
			return fmt.Errorf("client %q: want CIDR SECRET", val)
		}
		p, err := netip.ParsePrefix(f[0])
		if err != nil {
			return fmt.Errorf("client: %v", err)
		}
		c.Clients = append(c.Clients, ingest.Client{Net: p.Masked(), Secret: f[1]})
	case "queue_size":
		return num(&c.QueueSize)
	case "batch_max":
		return num(&c.BatchMax)
	case "batch_wait":
		return dur(&c.BatchWait)
	case "committers":
		return num(&c.Committers)
	case "dup_ttl":
		return dur(&c.DupTTL)
	case "gateway_refresh":
		return dur(&c.GatewayRefresh)
	case "reconcile":
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("reconcile %q: want true or false", val)
		}
		c.NoReconcile = !b
	case "reconcile_interval":
		return dur(&c.ReconcileInterval)
	case "grace":
		return dur(&c.Grace)
	case "match_window":
		return dur(&c.MatchWindow)
	case "tolerance_seconds":
		return num64(&c.ToleranceSeconds)
	case "tolerance_octets":
		return num64(&c.ToleranceOctets)
	case "tolerance_percent":
		return percent(&c.ToleranceBasisPoints)
	case "missing_scope":
		if val != "all" && val != "billed" {
			return fmt.Errorf("missing_scope %q: want all or billed", val)
		}
		c.MissingScope = val
	case "piece_sessions":
		if err := num(&c.PieceSessions); err != nil {
			return err
		}
		if c.PieceSessions < 1000 {
			return fmt.Errorf("piece_sessions %d: want at least 1000", c.PieceSessions)
		}
	case "listen_http":
		c.ListenHTTP = val
	case "api_token":
		c.APIToken = val
	case "api_token_file":
		c.APITokenFile = val
	case "drift_percent":
		return percent(&c.DriftBasisPoints)
	case "drift_min_bills":
		return num64(&c.DriftMinBills)
	case "partition_months_ahead":
		return num(&c.MonthsAhead)
	default:
		return fmt.Errorf("unknown key %q", key)
	}
	return nil
}

// ParsePercent reads a percentage with up to two decimals ("0.5",
// "12.25%") as basis points (hundredths of a percent), without floating
// point.
func ParsePercent(s string) (int64, error) {
	v := strings.TrimSuffix(strings.TrimSpace(s), "%")
	whole, frac, _ := strings.Cut(v, ".")
	if whole == "" || len(frac) > 2 {
		return 0, fmt.Errorf("%q: want a percentage like 0.5 or 2.25", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || f < 0 || w > math.MaxInt64/100-1 {
		return 0, fmt.Errorf("%q: want a percentage like 0.5 or 2.25", s)
	}
	return w*100 + f, nil
}
