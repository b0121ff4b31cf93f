package lab

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
)

// Where Debian's freeradius-postgresql package keeps the stock SQL: the
// radacct & co. schema and the queries rlm_sql runs against it. They are
// read from the installed package, not copied into the repository, so the
// lab always runs the stock schema of the FreeRADIUS it starts.
const (
	StockSchemaSQL  = "/etc/freeradius/3.0/mods-config/sql/main/postgresql/schema.sql"
	StockQueriesSQL = "/etc/freeradius/3.0/mods-config/sql/main/postgresql/queries.conf"
)

// FreeRADIUSOptions configure a FreeRADIUS instance. Zero values are the
// test defaults.
type FreeRADIUSOptions struct {
	// Netns runs the server in this namespace; Addr is then an address
	// of that namespace (default 127.0.0.1 of the namespace).
	Netns *Netns
	// Addr is the address to listen on (default 127.0.0.1).
	Addr string
	// NASNet and GatewayNet are where the BRAS and the gateways send from
	// (defaults 127.0.0.1/32 and 127.0.0.2/32); FreeRADIUS tells clients
	// apart by source address.
	NASNet, GatewayNet string
	// NASSecret and GatewaySecret default to random strings.
	NASSecret, GatewaySecret string
	// Debug runs freeradius -X (every packet in the log: slow, verbose).
	Debug bool
	// Fixtures are SQL files run after the stock schema (paths relative
	// to the repository root allowed), e.g. testdata/sql/subscribers.sql.
	Fixtures []string
}

// FreeRADIUS is a running FreeRADIUS 3.2 configured from
// testdata/freeradius, storing into a Postgres database.
type FreeRADIUS struct {
	AuthAddr, AcctAddr string // host:port
	NASSecret          string
	GatewaySecret      string
	Dir                string // the configuration folder it runs from
	PG                 *Postgres

	opts FreeRADIUSOptions
	env  []string
	proc *process
	log  *logBuffer
}

// StartFreeRADIUS loads FreeRADIUS's stock schema and any fixtures into
// pg's database, then starts freeradius from a copy of testdata/freeradius
// on free ports, and waits until it serves. The server's log is shown if
// the test fails.
func StartFreeRADIUS(t testing.TB, pg *Postgres, opts *FreeRADIUSOptions) *FreeRADIUS {
	t.Helper()
	bin := testenv.Binary(t, "freeradius")
	for _, f := range []string{StockSchemaSQL, StockQueriesSQL} {
		if _, err := os.Stat(f); err != nil {
			testenv.Missing(t, f+" (Debian package freeradius-postgresql; run `make deps`)")
		}
	}
	var o FreeRADIUSOptions
	if opts != nil {
		o = *opts
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1"
	}
	if o.NASNet == "" {
		o.NASNet = "127.0.0.1/32"
	}
	if o.GatewayNet == "" {
		o.GatewayNet = "127.0.0.2/32"
	}
	if o.NASSecret == "" {
		o.NASSecret = "nas-" + randHex(8)
	}
	if o.GatewaySecret == "" {
		o.GatewaySecret = "gw-" + randHex(8)
	}

	ctx := context.Background()
	if err := pg.ExecFile(ctx, StockSchemaSQL); err != nil {
		t.Fatalf("lab: stock schema: %v", err)
	}
	root := RepoRoot()
	for _, f := range o.Fixtures {
		if !filepath.IsAbs(f) {
			f = filepath.Join(root, f)
		}
		if err := pg.ExecFile(ctx, f); err != nil {
			t.Fatalf("lab: fixture: %v", err)
		}
	}

	dir := t.TempDir()
	if err := copyDir(filepath.Join(root, "testdata", "freeradius"), dir); err != nil {
		t.Fatalf("lab: %v", err)
	}
	for src, dst := range map[string]string{
		StockQueriesSQL: "sql-queries.conf",
		filepath.Join(root, "rfc", "radiusx", "dictionary.edgebill"): "dictionary.edgebill",
	} {
		if err := copyFile(src, filepath.Join(dir, dst)); err != nil {
			t.Fatalf("lab: %v", err)
		}
	}
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatalf("lab: %v", err)
	}

	ports := freeUDPPorts(t, 2)
	fr := &FreeRADIUS{
		AuthAddr:      net.JoinHostPort(o.Addr, itoa(ports[0])),
		AcctAddr:      net.JoinHostPort(o.Addr, itoa(ports[1])),
		NASSecret:     o.NASSecret,
		GatewaySecret: o.GatewaySecret,
		Dir:           dir,
		PG:            pg,
		opts:          o,
		log:           &logBuffer{max: 4 << 20},
	}
	fr.env = append(os.Environ(),
		"EDGEBILL_RADIUS_ADDR="+o.Addr,
		"EDGEBILL_RADIUS_AUTH_PORT="+itoa(ports[0]),
		"EDGEBILL_RADIUS_ACCT_PORT="+itoa(ports[1]),
		"EDGEBILL_RADIUS_RUN="+run,
		"EDGEBILL_PG_HOST="+pg.Host,
		"EDGEBILL_PG_PORT="+itoa(pg.Port),
		"EDGEBILL_PG_USER="+pg.User,
		"EDGEBILL_PG_DB="+pg.Database,
		"EDGEBILL_RADIUS_NAS_NET="+o.NASNet,
		"EDGEBILL_RADIUS_SECRET_NAS="+o.NASSecret,
		"EDGEBILL_RADIUS_GATEWAY_NET="+o.GatewayNet,
		"EDGEBILL_RADIUS_SECRET_GATEWAY="+o.GatewaySecret,
	)
	_ = bin
	if err := fr.Start(); err != nil {
		t.Fatalf("%v\n%s", err, fr.log)
	}
	t.Cleanup(func() {
		fr.Stop()
		if t.Failed() {
			t.Logf("freeradius log:\n%s", fr.log)
		}
	})
	return fr
}

// Start starts the server (again, after Stop) and waits until it is ready.
func (fr *FreeRADIUS) Start() error {
	if fr.proc != nil && !fr.proc.exited() {
		return nil
	}
	args := []string{"-f", "-l", "stdout", "-d", fr.Dir, "-n", "radiusd"}
	if fr.opts.Debug {
		args = []string{"-X", "-l", "stdout", "-d", fr.Dir, "-n", "radiusd"}
	}
	var cmd *exec.Cmd
	if fr.opts.Netns != nil {
		cmd = fr.opts.Netns.Command("freeradius", args...)
	} else {
		cmd = exec.Command("freeradius", args...)
	}
	cmd.Env = fr.env
	cmd.Dir = fr.Dir
	mark := len(fr.log.String())
	proc, err := startProcess("freeradius", cmd, fr.log)
	if err != nil {
		return err
	}
	fr.proc = proc
	ready := waitFor(30*time.Second, func() bool {
		return proc.exited() || strings.Contains(fr.log.String()[mark:], "Ready to process requests")
	})
	if proc.exited() {
		return fmt.Errorf("lab: freeradius exited at start: %v", proc.err)
	}
	if !ready {
		return fmt.Errorf("lab: freeradius not ready within 30s")
	}
	return nil
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s).
func (fr *FreeRADIUS) Stop() {
	if fr.proc != nil {
		fr.proc.stop(syscall.SIGTERM, 10*time.Second)
	}
}

// Restart stops and starts the server.
func (fr *FreeRADIUS) Restart() error {
	fr.Stop()
	return fr.Start()
}

// Log returns the server's output so far.
func (fr *FreeRADIUS) Log() string { return fr.log.String() }

func copyDir(src, dst string) error {
	return filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
