package nas_test

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/nas"
)

// The reference configuration parses to what it says.
func TestParseReferenceConfig(t *testing.T) {
	f, err := os.Open("testdata/nasd.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := nas.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	want := &nas.Config{
		Interface: "eth0", ACName: "edgebill-nasd", ServiceNames: []string{"internet", "iptv"},
		MaxSessions: 16000, PADIRate: 1000, PADIBurst: 500, PADIRatePerMAC: 2, PADIBurstPerMAC: 6,
		CookieTTL: time.Minute, Auth: nas.AuthCHAP, MRU: 1492, LCPRestart: 3 * time.Second,
		EchoInterval: 30 * time.Second, EchoFailures: 3, SetupTimeout: time.Minute,
		Pool: netip.MustParsePrefix("100.64.0.0/16"), LocalAddress: netip.MustParseAddr("100.64.0.1"),
		DNS:      []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("192.0.2.54")},
		EchoPort: 7, NASIdentifier: "edgebill-nasd", NASIPAddress: netip.MustParseAddr("127.0.0.1"),
		AuthServers:  []radclient.Server{{Addr: "127.0.0.1:1812", Secret: "testing123"}},
		AcctServers:  []radclient.Server{{Addr: "127.0.0.1:1813", Secret: "testing123"}},
		RADIUSSource: "127.0.0.1", RADIUSIRT: 2 * time.Second, RADIUSMRT: 16 * time.Second, RADIUSMRC: 5, RADIUSMRD: 30 * time.Second, RADIUSWindow: 64,
		InterimInterval: -1, InterimOverride: -1, SessionTimeout: -1, IdleTimeout: -1,
		AcctOnWait: 5 * time.Second, ShutdownGrace: 10 * time.Second,
		CoAListen: "127.0.0.1:3799", CoASecret: "coa-testing", EventTimestampWindow: 300 * time.Second,
		StatusListen: "127.0.0.1:8079", Tick: 100 * time.Millisecond,
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Fatalf("(-want +got)\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		line       int
		is         error
	}{
		{"unknown key", "ac_name = x\nacname = y\n", 2, nas.ErrUnknownKey},
		{"no equals", "# comment\n\ninterface eth0\n", 3, nil},
		{"bad duration", "restart_timer = 3 seconds\n", 1, nil},
		{"bad auth", "auth = eap\n", 1, nil},
		{"bad pool", "pool = 100.64.0.0\n", 1, nil},
		{"twice", "mru = 1492\nmru = 1400\n", 2, nil},
		{"radius without secret", "radius_auth = 127.0.0.1:1812\n", 1, nil},
		{"mru too big", "mru = 70000\n", 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := nas.Parse(strings.NewReader(tc.text))
			var pe *nas.ParseError
			if !errors.As(err, &pe) || pe.Line != tc.line {
				t.Fatalf("err = %v, want a ParseError at line %d", err, tc.line)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  nas.Config
	}{
		{"IPv6 pool", nas.Config{Pool: netip.MustParsePrefix("2001:db8::/64")}},
		{"tiny pool", nas.Config{Pool: netip.MustParsePrefix("10.0.0.0/31")}},
		{"three DNS", nas.Config{DNS: []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("1.1.1.2"), netip.MustParseAddr("1.1.1.3")}}},
		{"CoA without secret", nas.Config{CoAListen: "127.0.0.1:3799"}},
		{"small MRU", nas.Config{MRU: 100}},
	} {
		if err := tc.cfg.Validate(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	var zero nas.Config
	if err := zero.Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
}
