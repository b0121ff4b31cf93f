package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"sort"
	"sync"
	"time"
)

// Credential is one subscriber's login.
type Credential struct {
	User, Password string
}

// LoadConfig describes a run of many subscribers.
type LoadConfig struct {
	// Sessions to bring up (default 1).
	Sessions int
	// Rate is how many dials start per second (0: as fast as
	// Concurrency allows), Concurrency how many may be in progress at
	// once (default 256).
	Rate        float64
	Concurrency int
	// MACBase is the first subscriber's MAC; session i gets MACBase + i
	// (default 02:eb:00:00:00:01, locally administered).
	MACBase net.HardwareAddr
	// Credentials are used round-robin: session i logs in as
	// Credentials[i % len]. Required.
	Credentials []Credential
	// Template supplies everything else of each dial (service, AC name,
	// timers); its MAC, User and Password are replaced.
	Template Options
	// Hold is how long each session stays up before hanging up. Zero
	// hangs up at once; negative holds until ctx ends.
	Hold time.Duration
	// HoldUntil, if not nil, holds every session until it is closed
	// (instead of Hold); OnSetup, if set, is called after each dial with
	// its outcome. Together they let a caller bring all sessions up,
	// look, then tear them all down.
	HoldUntil <-chan struct{}
	OnSetup   func(err error)
	// PPS and Size make traffic while a session is held: UDP datagrams of
	// Size octets (the IP packet, at least 28) sent PPS times a second
	// to the AC's echo port (default 7), which nasd sends back. ICMP
	// sends ICMP echo requests instead.
	PPS      float64
	Size     int
	EchoPort uint16
	ICMP     bool
	// Settle is how long to wait after the last datagram for the echoes
	// before hanging up (default 500ms).
	Settle time.Duration
	// Drop drops sessions abruptly instead of hanging up (LCP
	// Terminate-Request and PADT); DropEvery drops every k-th session
	// (index k-1, 2k-1, ...) and hangs the others up.
	Drop      bool
	DropEvery int
	// HoldJitter adds a random part of up to it to each session's Hold.
	HoldJitter time.Duration
}

// SessionReport is one subscriber's outcome.
type SessionReport struct {
	Index     int     `json:"index"`
	MAC       string  `json:"mac"`
	User      string  `json:"user"`
	SessionID uint16  `json:"session_id,omitempty"`
	Address   string  `json:"address,omitempty"`
	ACName    string  `json:"ac_name,omitempty"`
	SetupMS   float64 `json:"setup_ms,omitempty"`
	Error     string  `json:"error,omitempty"`
	Message   string  `json:"message,omitempty"` // Reply-Message of a refusal, or of the Ack
	TxPackets uint64  `json:"tx_packets"`
	TxOctets  uint64  `json:"tx_octets"`
	RxPackets uint64  `json:"rx_packets"`
	RxOctets  uint64  `json:"rx_octets"`
	HangupErr string  `json:"hangup_error,omitempty"`
	setup     time.Duration
	upAt, beg time.Time
}

// Report is the outcome of a run.
type Report struct {
	Sessions  int            `json:"sessions"`
	Up        int            `json:"up"`
	Failed    int            `json:"failed"`
	Failures  map[string]int `json:"failures,omitempty"`
	ElapsedMS float64        `json:"elapsed_ms"`
	// SetupRate is sessions brought up per second, from the first dial's
	// start to the last session up.
	SetupRate float64         `json:"setup_rate"`
	SetupP50  float64         `json:"setup_p50_ms"`
	SetupP90  float64         `json:"setup_p90_ms"`
	SetupP99  float64         `json:"setup_p99_ms"`
	SetupMax  float64         `json:"setup_max_ms"`
	Totals    Counters        `json:"totals"`
	PerSess   []SessionReport `json:"per_session"`
}

