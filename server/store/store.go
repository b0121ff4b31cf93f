package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Schema is the Postgres schema billd's tables live in.
const Schema = "billd"

// Advisory lock keys (pg_advisory_xact_lock) that serialise work two
// billd instances might do at once on one database.
const (
	lockMigrate    = 0x6269_6c6c_6400_0001
	lockPartitions = 0x6269_6c6c_6400_0002
	// LockReconcile serialises reconciliation runs.
	LockReconcile = 0x6269_6c6c_6400_0003
)

// Store is billd's database: a pgx pool on the database that also holds
// FreeRADIUS's radacct. Every connection runs with synchronous_commit on,
// whatever the server's default, so a committed bill is on disk before
// billd acknowledges it.
type Store struct {
	Pool *pgxpool.Pool
	log  *zap.Logger
}

// Options tune Open. The zero value is a pool of 8 connections.
type Options struct {
	// MaxConns is the pool size (default 8).
	MaxConns int32
}

// Open connects to the database at url (a postgres:// URL or DSN). It
// does not wait for the server: a pool connects on first use, so billd
// can start while Postgres is down.
func Open(ctx context.Context, url string, opts Options, log *zap.Logger) (*Store, error) {
	if log == nil {
		log = zap.NewNop()
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: database URL: %w", err)
	}
	cfg.MaxConns = 8
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	cfg.ConnConfig.RuntimeParams["application_name"] = "billd"
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return &Store{Pool: pool, log: log.Named("store")}, nil
}

