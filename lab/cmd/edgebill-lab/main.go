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
//	edgebill-lab [--duration 2m] [--subscribers 24] [--keep] [--exit] [--bin DIR]
//
// `make demo` builds the binaries into bin/ and runs this with --bin bin.
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
	go func() { done <- h.Do(func() { demo(ctx, h, out, cfg) }) }()
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
func demo(ctx context.Context, h *lab.Harness, out *progress, cfg config) {
	var top *lab.Topology
	if !out.step("namespaces, Postgres, FreeRADIUS, subscribers", 5*time.Second, func() bool {
		return h.Do(func() {
			top = lab.NewTopology(h, &lab.TopologyOptions{Gateways: cfg.gateways, Prefix: cfg.prefix})
		})
	}) {
		h.Fatalf("set-up failed")
	}
	out.printf("%s", top.Describe())
	pgHost := lab.ForwardTCP(h, hostListen+":0", top.ISP, fmt.Sprintf("127.0.0.1:%d", top.PG.Port))
	out.printf("psql:       psql 'postgres://postgres@%s/%s?sslmode=disable'\n", pgHost, top.PG.Database)
	var daemons []*lab.Daemon // for --keep's logs
	if cfg.keep {
		keepLogs(h, top, &daemons)
	}
	interrupted(ctx, h)

	var bins map[string]string
	out.step("daemons' binaries", 0, func() bool { bins = binaries(out, cfg.bin); return true })
	interrupted(ctx, h)

	var billd, nasd *started
	var gateways, dialers []*started
	if !out.step("billd, nasd, gatewayd", 0, func() bool {
		return h.Do(func() {
			billd = startBilld(h, top, bins[pkgBilld])
			nasd = startNasd(h, top, bins[pkgNasd])
			for _, g := range top.Gateways {
				faulty := len(top.Gateways) > 1 && g.Index == len(top.Gateways)
				gw := startGatewayd(h, top, g, bins[pkgGatewayd], faulty)
				gateways = append(gateways, gw)
				if gw != nil && billd != nil {
					if err := registerGateway(ctx, h, top, g, bins[pkgGatewayd], bins[pkgBilld]); err != nil {
						h.Fatalf("gateway %d: register its key: %v", g.Index, err)
					}
				}
			}
		})
	}) {
		h.Fatalf("a daemon did not start")
	}
	for _, s := range append([]*started{billd, nasd}, gateways...) {
		if s != nil {
			daemons = append(daemons, s.d)
		}
	}
	say := func(name string, s *started, pkg string) {
		switch {
		case s != nil && s.url != "":
			out.printf("%-11s %s\n", name+":", s.url)
		case s != nil:
			out.printf("%-11s running (pid %d)\n", name+":", s.d.Pid())
		case bins[pkg] != "":
			out.printf("%-11s built, not wired into the demo yet\n", name+":")
		default:
			out.printf("%-11s not available\n", name+":")
		}
	}
	say("billd", billd, pkgBilld)
	say("nasd", nasd, pkgNasd)
	for i, gw := range gateways {
		name := fmt.Sprintf("gatewayd%d", i+1)
		if len(gateways) > 1 && i == len(gateways)-1 {
			name += " (pricing fault)"
		}
		say(name, gw, pkgGatewayd)
	}
	interrupted(ctx, h)

	// Subscribers, spread over the gateways.
	if !h.Do(func() {
		for i, g := range top.Gateways {
			n := cfg.subscribers / len(top.Gateways)
			if i < cfg.subscribers%len(top.Gateways) {
				n++
			}
			if d := startDialer(h, top, g, bins[pkgDial], n, cfg); d != nil {
				dialers = append(dialers, d)
			}
		}
	}) {
		h.Fatalf("pppoe-dial did not start")
	}
	for _, s := range dialers {
		daemons = append(daemons, s.d)
	}
	if len(dialers) == 0 {
		out.printf("pppoe-dial: not wired into the demo yet; the run shows the database's view only\n")
	}

	w := &watcher{top: top}
	h.Cleanup(w.close)
	watch(ctx, out, w, cfg.duration)
	interrupted(ctx, h)

	out.printf("\n== reconciliation report ==\n")
	if !runReport(ctx, h, top, bins[pkgBilld], out) {
		if s, err := w.snapshot(ctx); err == nil {
			out.printf("%s\n%s\n", s.line(), s.verdictLine())
		} else {
			out.printf("report: %v\n", err)
		}
	}
	if cfg.exit {
		return
	}
	out.printf("\nup until Ctrl-C: the URLs above stay reachable; namespaces: ip netns exec %s ...\n", top.ISP.Name)
	<-ctx.Done()
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
