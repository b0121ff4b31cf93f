package server

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/edgebill/edgebill/internal/version"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/server/recon"
	"github.com/edgebill/edgebill/server/report"
	"github.com/edgebill/edgebill/server/store"
	"github.com/edgebill/edgebill/server/web"
)

const usage = `billd is edgebill's reconciliation server. It receives the signed bills
gateways send as RADIUS Accounting-Request Stops, stores each once in
Postgres beside FreeRADIUS's radacct, checks every bill against the BRAS's
own record of the session, and shows ISP operations what disagrees.

Usage:
  billd <command> [flags]

Commands:
  migrate     create or upgrade billd's tables (schema billd) in the database
  gateways    register, list, disable or enable gateways (their key and secret)
  tariffs     list tariff versions, add one, or copy them from the RADIUS tables
  serve       run the accounting listener, continuous reconciliation and the
              HTTP API and dashboard
  reconcile   judge the bills and sessions of a time range now
  report      print verdict counts, drifting gateways and findings
  version     print the version

A first run:
  export DATABASE_URL=postgres://billd@db/radius   # the database with radacct
  billd migrate
  billd gateways add -id gw-0001 -public-key HEX -secret S3CRET -owner "Flat 12"
  billd serve -config /etc/billd/billd.conf
  billd report -from 2024-03-01 -to 2024-03-08

Every command takes -config FILE (see testdata/billd.conf for every key)
and -database URL; DATABASE_URL is read when neither gives the database.
Run "billd <command> -h" for the command's flags.
`

// Main runs the billd command line and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "billd", version.Version)
		return 0
	case "serve":
		err = cmdServe(ctx, rest, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, rest, stdout, stderr)
	case "reconcile":
		err = cmdReconcile(ctx, rest, stdout, stderr)
	case "report":
		err = cmdReport(ctx, rest, stdout, stderr)
	case "gateways":
		err = cmdGateways(ctx, rest, stdout, stderr)
	case "tariffs":
		err = cmdTariffs(ctx, rest, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "billd: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "billd %s: %v\n", cmd, err)
	return 1
}

var errUsage = errors.New("usage")

// common are the flags every command takes.
type common struct {
	config   string
	database string
}

func newFlags(name, synopsis string, stderr io.Writer) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet("billd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &common{}
	fs.StringVar(&c.config, "config", "", "config file (key = value lines; see testdata/billd.conf)")
	fs.StringVar(&c.database, "database", "", "Postgres URL of the database holding radacct (overrides the config and DATABASE_URL)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: billd %s\n\n%s\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs, c
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		fs.Usage()
		return errUsage
	}
	return nil
}

// load reads the config file and applies the environment and flags:
// -database beats DATABASE_URL beats database_url.
func (c *common) load() (Config, error) {
	var cfg Config
	if c.config != "" {
		f, err := os.Open(c.config)
		if err != nil {
			return cfg, err
		}
		defer f.Close()
		if cfg, err = ParseConfig(f); err != nil {
			return cfg, fmt.Errorf("%s: %w", c.config, err)
		}
	}
	if v := os.Getenv("DATABASE_URL"); v != "" {
		cfg.DatabaseURL = v
	}
	if c.database != "" {
		cfg.DatabaseURL = c.database
	}
	cfg.Defaults()
	if cfg.DatabaseURL == "" {
		return cfg, errors.New("no database: give -database URL, set DATABASE_URL, or database_url in -config")
	}
	return cfg, nil
}

func newLogger(level string, stderr io.Writer, json bool) *zap.Logger {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		lvl = zapcore.InfoLevel
	}
	ec := zap.NewProductionEncoderConfig()
	ec.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	if json {
		enc = zapcore.NewJSONEncoder(ec)
	} else {
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		enc = zapcore.NewConsoleEncoder(ec)
	}
	return zap.New(zapcore.NewCore(enc, zapcore.Lock(zapcore.AddSync(stderr)), lvl))
}

func openStore(ctx context.Context, cfg Config, log *zap.Logger) (*store.Store, error) {
	return store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: 4}, log)
}

