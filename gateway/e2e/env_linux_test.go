//go:build linux

package e2e

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/gateway/billing/billingtest"
	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/nas/link"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// The binaries every test runs, built once per test process.
const (
	pkgNasd     = "./nas/cmd/nasd"
	pkgDial     = "./nas/cmd/pppoe-dial"
	pkgGatewayd = "./gateway/cmd/gatewayd"
	pkgBlast    = "./lab/cmd/pppoe-blast"
)

// TestMain removes the binaries lab.Build made.
func TestMain(m *testing.M) {
	code := m.Run()
	lab.RemoveBuilds()
	os.Exit(code)
}

// Fixed parts of the lab, inside namespaces the test made.
const (
	acctSecret   = "e2e-acct-secret" // gatewayd <-> the test's accounting listener
	nasdStatus   = "127.0.0.1:8079"  // nasd's JSON status, in isp
	gwMetrics    = "127.0.0.1:9464"  // gatewayd's /metrics, in gw
	gatewayID    = "gw-e2e-0001"
	nasdACName   = "e2e-nasd"
	udpEchoPort  = 7
	dialRestart  = "1s"
	setupTimeout = 30 * time.Second
)

// envOptions shape an env; the zero value is CHAP at nasd, relay mode
// auto, checkpoints every second.
type envOptions struct {
	NASAuth    string        // "chap" (default) or "pap"
	RelayMode  string        // auto (default), kernel, user
	Checkpoint time.Duration // gatewayd's checkpoint-interval (default 1s)
	// PADIRate is gatewayd's [relay] padi-rate (default 20).
	PADIRate int
}

