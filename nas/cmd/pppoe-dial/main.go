// Command pppoe-dial is a PPPoE/PPP client that emulates one subscriber
// or thousands: PPPoE discovery, LCP, PAP or CHAP-MD5, IPCP, then traffic
// at a set rate and size, a hold time, and a hang-up (LCP Terminate and
// PADT) or an abrupt drop. It reports each session's outcome (a refusal
// with its Reply-Message), the setup rate and latency percentiles, and
// what every session sent and received, as text or JSON.
//
//	pppoe-dial -i eth0 -user alice -password alice-pw
//	pppoe-dial -i eth0 -users alice:alice-pw,bob:bob-pw -n 1000 -rate 400 -hold 10s -pps 10 -size 500 -json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/nas/link"
)

func main() {
	code, err := run(os.Args[1:], os.Stdout)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "pppoe-dial:", err)
		if code == 0 {
			code = 2
		}
	}
	os.Exit(code)
}

// run returns the exit code: 0 when every session came up (and hung up
// cleanly), 1 when some failed, 2 on a usage or setup error.
func run(args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("pppoe-dial", flag.ContinueOnError)
	var (
		iface       = fs.String("i", "", "interface (required)")
		user        = fs.String("user", "", "user name")
		password    = fs.String("password", "", "password")
		users       = fs.String("users", "", "user:password,... used round-robin (instead of -user/-password); @FILE reads one per line")
		n           = fs.Int("n", 1, "sessions (also -sessions)")
		duration    = fs.Duration("duration", 0, "a whole run: dials spread over its first third, each session held a third plus a random part of the next, traffic at -pps (default 2), every -drop-every'th dropped abruptly")
		dropEvery   = fs.Int("drop-every", 0, "drop every k-th session abruptly instead of hanging up (0: none)")
		rate        = fs.Float64("rate", 0, "dials started per second (0: as fast as -concurrency allows)")
		concurrency = fs.Int("concurrency", 256, "dials in progress at once")
		macBase     = fs.String("mac", "", "first subscriber MAC (default: the interface's for one session, 02:eb:00:00:00:01 for more)")
		service     = fs.String("service", "", "Service-Name to ask for (default any)")
		acName      = fs.String("ac", "", "only accept this AC-Name")
		hold        = fs.Duration("hold", 0, "time each session stays up (negative: until interrupted)")
		pps         = fs.Float64("pps", 0, "datagrams per second per session while held (to the AC's UDP echo port)")
		size        = fs.Int("size", 100, "datagram size in octets (the IP packet)")
		icmp        = fs.Bool("icmp", false, "send ICMP echo requests instead of UDP")
		echoPort    = fs.Uint("echo-port", 7, "the AC's UDP echo port")
		drop        = fs.Bool("drop", false, "drop sessions abruptly instead of hanging up")
		restart     = fs.Duration("restart", 3*time.Second, "LCP/IPCP restart timer")
		discovery   = fs.Duration("discovery-timeout", time.Second, "first PADI/PADR timeout")
		timeout     = fs.Duration("timeout", 60*time.Second, "setup timeout per session")
		maxPayload  = fs.Uint("max-payload", 0, "PPP-Max-Payload to ask for (RFC 4638; > 1492)")
		jsonOut     = fs.Bool("json", false, "print the report as JSON")
		verbose     = fs.Bool("v", false, "log protocol events")
	)
	fs.IntVar(n, "sessions", 1, "sessions (same as -n)")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	var jitter time.Duration
	if *duration > 0 {
		third := *duration / 3
		if *rate == 0 {
			*rate = float64(*n) / third.Seconds()
		}
		*hold, jitter = third, third
		if *pps == 0 {
			*pps = 2
			*size = 500
		}
	}
	if *iface == "" {
		return 2, errors.New("-i is required")
	}
	creds, err := credentials(*user, *password, *users)
	if err != nil {
		return 2, err
	}
	ifi, err := net.InterfaceByName(*iface)
	if err != nil {
		return 2, err
	}
	base := ifi.HardwareAddr
	if *n > 1 {
		base = net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 1}
	}
	if *macBase != "" {
		if base, err = net.ParseMAC(*macBase); err != nil {
			return 2, err
		}
	}
	// Promiscuous unless the only session uses the interface's own MAC.
	promisc := *n > 1 || string(base) != string(ifi.HardwareAddr)
	conn, err := link.Listen(*iface, &link.Options{Promiscuous: promisc})
	if err != nil {
		return 2, err
	}
	log := zap.NewNop()
	if *verbose {
		c := zap.NewDevelopmentConfig()
		c.DisableStacktrace = true
		if log, err = c.Build(); err != nil {
			return 2, err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mux := client.NewMux(conn, log)
	muxCtx, muxCancel := context.WithCancel(context.Background())
	muxDone := make(chan error, 1)
	go func() { muxDone <- mux.Run(muxCtx) }()
	defer func() { muxCancel(); <-muxDone }()

	rep, err := client.RunLoad(ctx, mux, client.LoadConfig{
		Sessions: *n, Rate: *rate, Concurrency: *concurrency, MACBase: base, Credentials: creds,
		Template: client.Options{
			ServiceName: *service, ACName: *acName, RestartTimer: *restart, DiscoveryTimeout: *discovery,
			SetupTimeout: *timeout, MaxPayload: uint16(*maxPayload),
		},
		Hold: *hold, HoldJitter: jitter, PPS: *pps, Size: *size, ICMP: *icmp, EchoPort: uint16(*echoPort), Drop: *drop, DropEvery: *dropEvery,
	})
	if err != nil {
		return 2, err
	}
	if *jsonOut {
		if err := rep.WriteJSON(stdout); err != nil {
			return 2, err
		}
	} else {
		rep.WriteText(stdout)
	}
	if rep.Failed > 0 {
		return 1, nil
	}
	return 0, nil
}

func credentials(user, password, users string) ([]client.Credential, error) {
	if users == "" {
		if user == "" {
			return nil, errors.New("give -user and -password, or -users")
		}
		return []client.Credential{{User: user, Password: password}}, nil
	}
	list := strings.Split(users, ",")
	if name, ok := strings.CutPrefix(users, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		list = strings.Split(string(b), "\n")
	}
	var creds []client.Credential
	for _, e := range list {
		e = strings.TrimSpace(e)
		if e == "" || strings.HasPrefix(e, "#") {
			continue
		}
		u, p, ok := strings.Cut(e, ":")
		if !ok {
			return nil, fmt.Errorf("-users: %q is not user:password", e)
		}
		creds = append(creds, client.Credential{User: u, Password: p})
	}
	if len(creds) == 0 {
		return nil, errors.New("-users: no credentials")
	}
	return creds, nil
}
