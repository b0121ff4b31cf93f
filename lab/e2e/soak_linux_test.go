//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgebill/edgebill/lab/system"
	"github.com/edgebill/edgebill/nas/client"
)

// The soak's knobs (make soak sets EDGEBILL_SOAK=1).
const (
	SoakEnv         = "EDGEBILL_SOAK"          // set: run TestSoak
	SoakSessionsEnv = "EDGEBILL_SOAK_SESSIONS" // sessions in all (default 3000)
	SoakRateEnv     = "EDGEBILL_SOAK_RATE"     // dials per second per gateway (default 5)
	SoakHoldEnv     = "EDGEBILL_SOAK_HOLD"     // each session's hold (default 20s)
	SoakOutEnv      = "EDGEBILL_SOAK_OUT"      // file for the figures (default: none)
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDur(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// sample is the daemons' footprint at one moment.
type sample struct {
	at         time.Duration
	rss        map[string]int64 // by daemon
	goroutines map[string]int64 // billd and each gatewayd (nasd exports none)
	sessions   int              // at nasd
	bills      int64
}

func takeSample(ctx context.Context, s *system.System, at time.Duration) sample {
	sm := sample{at: at, rss: map[string]int64{}, goroutines: map[string]int64{}}
	sm.rss["billd"] = system.RSS(s.Billd.Pid())
	sm.rss["nasd"] = system.RSS(s.Nasd.Pid())
	if m, err := s.BilldMetrics(ctx); err == nil {
		sm.goroutines["billd"] = int64(m.Get("go_goroutines"))
	}
	for _, g := range s.Gateways {
		name := fmt.Sprintf("gatewayd%d", g.Index)
		sm.rss[name] = system.RSS(g.D.Pid())
		if m, err := s.GatewayMetrics(ctx, g); err == nil {
			sm.goroutines[name] = int64(m.Get("go_goroutines"))
		}
	}
	if st, err := s.NasdStats(ctx); err == nil {
		sm.sessions = st.Sessions
	}
	if f, err := s.Inflight(ctx); err == nil {
		sm.bills = f.Bills
	}
	return sm
}

// A soak: thousands of sessions through the whole chain over several
// minutes (two gateways, the second under-billing), in a warm-up and a
// bulk run of the same shape. Every session is billed once and judged as
// expected; each daemon's resident memory and goroutines after the bulk,
// idle again, are no higher than after the warm-up, idle (within a
// margin for the garbage collector's pace).
//
//	EDGEBILL_SOAK=1 go test -run TestSoak -v -timeout 40m ./lab/e2e   (make soak)
func TestSoak(t *testing.T) {
	if os.Getenv(SoakEnv) == "" {
		t.Skipf("the soak runs with %s=1 (make soak)", SoakEnv)
	}
	total := envInt(SoakSessionsEnv, 3000)
	rate := float64(envInt(SoakRateEnv, 5))
	hold := envDur(SoakHoldEnv, 20*time.Second)
	s := start(t, system.Options{Gateways: 2, Faulty: 2, Interim: 10 * time.Second, Checkpoint: time.Second})
	ctx := testCtx(t, 2*time.Hour)
	began := time.Now()

	// Each gateway has its own users, enough that one user's sessions
	// never overlap (a user dials again every len/rate seconds).
	per := max(int(rate*hold.Seconds()*2), 20)
	var shares [][]client.Credential
	for i := range s.Gateways {
		u, err := s.AddSubscribers(ctx, fmt.Sprintf("s%d-", i+1), per)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, system.Mix(u, 25))
	}
	warm := max(total/10, 2*per) / len(s.Gateways)
	bulk := total/len(s.Gateways) - warm
	run := func(n int, macHigh byte) []*client.Report {
		reps := make([]*client.Report, len(s.Gateways))
		var wg sync.WaitGroup
		for i := range s.Gateways {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rep, err := s.Dial(ctx, system.Dial{Gateway: i + 1, Users: shares[i], Sessions: n, Rate: rate, Hold: hold,
					PPS: 1, Size: 200, DropEvery: 10, MACBase: fmt.Sprintf("02:eb:%02x:%02x:00:01", i+1, macHigh), Timeout: time.Minute})
				if err != nil {
					t.Error(err)
					return
				}
				reps[i] = rep
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		return reps
	}
	settle := func() {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		if err := s.Settle(sctx); err != nil {
			t.Fatal(err)
		}
		sleep(ctx, 5*time.Second) // idle: timers of ended sessions expire
	}

	t.Logf("soak: %d sessions (%d warm-up, %d bulk per gateway), %.0f dials/s per gateway, held %v, 1 datagram/s each way",
		total, warm, bulk, rate, hold)
	warmReps := run(warm, 0)
	settle()
	base := takeSample(ctx, s, time.Since(began))
	t.Logf("after the warm-up, idle: %s", describeSample(base))

	samples := []sample{base}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(30 * time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				sm := takeSample(ctx, s, time.Since(began))
				samples = append(samples, sm)
				t.Logf("%s: %s", shortDur(sm.at), describeSample(sm))
			}
		}
	}()
	bulkReps := run(bulk, 1)
	close(stop)
	wg.Wait()
	settle()
	end := takeSample(ctx, s, time.Since(began))
	samples = append(samples, end)
	t.Logf("after the bulk, idle: %s", describeSample(end))

	if _, err := s.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	reps := append(warmReps, bulkReps...)
	o, problems := s.Check(ctx, system.Expect{Up: system.Up(reps...)})
	if o == nil {
		t.Fatal(problems)
	}
	for _, p := range problems[:min(len(problems), 50)] {
		t.Error(p)
	}
	if len(problems) > 50 {
		t.Errorf("... and %d more problems", len(problems)-50)
	}

	// Flat: idle after the bulk against idle after the warm-up.
	var fig strings.Builder
	dials, up, refused := 0, 0, 0
	var p50, p99 float64
	for _, r := range reps {
		dials += r.Sessions
		up += r.Up
		refused += r.Failures["refused"]
		p50, p99 = max(p50, r.SetupP50), max(p99, r.SetupP99)
	}
	fmt.Fprintf(&fig, "soak %s: %d dials over %s through 2 gateways, %d up, %d refused (dave, erin); %d bills; ",
		time.Now().UTC().Format("2006-01-02"), dials, shortDur(time.Since(began)), up, refused, o.Bills)
	fmt.Fprintf(&fig, "setup p50 %.0f ms, p99 %.0f ms (worst run)\n", p50, p99)
	fmt.Fprintf(&fig, "verdicts: %s\n", kindsLine(o.Counts))
	fmt.Fprintf(&fig, "%-10s %14s %14s %14s %12s %12s %12s\n", "daemon", "RSS warm (MB)", "RSS peak (MB)", "RSS end (MB)", "gor. warm", "gor. peak", "gor. end")
	names := []string{"billd", "nasd"}
	for _, g := range s.Gateways {
		names = append(names, fmt.Sprintf("gatewayd%d", g.Index))
	}
	for _, n := range names {
		var peakRSS, peakG int64
		for _, sm := range samples {
			peakRSS, peakG = max(peakRSS, sm.rss[n]), max(peakG, sm.goroutines[n])
		}
		g := func(v int64) string {
			if n == "nasd" {
				return "-"
			}
			return fmt.Sprint(v)
		}
		fmt.Fprintf(&fig, "%-10s %14.1f %14.1f %14.1f %12s %12s %12s\n", n, mb(base.rss[n]), mb(peakRSS), mb(end.rss[n]),
			g(base.goroutines[n]), g(peakG), g(end.goroutines[n]))
		if limit := base.rss[n] + max(base.rss[n]/4, 16<<20); end.rss[n] > limit {
			t.Errorf("%s: resident memory %.1f MB idle after the bulk, %.1f MB after the warm-up: not flat", n, mb(end.rss[n]), mb(base.rss[n]))
		}
		if n != "nasd" && end.goroutines[n] > base.goroutines[n]+5 {
			t.Errorf("%s: %d goroutines idle after the bulk, %d after the warm-up: not flat", n, end.goroutines[n], base.goroutines[n])
		}
	}
	t.Logf("figures:\n%s", fig.String())
	if f := os.Getenv(SoakOutEnv); f != "" {
		if err := os.WriteFile(f, []byte(fig.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func describeSample(sm sample) string {
	var parts []string
	for _, n := range []string{"billd", "nasd", "gatewayd1", "gatewayd2"} {
		if _, ok := sm.rss[n]; !ok {
			continue
		}
		p := fmt.Sprintf("%s %.1f MB", n, mb(sm.rss[n]))
		if g, ok := sm.goroutines[n]; ok {
			p += fmt.Sprintf(" %d goroutines", g)
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("%d sessions up, %d bills; %s", sm.sessions, sm.bills, strings.Join(parts, ", "))
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func shortDur(d time.Duration) string { return d.Round(time.Second).String() }

func kindsLine(m map[string]int) string {
	var parts []string
	for _, k := range []string{"match", "within_tolerance", "usage_mismatch", "charge_mismatch", "missing_bill", "orphan_bill",
		"bad_signature", "chain_gap", "duplicate"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}
