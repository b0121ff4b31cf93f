//go:build linux

// Command edgebill-lab runs the whole of edgebill on this machine (as
// root): network namespaces sub (subscribers), gw and gw2 (gateways) and
// isp, joined by veth links; a private Postgres cluster and FreeRADIUS in
// isp with the test subscribers; nasd, billd, the gateways' gatewayd
// (the second with a deliberate pricing fault) and pppoe-dial; progress
// while it runs; the reconciliation report at the end; then the dashboard
// and live pages stay up, their URLs printed, until Ctrl-C, which tears
// everything down (a second Ctrl-C forces it).
//
//	edgebill-lab [--duration 2m] [--subscribers 24] [--gateways 2] [--keep] [--exit] [--bin DIR]
//
// `make demo` builds the binaries into bin/ and runs this with --bin bin.
// The exit status is 0 when the run kept every promise lab/system checks
// (every session billed once, nothing flagged but the faulty gateway's
// bills), 3 when it did not, 1 when it could not run, 130 when
// interrupted before the report.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/lab/system"
	"github.com/edgebill/edgebill/nas/client"
)

// hostListen is where host-side URLs listen (overridden by --listen).
var hostListen = "127.0.0.1"

type config struct {
	duration    time.Duration
	subscribers int
	gateways    int
	keep        bool
	exit        bool
	bin         string
	prefix      string
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 2*time.Minute, "how long the subscribers dial and move traffic")
	flag.IntVar(&cfg.subscribers, "subscribers", 24, "subscribers to emulate, spread over the gateways")
	flag.IntVar(&cfg.gateways, "gateways", 2, "gateways (1 to 6); the last one, if more than one, has the pricing fault")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the run folder (every daemon's log, FreeRADIUS's config and log) after teardown")
	flag.BoolVar(&cfg.exit, "exit", false, "tear down and exit after the report instead of waiting for Ctrl-C")
	flag.StringVar(&cfg.bin, "bin", "", "take the daemons from this folder (default: build them)")
	flag.StringVar(&hostListen, "listen", hostListen, "host address for the dashboard, live page and psql URLs")
	flag.StringVar(&cfg.prefix, "prefix", "", "prefix of the namespaces' names")
	flag.Parse()
	os.Exit(run(cfg))
}

