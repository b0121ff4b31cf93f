package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/billing"
	"github.com/edgebill/edgebill/gateway/billing/config"
	"github.com/edgebill/edgebill/gateway/billing/delivery"
	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/gateway/billing/liveview"
	"github.com/edgebill/edgebill/gateway/billing/metrics"
	"github.com/edgebill/edgebill/internal/httpserve"
	"github.com/edgebill/edgebill/internal/radclient"
)

type runOptions struct {
	noRelay bool
}

// lateRelay lets billing start before the relay that counts and ends
// sessions: it is billing's gateway.Counters and gateway.Ender.
type lateRelay struct {
	c atomic.Pointer[relayPart]
}

// relayPart is what billing needs of the relay.
type relayPart interface {
	gateway.Counters
	gateway.Ender
}

var (
	_ gateway.Counters = (*lateRelay)(nil)
	_ gateway.Ender    = (*lateRelay)(nil)
)

func (l *lateRelay) set(c relayPart) { l.c.Store(&c) }

func (l *lateRelay) Usage(key uint64) (gateway.Usage, bool) {
	if c := l.c.Load(); c != nil {
		return (*c).Usage(key)
	}
	return gateway.Usage{}, false
}

func (l *lateRelay) End(key uint64, cause gateway.TerminateCause, reason string) bool {
	if c := l.c.Load(); c != nil {
		return (*c).End(key, cause, reason)
	}
	return false
}

// task is one long-running part.
type task struct {
	name   string
	cancel context.CancelFunc
	done   chan error
}

func start(name string, f func(ctx context.Context) error) *task {
	ctx, cancel := context.WithCancel(context.Background())
	t := &task{name: name, cancel: cancel, done: make(chan error, 1)}
	go func() { t.done <- f(ctx) }()
	return t
}

// stop cancels t and waits for it; it returns t's error.
func (t *task) stop() error {
	if t == nil {
		return nil
	}
	t.cancel()
	return <-t.done
}

