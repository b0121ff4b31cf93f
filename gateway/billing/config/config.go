package config

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is gatewayd's configuration.
type Config struct {
	// GatewayID names the gateway to the ISP (NAS-Identifier, the bill's
	// gateway id). Required.
	GatewayID string
	// Journal is the journal file (/var/lib/gatewayd/journal.db).
	Journal string
	// LogLevel is debug, info, warn or error (info).
	LogLevel string
	// ShutdownGrace is how long a clean stop waits for pending bills to
	// be acknowledged before exiting (5s); the rest stay journaled.
	ShutdownGrace time.Duration

	LAN, WAN   Link
	Relay      Relay
	Auth       RADIUS
	Accounting Accounting
	Live       Live
	Metrics    Metrics
	Fault      Fault
}

// Link is one side of the gateway.
type Link struct {
	// Interface is the network interface name. Required.
	Interface string
}

// Relay is the PPPoE relay's configuration (gateway/relay).
type Relay struct {
	// Mode is how session frames are forwarded: auto (the kernel
	// offload if it loads, else user space), kernel or user (auto).
	Mode string
	// MaxSessions bounds the relayed sessions (64).
	MaxSessions int
	// PADIRate is the most PADIs per second relayed (10); more are
	// dropped and counted.
	PADIRate int
	// PADIBurst is how many PADIs may come at once above that rate
	// (0: the relay's default, 100).
	PADIBurst int
	// HandshakeTimeout ends a session not up this long after its PADS
	// (0: the relay's default, 60s).
	HandshakeTimeout time.Duration
	// IdleTimeout ends a session with no frame either way for this long
	// (0: the relay's default, 5m).
	IdleTimeout time.Duration
	// EchoFailures ends a session when one side's LCP Echo-Requests went
	// unanswered this many times in a row (0: the relay's default, 5).
	EchoFailures int
	// AgentCircuitID and AgentRemoteID, when set, are inserted as the
	// TR-101 vendor tag into upstream discovery.
	AgentCircuitID string
	AgentRemoteID  string
}

// Server is a RADIUS server and its shared secret.
type Server struct {
	Addr   string
	Secret string
}

// RADIUS is a RADIUS client's configuration.
type RADIUS struct {
	// Servers in order of preference; failover goes down the list.
	Servers []Server
	// Timeout is the first retransmission time (2s); it doubles per
	// retransmission.
	Timeout time.Duration
	// Retries is how many retransmissions a server gets before failover
	// (3).
	Retries int
	// MaxDuration bounds the time spent on one server, retransmissions
	// included, before failover (0: the client's default, 3s for [auth],
	// 30s for [accounting]). Raise it with Retries on a lossy path.
	MaxDuration time.Duration
	// LocalAddress is the source address to send from (the kernel's
	// choice if empty).
	LocalAddress string
	// FailOpen lets dials through when no authorisation server answers
	// ([auth] only; false: fail closed).
	FailOpen bool
}

// Accounting is the accounting servers and billing's timers.
type Accounting struct {
	RADIUS
	// InterimInterval applies when the Access-Accept names none (5m).
	InterimInterval time.Duration
	// CheckpointInterval is how often open sessions are saved (30s).
	CheckpointInterval time.Duration
	// RetryInterval is the pause between delivery rounds when no
	// server acknowledges a bill (5s).
	RetryInterval time.Duration
	// DefaultTariff prices sessions whose authorisation carried no
	// tariff (none: they are billed at 0 XXX and logged).
	DefaultTariff string
}

// Live is the subscriber's web page.
type Live struct {
	// Listen is a LAN address and port ("192.168.1.1:80"); empty
	// disables the page. Wildcard addresses are refused.
	Listen string
	// Interface binds the socket to a device (defaults to the LAN
	// interface).
	Interface string
}

// Metrics is the Prometheus endpoint.
type Metrics struct {
	// Listen is host:port for /metrics (empty: off).
	Listen string
}

// Fault holds deliberate faults for the lab demonstration.
type Fault struct {
	// UnderbillPercent makes every bill charge this much less than the
	// tariff (0: off).
	UnderbillPercent int
}

// Default returns the configuration an empty file gives.
func Default() *Config {
	return &Config{
		Journal:       "/var/lib/gatewayd/journal.db",
		LogLevel:      "info",
		ShutdownGrace: 5 * time.Second,
		Relay:         Relay{Mode: "auto", MaxSessions: 64, PADIRate: 10},
		Auth:          RADIUS{Timeout: 2 * time.Second, Retries: 3},
		Accounting: Accounting{
			RADIUS:             RADIUS{Timeout: 2 * time.Second, Retries: 3},
			InterimInterval:    5 * time.Minute,
			CheckpointInterval: 30 * time.Second,
			RetryInterval:      5 * time.Second,
		},
	}
}

