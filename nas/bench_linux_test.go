//go:build linux

package nas_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/nas"
	"github.com/edgebill/edgebill/nas/client"
)

// radclientRate measures FreeRADIUS's own Access-Request rate with its
// radclient: n PAP requests, 256 in parallel, from nasd's namespace (the
// ceiling for nasd's session setup, which needs one Access-Request each).
func radclientRate(tb testing.TB, l *ispLab, n, parallel int) float64 {
	tb.Helper()
	bin := testenv.Binary(tb, "radclient")
	var in strings.Builder
	for i := range n {
		u := []string{"alice", "bob", "carol"}[i%3]
		fmt.Fprintf(&in, "User-Name = %s\nUser-Password = %s-pw\nMessage-Authenticator = 0x00\n\n", u, u)
	}
	file := filepath.Join(tb.TempDir(), "requests")
	if err := os.WriteFile(file, []byte(in.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	out := run(tb, l.isp, 2*time.Minute, "", bin, "-q", "-s", "-p", fmt.Sprint(parallel), "-r", "5", "-t", "1", "-f", file, l.fr.AuthAddr, "auth", l.fr.NASSecret)
	el := time.Since(start)
	tb.Logf("radclient -p %d: %d Access-Requests in %v", parallel, n, el)
	if !strings.Contains(out, fmt.Sprintf("Accepted      : %d", n)) {
		tb.Fatalf("radclient:\n%s", out)
	}
	return float64(n) / el.Seconds()
}

// BenchmarkSessionSetupFreeRADIUS brings 1000 sessions up through nasd
// and a real FreeRADIUS (rlm_sql on Postgres), holds them until all are
// up, tears them down, and reports the setup rate and latency next to
// radclient's Access-Request rate measured in the same run (issue 4's
// targets: >= 400 sessions/s and >= 70% of radclient's rate).
//
//	go test -run '^$' -bench SessionSetup -benchtime 1x ./nas/
func BenchmarkSessionSetupFreeRADIUS(b *testing.B) {
	const sessions = 1000
	// Postgres with fsync on, as in production and as NOTES.md's ceiling
	// of about 540 Access-Requests/s was measured.
	l := newISPLabDurable(b, true)
	lab.Veth(b, l.sub, "eth0", "", l.isp, "eth0", "")
	cfg := l.e2eConfig("eth0", nas.AuthPAP)
	cfg.InterimOverride = -1
	cfg.Tick = 100 * time.Millisecond
	cfg.Pool = mustPrefix("100.64.0.0/16")
	cfg.RADIUSIRT = 2 * time.Second
	srv := startNASD(b, l.isp, cfg, nas.Options{})
	mux := startMux(b, l.sub, "eth0")

	radclientRate(b, l, 500, 64) // warm FreeRADIUS's SQL pool up
	// FreeRADIUS's ceiling: the best of radclient at several windows
	// (one lost request costs radclient a whole retry timer, and the
	// machine is shared: a single measure is noisy).
	ceiling := func() float64 {
		best := 0.0
		for _, p := range []int{64, 128, 256} {
			best = max(best, radclientRate(b, l, 2000, p))
		}
		return best
	}
	radRate := ceiling()
	// Our own warm-up: first-use allocations, FreeRADIUS's connections.
	if _, err := client.RunLoad(context.Background(), mux, client.LoadConfig{
		Sessions: 200, Concurrency: 64, MACBase: mustMAC6("02:bf:00:00:00:00"),
		Credentials: []client.Credential{{User: "alice", Password: "alice-pw"}},
		Template:    client.Options{RestartTimer: time.Second, DiscoveryTimeout: time.Second},
	}); err != nil {
		b.Fatal(err)
	}
	waitFor(b, time.Minute, "warm-up gone", func() bool { st := srv.Stats(); return st.Sessions == 0 && st.AcctPending == 0 })
	var rates, p50s, p99s []float64
	var teardown float64
	failed := 0
	b.ResetTimer()
	for i := range b.N {
		hold := make(chan struct{})
		var done atomic.Int32
		var released time.Time
		rep, err := client.RunLoad(context.Background(), mux, client.LoadConfig{
			Sessions: sessions, Concurrency: 256,
			MACBase:     client.MACAt(mustMAC6("02:be:00:00:00:00"), i*sessions),
			Credentials: []client.Credential{{User: "alice", Password: "alice-pw"}, {User: "bob", Password: "bob-pw"}, {User: "carol", Password: "carol-pw"}},
			Template:    client.Options{RestartTimer: time.Second, DiscoveryTimeout: time.Second, SetupTimeout: time.Minute},
			HoldUntil:   hold,
			OnSetup: func(error) {
				if done.Add(1) == sessions {
					released = time.Now()
					close(hold)
				}
			},
		})
		if err != nil {
			b.Fatal(err)
		}
		teardown = time.Since(released).Seconds()
		rates, p50s, p99s = append(rates, rep.SetupRate), append(p50s, rep.SetupP50), append(p99s, rep.SetupP99)
		failed += rep.Failed
		if rep.Failed > 0 {
			b.Logf("failures: %v", rep.Failures)
		}
		b.StopTimer()
		waitFor(b, time.Minute, "sessions gone and accounted", func() bool {
			st := srv.Stats()
			return st.Sessions == 0 && st.AcctPending == 0
		})
		b.StartTimer()
	}
	b.StopTimer()
	// At BNG Blaster's default rate, 400 dials a second: the latency of
	// a BRAS that is not saturated.
	paced, err := client.RunLoad(context.Background(), mux, client.LoadConfig{
		Sessions: sessions, Rate: 400, Concurrency: 256, MACBase: mustMAC6("02:bd:00:00:00:00"),
		Credentials: []client.Credential{{User: "alice", Password: "alice-pw"}, {User: "bob", Password: "bob-pw"}, {User: "carol", Password: "carol-pw"}},
		Template:    client.Options{RestartTimer: time.Second, DiscoveryTimeout: time.Second},
	})
	if err != nil {
		b.Fatal(err)
	}
	failed += paced.Failed
	// radclient again after, and the better of the two is the ceiling:
	// the machine is shared and a single measure is noisy.
	radRate = max(radRate, ceiling())
	// The median iteration: the machine is shared, one run may be unlucky.
	rate, p50, p99 := median(rates), median(p50s), median(p99s)
	b.ReportMetric(rate, "sessions/s")
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(radRate, "radclient-req/s")
	b.ReportMetric(100*rate/radRate, "%-of-radclient")
	b.ReportMetric(teardown, "teardown-s")
	b.ReportMetric(paced.SetupP50, "p50-ms@400/s")
	b.ReportMetric(paced.SetupP99, "p99-ms@400/s")
	b.ReportMetric(float64(failed), "failed")
	b.Logf("nasd %+v; dialer dropped %d frames", srv.Stats(), mux.Dropped())
	b.Logf("setup %.0f sessions/s (p50 %.1f ms, p99 %.1f ms) vs radclient %.0f Access-Requests/s: %.0f%%; teardown of %d in %.2f s; at 400/s: p50 %.1f ms, p99 %.1f ms",
		rate, p50, p99, radRate, 100*rate/radRate, sessions, teardown, paced.SetupP50, paced.SetupP99)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
