package lab

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/edgebill/edgebill/internal/testenv"
)

// TestDatabaseEnv, when set to a postgres:// URL, makes StartPostgres use
// that server instead of making a private cluster: each call then creates
// a fresh database on it.
const TestDatabaseEnv = "EDGEBILL_TEST_DATABASE"

// KeepDatabaseEnv, when set, keeps the database a test made on the
// server of TestDatabaseEnv instead of dropping it, to look at what a
// test or a benchmark left (EXPLAIN the reconciliation on a million rows).
const KeepDatabaseEnv = "EDGEBILL_KEEP_DATABASE"

// Postgres is a PostgreSQL server for one test (or one demo run) with a
// fresh database on it.
type Postgres struct {
	// URL connects to the fresh database as a superuser.
	URL string
	// Host, Port, User and Database are URL's parts, for programs that
	// take them separately (FreeRADIUS's rlm_sql).
	Host     string
	Port     int
	User     string
	Database string

	dir  string // data folder of a private cluster; "" for an external one
	bin  string
	proc *process
	log  *logBuffer
	opts PostgresOptions
}

// PostgresOptions tune a private cluster. The zero value is a cluster on
// 127.0.0.1 in this network namespace with fsync on, as in production.
type PostgresOptions struct {
	// Netns runs the server inside this network namespace (its own
	// 127.0.0.1); connect with (*Netns).DialContext.
	Netns *Netns
	// NoFsync turns fsync and synchronous_commit off, for tests that
	// measure nothing about durability and want speed.
	NoFsync bool
	// Settings are extra -c name=value server settings.
	Settings map[string]string
}

// StartPostgres gives the test a fresh PostgreSQL database: on the server
// named by EDGEBILL_TEST_DATABASE if set, else on a private cluster made
// with initdb in a temporary folder, owned by the postgres user, on a free
// port of 127.0.0.1; stopped and removed when the test ends.
func StartPostgres(t testing.TB, opts *PostgresOptions) *Postgres {
	t.Helper()
	var o PostgresOptions
	if opts != nil {
		o = *opts
	}
	if u := os.Getenv(TestDatabaseEnv); u != "" && o.Netns == nil {
		return externalPostgres(t, u)
	}
	testenv.Root(t)
	bin := postgresBinDir(t)
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		testenv.Missing(t, "the postgres system user (Debian's postgresql-common makes it)")
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)

	dir, err := os.MkdirTemp("", "edgebill-pg-")
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatalf("lab: %v", err)
	}
	cred := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}

	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = cred
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("lab: initdb: %v\n%s", err, out)
	}

	pg := &Postgres{dir: dir, bin: bin, Host: "127.0.0.1", User: "postgres", Database: "edgebill", log: &logBuffer{max: 1 << 20}, opts: o}
	pg.Port = freePort(t, "tcp")
	if err := pg.Start(); err != nil {
		t.Fatalf("%v\n%s", err, pg.log)
	}
	t.Cleanup(func() {
		pg.Stop(false)
		if t.Failed() {
			t.Logf("postgres log:\n%s", pg.log)
		}
	})

	if err := pg.exec(context.Background(), "postgres", "CREATE DATABASE "+pg.Database); err != nil {
		t.Fatalf("lab: %v", err)
	}
	pg.URL = pg.urlFor(pg.Database)
	return pg
}

func postgresBinDir(t testing.TB) string {
	for _, d := range []string{"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"} {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d
		}
	}
	p := testenv.Binary(t, "initdb")
	return filepath.Dir(p)
}

