package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/billing/billingtest"
	"github.com/edgebill/edgebill/gateway/billing/config"
	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/rfc/bill"
)

// mainEnv makes the test binary act as gatewayd (for tests that need a
// process of their own, in a namespace).
const mainEnv = "EDGEBILL_GATEWAYD_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		if err := mainErr(os.Args[1:], os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "gatewayd:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestCheckReferenceConfig(t *testing.T) {
	var out bytes.Buffer
	if err := mainErr([]string{"check-config", "-config", "../../testdata/gatewayd.conf"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if out.String() != "configuration ok\n" {
		t.Errorf("output %q", out.String())
	}
	err := mainErr([]string{"check-config", "-config", "../../testdata/gatewayd.conf", "-live-listen", "0.0.0.0:80"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "LAN IP address") {
		t.Errorf("wildcard live view accepted: %v", err)
	}
	if err := mainErr([]string{"check-config", "-config", "/nonexistent.conf"}, io.Discard, io.Discard); err == nil {
		t.Error("missing explicit config accepted")
	}
}

func TestFlagsOverrideFile(t *testing.T) {
	var o options
	fs := flags("t", &o, io.Discard)
	if err := fs.Parse([]string{"-gateway-id", "gw-x", "-fault-underbill-percent", "25", "-lan", "eth9"}); err != nil {
		t.Fatal(err)
	}
	o.underbillIsSet = true
	c := config.Default()
	c.GatewayID, c.LAN.Interface, c.WAN.Interface = "file", "lan0", "wan0"
	o.apply(c)
	if c.GatewayID != "gw-x" || c.Fault.UnderbillPercent != 25 || c.LAN.Interface != "eth9" || c.WAN.Interface != "wan0" {
		t.Errorf("after flags: %+v %+v %+v", c.GatewayID, c.Fault, c.LAN)
	}
}

func TestPubkey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	var a, b bytes.Buffer
	if err := mainErr([]string{"pubkey", "-journal", path}, &a, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := mainErr([]string{"pubkey", "-journal", path}, &b, io.Discard); err != nil {
		t.Fatal(err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(a.String()))
	if err != nil || len(key) != 32 {
		t.Fatalf("pubkey printed %q", a.String())
	}
	if a.String() != b.String() {
		t.Errorf("the key changed: %q then %q", a.String(), b.String())
	}
	// While the journal is held, the .pub copy is printed.
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	os.WriteFile(pubFile(path), a.Bytes(), 0o644)
	var c bytes.Buffer
	if err := mainErr([]string{"pubkey", "-journal", path, "-format", "base64"}, &c, io.Discard); err != nil {
		t.Fatal(err)
	}
	if c.Len() != 45 {
		t.Errorf("base64 key %q", c.String())
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

// gatewayd without the relay, started over a journal a crash left
// behind: it bills the open session with NAS-Reboot, delivers that bill
// and the one already pending, shows both on the live view's API and in
// /metrics, and stops cleanly.
func TestRunRecoversAndDelivers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal.db")
	started := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	pub := j.PublicKey()
	s := gateway.Session{Key: 7, AcctSessionID: "0000000000000007", PPPoESessionID: 0x22,
		SubscriberMAC: net.HardwareAddr{2, 0, 0, 0, 0, 7}, BRASMAC: net.HardwareAddr{2, 0, 0, 0, 0, 8},
		User: "carol", Started: started,
		Auth: gateway.Authorization{Tariff: "T1;id=p;v=1;cur=CNY;sc=2;fee=100;time=10/1m/up"}}
	err = j.Update(func(tx *journal.Tx) error {
		c := journal.Checkpoint{Session: s, At: started.Add(5 * time.Minute), Elapsed: 5 * time.Minute,
			Usage: gateway.Usage{InOctets: 1000, OutOctets: 2000}}
		return tx.PutCheckpoint(&c)
	})
	if err != nil {
		t.Fatal(err)
	}
	j.Close()

	srv, err := billingtest.NewAccountingServer("sekrit", true)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := config.Default()
	cfg.GatewayID = "gw-run-test"
	cfg.Journal = path
	cfg.Accounting.Servers = []config.Server{{Addr: srv.Addr(), Secret: "sekrit"}}
	cfg.Accounting.Timeout = 100 * time.Millisecond
	cfg.Live.Listen = freeAddr(t)
	cfg.Metrics.Listen = freeAddr(t)
	if err := cfg.Validate(false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, runOptions{noRelay: true}, zaptest.NewLogger(t)) }()

	deadline := time.Now().Add(15 * time.Second)
	var bills []*bill.Bill
	for len(bills) < 1 {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no bill delivered: %v", <-done)
		}
		time.Sleep(50 * time.Millisecond)
		bills = bills[:0]
		for _, r := range srv.Requests() {
			if r.Bill != nil {
				bills = append(bills, r.Bill)
			}
		}
	}
	b := bills[0]
	if err := b.Verify(pub); err != nil {
		t.Error(err)
	}
	if b.Sequence != 1 || b.UserName != "carol" || b.TerminateCause != 11 || b.InputOctets != 1000 ||
		b.SessionTime != 5*time.Minute || b.Charge != 150 {
		t.Errorf("recovered bill: seq %d user %s cause %v in %d time %v charge %d",
			b.Sequence, b.UserName, b.TerminateCause, b.InputOctets, b.SessionTime, b.Charge)
	}

	// The live view's API and the metrics.
	for time.Now().Before(deadline) {
		if strings.Contains(httpGet(t, "http://"+cfg.Live.Listen+"/api/bills"), `"acknowledged"`) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var doc struct {
		Bills []struct {
			Sequence uint64 `json:"sequence"`
			Status   string `json:"status"`
			Cause    string `json:"cause"`
		} `json:"bills"`
	}
	if err := json.Unmarshal([]byte(httpGet(t, "http://"+cfg.Live.Listen+"/api/bills")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Bills) != 1 || doc.Bills[0].Status != "acknowledged" || doc.Bills[0].Cause != "NAS-Reboot" {
		t.Errorf("/api/bills: %+v", doc.Bills)
	}
	if !strings.Contains(httpGet(t, "http://"+cfg.Live.Listen+"/api/gateway"), hex.EncodeToString(pub)) {
		t.Errorf("/api/gateway does not show the public key")
	}
	m := httpGet(t, "http://"+cfg.Metrics.Listen+"/metrics")
	for _, want := range []string{
		"gatewayd_bills_pending 0", "gatewayd_billing_sessions_recovered_total 1", "gatewayd_bills_acknowledged_total 1",
		"gatewayd_journal_size_bytes", `gatewayd_radius_request_duration_seconds_count{kind="stop"} 1`,
		`gatewayd_radius_client_events_total{client="accounting",event="responses"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	key, _ := os.ReadFile(pubFile(path))
	if strings.TrimSpace(string(key)) != hex.EncodeToString(pub) {
		t.Errorf(".pub file %q", key)
	}
	j, err = journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if st, _ := j.Stats(); st.Pending != 0 || st.Sessions != 0 || st.Sequence != 1 {
		t.Errorf("journal after stop: %+v", st)
	}
}
