// Command nasd is edgebill's lab access concentrator (BRAS): a PPPoE
// server terminating PPP (LCP, PAP or CHAP-MD5, IPCP) with RADIUS
// authentication and accounting and a Disconnect/CoA listener.
//
//	nasd -config nasd.conf [-set key=value ...]   serve
//	nasd check -config nasd.conf                 check a configuration
//	nasd status -addr 127.0.0.1:8079 [-stats]    list live sessions
//
// The configuration format and every key are in nas.Parse and the
// reference copy nas/testdata/nasd.conf.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/edgebill/edgebill/internal/version"
	"github.com/edgebill/edgebill/nas"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "nasd:", err)
		os.Exit(1)
	}
}

// setFlags collects -set key=value.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func run(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "status":
			return status(args[1:], stdout)
		case "check":
			fs := flag.NewFlagSet("nasd check", flag.ContinueOnError)
			path := fs.String("config", "", "configuration file")
			if err := fs.Parse(args[1:]); err != nil {
				return err
			}
			cfg, err := load(*path, nil)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: ok (interface %q, auth %v)\n", *path, cfg.Interface, cfg.Auth)
			return nil
		case "version":
			fmt.Fprintln(stdout, version.Version)
			return nil
		}
	}
	fs := flag.NewFlagSet("nasd", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (see nas/testdata/nasd.conf)")
	var sets setFlags
	fs.Var(&sets, "set", "override a configuration key: -set key=value (repeatable)")
	iface := fs.String("i", "", "interface (overrides the configuration's)")
	radiusAuth := fs.String("radius-auth", "", "RADIUS authentication server host:port (with -radius-secret; adds to the configuration's)")
	radiusAcct := fs.String("radius-acct", "", "RADIUS accounting server host:port (with -radius-secret)")
	radiusSecret := fs.String("radius-secret", "", "shared secret for -radius-auth and -radius-acct")
	pool := fs.String("pool", "", "address pool, e.g. 100.64.0.0/16 (overrides the configuration's)")
	level := zapcore.InfoLevel
	fs.Var(&level, "log-level", "log level: debug, info, warn, error")
	jsonLog := fs.Bool("log-json", false, "log JSON lines instead of text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *iface != "" {
		sets = append(sets, "interface="+*iface)
	}
	if *pool != "" {
		sets = append(sets, "pool="+*pool)
	}
	for key, addr := range map[string]string{"radius_auth": *radiusAuth, "radius_acct": *radiusAcct} {
		if addr == "" {
			continue
		}
		if *radiusSecret == "" {
			return errors.New("-radius-auth and -radius-acct need -radius-secret")
		}
		sets = append(sets, key+"="+addr+" "+*radiusSecret)
	}
	cfg, err := load(*path, sets)
	if err != nil {
		return err
	}
	log, err := logger(level, *jsonLog)
	if err != nil {
		return err
	}
	defer log.Sync()

	srv, err := nas.New(*cfg, nas.Options{Logger: log})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("nasd starting", zap.String("version", version.Version), zap.String("interface", cfg.Interface))
	if a := srv.StatusAddr(); a != nil {
		log.Info("status listing", zap.String("url", "http://"+a.String()+"/sessions"))
	}
	if a := srv.CoAAddr(); a != nil {
		log.Info("Disconnect/CoA listener", zap.Stringer("addr", a))
	}
	go func() {
		// One line for supervisors to wait for: discovery is served.
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for range t.C {
			if srv.Ready() {
				log.Info("nasd ready", zap.Stringer("mac", srv.HardwareAddr()))
				return
			}
			if ctx.Err() != nil {
				return
			}
		}
	}()
	err = srv.Run(ctx)
	log.Info("nasd stopped", zap.Error(err))
	return err
}

// load parses the file at path (if any) and applies key=value overrides.
func load(path string, sets []string) (*nas.Config, error) {
	cfg := &nas.Config{}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if cfg, err = nas.Parse(f); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("-set %q: want key=value", kv)
		}
		if err := cfg.Set(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
			return nil, fmt.Errorf("-set %s: %w", k, err)
		}
	}
	return cfg, cfg.Validate()
}

func logger(level zapcore.Level, json bool) (*zap.Logger, error) {
	c := zap.NewProductionConfig()
	if !json {
		c = zap.NewDevelopmentConfig()
		c.DisableStacktrace = true
	}
	c.Level = zap.NewAtomicLevelAt(level)
	c.OutputPaths = []string{"stderr"}
	return c.Build()
}

// status prints the status listing of a running nasd.
func status(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("nasd status", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8079", "nasd's status_listen address")
	stats := fs.Bool("stats", false, "print the counters instead of the sessions")
	if err := fs.Parse(args); err != nil {
		return err
	}
	what := "/sessions"
	if *stats {
		what = "/stats"
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + *addr + what)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	_, err = io.Copy(stdout, resp.Body)
	return err
}