// Error is a configuration error at a line of a file.
type Error struct {
	File string
	Line int // 0: the file as a whole
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// ErrSyntax is matched (errors.Is) by every *Error.
var ErrSyntax = errors.New("config: invalid configuration")

// Is makes every *Error match ErrSyntax.
func (e *Error) Is(target error) bool { return target == ErrSyntax }

type setter func(c *Config, v string) error

type key struct {
	set        setter
	repeatable bool
}

func str(f func(c *Config) *string) key {
	return key{set: func(c *Config, v string) error { *f(c) = v; return nil }}
}

func oneOf(values []string, f func(c *Config) *string) key {
	return key{set: func(c *Config, v string) error {
		for _, ok := range values {
			if v == ok {
				*f(c) = v
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(values, ", "))
	}}
}

func dur(f func(c *Config) *time.Duration) key {
	return key{set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration like 30s or 5m", v)
		}
		*f(c) = d
		return nil
	}}
}

func integer(min, max int, f func(c *Config) *int) key {
	return key{set: func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min || n > max {
			return fmt.Errorf("%q is not an integer from %d to %d", v, min, max)
		}
		*f(c) = n
		return nil
	}}
}

func boolean(f func(c *Config) *bool) key {
	return key{set: func(c *Config, v string) error {
		switch v {
		case "true":
			*f(c) = true
		case "false":
			*f(c) = false
		default:
			return fmt.Errorf("%q is not true or false", v)
		}
		return nil
	}}
}

func server(f func(c *Config) *[]Server) key {
	return key{repeatable: true, set: func(c *Config, v string) error {
		fields := strings.Fields(v)
		if len(fields) != 2 {
			return fmt.Errorf("want \"host:port secret\", got %d fields", len(fields))
		}
		if _, port, err := net.SplitHostPort(fields[0]); err != nil || port == "" {
			return fmt.Errorf("%q is not host:port", fields[0])
		}
		*f(c) = append(*f(c), Server{Addr: fields[0], Secret: fields[1]})
		return nil
	}}
}

func hostPort(f func(c *Config) *string) key {
	return key{set: func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("%q is not host:port", v)
		}
		*f(c) = v
		return nil
	}}
}

func radiusKeys(f func(c *Config) *RADIUS) map[string]key {
	return map[string]key{
		"server":        server(func(c *Config) *[]Server { return &f(c).Servers }),
		"timeout":       dur(func(c *Config) *time.Duration { return &f(c).Timeout }),
		"retries":       integer(0, 20, func(c *Config) *int { return &f(c).Retries }),
		"max-duration":  dur(func(c *Config) *time.Duration { return &f(c).MaxDuration }),
		"local-address": str(func(c *Config) *string { return &f(c).LocalAddress }),
	}
}

// sections maps section name ("" is global) to its keys.
var sections = func() map[string]map[string]key {
	auth := radiusKeys(func(c *Config) *RADIUS { return &c.Auth })
	auth["fail-open"] = boolean(func(c *Config) *bool { return &c.Auth.FailOpen })
	acct := radiusKeys(func(c *Config) *RADIUS { return &c.Accounting.RADIUS })
	acct["interim-interval"] = dur(func(c *Config) *time.Duration { return &c.Accounting.InterimInterval })
	acct["checkpoint-interval"] = dur(func(c *Config) *time.Duration { return &c.Accounting.CheckpointInterval })
	acct["retry-interval"] = dur(func(c *Config) *time.Duration { return &c.Accounting.RetryInterval })
	acct["default-tariff"] = str(func(c *Config) *string { return &c.Accounting.DefaultTariff })
	return map[string]map[string]key{
		"": {
			"gateway-id":     str(func(c *Config) *string { return &c.GatewayID }),
			"journal":        str(func(c *Config) *string { return &c.Journal }),
			"log-level":      str(func(c *Config) *string { return &c.LogLevel }),
			"shutdown-grace": dur(func(c *Config) *time.Duration { return &c.ShutdownGrace }),
		},
		"lan": {"interface": str(func(c *Config) *string { return &c.LAN.Interface })},
		"wan": {"interface": str(func(c *Config) *string { return &c.WAN.Interface })},
		"relay": {
			"mode":              oneOf([]string{"auto", "kernel", "user"}, func(c *Config) *string { return &c.Relay.Mode }),
			"max-sessions":      integer(1, 65534, func(c *Config) *int { return &c.Relay.MaxSessions }),
			"padi-rate":         integer(1, 100000, func(c *Config) *int { return &c.Relay.PADIRate }),
			"padi-burst":        integer(0, 100000, func(c *Config) *int { return &c.Relay.PADIBurst }),
			"handshake-timeout": dur(func(c *Config) *time.Duration { return &c.Relay.HandshakeTimeout }),
			"idle-timeout":      dur(func(c *Config) *time.Duration { return &c.Relay.IdleTimeout }),
			"echo-failures":     integer(0, 100, func(c *Config) *int { return &c.Relay.EchoFailures }),
			"agent-circuit-id":  str(func(c *Config) *string { return &c.Relay.AgentCircuitID }),
			"agent-remote-id":   str(func(c *Config) *string { return &c.Relay.AgentRemoteID }),
		},
		"auth":       auth,
		"accounting": acct,
		"live": {
			"listen":    hostPort(func(c *Config) *string { return &c.Live.Listen }),
			"interface": str(func(c *Config) *string { return &c.Live.Interface }),
		},
		"metrics": {"listen": hostPort(func(c *Config) *string { return &c.Metrics.Listen })},
		"fault": {
			"underbill-percent": integer(0, 100, func(c *Config) *int { return &c.Fault.UnderbillPercent }),
		},
	}
}()

