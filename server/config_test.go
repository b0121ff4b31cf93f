package server_test

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/server"
	"github.com/edgebill/edgebill/server/ingest"
)

func TestParseReferenceConfig(t *testing.T) {
	f, err := os.Open("testdata/billd.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := server.ParseConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	want := server.Config{
		DatabaseURL: "postgres://billd@127.0.0.1:5432/radius?sslmode=disable",
		Instance:    "billd-1", LogLevel: "info", ListenAcct: ":1813",
		Clients: []ingest.Client{
			{Net: netip.MustParsePrefix("127.0.0.0/8"), Secret: "lab-gateway-secret"},
			{Net: netip.MustParsePrefix("10.20.0.0/16"), Secret: "another-secret"},
		},
		QueueSize: 32768, BatchMax: 2048, BatchWait: 2 * time.Millisecond, Committers: 2, DupTTL: 5 * time.Second, GatewayRefresh: 5 * time.Second,
		ReconcileInterval: time.Minute, Grace: 15 * time.Minute, MatchWindow: 15 * time.Minute,
		ToleranceSeconds: 2, ToleranceBasisPoints: 50, MissingScope: "all", PieceSessions: 1_000_000,
		ListenHTTP: "127.0.0.1:8080", APITokenFile: "/etc/billd/token", DriftBasisPoints: 100, DriftMinBills: 20,
		MonthsAhead: 3,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Fatalf("reference config (-want +got):\n%s", diff)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		line int
		msg  string
	}{
		{"listen_acct = :1813\nlisten_acct = :1814\n", 2, "given again"},
		{"# comment\n\nfrobnicate = 1\n", 3, "unknown key"},
		{"grace = soon\n", 1, "duration"},
		{"tolerance_percent = 0.123\n", 1, "percentage"},
		{"client = 10.0.0.0/8\n", 1, "CIDR SECRET"},
		{"just words\n", 1, "key = value"},
		{"reconcile = maybe\n", 1, "true or false"},
		{"queue_size = -3\n", 1, "non-negative"},
		{"piece_sessions = 10\n", 1, "at least 1000"},
	} {
		_, err := server.ParseConfig(strings.NewReader(tc.in))
		var pe *server.ParseError
		if !errors.As(err, &pe) || pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) || !errors.Is(err, server.ErrConfig) {
			t.Errorf("ParseConfig(%q) = %v; want line %d, %q", tc.in, err, tc.line, tc.msg)
		}
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "0.5": 50, "1": 100, "12.25%": 1225, "0.05": 5, "100": 10000} {
		if got, err := server.ParsePercent(in); err != nil || got != want {
			t.Errorf("ParsePercent(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "0.001", "x", "1.2.3", ".5"} {
		if _, err := server.ParsePercent(in); err == nil {
			t.Errorf("ParsePercent(%q) accepted", in)
		}
	}
}
