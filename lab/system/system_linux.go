//go:build linux

package system

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/lab/udpproxy"
)

// The daemons' packages (module-relative), as lab.Build takes them.
const (
	PkgNasd     = "./nas/cmd/nasd"
	PkgDial     = "./nas/cmd/pppoe-dial"
	PkgGatewayd = "./gateway/cmd/gatewayd"
	PkgBilld    = "./server/cmd/billd"
)

// Packages are every binary the system runs.
var Packages = []string{PkgNasd, PkgDial, PkgGatewayd, PkgBilld}

// Fixed places inside the namespaces (nothing else listens there).
const (
	BilldAcctPort   = 1813             // billd's accounting listener, on lab.ISPAddr
	BilldHTTPPort   = 8080             // billd's API, dashboard and metrics, on lab.ISPAddr
	LivePort        = 8081             // each gatewayd's live page, on its LAN address
	GatewayMetrics  = "127.0.0.1:9464" // each gatewayd's /metrics, in its namespace
	NasdStatus      = "127.0.0.1:8079" // nasd's /sessions and /stats, in isp
	DefaultFaultPct = 20               // the faulty gateway's under-billing
)

// Options shape a System. The zero value is one honest gateway, the
// fixture's RADIUS interim interval (60 s), billd's grace 3 s, the
// binaries built from the tree.
type Options struct {
	// Gateways is the number of gateways, 1 (default) to lab.MaxGateways.
	Gateways int
	// Faulty is the 1-based index of a gateway that under-bills by
	// FaultPercent (default DefaultFaultPct) percent; 0 for none.
	Faulty       int
	FaultPercent int
	// Prefix starts the namespaces' names.
	Prefix string
	// Bin is a folder holding nasd, pppoe-dial, gatewayd and billd
	// (make build's bin/); empty builds them with lab.Build.
	Bin string
	// Interim, if set, replaces the plans' Acct-Interim-Interval in
	// FreeRADIUS (gatewayd's interim updates to billd) and is nasd's
	// interim_override (its interim updates to FreeRADIUS).
	Interim time.Duration
	// Checkpoint is gatewayd's checkpoint-interval (default 1s).
	Checkpoint time.Duration
	// Grace and ReconcileInterval tune billd's continuous reconciliation
	// (defaults 3s and 2s); ToleranceSeconds its usage tolerance
	// (default 2).
	Grace, ReconcileInterval time.Duration
	ToleranceSeconds         int
	// Proxy puts a udpproxy between each gateway and FreeRADIUS (auth)
	// and billd (accounting), in the gateway's namespace, so the servers
	// still see the gateway's address.
	Proxy bool
	// EchoInterval and EchoFailures are nasd's LCP keepalive (defaults
	// 1s and 3): how soon it notices a subscriber that vanished.
	EchoInterval time.Duration
	EchoFailures int
	// AuthTimeout is gatewayd's [auth] timeout, the first retransmission
	// time (default 1s). gatewayd gives one server 3 s in all, so a
	// shorter one gets more tries in (the lossy-RADIUS test).
	AuthTimeout time.Duration
	// MaxSessions is each gatewayd's session limit (default 4096).
	MaxSessions int
	// NoFsync runs Postgres without fsync (benchmarks that measure
	// nothing about durability keep it off: false).
	NoFsync bool
	// RADIUSDebug runs FreeRADIUS with -X.
	RADIUSDebug bool
	// Logf, if set, gets a line per step (the demo's progress).
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.Gateways == 0 {
		o.Gateways = 1
	}
	if o.FaultPercent == 0 {
		o.FaultPercent = DefaultFaultPct
	}
	if o.Checkpoint == 0 {
		o.Checkpoint = time.Second
	}
	if o.Grace == 0 {
		o.Grace = 3 * time.Second
	}
	if o.ReconcileInterval == 0 {
		o.ReconcileInterval = 2 * time.Second
	}
	if o.ToleranceSeconds == 0 {
		o.ToleranceSeconds = 2
	}
	if o.EchoInterval == 0 {
		o.EchoInterval = time.Second
	}
	if o.EchoFailures == 0 {
		o.EchoFailures = 3
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 4096
	}
	if o.AuthTimeout == 0 {
		o.AuthTimeout = time.Second
	}
	return o
}