// Conn opens a connection of its own (not from the pool) with extra
// run-time settings, for work that changes its session: reconciliation
// sets temp_buffers, which only a fresh session may, and frees the memory
// when it closes the connection.
func (s *Store) Conn(ctx context.Context, settings map[string]string) (*pgx.Conn, error) {
	cfg := s.Pool.Config().ConnConfig.Copy()
	for k, v := range settings {
		cfg.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// Close closes the pool.
func (s *Store) Close() { s.Pool.Close() }

// Migration is one embedded schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	ents, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range ents {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration %q: name must start with a version number and '_'", name)
		}
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("store: two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

// Migrate applies the embedded migrations not yet applied, each in its
// own transaction, recording them in billd.schema_migrations; then it
// makes sure of what is not versioned: billd's indexes on radacct (when
// FreeRADIUS's schema is there), the view billd.verdicts_all, and the time partitions from last month
// to monthsAhead months ahead. It is safe to run again and from two
// instances at once. It returns the names of the migrations it applied.
func (s *Store) Migrate(ctx context.Context, monthsAhead int) ([]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	var applied []string
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockMigrate)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS billd;
			CREATE TABLE IF NOT EXISTS billd.schema_migrations (
				version     integer PRIMARY KEY,
				name        text NOT NULL,
				applied_at  timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
			return err
		}
		done := map[int]bool{}
		rows, err := tx.Query(ctx, `SELECT version FROM billd.schema_migrations`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				return err
			}
			done[v] = true
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, m := range ms {
			if done[m.Version] {
				continue
			}
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("store: migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO billd.schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return err
			}
			applied = append(applied, m.Name)
			s.log.Info("applied migration", zap.String("name", m.Name))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.EnsureRadacctIndexes(ctx); err != nil {
		return applied, err
	}
	if err := s.EnsureVerdictsView(ctx); err != nil {
		return applied, err
	}
	now := time.Now().UTC()
	if err := s.EnsurePartitions(ctx, now.AddDate(0, -1, 0), now.AddDate(0, monthsAhead, 0)); err != nil {
		return applied, err
	}
	return applied, nil
}

// SchemaVersion returns the highest migration applied, 0 for none.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v *int
	err := s.Pool.QueryRow(ctx, `SELECT max(version) FROM billd.schema_migrations`).Scan(&v)
	if err != nil {
		return 0, err
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// radacctIndexes are billd's own indexes on FreeRADIUS's radacct:
// sessions by their end (the stop time, else the last interim, else the
// start, as the matcher reads it), and a user's sessions by their end. They are made CONCURRENTLY, so FreeRADIUS keeps
// writing while they build.
var radacctIndexes = []struct{ name, def string }{
	{"billd_radacct_user_end", `public.radacct (username, (COALESCE(acctstoptime, acctupdatetime, acctstarttime)))`},
	{"billd_radacct_end", `public.radacct ((COALESCE(acctstoptime, acctupdatetime, acctstarttime)))`},
}

// EnsureRadacctIndexes adds billd's indexes to public.radacct when the
// table exists; it does nothing when it does not (FreeRADIUS's schema is
// loaded later: run `billd migrate` again then).
func (s *Store) EnsureRadacctIndexes(ctx context.Context) error {
	var exists bool
	if err := s.Pool.QueryRow(ctx, `SELECT to_regclass('public.radacct') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		s.log.Warn("public.radacct does not exist yet: load FreeRADIUS's schema, then run migrate again")
		return nil
	}
	for _, ix := range radacctIndexes {
		// A failed concurrent build leaves an invalid index: drop it first.
		var valid *bool
		err := s.Pool.QueryRow(ctx, `SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = $1`, ix.name).Scan(&valid)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if valid != nil && *valid {
			continue
		}
		if valid != nil {
			if _, err := s.Pool.Exec(ctx, `DROP INDEX CONCURRENTLY IF EXISTS public.`+ix.name); err != nil {
				return err
			}
		}
		if _, err := s.Pool.Exec(ctx, `CREATE INDEX CONCURRENTLY IF NOT EXISTS `+ix.name+` ON `+ix.def); err != nil {
			return fmt.Errorf("store: index %s on radacct: %w", ix.name, err)
		}
	}
	return nil
}

// partitioned are the tables partitioned by month, with their partition
// key column.
var partitioned = []struct{ table, column string }{
	{"bills", "stop_time"},
	{"verdicts", "period"},
	{"matches", "period"},
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// PartitionName is the monthly partition of table holding t.
func PartitionName(table string, t time.Time) string {
	m := monthStart(t)
	return fmt.Sprintf("%s_p%04d_%02d", table, m.Year(), int(m.Month()))
}

// EnsurePartitions makes the monthly partitions of every partitioned
// table from the month of from to the month of to, both included. Rows
// already in a table's default partition for a month it makes are moved
// into the new partition in the same transaction.
func (s *Store) EnsurePartitions(ctx context.Context, from, to time.Time) error {
	if to.Before(from) {
		return nil
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(lockPartitions)); err != nil {
			return err
		}
		for m := monthStart(from); !m.After(to); m = m.AddDate(0, 1, 0) {
			next := m.AddDate(0, 1, 0)
			for _, p := range partitioned {
				name := PartitionName(p.table, m)
				var exists bool
				if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, Schema+"."+name).Scan(&exists); err != nil {
					return err
				}
				if exists {
					continue
				}
				lo, hi := m.Format(time.RFC3339), next.Format(time.RFC3339)
				var stray bool
				q := fmt.Sprintf(`SELECT EXISTS (SELECT 1 FROM billd.%s_default WHERE %s >= $1 AND %s < $2)`, p.table, p.column, p.column)
				if err := tx.QueryRow(ctx, q, m, next).Scan(&stray); err != nil {
					return err
				}
				var sql string
				if !stray {
					sql = fmt.Sprintf(`CREATE TABLE billd.%s PARTITION OF billd.%s FOR VALUES FROM ('%s') TO ('%s')`, name, p.table, lo, hi)
				} else {
					sql = fmt.Sprintf(`CREATE TABLE billd.%[1]s (LIKE billd.%[2]s INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
						WITH moved AS (DELETE FROM billd.%[2]s_default WHERE %[3]s >= '%[4]s' AND %[3]s < '%[5]s' RETURNING *)
						INSERT INTO billd.%[1]s SELECT * FROM moved;
						ALTER TABLE billd.%[2]s ATTACH PARTITION billd.%[1]s FOR VALUES FROM ('%[4]s') TO ('%[5]s')`,
						name, p.table, p.column, lo, hi)
				}
				if _, err := tx.Exec(ctx, sql); err != nil {
					return fmt.Errorf("store: partition %s: %w", name, err)
				}
				s.log.Info("made partition", zap.String("name", name), zap.Bool("moved_rows", stray))
			}
		}
		return nil
	})
}