// openAdmin loads the configuration and opens the store for a one-shot
// operator command (report, gateways, tariffs), logging warnings only.
func (c *common) openAdmin(ctx context.Context, stderr io.Writer) (Config, *store.Store, error) {
	cfg, err := c.load()
	if err != nil {
		return cfg, nil, err
	}
	st, err := openStore(ctx, cfg, newLogger("warn", stderr, false))
	return cfg, st, err
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("serve [flags]", `Runs billd until SIGINT or SIGTERM:
  - the RADIUS accounting listener for gateway bills (listen_acct, default :1813),
    answering each request only once what it carries is committed;
  - continuous reconciliation (every reconcile_interval, judging sessions that
    ended more than grace ago; reconcile = false turns it off);
  - the HTTP API, dashboard (/) and Prometheus metrics (/metrics) on listen_http
    (default 127.0.0.1:8080; the API and dashboard need api_token).
The database must be migrated first (billd migrate).`, stderr)
	acct := fs.String("listen-acct", "", "RADIUS accounting address (overrides listen_acct)")
	httpAddr := fs.String("listen-http", "", `HTTP address, "off" for none (overrides listen_http)`)
	token := fs.String("token", "", "API and dashboard token (overrides api_token; prefer api_token_file)")
	noRecon := fs.Bool("no-reconcile", false, "do not reconcile continuously (overrides reconcile)")
	instance := fs.String("instance", "", "name of this billd (overrides instance)")
	logJSON := fs.Bool("log-json", true, "log JSON lines (false: console format)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	if *acct != "" {
		cfg.ListenAcct = *acct
	}
	if *httpAddr != "" {
		cfg.ListenHTTP = *httpAddr
	}
	if *token != "" {
		cfg.APIToken = *token
	}
	if *noRecon {
		cfg.NoReconcile = true
	}
	if *instance != "" {
		cfg.Instance = *instance
	}
	log := newLogger(cfg.LogLevel, stderr, *logJSON)
	defer log.Sync()
	b, err := NewBilld(ctx, cfg, log)
	if err != nil {
		return err
	}
	// Tests and scripts read where billd listens from this line.
	fmt.Fprintf(stdout, "billd listening accounting=%s http=%s\n", b.Ingest.Addr(), addrOf(b.HTTP))
	return b.Run(ctx)
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("migrate [flags]", `Creates billd's tables in schema billd, or brings them to this billd's
version: each embedded migration not yet applied runs in its own
transaction and is recorded in billd.schema_migrations. Then it adds
billd's indexes to FreeRADIUS's radacct (CONCURRENTLY, if radacct exists:
load FreeRADIUS's schema first, or run migrate again after) and makes the
monthly partitions ahead. Safe to run again, and from two hosts at once.`, stderr)
	ahead := fs.Int("months-ahead", 0, "monthly partitions to make ahead (overrides partition_months_ahead, default 3)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	if *ahead > 0 {
		cfg.MonthsAhead = *ahead
	}
	log := newLogger("warn", stderr, false)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx, cfg.MonthsAhead)
	if err != nil {
		return err
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "schema billd is up to date at version %d\n", v)
	} else {
		fmt.Fprintf(stdout, "applied %s; schema billd is at version %d\n", strings.Join(applied, ", "), v)
	}
	return nil
}

func parseWhen(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("-%s is required", name)
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(v, "-")); err == nil && strings.HasPrefix(v, "-") {
		return now.Add(-d).UTC().Truncate(time.Second), nil
	}
	if v == "now" {
		return now.UTC().Truncate(time.Second), nil
	}
	return time.Time{}, fmt.Errorf("-%s %q: want RFC 3339 (2024-03-01T10:00:00Z), a date (2024-03-01, UTC), now, or -DURATION (-24h)", name, v)
}

func cmdReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("reconcile -from TIME -to TIME [flags]", `Judges every bill and every background session (radacct) whose stop time
is in [from, to), and every break in a gateway's chain there, replacing
the verdicts of that range: running it again gives the same verdicts. A
range with more background sessions than piece_sessions (a million) is
judged in pieces of about as many, one after another, each in its own
transaction; if the run fails, run it again. Tolerances, the match
window and piece_sessions come from the config.
TIME is RFC 3339 (2024-03-01T10:00:00Z), a date (2024-03-01, UTC), now,
or -DURATION before now (-24h).`, stderr)
	fromS := fs.String("from", "", "start of the range (included)")
	toS := fs.String("to", "", "end of the range (excluded)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	now := time.Now()
	from, err := parseWhen("from", *fromS, now)
	if err != nil {
		return err
	}
	to, err := parseWhen("to", *toS, now)
	if err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	log := newLogger("warn", stderr, false)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	e, err := recon.New(st, cfg.ReconConfig(), log)
	if err != nil {
		return err
	}
	res, err := e.Reconcile(ctx, from, to)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"from": res.From, "to": res.To, "counts": res.Counts, "seconds": res.Took.Seconds()})
	}
	fmt.Fprintf(stdout, "reconciled %s to %s in %v: %d verdicts\n", res.From.Format(time.RFC3339), res.To.Format(time.RFC3339),
		res.Took.Round(time.Millisecond), res.Total())
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', tabwriter.AlignRight)
	for _, k := range recon.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t\n", k, res.Counts[k])
	}
	return tw.Flush()
}

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("report [flags]", `Prints what reconciliation found in [from, to): verdict counts by kind,
gateways whose bills drift or are least accurate, and the findings (every
verdict but match, unless -kind says otherwise). -format csv writes the
findings as CSV (the columns of the API's findings.csv), -format json the
whole report.`, stderr)
	fromS := fs.String("from", "-168h", "start of the period (RFC 3339, date, now or -DURATION)")
	toS := fs.String("to", "now", "end of the period")
	format := fs.String("format", "text", "text, json or csv")
	kind := fs.String("kind", "", "comma-separated verdict kinds of the findings to list (default: all but match)")
	gateway := fs.String("gateway", "", "only this gateway")
	user := fs.String("user", "", "only this user")
	limit := fs.Int("limit", 50, "findings to list (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	now := time.Now()
	from, err := parseWhen("from", *fromS, now)
	if err != nil {
		return err
	}
	to, err := parseWhen("to", *toS, now)
	if err != nil {
		return err
	}
	cfg, st, err := c.openAdmin(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	rd := &report.Reader{Pool: st.Pool, DriftBasisPoints: cfg.DriftBasisPoints, MinPairs: cfg.DriftMinBills}
	f := report.Filter{From: from, To: to, Gateway: *gateway, User: *user, Limit: *limit}
	if *limit == 0 {
		f.Limit = -1
	}
	if *kind != "" {
		f.Kinds = strings.Split(*kind, ",")
	}
	findings, err := rd.Findings(ctx, f)
	if err != nil {
		return err
	}
	if *format == "csv" {
		return web.WriteCSV(csv.NewWriter(stdout), findings)
	}
	counts, err := rd.Counts(ctx, from, to, "day", *gateway)
	if err != nil {
		return err
	}
	gws, err := rd.Gateways(ctx, from, to)
	if err != nil {
		return err
	}
	totals := report.Totals(counts)
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"from": from, "to": to, "totals": totals, "counts": counts, "gateways": gws, "findings": findings})
	case "text":
	default:
		return fmt.Errorf("-format %q: want text, json or csv", *format)
	}
	fmt.Fprintf(stdout, "billd report %s to %s (UTC)\n\n", from.Format(time.RFC3339), to.Format(time.RFC3339))
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tCOUNT\t")
	for _, k := range recon.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t\n", k, totals[string(k)])
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	var drifting []report.Gateway
	for _, g := range gws {
		if g.Drifting {
			drifting = append(drifting, g)
		}
	}
	if len(drifting) == 0 {
		fmt.Fprintln(stdout, "No gateway drifts.")
	} else {
		fmt.Fprintln(stdout, "DRIFTING GATEWAYS")
		for _, g := range drifting {
			fmt.Fprintf(stdout, "  %s (%s): %s\n", g.ID, g.Owner, g.Why)
		}
	}
	fmt.Fprintln(stdout)
	tw = tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "GATEWAY\tOWNER\tBILLS\tRIGHT\tDRIFT\tFINDINGS\t")
	for i, g := range gws {
		if i == 10 {
			break
		}
		var ks []string
		for k, n := range g.Kinds {
			if k != "match" && k != "within_tolerance" {
				ks = append(ks, fmt.Sprintf("%s=%d", k, n))
			}
		}
		sort.Strings(ks)
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f%%\t%+.2f%%\t%s\t\n", g.ID, g.Owner, g.Bills, 100*g.Accuracy, float64(g.DriftBasisPoints)/100, strings.Join(ks, " "))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nFINDINGS (%d shown)\n", len(findings))
	tw = tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN\tVERDICT\tGATEWAY\tUSER\tDIFF S/IN/OUT/CHARGE\tDETAIL\t")
	d := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%+d", *p)
	}
	for _, f := range findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s/%s/%s/%s\t%s\t\n", f.Period.Format(time.RFC3339), f.Kind, f.GatewayID, f.UserName,
			d(f.DiffSeconds), d(f.DiffIn), d(f.DiffOut), d(f.DiffCharge), f.Detail)
	}
	return tw.Flush()
}