// run wires journal, billing, delivery, live view, metrics and relay,
// runs them until ctx ends or one fails, then stops them in the order
// that loses nothing: the relay first (it ends its sessions and reports
// them Closed with their final usage), then billing (it bills what is
// still open), then delivery after a grace period for the last bills,
// then the servers.
func run(ctx context.Context, cfg *config.Config, opt runOptions, log *zap.Logger) error {
	j, err := journal.Open(cfg.Journal, journal.Options{})
	if err != nil {
		return err
	}
	defer j.Close()
	pub := hex.EncodeToString(j.PublicKey())
	log.Info("bill signing key (register it with billd)", zap.String("public_key", pub), zap.String("journal", cfg.Journal))
	if err := os.WriteFile(pubFile(cfg.Journal), []byte(pub+"\n"), 0o644); err != nil {
		log.Warn("cannot write the public key file", zap.Error(err))
	}

	reg := metrics.NewRegistry()
	metrics.RegisterProcess(reg)
	m := metrics.NewBilling(reg)
	metrics.RegisterJournal(reg, j)

	acct, err := radclient.New(radclient.Config{
		Servers:   radiusServers(cfg.Accounting.Servers),
		IRT:       cfg.Accounting.Timeout,
		MRC:       cfg.Accounting.Retries,
		MRD:       cfg.Accounting.MaxDuration,
		LocalAddr: cfg.Accounting.LocalAddress,
		Logger:    log.Named("accounting"),
	})
	if err != nil {
		return fmt.Errorf("accounting client: %w", err)
	}
	defer acct.Close()
	metrics.RegisterRADIUSClient(reg, "accounting", acct.Stats)

	del, err := delivery.New(delivery.Config{Journal: j, Client: acct, Retry: cfg.Accounting.RetryInterval,
		Logger: log, Metrics: m})
	if err != nil {
		return err
	}
	var rel lateRelay
	bl, err := billing.New(billing.Config{
		GatewayID:          cfg.GatewayID,
		Journal:            j,
		Counters:           &rel,
		Ender:              &rel,
		Accounting:         acct,
		DefaultInterim:     cfg.Accounting.InterimInterval,
		CheckpointInterval: cfg.Accounting.CheckpointInterval,
		DefaultTariff:      cfg.Accounting.DefaultTariff,
		UnderbillPercent:   cfg.Fault.UnderbillPercent,
		OnBill:             del.Kick,
		Logger:             log,
		Metrics:            m,
	})
	if err != nil {
		return err
	}

	var rl *relayHandle
	if !opt.noRelay {
		rl, err = startRelay(cfg, bl, newKeyFunc(j, log), log, reg)
		if err != nil {
			return fmt.Errorf("relay: %w", err)
		}
		defer rl.close()
		rel.set(rl.relay)
	} else {
		log.Warn("running without the relay (-no-relay): no sessions will open")
	}

	var liveLn, metricsLn net.Listener
	if cfg.Live.Listen != "" {
		if liveLn, err = liveview.Listen(ctx, cfg.Live.Listen, cfg.LiveInterface()); err != nil {
			return fmt.Errorf("live view: %w", err)
		}
		log.Info("live view", zap.String("listen", liveLn.Addr().String()), zap.String("interface", cfg.LiveInterface()))
	}
	if cfg.Metrics.Listen != "" {
		if metricsLn, err = net.Listen("tcp", cfg.Metrics.Listen); err != nil {
			if liveLn != nil {
				liveLn.Close()
			}
			return fmt.Errorf("metrics: %w", err)
		}
		log.Info("metrics", zap.String("listen", metricsLn.Addr().String()))
	}

	// Start, in order.
	billTask := start("billing", bl.Run)
	delTask := start("delivery", del.Run)
	var relayTask, liveTask, metricsTask *task
	if liveLn != nil {
		lv := &liveview.Server{Source: bl, GatewayID: cfg.GatewayID, PublicKey: pub, Logger: log.Named("liveview")}
		liveTask = start("liveview", func(ctx context.Context) error { return lv.Serve(ctx, liveLn) })
	}
	if metricsLn != nil {
		metricsTask = start("metrics", func(ctx context.Context) error { return serveMetrics(ctx, metricsLn, reg) })
	}
	if rl != nil {
		relayTask = start("relay", rl.run)
	}

	// Wait for a signal or a failure.
	var failed error
	tasks := []*task{relayTask, billTask, delTask, liveTask, metricsTask}
	failc := make(chan error, len(tasks))
	var watch sync.WaitGroup
	stopWatch := make(chan struct{})
	for _, t := range tasks {
		if t == nil {
			continue
		}
		watch.Add(1)
		go func(t *task) {
			defer watch.Done()
			select {
			case err := <-t.done:
				t.done <- err // for stop()
				if err == nil {
					err = errors.New("stopped unexpectedly")
				}
				failc <- fmt.Errorf("%s: %w", t.name, err)
			case <-stopWatch:
			}
		}(t)
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down: ending sessions and billing them")
	case failed = <-failc:
		log.Error("shutting down after a failure", zap.Error(failed))
	}
	close(stopWatch)
	watch.Wait()

	keep := func(err error) {
		if err != nil && failed == nil {
			failed = err
		}
	}
	keep(relayTask.stop())
	keep(billTask.stop())
	waitDelivered(j, cfg.ShutdownGrace, log)
	keep(delTask.stop())
	keep(liveTask.stop())
	keep(metricsTask.stop())
	if st, err := j.Stats(); err == nil {
		log.Info("journal at stop", zap.Int("bills_pending", st.Pending), zap.Uint64("bill_sequence", st.Sequence),
			zap.Int("open_sessions", st.Sessions))
	}
	return failed
}

// waitDelivered gives delivery up to grace to empty the pending queue.
func waitDelivered(j *journal.Journal, grace time.Duration, log *zap.Logger) {
	deadline := time.Now().Add(grace)
	for {
		st, err := j.Stats()
		if err != nil || st.Pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			log.Warn("bills still pending at stop; they are journaled and will be sent at the next start",
				zap.Int("bills_pending", st.Pending))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func serveMetrics(ctx context.Context, ln net.Listener, reg *metrics.Registry) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return httpserve.Serve(ctx, srv, ln)
}

func radiusServers(s []config.Server) []radclient.Server {
	out := make([]radclient.Server, len(s))
	for i, v := range s {
		out[i] = radclient.Server{Addr: v.Addr, Secret: v.Secret}
	}
	return out
}

// newKeyFunc hands the relay session keys from the journal's counter.
// Should the journal fail, a key from the clock with the top bit set
// keeps the session going (it cannot collide with the counter's keys);
// the failure is logged, and the session's checkpoint will fail too.
func newKeyFunc(j *journal.Journal, log *zap.Logger) func() uint64 {
	return func() uint64 {
		k, err := j.NextKey()
		if err != nil {
			log.Error("journal cannot hand out a session key; using one from the clock", zap.Error(err))
			return uint64(time.Now().UnixNano()) | 1<<63
		}
		return k
	}
}
