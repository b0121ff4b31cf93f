package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/rfc/tariff"
)

func TestReferenceConfig(t *testing.T) {
	const path = "../../testdata/gatewayd.conf"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Parse(f, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(true); err != nil {
		t.Fatal(err)
	}
	want := &Config{
		GatewayID:     "gw-lab-0001",
		Journal:       "/var/lib/gatewayd/journal.db",
		LogLevel:      "info",
		ShutdownGrace: 5 * time.Second,
		LAN:           Link{Interface: "lan0"},
		WAN:           Link{Interface: "wan0"},
		Relay: Relay{Mode: "auto", MaxSessions: 64, PADIRate: 10, PADIBurst: 100, HandshakeTimeout: time.Minute,
			IdleTimeout: 5 * time.Minute, EchoFailures: 5,
			AgentCircuitID: "gw-lab-0001 eth 0/1", AgentRemoteID: "subscriber-line-0001"},
		Auth: RADIUS{
			Servers:      []Server{{"10.0.0.1:1812", "testing123"}, {"10.0.0.2:1812", "testing123"}},
			Timeout:      2 * time.Second,
			Retries:      3,
			MaxDuration:  3 * time.Second,
			LocalAddress: "10.0.0.2",
		},
		Accounting: Accounting{
			RADIUS: RADIUS{
				Servers:      []Server{{"10.0.0.1:1813", "testing123"}, {"10.0.0.2:1813", "testing123"}},
				Timeout:      2 * time.Second,
				Retries:      3,
				MaxDuration:  30 * time.Second,
				LocalAddress: "10.0.0.2",
			},
			InterimInterval:    5 * time.Minute,
			CheckpointInterval: 30 * time.Second,
			RetryInterval:      5 * time.Second,
			DefaultTariff:      "T1;id=default;v=1;cur=CNY;sc=4;fee=0;time=600/1m/up",
		},
		Live:    Live{Listen: "192.168.1.1:80", Interface: "lan0"},
		Metrics: Metrics{Listen: "127.0.0.1:9464"},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("reference config (-want +got):\n%s", diff)
	}
	if _, err := tariff.Parse(c.Accounting.DefaultTariff); err != nil {
		t.Errorf("default tariff: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		name, text, want string
	}{
		{"unknown key", "gateway-id = x\nbogus = 1\n", "f.conf:2: unknown key \"bogus\" at the top"},
		{"unknown key in section", "[relay]\n\nmax-session = 3\n", "f.conf:3: unknown key \"max-session\" in [relay]"},
		{"unknown section", "# c\n[radius]\n", "f.conf:2: unknown section [radius]"},
		{"repeated", "[lan]\ninterface = a\ninterface = b\n", "f.conf:3: \"interface\" in [lan] repeated (first on line 2)"},
		{"no equals", "[wan]\ninterface wan0\n", "f.conf:2: want key = value, got \"interface wan0\""},
		{"empty value", "journal =\n", "f.conf:1: \"journal\" at the top has no value"},
		{"bad duration", "[accounting]\ninterim-interval = 5 minutes\n", "f.conf:2: interim-interval in [accounting]: \"5 minutes\" is not a duration like 30s or 5m"},
		{"bad int", "[relay]\nmax-sessions = 0\n", "f.conf:2: max-sessions in [relay]: \"0\" is not an integer from 1 to 65534"},
		{"bad mode", "[relay]\nmode = fast\n", "f.conf:2: mode in [relay]: \"fast\" is not one of auto, kernel, user"},
		{"bad bool", "[auth]\nfail-open = yes\n", "f.conf:2: fail-open in [auth]: \"yes\" is not true or false"},
		{"server fields", "[auth]\nserver = 10.0.0.1:1812\n", "f.conf:2: server in [auth]: want \"host:port secret\", got 1 fields"},
		{"server addr", "[accounting]\nserver = 10.0.0.1 s\n", "f.conf:2: server in [accounting]: \"10.0.0.1\" is not host:port"},
		{"header", "[live\n", "f.conf:1: section header \"[live\" has no closing ]"},
		{"percent", "[fault]\nunderbill-percent = 101\n", "f.conf:2: underbill-percent in [fault]: \"101\" is not an integer from 0 to 100"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.text), "f.conf")
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("error %v is not ErrSyntax", err)
			}
			if err.Error() != c.want {
				t.Errorf("error\n got %s\nwant %s", err, c.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := "gateway-id = g\n[accounting]\nserver = 127.0.0.1:1813 s\n"
	for _, c := range []struct {
		name, text string
		relay      bool
		want       string // substring; "" is valid
	}{
		{"minimal without relay", ok, false, ""},
		{"relay needs interfaces", ok, true, "[lan] and [wan] interface are required"},
		{"relay needs auth", ok + "[lan]\ninterface=a\n[wan]\ninterface=b\n", true, "[auth] needs at least one server"},
		{"same interface", ok + "[lan]\ninterface=a\n[wan]\ninterface=a\n[auth]\nserver = 1.2.3.4:1812 s\n", true, "same interface"},
		{"no gateway id", "[accounting]\nserver = 127.0.0.1:1813 s\n", false, "gateway-id is required"},
		{"no accounting", "gateway-id = g\n", false, "[accounting] needs at least one server"},
		{"wildcard live", ok + "[live]\nlisten = 0.0.0.0:80\n", false, "must be a LAN IP address"},
		{"named live", ok + "[live]\nlisten = lan.example:80\n", false, "must be a LAN IP address"},
		{"log level", "log-level = loud\n" + ok, false, "log-level \"loud\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse(strings.NewReader(c.text), "f.conf")
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate(c.relay)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("rejected: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestDefaultsAreTheEmptyFile(t *testing.T) {
	c, err := Parse(strings.NewReader("# nothing\n\n"), "empty")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), c); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Parse never panics, and every error names the file and a line.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../testdata/gatewayd.conf"); err == nil {
		f.Add(string(b))
	}
	f.Add("[relay]\nmax-sessions = 3\n[auth]\nserver = 1.2.3.4:1812 s\n")
	f.Add("= \n[\n]\n#\n")
	f.Fuzz(func(t *testing.T, text string) {
		_, err := Parse(strings.NewReader(text), "f.conf")
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.File != "f.conf" || e.Line < 1 {
			t.Fatalf("error without a line: %v", err)
		}
	})
}
