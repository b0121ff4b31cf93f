// Command gatewayd is edgebill's home-gateway daemon: it relays the
// subscribers' PPPoE sessions, has each dial authorised by the ISP's
// RADIUS, meters and prices every session live, shows the subscriber the
// running charge on a LAN page, and at hang-up sends a signed, chained
// bill as a RADIUS Accounting-Request Stop, kept in a crash-safe journal
// until acknowledged.
//
// Usage:
//
//	gatewayd [flags]                run (flags override the config file)
//	gatewayd pubkey [flags]         print the bill-signing public key (hex)
//	gatewayd check-config [flags]   parse and validate the configuration
//	gatewayd version
//
// The signing key is made at first start and kept in the journal;
// register `gatewayd pubkey`'s output with billd. While gatewayd runs the
// journal is locked; pubkey then reads the copy gatewayd writes next to
// the journal (JOURNAL.pub).
package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/edgebill/edgebill/gateway/billing/config"
	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/internal/version"
)

const defaultConfig = "/etc/gatewayd/gatewayd.conf"

func main() {
	if err := mainErr(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gatewayd:", err)
		}
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	configPath     string
	gatewayID      string
	journal        string
	logLevel       string
	logFormat      string
	lan, wan       string
	relayMode      string
	liveListen     string
	metricsListen  string
	underbill      int
	noRelay        bool
	pubkeyFormat   string
	underbillIsSet bool
}

func flags(name string, o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.configPath, "config", defaultConfig, "configuration `file` (reference: gateway/testdata/gatewayd.conf)")
	fs.StringVar(&o.gatewayID, "gateway-id", "", "gateway id (overrides gateway-id)")
	fs.StringVar(&o.journal, "journal", "", "journal `file` (overrides journal)")
	fs.StringVar(&o.logLevel, "log-level", "", "debug, info, warn or error (overrides log-level)")
	fs.StringVar(&o.logFormat, "log-format", "json", "json or console")
	fs.StringVar(&o.lan, "lan", "", "LAN `interface` (overrides [lan] interface)")
	fs.StringVar(&o.wan, "wan", "", "WAN `interface` (overrides [wan] interface)")
	fs.StringVar(&o.relayMode, "relay-mode", "", "auto, kernel or user (overrides [relay] mode)")
	fs.StringVar(&o.liveListen, "live-listen", "", "live view LAN `address:port` (overrides [live] listen)")
	fs.StringVar(&o.metricsListen, "metrics-listen", "", "Prometheus `address:port` (overrides [metrics] listen)")
	fs.IntVar(&o.underbill, "fault-underbill-percent", 0, "FAULT INJECTION for the lab demo: bills charge `N` percent less than the tariff (overrides [fault])")
	fs.BoolVar(&o.noRelay, "no-relay", false, "run without the relay: recover, deliver pending bills, serve the live view")
	fs.StringVar(&o.pubkeyFormat, "format", "hex", "pubkey: hex or base64")
	return fs
}

func mainErr(args []string, stdout, stderr io.Writer) error {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var o options
	fs := flags("gatewayd "+cmd, &o, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "fault-underbill-percent" {
			o.underbillIsSet = true
		}
	})
	configSet := false
	fs.Visit(func(f *flag.Flag) { configSet = configSet || f.Name == "config" })

	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "gatewayd", version.Version)
		return nil
	case "run", "pubkey", "check-config":
	default:
		return fmt.Errorf("unknown command %q (run, pubkey, check-config, version)", cmd)
	}
	cfg, err := loadConfig(o.configPath, configSet)
	if err != nil {
		return err
	}
	o.apply(cfg)

	switch cmd {
	case "pubkey":
		return printPubkey(cfg.Journal, o.pubkeyFormat, stdout)
	case "check-config":
		if err := cfg.Validate(!o.noRelay); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "configuration ok")
		return nil
	}
	if err := cfg.Validate(!o.noRelay); err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel, o.logFormat)
	if err != nil {
		return err
	}
	defer log.Sync()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log.Info("gatewayd starting", zap.String("version", version.Version), zap.String("gateway_id", cfg.GatewayID),
		zap.String("config", o.configPath), zap.Bool("relay", !o.noRelay))
	err = run(ctx, cfg, runOptions{noRelay: o.noRelay}, log)
	if err != nil {
		log.Error("gatewayd stopped with an error", zap.Error(err))
		return err
	}
	log.Info("gatewayd stopped")
	return nil
}

// loadConfig parses the file; a missing default file means defaults.
func loadConfig(path string, explicit bool) (*config.Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !explicit {
			return config.Default(), nil
		}
		return nil, err
	}
	defer f.Close()
	return config.Parse(f, path)
}

// apply lets the flags that were given override the file.
func (o *options) apply(c *config.Config) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.GatewayID, o.gatewayID)
	set(&c.Journal, o.journal)
	set(&c.LogLevel, o.logLevel)
	set(&c.LAN.Interface, o.lan)
	set(&c.WAN.Interface, o.wan)
	set(&c.Relay.Mode, o.relayMode)
	set(&c.Live.Listen, o.liveListen)
	set(&c.Metrics.Listen, o.metricsListen)
	if o.underbillIsSet {
		c.Fault.UnderbillPercent = o.underbill
	}
}

func newLogger(level, format string) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, err
	}
	var zc zap.Config
	switch format {
	case "json":
		zc = zap.NewProductionConfig()
	case "console":
		zc = zap.NewDevelopmentConfig()
		zc.Development = false
	default:
		return nil, fmt.Errorf("log format %q is not json or console", format)
	}
	zc.Level = zap.NewAtomicLevelAt(lvl)
	zc.Sampling = nil // every session event matters
	zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	return zc.Build()
}

// pubFile is where a running gatewayd leaves its public key.
func pubFile(journalPath string) string { return journalPath + ".pub" }

func formatKey(key []byte, format string) (string, error) {
	switch format {
	case "hex":
		return hex.EncodeToString(key), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(key), nil
	}
	return "", fmt.Errorf("key format %q is not hex or base64", format)
}

// printPubkey opens the journal (making it and the key at first use)
// and prints the public key; if gatewayd holds the journal, it prints
// the copy gatewayd wrote.
func printPubkey(path, format string, w io.Writer) error {
	j, err := journal.Open(path, journal.Options{LockTimeout: 500 * 1e6})
	if errors.Is(err, journal.ErrLocked) {
		b, rerr := os.ReadFile(pubFile(path))
		if rerr != nil {
			return fmt.Errorf("%w, and %v", err, rerr)
		}
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) != 32 {
			return fmt.Errorf("%s is not a hex Ed25519 public key", pubFile(path))
		}
		s, ferr := formatKey(key, format)
		if ferr != nil {
			return ferr
		}
		fmt.Fprintln(w, s)
		return nil
	}
	if err != nil {
		return err
	}
	defer j.Close()
	s, err := formatKey(j.PublicKey(), format)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, s)
	return nil
}