func run(cfg config) int {
	out := newProgress(os.Stderr)
	if os.Geteuid() != 0 {
		out.printf("edgebill-lab: needs root (network namespaces, AF_PACKET): sudo make demo\n")
		return 1
	}
	if cfg.gateways < 1 || cfg.gateways > lab.MaxGateways || cfg.subscribers < 0 || cfg.duration <= 0 {
		out.printf("edgebill-lab: --gateways 1 to %d, --subscribers ≥ 0, --duration > 0\n", lab.MaxGateways)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	h := lab.NewHarness("edgebill-lab", out)
	h.Keep(cfg.keep)
	defer lab.RemoveBuilds()

	// A second Ctrl-C while set-up or teardown hangs: tear down now.
	go func() {
		<-ctx.Done()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		out.endStatus("second interrupt: tearing down now")
		h.Teardown()
		os.Exit(130)
	}()

	done := make(chan bool, 1)
	var promisesKept bool
	go func() { done <- h.Do(func() { promisesKept = demo(ctx, h, out, cfg) }) }()
	var ok bool
	select {
	case ok = <-done:
	case <-ctx.Done():
		out.endStatus("interrupt: tearing down once the current step ends (Ctrl-C again to force)")
		ok = <-done
	}

	out.step("tearing down", 0, func() bool { h.Teardown(); return true })
	if cfg.keep {
		if dir, err := h.Dir(); err == nil {
			out.printf("kept: %s\n", dir)
		}
	}
	switch {
	case h.Failed():
		return 1
	case !ok:
		return 130 // interrupted during set-up
	case !promisesKept:
		return 3
	}
	return 0
}

// interrupted ends the set-up goroutine if Ctrl-C came. It is no failure:
// the servers' logs are not dumped.
func interrupted(ctx context.Context, h *lab.Harness) {
	if ctx.Err() != nil {
		h.Logf("interrupted")
		runtime.Goexit()
	}
}

// demo is the run, inside Harness.Do: Fatalf ends it, teardown follows.
// It returns false when the run broke one of the system's promises
// (system.Check).
func demo(ctx context.Context, h *lab.Harness, out *progress, cfg config) bool {
	var bins map[string]string
	if !out.step("the daemons' binaries", 0, func() bool {
		return h.Do(func() { bins = system.Binaries(h, cfg.bin) })
	}) {
		h.Fatalf("no binaries")
	}
	interrupted(ctx, h)

	faulty := 0
	if cfg.gateways > 1 {
		faulty = cfg.gateways
	}
	var s *system.System
	if !out.step("namespaces, Postgres, FreeRADIUS, billd, nasd, gatewayd", 12*time.Second, func() bool {
		return h.Do(func() {
			s = system.Start(h, &system.Options{
				Gateways: cfg.gateways, Faulty: faulty, Prefix: cfg.prefix,
				Bin:     filepath.Dir(bins[system.PkgNasd]),
				Interim: 10 * time.Second,
			})
		})
	}) {
		h.Fatalf("set-up failed")
	}
	top := s.Top
	out.printf("%s", top.Describe())
	var daemons []*lab.Daemon // for --keep's logs
	if cfg.keep {
		keepLogs(h, top, &daemons)
	}
	daemons = append(daemons, s.Billd, s.Nasd)
	urls := []string{}
	url := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		urls = append(urls, line)
		out.printf("%s\n", line)
	}
	dash := lab.ForwardTCP(h, hostListen+":0", top.ISP, s.BilldHTTP)
	url("billd:      dashboard http://%s/?token=%s  (API: Authorization: Bearer %s; metrics /metrics)", dash, s.Token, s.Token)
	for _, g := range s.Gateways {
		daemons = append(daemons, g.D)
		live := lab.ForwardTCP(h, hostListen+":0", top.Sub, g.LiveAddr())
		name := fmt.Sprintf("gatewayd%d:", g.Index)
		what := "live view"
		if g.Faulty {
			what = fmt.Sprintf("live view (UNDER-BILLS %d%% on purpose)", s.Opts.FaultPercent)
		}
		url("%-11s %s http://%s/  (the subscribers' page, %s on their LAN; key %.16s...)", name, what, live, g.LiveAddr(), g.PublicKey)
	}
	out.printf("%-11s running (pid %d), BRAS on %s in %s\n", "nasd:", s.Nasd.Pid(), lab.ISPWANIf, top.ISP.Name)
	pgHost := lab.ForwardTCP(h, hostListen+":0", top.ISP, fmt.Sprintf("127.0.0.1:%d", top.PG.Port))
	url("psql:       psql 'postgres://postgres@%s/%s?sslmode=disable'  (radacct; billd's tables in schema billd)", pgHost, top.PG.Database)
	interrupted(ctx, h)

	// Subscribers, spread over the gateways, dialing for the run.
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	shares, err := subscribers(sctx, s, cfg.subscribers)
	cancel()
	if err != nil {
		h.Fatalf("subscribers: %v", err)
	}
	out.printf("subscribers: %d over %d gateways for %s; every 4th session vanishes without hanging up\n             %s\n",
		cfg.subscribers, len(s.Gateways), shortDuration(cfg.duration), describeUsers(shares))
	var dialers []*system.Dialer
	if !h.Do(func() {
		for i, users := range shares {
			if len(users) == 0 {
				continue
			}
			d := s.StartDial(system.Dial{Gateway: i + 1, Users: users, Duration: cfg.duration, PPS: 5, Size: 800, DropEvery: 4})
			dialers = append(dialers, d)
			daemons = append(daemons, d.D)
		}
	}) {
		h.Fatalf("pppoe-dial did not start")
	}

	w := &watcher{top: top, sys: s}
	h.Cleanup(w.close)
	watch(ctx, out, w, cfg.duration)
	interrupted(ctx, h)

	reps := make([]*client.Report, len(dialers))
	if !out.step("the last sessions ending", 0, func() bool {
		for i, d := range dialers {
			r, err := d.Wait(ctx)
			if err != nil {
				out.printf("pppoe-dial %d: %v\n", i+1, err)
				return false
			}
			reps[i] = r
		}
		return true
	}) {
		interrupted(ctx, h)
		h.Fatalf("a dialer failed")
	}
	dialSummary(out, reps)
	if !out.step("the last Stops and bills arriving", 0, func() bool {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := s.Settle(sctx); err != nil {
			out.printf("%v\n", err)
			return false
		}
		return true
	}) {
		interrupted(ctx, h)
		out.printf("(reporting anyway)\n")
	}

	out.printf("\n== reconciliation report ==\n")
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := runReport(rctx, s, out); err != nil {
		out.printf("report: %v\n", err)
		if snap, err := w.snapshot(ctx); err == nil {
			out.printf("%s\n%s\n", snap.line(), snap.verdictLine())
		}
		return false
	}
	ok := checkRun(rctx, s, out, system.Up(reps...))
	if cfg.exit {
		return ok
	}
	out.printf("\nup until Ctrl-C:\n")
	for _, u := range urls {
		out.printf("  %s\n", u)
	}
	out.printf("  namespaces: ip netns exec %s ...  (billd: %s reconcile|report|gateways -config %s)\n", top.ISP.Name, bins[system.PkgBilld], s.BilldConfig)
	<-ctx.Done()
	return ok
}

// watch shows the status line for d (or until ctx ends): elapsed time as
// a bar, and the database's view once a second.
func watch(ctx context.Context, out *progress, w *watcher, d time.Duration) {
	start := time.Now()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := "starting"
	for {
		el := time.Since(start)
		if s, err := w.snapshot(ctx); err == nil {
			last = s.line()
		} else if ctx.Err() == nil {
			last = "database: " + err.Error()
		}
		out.setStatus(fmt.Sprintf("%s %s/%s %s", bar(el, d, 20), shortDuration(el), shortDuration(d), last))
		if el >= d {
			out.endStatus(fmt.Sprintf("run over after %s: %s", shortDuration(el), last))
			return
		}
		select {
		case <-ctx.Done():
			out.endStatus("interrupted: " + last)
			return
		case <-t.C:
		}
	}
}

// keepLogs writes every log into the run folder at teardown (before the
// servers stop: it is registered after them, so it runs before them).
func keepLogs(h *lab.Harness, top *lab.Topology, daemons *[]*lab.Daemon) {
	dir, err := h.Dir()
	if err != nil {
		return
	}
	logs := filepath.Join(dir, "logs")
	h.Cleanup(func() {
		if err := os.MkdirAll(logs, 0o755); err != nil {
			return
		}
		write := func(name, s string) {
			_ = os.WriteFile(filepath.Join(logs, name+".log"), []byte(s), 0o644)
		}
		write("freeradius", top.RADIUS.Log())
		write("postgres", top.PG.Log())
		for _, d := range *daemons {
			write(d.Name(), d.Log())
		}
	})
}
