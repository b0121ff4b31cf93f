package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"

	"github.com/edgebill/edgebill/server/ingest"
	"github.com/edgebill/edgebill/server/recon"
	"github.com/edgebill/edgebill/server/report"
	"github.com/edgebill/edgebill/server/store"
	"github.com/edgebill/edgebill/server/web"
)

// Billd is a running billd: the accounting listener, continuous
// reconciliation, and the HTTP API and dashboard.
type Billd struct {
	Store  *store.Store
	Ingest *ingest.Server
	Recon  *recon.Engine
	HTTP   net.Listener // nil when listen_http is off
	cfg    Config
	log    *zap.Logger
	reg    *prometheus.Registry
	web    http.Handler
}

// ReconConfig is the reconciliation part of cfg.
func (cfg *Config) ReconConfig() recon.Config {
	return recon.Config{
		Window:        cfg.MatchWindow,
		Grace:         cfg.Grace,
		Interval:      cfg.ReconcileInterval,
		Tolerance:     recon.Tolerance{Seconds: cfg.ToleranceSeconds, Octets: cfg.ToleranceOctets, BasisPoints: cfg.ToleranceBasisPoints},
		MissingScope:  cfg.MissingScope,
		PieceSessions: cfg.PieceSessions,
		Instance:      cfg.Instance,
	}
}

// Token returns the API token from api_token or api_token_file.
func (cfg *Config) Token() (string, error) {
	if cfg.APIToken != "" {
		return cfg.APIToken, nil
	}
	if cfg.APITokenFile != "" {
		b, err := os.ReadFile(cfg.APITokenFile)
		if err != nil {
			return "", fmt.Errorf("api_token_file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// NewBilld opens the store and binds the sockets; Run serves. The schema
// must be migrated (`billd migrate`).
func NewBilld(ctx context.Context, cfg Config, log *zap.Logger) (*Billd, error) {
	cfg.Defaults()
	if cfg.Instance == "" {
		cfg.Instance, _ = os.Hostname()
	}
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.DatabaseURL == "" {
		return nil, errors.New("no database: set database_url, DATABASE_URL or -database")
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: int32(max(cfg.Committers, 2) + 6)}, log)
	if err != nil {
		return nil, err
	}
	b := &Billd{Store: st, cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	b.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := b.checkSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	b.Ingest, err = ingest.New(ingest.Config{
		Addr: cfg.ListenAcct, QueueSize: cfg.QueueSize, BatchMax: cfg.BatchMax, BatchWait: cfg.BatchWait,
		Committers: cfg.Committers, DupTTL: cfg.DupTTL, GatewayRefresh: cfg.GatewayRefresh, Clients: cfg.Clients,
		Instance: cfg.Instance, Registerer: b.reg,
	}, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	rc := cfg.ReconConfig()
	rc.Registerer = b.reg
	if b.Recon, err = recon.New(st, rc, log); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.ListenHTTP != "off" {
		token, err := cfg.Token()
		if err != nil {
			st.Close()
			return nil, err
		}
		rd := &report.Reader{Pool: st.Pool, DriftBasisPoints: cfg.DriftBasisPoints, MinPairs: cfg.DriftMinBills}
		if b.web, err = web.New(rd, web.Config{Token: token, Gatherer: b.reg}, log); err != nil {
			st.Close()
			return nil, fmt.Errorf("%w (api_token or api_token_file; listen_http = off turns the HTTP side off)", err)
		}
		if b.HTTP, err = net.Listen("tcp", cfg.ListenHTTP); err != nil {
			st.Close()
			return nil, err
		}
	}
	return b, nil
}

// checkSchema refuses to serve an unmigrated database; Postgres being
// down is no reason not to start (bills queue until it is back).
func (b *Billd) checkSchema(ctx context.Context) error {
	ms, err := store.Migrations()
	if err != nil {
		return err
	}
	want := ms[len(ms)-1].Version
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := b.Store.SchemaVersion(cctx)
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return fmt.Errorf("the database has no billd schema: run `billd migrate` first")
		}
		b.log.Warn("cannot check the schema version (database down?); starting anyway", zap.Error(err))
		return nil
	}
	if v < want {
		return fmt.Errorf("the database schema is at version %d, billd needs %d: run `billd migrate`", v, want)
	}
	return nil
}

// Registry is the metrics registry.
func (b *Billd) Registry() *prometheus.Registry { return b.reg }

// Run serves until ctx ends, then shuts down: the listener answers what
// it has committed, the HTTP server finishes its requests.
func (b *Billd) Run(ctx context.Context) error {
	defer b.Store.Close()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return b.Ingest.Run(ctx) })
	if !b.cfg.NoReconcile {
		g.Go(func() error { return b.Recon.Run(ctx) })
	}
	g.Go(func() error { return b.maintain(ctx) })
	if b.HTTP != nil {
		srv := &http.Server{Handler: b.web, ReadHeaderTimeout: 10 * time.Second}
		g.Go(func() error {
			if err := srv.Serve(b.HTTP); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		})
	}
	b.log.Info("billd serving", zap.String("accounting", b.Ingest.Addr().String()), zap.Stringer("http", addrOf(b.HTTP)),
		zap.String("instance", b.cfg.Instance))
	return g.Wait()
}

func addrOf(l net.Listener) fmt.Stringer {
	if l == nil {
		return stringer("off")
	}
	return l.Addr()
}

type stringer string

func (s stringer) String() string { return string(s) }

// maintain makes partitions ahead once a day and drops progress rows of
// sessions silent for a week (their bill never came; reconciliation
// reports the background session as missing a bill).
func (b *Billd) maintain(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	last := time.Time{}
	for {
		if time.Since(last) > 24*time.Hour {
			now := time.Now().UTC()
			if err := b.Store.EnsurePartitions(ctx, now, now.AddDate(0, b.cfg.MonthsAhead, 0)); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				b.log.Warn("making partitions failed; retrying in an hour", zap.Error(err))
			} else {
				last = time.Now()
			}
			if _, err := b.Store.Pool.Exec(ctx, `DELETE FROM billd.progress WHERE updated_at < now() - interval '7 days'`); err != nil && ctx.Err() == nil {
				b.log.Warn("cleaning progress failed", zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
