package nas

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/edgebill/edgebill/internal/radclient"
)

// AuthMethod is the authentication protocol nasd demands in LCP.
type AuthMethod uint8

// Authentication methods. The zero value is the default, CHAP-MD5.
const (
	AuthCHAP AuthMethod = iota // CHAP with MD5 (RFC 1994)
	AuthPAP                    // PAP (RFC 1334)
)

// String returns "chap" or "pap".
func (a AuthMethod) String() string {
	if a == AuthPAP {
		return "pap"
	}
	return "chap"
}

// Config is nasd's configuration. The zero value of every field selects
// the default its comment names; Parse reads it from a file, and a
// reference copy with every key is testdata/nasd.conf.
type Config struct {
	// Interface is the Ethernet interface facing the subscribers
	// (key interface). Required unless a Link is given to New.
	Interface string
	// ACName is the AC-Name in PADO and PADS, and the CHAP name (key
	// ac_name; default "edgebill-nasd").
	ACName string
	// ServiceNames are the services offered (key service_name, one per
	// line). Empty: any service a host asks for is served.
	ServiceNames []string
	// Auth is the LCP Authentication-Protocol demanded (key auth: pap or
	// chap; default chap).
	Auth AuthMethod
	// MRU is the MRU nasd requests and the largest it accepts from the
	// peer (key mru; default 1492, RFC 2516 §7). A PPP-Max-Payload tag
	// (RFC 4638) in PADR raises it up to the interface MTU minus 8.
	MRU uint16
	// MaxSessions bounds live sessions; a PADR beyond it gets a PADS with
	// an AC-System-Error (key max_sessions; default 16000).
	MaxSessions int
	// PADIRate and PADIBurst bound PADIs answered per second on the
	// interface (keys padi_rate, padi_burst; defaults 4000 and 2000: ten
	// times BNG Blaster's default setup rate, well under a flood).
	PADIRate  float64
	PADIBurst int
	// PADIRatePerMAC and PADIBurstPerMAC bound them per source MAC (keys
	// padi_rate_per_mac, padi_burst_per_mac; defaults 2 and 6).
	PADIRatePerMAC  float64
	PADIBurstPerMAC int
	// CookieTTL is how long an AC-Cookie from a PADO stays valid for the
	// PADR (key cookie_ttl; default 60s).
	CookieTTL time.Duration
	// LCPRestart is the Restart timer of LCP and IPCP and the CHAP
	// Challenge retransmission interval (key restart_timer; default 3s).
	LCPRestart time.Duration
	// EchoInterval is the LCP echo keepalive period (key echo_interval;
	// default 30s; "off" or a negative value disables it) and
	// EchoFailures how many unanswered requests end the session with
	// Lost-Carrier (key echo_failures; default 3).
	EchoInterval time.Duration
	EchoFailures int
	// SetupTimeout ends a session not up (IPCP opened) within it (key
	// setup_timeout; default 60s).
	SetupTimeout time.Duration
	// Pool is the prefix subscribers get addresses from when RADIUS
	// gives none (key pool; default 100.64.0.0/16), and LocalAddress
	// nasd's own IPCP address (key local_address; default the pool's
	// first host).
	Pool         netip.Prefix
	LocalAddress netip.Addr
	// DNS are the servers handed out in IPCP, at most two (key dns, one
	// per line; default none).
	DNS []netip.Addr
	// EchoPort is the UDP port whose datagrams nasd sends back (key
	// udp_echo_port; default 7, the echo service). ICMP echo requests are
	// always answered; other packets are counted and sunk.
	EchoPort uint16
	// NASIdentifier and NASIPAddress identify nasd to RADIUS (keys
	// nas_identifier, default the AC-Name; nas_ip_address, default
	// 127.0.0.1). FreeRADIUS's stock radacct needs NAS-IP-Address.
	NASIdentifier string
	NASIPAddress  netip.Addr
	// AuthServers and AcctServers are the RADIUS servers, tried in order
	// (keys radius_auth and radius_acct: "host:port secret", one per line).
	AuthServers, AcctServers []radclient.Server
	// RADIUSSource is the address RADIUS requests are sent from (key
	// radius_source; default chosen by the kernel).
	RADIUSSource string
	// RADIUSIRT, RADIUSMRT, RADIUSMRC and RADIUSMRD are RFC 5080's
	// retransmission parameters (keys radius_irt, radius_mrt,
	// radius_mrc, radius_mrd; defaults 2s, 16s, 5, 30s).
	RADIUSIRT, RADIUSMRT time.Duration
	RADIUSMRC            int
	RADIUSMRD            time.Duration
	// RADIUSWindow bounds the requests outstanding to each RADIUS server
	// (key radius_window; default 64): more only overflow its socket
	// buffer in a burst.
	RADIUSWindow int
	// InterimInterval is used when RADIUS sends no Acct-Interim-Interval
	// (key interim_interval; default none). InterimOverride replaces
	// what RADIUS sends (key interim_override; for tests and demos that
	// cannot wait RFC 2869's 60 s).
	InterimInterval, InterimOverride time.Duration
	// SessionTimeout and IdleTimeout apply when RADIUS sends none (keys
	// session_timeout, idle_timeout; default none).
	SessionTimeout, IdleTimeout time.Duration
	// AcctOnWait is how long nasd waits for Accounting-On to be
	// acknowledged before serving anyway (key acct_on_wait; default 5s).
	AcctOnWait time.Duration
	// ShutdownGrace is how long a clean shutdown waits for the last Stops
	// and Accounting-Off (key shutdown_grace; default 10s).
	ShutdownGrace time.Duration
	// CoAListen is the UDP address of the Disconnect/CoA listener (RFC
	// 5176; key coa_listen, e.g. 127.0.0.1:3799; default off) and
	// CoASecret its shared secret (key coa_secret).
	CoAListen, CoASecret string
	// EventTimestampWindow is how far a CoA or Disconnect request's
	// Event-Timestamp may be from our clock (key event_timestamp_window;
	// default 300s, RFC 5176 §3.5); RequireEventTimestamp drops requests
	// without one (key require_event_timestamp; default false).
	EventTimestampWindow  time.Duration
	RequireEventTimestamp bool
	// StatusListen is the address of the HTTP status listing (key
	// status_listen, e.g. 127.0.0.1:8079; default off).
	StatusListen string
	// Tick is the granularity of every timer (key tick; default 100ms).
	Tick time.Duration
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.ACName == "" {
		c.ACName = "edgebill-nasd"
	}
	if c.MRU == 0 {
		c.MRU = 1492
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = 16000
	}
	if c.PADIRate == 0 {
		c.PADIRate = 4000
	}
	if c.PADIBurst == 0 {
		c.PADIBurst = 2000
	}
	if c.PADIRatePerMAC == 0 {
		c.PADIRatePerMAC = 2
	}
	if c.PADIBurstPerMAC == 0 {
		c.PADIBurstPerMAC = 6
	}
	if c.CookieTTL == 0 {
		c.CookieTTL = time.Minute
	}
	if c.LCPRestart == 0 {
		c.LCPRestart = 3 * time.Second
	}
	if c.EchoInterval == 0 {
		c.EchoInterval = 30 * time.Second
	}
	if c.EchoFailures == 0 {
		c.EchoFailures = 3
	}
	if c.SetupTimeout == 0 {
		c.SetupTimeout = time.Minute
	}
	if !c.Pool.IsValid() {
		c.Pool = netip.MustParsePrefix("100.64.0.0/16")
	}
	c.Pool = c.Pool.Masked()
	if !c.LocalAddress.IsValid() {
		c.LocalAddress = c.Pool.Addr().Next()
	}
	if c.EchoPort == 0 {
		c.EchoPort = 7
	}
	if c.NASIdentifier == "" {
		c.NASIdentifier = c.ACName
	}
	if !c.NASIPAddress.IsValid() {
		c.NASIPAddress = netip.MustParseAddr("127.0.0.1")
	}
	if c.RADIUSWindow == 0 {
		c.RADIUSWindow = 64
	}
	if c.AcctOnWait == 0 {
		c.AcctOnWait = 5 * time.Second
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = 10 * time.Second
	}
	if c.EventTimestampWindow == 0 {
		c.EventTimestampWindow = 300 * time.Second
	}
	if c.Tick == 0 {
		c.Tick = 100 * time.Millisecond
	}
	return c
}

