//go:build linux

package nas_test

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/nas"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/nas/link"
)

// ispLab is the ISP side of an end-to-end test: namespace "isp" with
// Postgres and FreeRADIUS on its 127.0.0.1 (FreeRADIUS knows the BRAS by
// that source address), and namespace "sub" for the subscribers.
type ispLab struct {
	t   testing.TB
	isp *lab.Netns
	sub *lab.Netns
	pg  *lab.Postgres
	fr  *lab.FreeRADIUS
}

func newISPLab(t testing.TB) *ispLab { return newISPLabDurable(t, false) }

// newISPLabDurable is newISPLab with Postgres's fsync on or off: tests
// turn it off for speed, the benchmark keeps it on, as in production.
func newISPLabDurable(t testing.TB, durable bool) *ispLab {
	t.Helper()
	testenv.Short(t, "starts Postgres and FreeRADIUS in network namespaces")
	testenv.Root(t)
	l := &ispLab{t: t}
	l.isp = lab.NewNetns(t, "isp")
	l.sub = lab.NewNetns(t, "sub")
	l.pg = lab.StartPostgres(t, &lab.PostgresOptions{Netns: l.isp, NoFsync: !durable})
	l.fr = lab.StartFreeRADIUS(t, l.pg, &lab.FreeRADIUSOptions{Netns: l.isp, Fixtures: []string{"testdata/sql/subscribers.sql"}})
	return l
}

// e2eConfig is nasd's configuration for the lab: FreeRADIUS of l, short
// timers, an interim every second.
func (l *ispLab) e2eConfig(ifname string, auth nas.AuthMethod) nas.Config {
	return nas.Config{
		Interface:       ifname,
		ACName:          "lab-nasd-" + ifname,
		Auth:            auth,
		Tick:            20 * time.Millisecond,
		LCPRestart:      time.Second,
		EchoInterval:    -1,
		InterimOverride: time.Second,
		AuthServers:     []radclient.Server{{Addr: l.fr.AuthAddr, Secret: l.fr.NASSecret}},
		AcctServers:     []radclient.Server{{Addr: l.fr.AcctAddr, Secret: l.fr.NASSecret}},
		RADIUSIRT:       500 * time.Millisecond,
		RADIUSMRT:       time.Second,
		CoAListen:       "127.0.0.1:0",
		CoASecret:       "coa-secret",
		StatusListen:    "127.0.0.1:0",
		DNS:             []netip.Addr{netip.MustParseAddr("192.0.2.53")},
	}
}

// startNASD runs nasd in-process inside ns: New opens every socket there.
func startNASD(t testing.TB, ns *lab.Netns, cfg nas.Config, opts nas.Options) *nas.Server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	var srv *nas.Server
	if err := ns.Do(func() (err error) {
		srv, err = nas.New(cfg, opts)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("nasd: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("nasd did not stop")
		}
	})
	waitFor(t, 10*time.Second, "nasd ready", srv.Ready)
	return srv
}

// testLogger logs into the test's output, but not a benchmark's.
func testLogger(t testing.TB) *zap.Logger {
	if _, ok := t.(*testing.B); ok {
		return zap.NewNop()
	}
	return zaptest.NewLogger(t)
}

// startMux opens a dialer on ifname in ns.
func startMux(t testing.TB, ns *lab.Netns, ifname string) *client.Mux {
	t.Helper()
	var c *link.Conn
	if err := ns.Do(func() (err error) {
		c, err = link.Listen(ifname, &link.Options{Promiscuous: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m := client.NewMux(c, testLogger(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return m
}

func labDial(t testing.TB, m *client.Mux, mac net.HardwareAddr, user, pw string, mod func(*client.Options)) (*client.Session, error) {
	t.Helper()
	opts := client.Options{MAC: mac, User: user, Password: pw, RestartTimer: time.Second, DiscoveryTimeout: 500 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return m.Dial(ctx, opts)
}

// acctRow is a radacct row as FreeRADIUS's stock queries wrote it.
type acctRow struct {
	SessionID, User, Cause, Framed, Calling, PortType string
	In, Out, SessionTime                              int64
	Stopped, Interim                                  bool
}

// radacct returns the rows of user (all rows for "").
func (l *ispLab) radacct(user string) []acctRow {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := l.pg.Connect(ctx)
	if err != nil {
		l.t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT acctsessionid, username, COALESCE(acctterminatecause, ''), COALESCE(host(framedipaddress), ''),
		callingstationid, COALESCE(nasporttype, ''), COALESCE(acctinputoctets, 0), COALESCE(acctoutputoctets, 0),
		COALESCE(acctsessiontime, 0), acctstoptime IS NOT NULL, acctinterval IS NOT NULL
		FROM radacct WHERE $1 = '' OR username = $1 ORDER BY radacctid`, user)
	if err != nil {
		l.t.Fatal(err)
	}
	defer rows.Close()
	var out []acctRow
	for rows.Next() {
		var r acctRow
		if err := rows.Scan(&r.SessionID, &r.User, &r.Cause, &r.Framed, &r.Calling, &r.PortType, &r.In, &r.Out, &r.SessionTime, &r.Stopped, &r.Interim); err != nil {
			l.t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		l.t.Fatal(err)
	}
	return out
}

// stoppedRow waits for the stopped radacct row of the session of mac.
func (l *ispLab) stoppedRow(user string, mac net.HardwareAddr, within time.Duration) acctRow {
	l.t.Helper()
	want := strings.ToUpper(strings.ReplaceAll(mac.String(), ":", "-"))
	var last []acctRow
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		last = l.radacct(user)
		var found []acctRow
		for _, r := range last {
			if r.Calling == want {
				found = append(found, r)
			}
		}
		if len(found) > 1 {
			l.t.Fatalf("%d radacct rows for %s %s: %+v", len(found), user, want, found)
		}
		if len(found) == 1 && found[0].Stopped {
			return found[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	l.t.Fatalf("no stopped radacct row for %s %s within %v; rows %+v\n%s", user, want, within, last, l.fr.Log())
	return acctRow{}
}

// run runs a program in ns with a timeout and returns its combined output.
func run(t testing.TB, ns *lab.Netns, timeout time.Duration, stdin, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func macN(prefix byte, i int) net.HardwareAddr {
	return net.HardwareAddr{0x02, prefix, 0, 0, byte(i >> 8), byte(i)}
}