// RunLoad dials cfg.Sessions subscribers on m, holds them with traffic,
// hangs them up, and reports. It returns when every session is over or
// ctx ends; failures are in the report, not the error, which is only for
// a bad configuration.
func RunLoad(ctx context.Context, m *Mux, cfg LoadConfig) (*Report, error) {
	if len(cfg.Credentials) == 0 {
		return nil, errors.New("client: no credentials")
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = 1
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 256
	}
	if cfg.MACBase == nil {
		cfg.MACBase = net.HardwareAddr{0x02, 0xeb, 0, 0, 0, 1}
	}
	if len(cfg.MACBase) != 6 {
		return nil, errors.New("client: MACBase must be 6 octets")
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 500 * time.Millisecond
	}
	if cfg.EchoPort == 0 {
		cfg.EchoPort = 7
	}
	reps := make([]SessionReport, cfg.Sessions)
	sem := make(chan struct{}, cfg.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / cfg.Rate)
	}
	for i := range cfg.Sessions {
		if interval > 0 {
			if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
				}
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			for j := i; j < cfg.Sessions; j++ {
				reps[j] = SessionReport{Index: j, Error: "not started: " + ctx.Err().Error()}
			}
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			runOne(ctx, m, &cfg, i, &reps[i], sem)
		}()
	}
	wg.Wait()
	return summarize(reps, start), nil
}

// MACAt returns base + i, carrying across octets.
func MACAt(base net.HardwareAddr, i int) net.HardwareAddr {
	mac := slices.Clone(base)
	carry := uint64(i)
	for k := 5; k >= 0 && carry > 0; k-- {
		v := uint64(mac[k]) + carry
		mac[k] = byte(v)
		carry = v >> 8
	}
	return mac
}

func runOne(ctx context.Context, m *Mux, cfg *LoadConfig, i int, r *SessionReport, sem chan struct{}) {
	cred := cfg.Credentials[i%len(cfg.Credentials)]
	opts := cfg.Template
	opts.MAC = MACAt(cfg.MACBase, i)
	opts.User, opts.Password = cred.User, cred.Password
	*r = SessionReport{Index: i, MAC: opts.MAC.String(), User: cred.User, beg: time.Now()}
	s, err := m.Dial(ctx, opts)
	<-sem
	if cfg.OnSetup != nil {
		cfg.OnSetup(err)
	}
	if err != nil {
		r.Error = err.Error()
		var re *RefusedError
		if errors.As(err, &re) {
			r.Error = "refused"
			r.Message = re.Message
		}
		return
	}
	r.upAt = time.Now()
	r.setup = s.SetupTime()
	r.SetupMS = ms(r.setup)
	r.SessionID = s.SessionID()
	r.Address = s.Addr().String()
	r.ACName = s.ACName()
	r.Message = s.AuthMessage()
	defer func() {
		c := s.Counters()
		r.TxPackets, r.TxOctets, r.RxPackets, r.RxOctets = c.TxPackets, c.TxOctets, c.RxPackets, c.RxOctets
	}()

	hold := func(d time.Duration) bool {
		if d < 0 {
			select {
			case <-ctx.Done():
			case <-s.Done():
			}
			return ctx.Err() == nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		case <-s.Done():
			return false
		}
	}
	holdFor := cfg.Hold
	if cfg.HoldJitter > 0 && holdFor >= 0 {
		holdFor += time.Duration(rand.Int64N(int64(cfg.HoldJitter)))
	}
	switch {
	case cfg.HoldUntil != nil:
		select {
		case <-cfg.HoldUntil:
		case <-ctx.Done():
		case <-s.Done():
		}
	case cfg.PPS > 0 && holdFor != 0:
		traffic(ctx, s, cfg, holdFor)
		hold(cfg.Settle)
	default:
		hold(holdFor)
	}
	if cfg.Drop || cfg.DropEvery > 0 && (i+1)%cfg.DropEvery == 0 {
		s.Drop()
		return
	}
	if err := s.Err(); err != nil {
		r.HangupErr = err.Error()
		return
	}
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := s.Hangup(hctx); err != nil {
		r.HangupErr = err.Error()
	}
}