// System is the whole chain, running.
type System struct {
	T    lab.T
	Top  *lab.Topology
	Opts Options
	// Bins are the binaries' paths by package.
	Bins map[string]string
	// Started is when the System began (reconciliation ranges start an
	// hour before it).
	Started time.Time

	Billd *lab.Daemon
	// BilldConfig is billd's configuration file; BilldHTTP its API and
	// dashboard address inside isp; Token the API token.
	BilldConfig string
	BilldHTTP   string
	BilldAcct   string
	Token       string

	Nasd     *lab.Daemon
	Gateways []*Gateway

	dir   string
	dials atomic.Int64 // pppoe-dial runs so far, for their files' names
}

// Gateway is one gateway: its namespace and links, its daemon, and what
// billd knows it by.
type Gateway struct {
	*lab.GatewayLinks
	// ID is its gateway id (NAS-Identifier, the bills' gateway id).
	ID string
	D  *lab.Daemon
	// Config and Journal are gatewayd's files; PublicKey its bill-signing
	// key (hex), registered with billd; Secret its RADIUS secret with
	// billd.
	Config, Journal, PublicKey, Secret string
	// Faulty says it under-bills.
	Faulty bool
	// LANAddr is its LAN address (the live view's, with LivePort);
	// SubAddr the subscriber side's address on the same LAN.
	LANAddr, SubAddr netip.Addr
	// AuthProxy and AcctProxy stand between it and FreeRADIUS and billd
	// when Options.Proxy is set.
	AuthProxy, AcctProxy *udpproxy.Proxy
}

// LiveAddr is the live view's address (reachable from the sub namespace).
func (g *Gateway) LiveAddr() string {
	return net.JoinHostPort(g.LANAddr.String(), strconv.Itoa(LivePort))
}

// Start brings the whole system up and registers its teardown with t.
func Start(t lab.T, opts *Options) *System {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	o = o.withDefaults()
	if o.Faulty < 0 || o.Faulty > o.Gateways {
		t.Fatalf("system: faulty gateway %d of %d", o.Faulty, o.Gateways)
	}
	s := &System{T: t, Opts: o, Started: time.Now()}
	s.logf("namespaces, Postgres, FreeRADIUS")
	s.Top = lab.NewTopology(t, &lab.TopologyOptions{
		Gateways:    o.Gateways,
		Prefix:      o.Prefix,
		Postgres:    lab.PostgresOptions{NoFsync: o.NoFsync},
		RADIUSDebug: o.RADIUSDebug,
	})
	s.dir = t.TempDir()
	s.Bins = Binaries(t, o.Bin)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if o.Interim > 0 {
		secs := max(int(o.Interim/time.Second), 1)
		if err := s.Top.PG.Exec(ctx, fmt.Sprintf(`UPDATE radgroupreply SET value = '%d' WHERE attribute = 'Acct-Interim-Interval'`, secs)); err != nil {
			t.Fatalf("system: %v", err)
		}
	}
	s.logf("billd")
	s.startBilld(ctx)
	s.logf("nasd")
	s.startNasd()
	for _, gl := range s.Top.Gateways {
		s.logf("gatewayd %d", gl.Index)
		s.startGateway(ctx, gl)
	}
	return s
}

func (s *System) logf(format string, args ...any) {
	if s.Opts.Logf != nil {
		s.Opts.Logf(format, args...)
	}
}

// Binaries returns the daemons' paths: from dir if set (make build's
// bin/), else built from the tree with lab.Build.
func Binaries(t lab.T, dir string) map[string]string {
	t.Helper()
	if dir == "" {
		return lab.Build(t, Packages...)
	}
	out := map[string]string{}
	for _, p := range Packages {
		b := filepath.Join(dir, filepath.Base(p))
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("system: %s: %v (make build puts it there)", filepath.Base(p), err)
		}
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatalf("system: %v", err)
		}
		out[p] = abs
	}
	return out
}