// env is the whole system for one test: the lab topology (sub, gw, isp
// with Postgres and FreeRADIUS), nasd in isp, gatewayd in gw, the
// accounting listener gatewayd bills to (in gw), and the tap nasd's
// accounting passes through on its way to FreeRADIUS (in isp).
type env struct {
	t    *testing.T
	top  *lab.Topology
	gw   *lab.GatewayLinks
	bins map[string]string

	tap  *acctTap
	nasd *lab.Daemon

	acct    *billingtest.AccountingServer
	gwConf  string
	gwd     *lab.Daemon
	journal string
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	testenv.Short(t, "runs nasd, gatewayd, FreeRADIUS and Postgres in network namespaces")
	testenv.Root(t)
	if o.NASAuth == "" {
		o.NASAuth = "chap"
	}
	if o.RelayMode == "" {
		o.RelayMode = "auto"
	}
	if o.Checkpoint == 0 {
		o.Checkpoint = time.Second
	}
	if o.PADIRate == 0 {
		o.PADIRate = 20
	}
	e := &env{t: t}
	t0 := time.Now()
	e.bins = lab.Build(t, pkgNasd, pkgDial, pkgGatewayd)
	built := time.Since(t0)
	e.top = lab.NewTopology(t, &lab.TopologyOptions{Prefix: "e2e", Postgres: lab.PostgresOptions{NoFsync: true}})
	e.gw = e.top.Gateway(1)
	topo := time.Since(t0)

	e.tap = startAcctTap(t, e.top.ISP, e.top.NASRADIUSAcct, e.top.RADIUS.NASSecret)
	e.startNASD(o)

	// The accounting listener lives in gw: gatewayd reaches it on gw's
	// loopback, and nothing outside the test's namespaces sees it.
	if err := e.gw.NS.Do(func() (err error) {
		e.acct, err = billingtest.NewAccountingServer(acctSecret, true)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.acct.Close)
	e.startGatewayd(o)
	t.Logf("lab up in %v (binaries at %v, topology with Postgres and FreeRADIUS at %v, then nasd and gatewayd)",
		time.Since(t0).Round(time.Millisecond), built.Round(time.Millisecond), topo.Round(time.Millisecond))
	return e
}

// startNASD runs nasd in isp on the WAN bridge, authenticating through
// FreeRADIUS, accounting through the tap.
func (e *env) startNASD(o envOptions) {
	t := e.t
	conf := filepath.Join(t.TempDir(), "nasd.conf")
	text := fmt.Sprintf(`# written by gateway/e2e
interface = %s
ac_name = %s
auth = %s
restart_timer = 1s
echo_interval = off
radius_irt = 500ms
radius_mrt = 2s
radius_mrd = 20s
status_listen = %s
udp_echo_port = %d
tick = 20ms
shutdown_grace = 2s
`, lab.ISPWANIf, nasdACName, o.NASAuth, nasdStatus, udpEchoPort)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	e.nasd = lab.StartDaemon(t, lab.DaemonSpec{
		Name: "nasd",
		Path: e.bins[pkgNasd],
		Args: []string{"-config", conf, "-log-level", "debug",
			"-radius-auth", e.top.NASRADIUSAuth, "-radius-acct", e.tap.Addr(), "-radius-secret", e.top.RADIUS.NASSecret},
		Netns: e.top.ISP,
		Ready: lab.ReadyAll(lab.ReadyLog("nasd ready"), lab.ReadyTCP(nasdStatus)),
	})
}

// startGatewayd writes gatewayd's configuration and runs it in gw.
func (e *env) startGatewayd(o envOptions) {
	t := e.t
	dir := t.TempDir()
	e.journal = filepath.Join(dir, "journal.db")
	e.gwConf = filepath.Join(dir, "gatewayd.conf")
	text := fmt.Sprintf(`# written by gateway/e2e
gateway-id = %s
journal = %s
log-level = debug
shutdown-grace = 2s
[lan]
interface = %s
[wan]
interface = %s
[relay]
mode = %s
max-sessions = 64
padi-rate = %d
handshake-timeout = 30s
[auth]
server = %s %s
timeout = 1s
retries = 2
local-address = %s
[accounting]
server = %s %s
timeout = 300ms
retries = 1
checkpoint-interval = %s
retry-interval = 500ms
[metrics]
listen = %s
`, gatewayID, e.journal, lab.GatewayLANIf, lab.GatewayWANIf, o.RelayMode, o.PADIRate,
		e.top.RADIUSAuth, e.top.RADIUS.GatewaySecret, e.gw.Addr,
		e.acct.Addr(), acctSecret, o.Checkpoint, gwMetrics)
	if err := os.WriteFile(e.gwConf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	e.gwd = lab.StartDaemon(t, lab.DaemonSpec{
		Name:  "gatewayd",
		Path:  e.bins[pkgGatewayd],
		Args:  []string{"-config", e.gwConf, "-log-format", "console"},
		Netns: e.gw.NS,
		Ready: lab.ReadyAll(lab.ReadyLog("relay ready"), lab.ReadyTCP(gwMetrics)),
	})
}

// publicKey is what `gatewayd pubkey` prints for this gateway's journal
// (the copy gatewayd leaves next to it while it holds the journal).
func (e *env) publicKey() ed25519.PublicKey {
	e.t.Helper()
	out, err := exec.Command(e.bins[pkgGatewayd], "pubkey", "-config", e.gwConf).CombinedOutput()
	if err != nil {
		e.t.Fatalf("gatewayd pubkey: %v\n%s", err, out)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(out)))
	if err != nil || len(key) != ed25519.PublicKeySize {
		e.t.Fatalf("gatewayd pubkey printed %q", out)
	}
	// The same key gatewayd logged at start.
	if !strings.Contains(e.gwd.Log(), hex.EncodeToString(key)) {
		e.t.Errorf("gatewayd's log does not name the key `gatewayd pubkey` printed (%x)", key)
	}
	return key
}

// --- the subscriber side ---------------------------------------------------

// runDial runs pppoe-dial in sub on gateway 1's LAN and returns its
// combined output and exit error.
func (e *env) runDial(timeout time.Duration, args ...string) (string, error) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args = append([]string{"netns", "exec", e.top.Sub.Name, e.bins[pkgDial], "-i", e.gw.SubIf, "-restart", dialRestart}, args...)
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	return string(out), err
}