// parseKey reads an Ed25519 public key as hex, base64, or @FILE holding
// either.
func parseKey(v string) (ed25519.PublicKey, error) {
	if rest, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(rest)
		if err != nil {
			return nil, err
		}
		v = strings.TrimSpace(string(b))
	}
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString} {
		if b, err := dec(v); err == nil && len(b) == ed25519.PublicKeySize {
			// A point, and not one of small order (rfc/bill: no signature
			// under such a key means anything).
			if err := bill.CheckPublicKey(b); err != nil {
				return nil, fmt.Errorf("public key %q: %w", v, err)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("public key %q: want 32 octets of Ed25519 key as hex (64 digits) or base64, or @FILE", v)
}

const gatewaysUsage = `Manages the gateway registry: a gateway's id (its NAS-Identifier and
EdgeBill-Gateway-Id), its Ed25519 public key (bills are verified against
it), the RADIUS shared secret its Accounting-Requests are signed with, an
owner, and optionally the network its packets must come from. A running
billd picks changes up within gateway_refresh (5s).

Subcommands:
  billd gateways add -id ID -public-key KEY -secret SECRET [-owner O] [-source CIDR] [-replace]
  billd gateways list [-json]
  billd gateways disable -id ID    (bills still stored, flagged gateway_disabled)
  billd gateways enable -id ID`

func cmdGateways(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, "Usage: billd gateways add|list|disable|enable [flags]\n\n"+gatewaysUsage)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	sub, rest := args[0], args[1:]
	fs, c := newFlags("gateways "+sub+" [flags]", gatewaysUsage, stderr)
	id := fs.String("id", "", "gateway id")
	var key, secret, owner, source *string
	var replace, asJSON *bool
	switch sub {
	case "add":
		key = fs.String("public-key", "", "Ed25519 public key: hex, base64 or @FILE")
		secret = fs.String("secret", "", "RADIUS shared secret (or @FILE)")
		owner = fs.String("owner", "", "who the gateway belongs to")
		source = fs.String("source", "", "network its packets must come from, e.g. 100.64.0.0/10 (default: anywhere)")
		replace = fs.Bool("replace", false, "overwrite an existing registration (key or secret rotation)")
	case "list":
		asJSON = fs.Bool("json", false, "print JSON")
	case "disable", "enable":
	default:
		fmt.Fprintf(stderr, "billd gateways: unknown subcommand %q\n\n%s\n", sub, gatewaysUsage)
		return errUsage
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	_, st, err := c.openAdmin(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "add":
		if *id == "" || *key == "" || *secret == "" {
			fs.Usage()
			return errUsage
		}
		pub, err := parseKey(*key)
		if err != nil {
			return err
		}
		sec := *secret
		if rest, ok := strings.CutPrefix(sec, "@"); ok {
			b, err := os.ReadFile(rest)
			if err != nil {
				return err
			}
			sec = strings.TrimSpace(string(b))
		}
		g := store.Gateway{ID: *id, PublicKey: pub, Secret: sec, Owner: *owner}
		if *source != "" {
			p, err := netip.ParsePrefix(*source)
			if err != nil {
				return fmt.Errorf("-source: %w", err)
			}
			g.Source = p
		}
		if err := st.AddGateway(ctx, g, *replace); err != nil {
			if errors.Is(err, store.ErrGatewayExists) {
				return fmt.Errorf("%w (use -replace to overwrite)", err)
			}
			return err
		}
		fmt.Fprintf(stdout, "gateway %s registered\n", *id)
	case "list":
		gs, err := st.Gateways(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			type out struct {
				ID, PublicKey, Owner, Status, Source string
				Created                              time.Time
			}
			var o []out
			for _, g := range gs {
				src := ""
				if g.Source.IsValid() {
					src = g.Source.String()
				}
				o = append(o, out{g.ID, hex.EncodeToString(g.PublicKey), g.Owner, g.Status, src, g.CreatedAt})
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(o)
		}
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tOWNER\tSOURCE\tPUBLIC KEY\tREGISTERED\t")
		for _, g := range gs {
			src := "any"
			if g.Source.IsValid() {
				src = g.Source.String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", g.ID, g.Status, g.Owner, src, hex.EncodeToString(g.PublicKey), g.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "disable", "enable":
		if *id == "" {
			fs.Usage()
			return errUsage
		}
		status := store.GatewayDisabled
		if sub == "enable" {
			status = store.GatewayActive
		}
		if err := st.SetGatewayStatus(ctx, *id, status); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "gateway %s %sd\n", *id, sub)
	}
	return nil
}

const tariffsUsage = `Tariff versions billd prices bills with, by id and version. billd copies
them from the ISP's RADIUS tables (EdgeBill-Tariff in radgroupreply and
radreply) before each reconciliation; a version is kept after the plan
moves on, and never changed in place. An operator can add one by hand.

Subcommands:
  billd tariffs list
  billd tariffs sync               copy from radgroupreply / radreply now
  billd tariffs add -text 'T1;id=...;v=...'   or   -file FILE`

func cmdTariffs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, "Usage: billd tariffs list|sync|add [flags]\n\n"+tariffsUsage)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	sub, rest := args[0], args[1:]
	fs, c := newFlags("tariffs "+sub+" [flags]", tariffsUsage, stderr)
	var text, file *string
	switch sub {
	case "add":
		text = fs.String("text", "", "tariff text")
		file = fs.String("file", "", "file holding the tariff text")
	case "list", "sync":
	default:
		fmt.Fprintf(stderr, "billd tariffs: unknown subcommand %q\n\n%s\n", sub, tariffsUsage)
		return errUsage
	}
	if err := parse(fs, rest); err != nil {
		return err
	}
	_, st, err := c.openAdmin(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "sync":
		res, err := st.SyncTariffs(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d new tariff versions", len(res.Added))
		for _, k := range res.Added {
			fmt.Fprintf(stdout, " %v;", k)
		}
		fmt.Fprintln(stdout)
		for _, k := range res.Conflicts {
			fmt.Fprintf(stdout, "CONFLICT: %v is stored with another text; the RADIUS tables changed it without a new version\n", k)
		}
		for where, err := range res.Invalid {
			fmt.Fprintf(stdout, "INVALID: %s: %v\n", where, err)
		}
	case "add":
		t := *text
		if *file != "" {
			b, err := os.ReadFile(*file)
			if err != nil {
				return err
			}
			t = strings.TrimSpace(string(b))
		}
		if t == "" {
			fs.Usage()
			return errUsage
		}
		k, added, err := st.AddTariff(ctx, t, "operator")
		if err != nil {
			return err
		}
		if added {
			fmt.Fprintf(stdout, "tariff %v added\n", k)
		} else {
			fmt.Fprintf(stdout, "tariff %v was already stored\n", k)
		}
	case "list":
		rows, err := st.Pool.Query(ctx, `SELECT id, version, source, first_seen, text FROM billd.tariffs ORDER BY id, version`)
		if err != nil {
			return err
		}
		defer rows.Close()
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tVERSION\tSOURCE\tFIRST SEEN\tTEXT\t")
		for rows.Next() {
			var id, source, txt string
			var v int64
			var seen time.Time
			if err := rows.Scan(&id, &v, &source, &seen, &txt); err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", id, v, source, seen.UTC().Format(time.RFC3339), txt)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tw.Flush()
	}
	return nil
}