// Command returns a command running bin with args inside ns (nil: here)
// with env added, killed when ctx ends or (Pdeathsig, from the thread
// that forks it) when this process does: for short runs (billd's CLI,
// pppoe-dial to the end); daemons go through lab.StartDaemon.
func Command(ctx context.Context, ns *lab.Netns, env []string, bin string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if ns != nil {
		cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, bin}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, bin, args...)
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// BilldCLI runs a billd command (migrate, reconcile, report, gateways,
// ...) against the lab's database, in isp, and returns its standard
// output; a failure's error carries standard error.
func (s *System) BilldCLI(ctx context.Context, args ...string) (string, error) {
	full := append(append([]string(nil), args...), "-config", s.BilldConfig)
	cmd := Command(ctx, s.Top.ISP, nil, s.Bins[PkgBilld], full...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("billd %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (s *System) startBilld(ctx context.Context) {
	t := s.T
	o := s.Opts
	s.BilldAcct = net.JoinHostPort(lab.ISPAddr.String(), strconv.Itoa(BilldAcctPort))
	s.BilldHTTP = net.JoinHostPort(lab.ISPAddr.String(), strconv.Itoa(BilldHTTPPort))
	s.Token = randHex(12)
	s.BilldConfig = filepath.Join(s.dir, "billd.conf")
	conf := fmt.Sprintf(`# written by lab/system
database_url = %q
instance = billd-lab
log_level = info
listen_acct = %s
reconcile = true
reconcile_interval = %s
grace = %s
tolerance_seconds = %d
missing_scope = all
listen_http = %s
api_token = %s
drift_min_bills = 5
partition_months_ahead = 1
`, s.Top.DatabaseURL(), s.BilldAcct, o.ReconcileInterval, o.Grace, o.ToleranceSeconds, s.BilldHTTP, s.Token)
	if err := os.WriteFile(s.BilldConfig, []byte(conf), 0o600); err != nil {
		t.Fatalf("system: %v", err)
	}
	if out, err := s.BilldCLI(ctx, "migrate"); err != nil {
		t.Fatalf("system: %v\n%s", err, out)
	}
	s.Billd = lab.StartDaemon(t, lab.DaemonSpec{
		Name:  "billd",
		Path:  s.Bins[PkgBilld],
		Netns: s.Top.ISP,
		Args:  []string{"serve", "-config", s.BilldConfig, "-log-json=false"},
		Ready: lab.ReadyAll(lab.ReadyLog("billd listening"), lab.ReadyUDP(s.BilldAcct), lab.ReadyTCP(s.BilldHTTP)),
	})
}

func (s *System) startNasd() {
	t := s.T
	o := s.Opts
	interim := "off"
	if o.Interim > 0 {
		interim = o.Interim.String()
	}
	conf := filepath.Join(s.dir, "nasd.conf")
	text := fmt.Sprintf(`# written by lab/system
interface = %s
ac_name = edgebill-lab-bras
auth = chap
max_sessions = 16000
padi_rate = 5000
padi_burst = 5000
padi_rate_per_mac = 5000
padi_burst_per_mac = 5000
restart_timer = 1s
echo_interval = %s
echo_failures = %d
setup_timeout = 30s
pool = 100.64.0.0/16
radius_irt = 1s
radius_mrt = 4s
radius_mrc = 0
radius_mrd = 120s
interim_override = %s
acct_on_wait = 2s
shutdown_grace = 10s
status_listen = %s
tick = 20ms
`, lab.ISPWANIf, o.EchoInterval, o.EchoFailures, interim, NasdStatus)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatalf("system: %v", err)
	}
	s.Nasd = lab.StartDaemon(t, lab.DaemonSpec{
		Name:  "nasd",
		Path:  s.Bins[PkgNasd],
		Netns: s.Top.ISP,
		Args: []string{"-config", conf, "-log-level", "info",
			"-radius-auth", s.Top.NASRADIUSAuth, "-radius-acct", s.Top.NASRADIUSAcct, "-radius-secret", s.Top.RADIUS.NASSecret},
		Ready: lab.ReadyLog("nasd ready"),
	})
}

func (s *System) startGateway(ctx context.Context, gl *lab.GatewayLinks) {
	t := s.T
	o := s.Opts
	g := &Gateway{
		GatewayLinks: gl,
		ID:           fmt.Sprintf("gw-lab-%d", gl.Index),
		Secret:       "gw" + randHex(8),
		Faulty:       o.Faulty == gl.Index,
		LANAddr:      netip.AddrFrom4([4]byte{192, 168, byte(gl.Index), 1}),
		SubAddr:      netip.AddrFrom4([4]byte{192, 168, byte(gl.Index), 2}),
	}
	dir := filepath.Join(s.dir, g.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("system: %v", err)
	}
	g.Config = filepath.Join(dir, "gatewayd.conf")
	g.Journal = filepath.Join(dir, "journal.db")
	// The LAN carries PPPoE and, for the live page, IP.
	if err := gl.NS.IP("addr", "add", g.LANAddr.String()+"/24", "dev", lab.GatewayLANIf); err != nil {
		t.Fatalf("system: %v", err)
	}
	if err := s.Top.Sub.IP("addr", "add", g.SubAddr.String()+"/24", "dev", gl.SubIf); err != nil {
		t.Fatalf("system: %v", err)
	}

	auth, acct := s.Top.RADIUSAuth, s.BilldAcct
	if o.Proxy {
		g.AuthProxy = s.proxy(gl.NS, auth, 1000+uint64(gl.Index))
		g.AcctProxy = s.proxy(gl.NS, acct, 2000+uint64(gl.Index))
		auth, acct = g.AuthProxy.Addr().String(), g.AcctProxy.Addr().String()
	}
	fault := 0
	if g.Faulty {
		fault = o.FaultPercent
	}
	conf := fmt.Sprintf(`# written by lab/system
gateway-id = %s
journal = %s
log-level = info
shutdown-grace = 5s

[lan]
interface = %s

[wan]
interface = %s

[relay]
mode = auto
max-sessions = %d
padi-rate = 2000
handshake-timeout = 30s
idle-timeout = 2m
echo-failures = 3

[auth]
server = %s %s
timeout = %s
retries = 5
fail-open = false

[accounting]
server = %s %s
timeout = 1s
retries = 3
interim-interval = 1m
checkpoint-interval = %s
retry-interval = 1s

[live]
listen = %s
interface = %s

[metrics]
listen = %s

[fault]
underbill-percent = %d
`, g.ID, g.Journal, lab.GatewayLANIf, lab.GatewayWANIf, o.MaxSessions, auth, s.Top.RADIUS.GatewaySecret, o.AuthTimeout,
		acct, g.Secret, o.Checkpoint, g.LiveAddr(), lab.GatewayLANIf, GatewayMetrics, fault)
	if err := os.WriteFile(g.Config, []byte(conf), 0o600); err != nil {
		t.Fatalf("system: %v", err)
	}
	bin := s.Bins[PkgGatewayd]
	// The key first (gatewayd makes it in the journal at first use), so
	// billd knows the gateway before its first bill.
	out, err := Command(ctx, nil, nil, bin, "pubkey", "-config", g.Config).CombinedOutput()
	if err != nil {
		t.Fatalf("system: gatewayd pubkey: %v\n%s", err, out)
	}
	g.PublicKey = strings.TrimSpace(string(out))
	if out, err := s.BilldCLI(ctx, "gateways", "add", "-id", g.ID, "-public-key", g.PublicKey, "-secret", g.Secret,
		"-owner", fmt.Sprintf("lab gateway %d", gl.Index)); err != nil {
		t.Fatalf("system: %v\n%s", err, out)
	}
	g.D = lab.StartDaemon(t, lab.DaemonSpec{
		Name:  fmt.Sprintf("gatewayd%d", gl.Index),
		Path:  bin,
		Netns: gl.NS,
		Args:  []string{"run", "-config", g.Config, "-log-format", "console"},
		Ready: lab.ReadyAll(lab.ReadyLog("relay ready"), lab.ReadyTCP(GatewayMetrics), lab.ReadyTCP(g.LiveAddr())),
	})
	s.Gateways = append(s.Gateways, g)
}

// proxy starts a udpproxy in ns towards target.
func (s *System) proxy(ns *lab.Netns, target string, seed uint64) *udpproxy.Proxy {
	p, err := udpproxy.New(udpproxy.Config{
		Listen:               "127.0.0.1:0",
		Target:               target,
		ListenPacket:         ns.ListenPacket,
		UpstreamListenPacket: ns.ListenPacket,
		Seed:                 seed,
		QueueLen:             4096,
	})
	if err != nil {
		s.T.Fatalf("system: proxy: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	s.T.Cleanup(func() {
		cancel()
		p.Close()
		<-done
	})
	return p
}

// Gateway returns gateway i (1-based).
func (s *System) Gateway(i int) *Gateway { return s.Gateways[i-1] }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