// mux opens a dialer (nas/client) on gateway 1's LAN in sub, for tests
// that drive sessions one by one.
func (e *env) mux() *client.Mux {
	t := e.t
	t.Helper()
	var c *link.Conn
	if err := e.top.Sub.Do(func() (err error) {
		c, err = link.Listen(e.gw.SubIf, &link.Options{Promiscuous: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m := client.NewMux(c, zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return m
}

// dial brings one subscriber up through the mux.
func dial(t *testing.T, m *client.Mux, mac net.HardwareAddr, user string) (*client.Session, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	return m.Dial(ctx, client.Options{MAC: mac, User: user, Password: user + "-pw",
		RestartTimer: time.Second, DiscoveryTimeout: 500 * time.Millisecond, SetupTimeout: setupTimeout})
}

// mustDial is dial that fails the test on an error.
func mustDial(t *testing.T, m *client.Mux, mac net.HardwareAddr, user string) *client.Session {
	t.Helper()
	s, err := dial(t, m, mac, user)
	if err != nil {
		t.Fatalf("dial %s (%s): %v", user, mac, err)
	}
	t.Cleanup(func() {
		select {
		case <-s.Done():
		default:
			s.Drop()
		}
	})
	return s
}

// exchange sends n UDP datagrams of size octets (the IP packet) to
// nasd's echo port, waiting for the echoes every few, so no queue
// overflows: afterwards the session has sent and received n more.
func exchange(t *testing.T, s *client.Session, n, size int) {
	t.Helper()
	start := s.Counters()
	pkt := client.UDPPacket(s.Addr(), s.PeerAddr(), 40000, udpEchoPort, size)
	for i := 0; i < n; i++ {
		if err := s.SendIP(pkt); err != nil {
			t.Fatalf("send: %v", err)
		}
		if i%16 == 15 || i == n-1 {
			want := start.RxPackets + uint64(i+1)
			waitFor(t, 5*time.Second, "echoes", func() bool { return s.Counters().RxPackets >= want })
		}
	}
}

// hangup ends a session cleanly (LCP Terminate, PADT).
func hangup(t *testing.T, s *client.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Hangup(ctx); err != nil {
		t.Errorf("hang up %s: %v", s.MAC(), err)
	}
}

func macN(prefix byte, i int) net.HardwareAddr {
	return net.HardwareAddr{0x02, prefix, 0, 0, byte(i >> 8), byte(i)}
}

// --- bills ------------------------------------------------------------------

// stopBills returns the bills of the Stops the listener received, in
// order of arrival, duplicates (retransmissions) included.
func stopBills(t testing.TB, acct *billingtest.AccountingServer) []*bill.Bill {
	t.Helper()
	var out []*bill.Bill
	for _, r := range acct.Requests() {
		if r.Status != rfc2866.AcctStatusType_Value_Stop {
			continue
		}
		if r.BillErr != nil {
			t.Errorf("a Stop that is no bill: %v", r.BillErr)
			continue
		}
		out = append(out, r.Bill)
	}
	return out
}

// uniqueBills drops repeated bills (same id: a retransmission the
// listener had answered), keeping the first arrival.
func uniqueBills(bills []*bill.Bill) []*bill.Bill {
	seen := map[[bill.IDSize]byte]bool{}
	var out []*bill.Bill
	for _, b := range bills {
		if !seen[b.ID] {
			seen[b.ID] = true
			out = append(out, b)
		}
	}
	return out
}

// waitBills waits until the listener holds n distinct bills.
func waitBills(t testing.TB, acct *billingtest.AccountingServer, n int, within time.Duration) []*bill.Bill {
	t.Helper()
	var got []*bill.Bill
	ok := poll(within, func() bool {
		got = uniqueBills(stopBills(t, acct))
		return len(got) >= n
	})
	if !ok {
		t.Fatalf("%d bills arrived within %v, want %d", len(got), within, n)
	}
	return got
}

// checkChain verifies every bill's signature and feeds them, in order of
// arrival, to a chain checker: nothing but exact repeats may be found.
func checkChain(t *testing.T, pub ed25519.PublicKey, arrivals []*bill.Bill) {
	t.Helper()
	var c bill.Checker
	for _, b := range arrivals {
		if err := b.Verify(pub); err != nil {
			t.Errorf("bill %d (%s): signature: %v", b.Sequence, b.SessionID, err)
		}
		if b.GatewayID != gatewayID {
			t.Errorf("bill %d: gateway id %q", b.Sequence, b.GatewayID)
		}
		for _, f := range c.Add(b.Link()) {
			if f.Kind != bill.Duplicate {
				t.Errorf("chain: %v", f)
			}
		}
	}
}

// --- nasd's side: radacct, the accounting tap, the plans ---------------------

// acctRow is nasd's radacct row for one session, as FreeRADIUS's stock
// queries wrote it.
type acctRow struct {
	AcctSessionID, User, NASPortID, Cause string
	In, Out                               int64
	Start, Stop                           time.Time
}

// stoppedRow waits for the stopped radacct row of user's PPPoE session id
// (nasd's NAS-Port-Id is "interface:session"), started at or after since.
func (e *env) stoppedRow(user string, sid uint16, since time.Time, within time.Duration) acctRow {
	t := e.t
	t.Helper()
	port := fmt.Sprintf("%s:%d", lab.ISPWANIf, sid)
	var rows []acctRow
	ok := poll(within, func() bool {
		rows = e.query(`SELECT acctsessionid, username, nasportid, COALESCE(acctterminatecause, ''),
			COALESCE(acctinputoctets, 0), COALESCE(acctoutputoctets, 0), acctstarttime, acctstoptime
			FROM radacct WHERE username = $1 AND nasportid = $2 AND acctstoptime IS NOT NULL
			AND acctstarttime >= $3 ORDER BY radacctid`, user, port, since.Add(-2*time.Second))
		return len(rows) > 0
	})
	if !ok {
		t.Fatalf("no stopped radacct row for %s session %d within %v", user, sid, within)
	}
	if len(rows) > 1 {
		t.Fatalf("%d stopped radacct rows for %s session %d: %+v", len(rows), user, sid, rows)
	}
	return rows[0]
}

// db gives a query 10 seconds on a connection of its own to the ISP's
// Postgres; the test fails if it cannot connect.
func (e *env) db() (context.Context, *pgx.Conn, func()) {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	c, err := e.top.PG.Connect(ctx)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	return ctx, c, func() { c.Close(ctx); cancel() }
}

func (e *env) query(sql string, args ...any) []acctRow {
	t := e.t
	t.Helper()
	ctx, c, done := e.db()
	defer done()
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []acctRow
	for rows.Next() {
		var r acctRow
		if err := rows.Scan(&r.AcctSessionID, &r.User, &r.NASPortID, &r.Cause, &r.In, &r.Out, &r.Start, &r.Stop); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// scalar runs a query returning one integer.
func (e *env) scalar(sql string, args ...any) int64 {
	t := e.t
	t.Helper()
	ctx, c, done := e.db()
	defer done()
	var n int64
	if err := c.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// planTariff is the tariff of user's plan as FreeRADIUS hands it out:
// the EdgeBill-Tariff of the user's groups (radusergroup, radgroupreply).
func (e *env) planTariff(user string) *tariff.Tariff {
	t := e.t
	t.Helper()
	ctx, c, done := e.db()
	defer done()
	var text string
	if err := c.QueryRow(ctx, `SELECT r.value FROM radusergroup g JOIN radgroupreply r ON r.groupname = g.groupname
		WHERE g.username = $1 AND r.attribute = 'EdgeBill-Tariff'`, user).Scan(&text); err != nil {
		t.Fatalf("%s's plan tariff: %v", user, err)
	}
	tf, err := tariff.Parse(text)
	if err != nil {
		t.Fatalf("%s's plan tariff %q: %v", user, text, err)
	}
	return tf
}

// nasdStats is nasd's `status -stats`, its top-level counters.
func (e *env) nasdStats() map[string]float64 {
	t := e.t
	t.Helper()
	out, err := e.top.ISP.Command(e.bins[pkgNasd], "status", "-addr", nasdStatus, "-stats").Output()
	if err != nil {
		t.Fatalf("nasd status: %v\n%s", err, out)
	}
	var all map[string]any
	if err := json.Unmarshal(out, &all); err != nil {
		t.Fatalf("nasd status: %v\n%s", err, out)
	}
	m := map[string]float64{}
	for k, v := range all {
		if f, ok := v.(float64); ok {
			m[k] = f
		}
	}
	return m
}

// --- gatewayd's metrics ------------------------------------------------------

// metrics scrapes gatewayd's /metrics (from inside gw) into name{labels}
// -> value.
func (e *env) metrics() map[string]float64 {
	e.t.Helper()
	return scrapeMetrics(e.t, e.gw.NS)
}

// scrapeMetrics reads gatewayd's /metrics in ns.
func scrapeMetrics(tb testing.TB, ns *lab.Netns) map[string]float64 {
	tb.Helper()
	hc := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: ns.DialContext, DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + gwMetrics + "/metrics")
	if err != nil {
		tb.Fatalf("gatewayd metrics: %v", err)
	}
	defer resp.Body.Close()
	return parseMetrics(resp.Body)
}

func parseMetrics(r io.Reader) map[string]float64 {
	m := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// --- small things --------------------------------------------------------------

// poll checks cond every 50 ms until it holds or within passes.
func poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(within, cond) {
		t.Fatalf("timed out after %v waiting for %s", within, what)
	}
}

// sessionUsage is a subscriber's own count, in the bill's terms (input
// is what the subscriber sent).
type sessionUsage struct {
	InOctets, OutOctets, InPackets, OutPackets uint64
}

func billUsage(b *bill.Bill) sessionUsage {
	return sessionUsage{b.InputOctets, b.OutputOctets, b.InputPackets, b.OutputPackets}
}

func clientUsage(c client.Counters) sessionUsage {
	return sessionUsage{c.TxOctets, c.RxOctets, c.TxPackets, c.RxPackets}
}

// --- the accounting tap ----------------------------------------------------------

// stopRecord is what nasd reported in one Accounting-Request Stop.
type stopRecord struct {
	AcctSessionID, User, NASPortID string
	Usage                          sessionUsage
	Cause                          uint32
}

// acctTap sits between nasd and FreeRADIUS's accounting port (in isp,
// on loopback, so FreeRADIUS still sees nasd's client address) and
// records every Stop nasd sends: radacct keeps octets but no packets,
// and the packets are part of the comparison.
type acctTap struct {
	conn   net.PacketConn
	target *net.UDPAddr
	secret []byte

	mu    sync.Mutex
	up    map[string]net.PacketConn // nasd's address -> our socket to FreeRADIUS
	stops map[string]stopRecord     // by Acct-Session-Id
	wg    sync.WaitGroup
}

func startAcctTap(t *testing.T, ns *lab.Netns, target, secret string) *acctTap {
	t.Helper()
	ta, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ns.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &acctTap{conn: c, target: ta, secret: []byte(secret), up: map[string]net.PacketConn{}, stops: map[string]stopRecord{}}
	listen := ns.ListenPacket
	tp.wg.Add(1)
	go tp.serve(listen)
	t.Cleanup(tp.close)
	return tp
}

func (tp *acctTap) Addr() string { return tp.conn.LocalAddr().String() }

func (tp *acctTap) close() {
	tp.conn.Close()
	tp.mu.Lock()
	for _, c := range tp.up {
		c.Close()
	}
	tp.mu.Unlock()
	tp.wg.Wait()
}

func (tp *acctTap) serve(listen func(network, addr string) (net.PacketConn, error)) {
	defer tp.wg.Done()
	buf := make([]byte, 4096)
	for {
		n, from, err := tp.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		tp.record(pkt)
		tp.mu.Lock()
		up := tp.up[from.String()]
		if up == nil {
			up, err = listen("udp", "127.0.0.1:0")
			if err != nil {
				tp.mu.Unlock()
				continue
			}
			tp.up[from.String()] = up
			tp.wg.Add(1)
			go func(from net.Addr) {
				defer tp.wg.Done()
				b := make([]byte, 4096)
				for {
					n, _, err := up.ReadFrom(b)
					if err != nil {
						return
					}
					tp.conn.WriteTo(b[:n], from)
				}
			}(from)
		}
		tp.mu.Unlock()
		up.WriteTo(pkt, tp.target)
	}
}

// stop returns the Stop nasd sent for an Acct-Session-Id.
func (tp *acctTap) stop(acctSessionID string) (stopRecord, bool) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	r, ok := tp.stops[acctSessionID]
	return r, ok
}

// record keeps a Stop's counts.
func (tp *acctTap) record(pkt []byte) {
	p, err := radius.Parse(pkt, tp.secret)
	if err != nil || p.Code != radius.CodeAccountingRequest || rfc2866.AcctStatusType_Get(p) != rfc2866.AcctStatusType_Value_Stop {
		return
	}
	in, out := radiusx.GetOctets64(p)
	r := stopRecord{
		AcctSessionID: rfc2866.AcctSessionID_GetString(p),
		User:          rfc2865.UserName_GetString(p),
		NASPortID:     rfc2869.NASPortID_GetString(p),
		Usage: sessionUsage{InOctets: in, OutOctets: out,
			InPackets: uint64(rfc2866.AcctInputPackets_Get(p)), OutPackets: uint64(rfc2866.AcctOutputPackets_Get(p))},
		Cause: uint32(rfc2866.AcctTerminateCause_Get(p)),
	}
	tp.mu.Lock()
	tp.stops[r.AcctSessionID] = r
	tp.mu.Unlock()
}