// traffic sends datagrams at cfg.PPS for d (negative: until ctx ends).
func traffic(ctx context.Context, s *Session, cfg *LoadConfig, d time.Duration) {
	var pkt []byte
	if cfg.ICMP {
		pkt = ICMPEcho(s.Addr(), s.PeerAddr(), s.SessionID(), 0, cfg.Size)
	} else {
		pkt = UDPPacket(s.Addr(), s.PeerAddr(), 40000+s.SessionID()%20000, cfg.EchoPort, cfg.Size)
	}
	interval := time.Duration(float64(time.Second) / cfg.PPS)
	t := time.NewTicker(interval)
	defer t.Stop()
	var end <-chan time.Time
	if d > 0 {
		tm := time.NewTimer(d)
		defer tm.Stop()
		end = tm.C
	}
	for {
		select {
		case <-t.C:
			if s.SendIP(pkt) != nil {
				return
			}
		case <-end:
			return
		case <-ctx.Done():
			return
		case <-s.Done():
			return
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func summarize(reps []SessionReport, start time.Time) *Report {
	r := &Report{Sessions: len(reps), PerSess: reps, Failures: map[string]int{}}
	var setups []time.Duration
	var last time.Time
	for i := range reps {
		x := &reps[i]
		if x.Error != "" {
			r.Failed++
			r.Failures[x.Error]++
			continue
		}
		r.Up++
		setups = append(setups, x.setup)
		if x.upAt.After(last) {
			last = x.upAt
		}
		r.Totals.TxPackets += x.TxPackets
		r.Totals.TxOctets += x.TxOctets
		r.Totals.RxPackets += x.RxPackets
		r.Totals.RxOctets += x.RxOctets
	}
	r.ElapsedMS = ms(time.Since(start))
	if len(setups) > 0 {
		sort.Slice(setups, func(i, j int) bool { return setups[i] < setups[j] })
		pct := func(p float64) float64 {
			return ms(setups[min(len(setups)-1, int(p*float64(len(setups))))])
		}
		r.SetupP50, r.SetupP90, r.SetupP99 = pct(0.50), pct(0.90), pct(0.99)
		r.SetupMax = ms(setups[len(setups)-1])
		if span := last.Sub(start); span > 0 {
			r.SetupRate = float64(r.Up) / span.Seconds()
		}
	}
	if len(r.Failures) == 0 {
		r.Failures = nil
	}
	return r
}

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "sessions %d: up %d, failed %d, in %.0f ms\n", r.Sessions, r.Up, r.Failed, r.ElapsedMS)
	if r.Up > 0 {
		fmt.Fprintf(w, "setup rate %.1f sessions/s; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			r.SetupRate, r.SetupP50, r.SetupP90, r.SetupP99, r.SetupMax)
		fmt.Fprintf(w, "traffic: sent %d packets / %d octets, received %d packets / %d octets\n",
			r.Totals.TxPackets, r.Totals.TxOctets, r.Totals.RxPackets, r.Totals.RxOctets)
	}
	keys := make([]string, 0, len(r.Failures))
	for k := range r.Failures {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "failure %q: %d\n", k, r.Failures[k])
	}
	if r.Sessions <= 10 {
		for _, s := range r.PerSess {
			switch {
			case s.Error == "refused":
				fmt.Fprintf(w, "%s %s: refused: %s\n", s.MAC, s.User, s.Message)
			case s.Error != "":
				fmt.Fprintf(w, "%s %s: failed: %s\n", s.MAC, s.User, s.Error)
			default:
				fmt.Fprintf(w, "%s %s: session %d from %s, address %s, setup %.1f ms; sent %d/%d, received %d/%d (packets/octets)\n",
					s.MAC, s.User, s.SessionID, s.ACName, s.Address, s.SetupMS, s.TxPackets, s.TxOctets, s.RxPackets, s.RxOctets)
			}
		}
	}
}

// WriteJSON prints the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