// Validate reports a configuration nasd cannot run with.
func (c *Config) Validate() error {
	d := c.withDefaults()
	if !d.Pool.Addr().Is4() {
		return fmt.Errorf("nas: pool %v is not IPv4", d.Pool)
	}
	if d.Pool.Bits() > 30 {
		return fmt.Errorf("nas: pool %v is too small", d.Pool)
	}
	if !d.LocalAddress.Is4() {
		return fmt.Errorf("nas: local_address %v is not IPv4", d.LocalAddress)
	}
	if len(d.DNS) > 2 {
		return fmt.Errorf("nas: %d dns servers, IPCP carries two", len(d.DNS))
	}
	if d.MRU < 128 {
		return fmt.Errorf("nas: mru %d is below 128", d.MRU)
	}
	if d.CoAListen != "" && d.CoASecret == "" {
		return errors.New("nas: coa_listen without coa_secret")
	}
	return nil
}

// ParseError is a configuration error at a line of the file.
type ParseError struct {
	Line int
	Key  string
	Err  error
}

func (e *ParseError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("nas: config line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("nas: config line %d: %s: %v", e.Line, e.Key, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrUnknownKey is a key Parse does not know.
var ErrUnknownKey = errors.New("unknown key")

// Parse reads a configuration: one "key = value" per line, "#" starts a
// comment, blank lines are ignored, and keys that take a list (dns,
// service_name, radius_auth, radius_acct) are repeated. Unknown keys,
// malformed values and single-valued keys given twice are errors naming
// the line. Durations are Go durations ("1.5s", "2m"). It does no I/O
// beyond reading r and applies no defaults (the zero value is the
// default).
func Parse(r io.Reader) (*Config, error) {
	c := &Config{}
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, &ParseError{Line: n, Err: errors.New(`want "key = value"`)}
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if err := c.Set(key, val); err != nil {
			return nil, &ParseError{Line: n, Key: key, Err: err}
		}
		if !listKey(key) {
			if first, dup := seen[key]; dup {
				return nil, &ParseError{Line: n, Key: key, Err: fmt.Errorf("already set at line %d", first)}
			}
			seen[key] = n
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("nas: config: %w", err)
	}
	return c, nil
}

func listKey(k string) bool {
	switch k {
	case "dns", "service_name", "radius_auth", "radius_acct":
		return true
	}
	return false
}

// Set sets one key as Parse would (a list key appends), for flags that
// override the file.
func (c *Config) Set(key, val string) error {
	var err error
	dur := func(d *time.Duration) {
		if val == "off" {
			*d = -1
			return
		}
		*d, err = time.ParseDuration(val)
	}
	integer := func(i *int) { *i, err = strconv.Atoi(val) }
	switch key {
	case "interface":
		c.Interface = val
	case "ac_name":
		c.ACName = val
	case "service_name":
		c.ServiceNames = append(c.ServiceNames, val)
	case "auth":
		switch strings.ToLower(val) {
		case "chap":
			c.Auth = AuthCHAP
		case "pap":
			c.Auth = AuthPAP
		default:
			err = fmt.Errorf("%q is neither pap nor chap", val)
		}
	case "mru":
		var v uint64
		v, err = strconv.ParseUint(val, 10, 16)
		c.MRU = uint16(v)
	case "max_sessions":
		integer(&c.MaxSessions)
	case "padi_rate":
		c.PADIRate, err = strconv.ParseFloat(val, 64)
	case "padi_burst":
		integer(&c.PADIBurst)
	case "padi_rate_per_mac":
		c.PADIRatePerMAC, err = strconv.ParseFloat(val, 64)
	case "padi_burst_per_mac":
		integer(&c.PADIBurstPerMAC)
	case "cookie_ttl":
		dur(&c.CookieTTL)
	case "restart_timer":
		dur(&c.LCPRestart)
	case "echo_interval":
		dur(&c.EchoInterval)
	case "echo_failures":
		integer(&c.EchoFailures)
	case "setup_timeout":
		dur(&c.SetupTimeout)
	case "pool":
		c.Pool, err = netip.ParsePrefix(val)
	case "local_address":
		c.LocalAddress, err = netip.ParseAddr(val)
	case "dns":
		var a netip.Addr
		a, err = netip.ParseAddr(val)
		c.DNS = append(c.DNS, a)
	case "udp_echo_port":
		var v uint64
		v, err = strconv.ParseUint(val, 10, 16)
		c.EchoPort = uint16(v)
	case "nas_identifier":
		c.NASIdentifier = val
	case "nas_ip_address":
		c.NASIPAddress, err = netip.ParseAddr(val)
	case "radius_auth", "radius_acct":
		f := strings.Fields(val)
		if len(f) != 2 {
			err = errors.New(`want "host:port secret"`)
			break
		}
		s := radclient.Server{Addr: f[0], Secret: f[1]}
		if key == "radius_auth" {
			c.AuthServers = append(c.AuthServers, s)
		} else {
			c.AcctServers = append(c.AcctServers, s)
		}
	case "radius_source":
		c.RADIUSSource = val
	case "radius_irt":
		dur(&c.RADIUSIRT)
	case "radius_mrt":
		dur(&c.RADIUSMRT)
	case "radius_mrc":
		integer(&c.RADIUSMRC)
	case "radius_mrd":
		dur(&c.RADIUSMRD)
	case "radius_window":
		integer(&c.RADIUSWindow)
	case "interim_interval":
		dur(&c.InterimInterval)
	case "interim_override":
		dur(&c.InterimOverride)
	case "session_timeout":
		dur(&c.SessionTimeout)
	case "idle_timeout":
		dur(&c.IdleTimeout)
	case "acct_on_wait":
		dur(&c.AcctOnWait)
	case "shutdown_grace":
		dur(&c.ShutdownGrace)
	case "coa_listen":
		c.CoAListen = val
	case "coa_secret":
		c.CoASecret = val
	case "event_timestamp_window":
		dur(&c.EventTimestampWindow)
	case "require_event_timestamp":
		c.RequireEventTimestamp, err = strconv.ParseBool(val)
	case "status_listen":
		c.StatusListen = val
	case "tick":
		dur(&c.Tick)
	default:
		return ErrUnknownKey
	}
	return err
}