// Start starts a private cluster's server (again, after Stop) and waits
// until it accepts connections.
func (pg *Postgres) Start() error {
	if pg.dir == "" {
		return fmt.Errorf("lab: external Postgres cannot be started")
	}
	if pg.proc != nil && !pg.proc.exited() {
		return nil
	}
	args := []string{
		"-D", filepath.Join(pg.dir, "data"),
		"-p", itoa(pg.Port),
		"-k", pg.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "max_connections=200",
		"-c", "shared_buffers=256MB",
		"-c", "logging_collector=off",
	}
	if pg.opts.NoFsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	for k, v := range pg.opts.Settings {
		args = append(args, "-c", k+"="+v)
	}
	var cmd *exec.Cmd
	pgUser, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	uid, _ := strconv.Atoi(pgUser.Uid)
	gid, _ := strconv.Atoi(pgUser.Gid)
	if pg.opts.Netns != nil {
		cmd = pg.opts.Netns.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pg.bin, "postgres")}, args...)...)
	} else {
		cmd = exec.Command(filepath.Join(pg.bin, "postgres"), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	cmd.Dir = pg.dir
	proc, err := startProcess("postgres", cmd, pg.log)
	if err != nil {
		return err
	}
	pg.proc = proc
	ok := waitFor(30*time.Second, func() bool {
		if proc.exited() {
			return true
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, err := pg.connect(ctx, "postgres")
		if err != nil {
			return false
		}
		c.Close(ctx)
		return true
	})
	if proc.exited() {
		return fmt.Errorf("lab: postgres exited at start: %v", proc.err)
	}
	if !ok {
		return fmt.Errorf("lab: postgres did not accept connections within 30s")
	}
	return nil
}

// Stop stops a private cluster's server: a fast shutdown, or with
// immediate an immediate one (no checkpoint, crash recovery at the next
// start: the "pg_ctl stop -m immediate" of the fault tests).
func (pg *Postgres) Stop(immediate bool) {
	if pg.proc == nil {
		return
	}
	if immediate {
		pg.proc.stop(syscall.SIGQUIT, 10*time.Second)
	} else {
		pg.proc.stop(syscall.SIGINT, 20*time.Second)
	}
}

// Log returns the server's output so far.
func (pg *Postgres) Log() string { return pg.log.String() }

func (pg *Postgres) urlFor(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(pg.User), Host: net.JoinHostPort(pg.Host, itoa(pg.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

func (pg *Postgres) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	u := pg.urlFor(db)
	if pg.dir == "" {
		u = pg.URL // external: its URL carries what it needs
	}
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		return nil, err
	}
	if pg.opts.Netns != nil {
		cfg.DialFunc = pg.opts.Netns.DialContext
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// Connect opens a connection to the test's database.
func (pg *Postgres) Connect(ctx context.Context) (*pgx.Conn, error) {
	return pg.connect(ctx, pg.Database)
}

func (pg *Postgres) exec(ctx context.Context, db, sql string) error {
	c, err := pg.connect(ctx, db)
	if err != nil {
		return fmt.Errorf("lab: connect: %w", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// Exec runs SQL (several statements are fine) on the test's database.
func (pg *Postgres) Exec(ctx context.Context, sql string) error {
	return pg.exec(ctx, pg.Database, sql)
}

// ExecFile runs the SQL file at path on the test's database.
func (pg *Postgres) ExecFile(ctx context.Context, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := pg.Exec(ctx, string(b)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func externalPostgres(t testing.TB, base string) *Postgres {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("lab: %s: %v", TestDatabaseEnv, err)
	}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 5432
	}
	pg := &Postgres{Host: u.Hostname(), Port: port, User: u.User.Username(), log: &logBuffer{}}
	pg.Database = fmt.Sprintf("edgebill_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	admin := *u
	ctx := context.Background()
	c, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		t.Fatalf("lab: %s: %v", TestDatabaseEnv, err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+pg.Database); err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(func() {
		if os.Getenv(KeepDatabaseEnv) != "" {
			t.Logf("lab: %s set: database %s kept", KeepDatabaseEnv, pg.Database)
			return
		}
		c, err := pgx.Connect(ctx, admin.String())
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pg.Database+" WITH (FORCE)")
	})
	u.Path = "/" + pg.Database
	pg.URL = u.String()
	return pg
}