// Parse reads a configuration over the defaults. name is the file name
// for error messages. It does not Validate: flags may still fill in.
func Parse(r io.Reader, name string) (*Config, error) {
	c := Default()
	section := ""
	seen := map[string]int{} // "section.key" -> line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64*1024)
	line := 0
	fail := func(format string, args ...any) error {
		return &Error{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if strings.HasPrefix(text, "[") {
			if !strings.HasSuffix(text, "]") {
				return nil, fail("section header %q has no closing ]", text)
			}
			s := strings.TrimSpace(text[1 : len(text)-1])
			if _, ok := sections[s]; !ok || s == "" {
				return nil, fail("unknown section [%s]", s)
			}
			section = s
			continue
		}
		k, v, ok := strings.Cut(text, "=")
		if !ok {
			return nil, fail("want key = value, got %q", text)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		where := "at the top"
		if section != "" {
			where = "in [" + section + "]"
		}
		def, ok := sections[section][k]
		if !ok {
			return nil, fail("unknown key %q %s", k, where)
		}
		full := section + "." + k
		if prev, dup := seen[full]; dup && !def.repeatable {
			return nil, fail("%q %s repeated (first on line %d)", k, where, prev)
		}
		seen[full] = line
		if v == "" {
			return nil, fail("%q %s has no value", k, where)
		}
		if err := def.set(c, v); err != nil {
			return nil, fail("%s %s: %v", k, where, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &Error{File: name, Line: line + 1, Msg: err.Error()}
	}
	return c, nil
}

// Validate checks what Parse cannot check line by line: required
// settings and combinations. relay says whether the relay will run (it
// needs interfaces and authorisation servers).
func (c *Config) Validate(relay bool) error {
	var errs []string
	if c.GatewayID == "" {
		errs = append(errs, "gateway-id is required")
	} else if len(c.GatewayID) > 247 {
		errs = append(errs, "gateway-id is over 247 octets")
	}
	if c.Journal == "" {
		errs = append(errs, "journal is required")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("log-level %q is not debug, info, warn or error", c.LogLevel))
	}
	if len(c.Accounting.Servers) == 0 {
		errs = append(errs, "[accounting] needs at least one server: bills have nowhere to go")
	}
	if relay {
		if c.LAN.Interface == "" || c.WAN.Interface == "" {
			errs = append(errs, "[lan] and [wan] interface are required")
		}
		if c.LAN.Interface != "" && c.LAN.Interface == c.WAN.Interface {
			errs = append(errs, "[lan] and [wan] are the same interface")
		}
		if len(c.Auth.Servers) == 0 {
			errs = append(errs, "[auth] needs at least one server")
		}
	}
	if c.Live.Listen != "" {
		host, _, _ := net.SplitHostPort(c.Live.Listen)
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			errs = append(errs, fmt.Sprintf("[live] listen %q must be a LAN IP address, not a name or wildcard", c.Live.Listen))
		}
	}
	if c.Accounting.InterimInterval < time.Second {
		errs = append(errs, "[accounting] interim-interval is under 1s")
	}
	if c.Accounting.CheckpointInterval < 100*time.Millisecond {
		errs = append(errs, "[accounting] checkpoint-interval is under 100ms")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrSyntax, strings.Join(errs, "; "))
	}
	return nil
}

// LiveInterface is the interface the live view binds to.
func (c *Config) LiveInterface() string {
	if c.Live.Interface != "" {
		return c.Live.Interface
	}
	return c.LAN.Interface
}
