//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab/system"
	"github.com/edgebill/edgebill/nas/client"
)

// BenchmarkSessionSetup's knobs: sessions in all (default 2000), dials
// in flight per gateway (default 32).
const (
	BenchDialsEnv = "EDGEBILL_BENCH_DIALS"
	BenchConcEnv  = "EDGEBILL_BENCH_CONC"
)

// BenchmarkSessionSetup is the session-setup line of the side-by-side
// benchmarks (scripts/bench-system.sh): sessions brought up per second
// through the whole chain (pppoe-dial behind four gateways, 32 dials in
// flight on each, through gatewayd, which asks FreeRADIUS to authorise
// each, to nasd, which authenticates each with FreeRADIUS again and
// starts its accounting), against FreeRADIUS's own Access-Request rate
// for the same users from radclient (the best of -p 32, 64, 128 and
// 256): the ceiling every dial's authorisation sits under. Both on the same
// FreeRADIUS, rlm_sql and Postgres (fsync on).
func BenchmarkSessionSetup(b *testing.B) {
	testenv.Root(b)
	radclient := testenv.Binary(b, "radclient")
	n := envInt(BenchDialsEnv, 2000)
	s := system.Start(b, &system.Options{Gateways: 4})
	gws := len(s.Gateways)
	per := n / gws
	n = per * gws
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	users, err := s.AddSubscribers(ctx, "b", n)
	if err != nil {
		b.Fatal(err)
	}
	// radclient's input: one PAP Access-Request per user.
	var in strings.Builder
	for i, u := range users {
		if i > 0 {
			in.WriteString("\n")
		}
		fmt.Fprintf(&in, "User-Name = %q\nUser-Password = %q\nNAS-IP-Address = 127.0.0.1\nNAS-Port = %d\nMessage-Authenticator = 0x00\n", u.User, u.Password, i)
	}
	file := filepath.Join(b.TempDir(), "access.txt")
	if err := os.WriteFile(file, []byte(in.String()), 0o644); err != nil {
		b.Fatal(err)
	}

	var dialRate, radRate, p50, p99 float64
	var radPar int
	for i := 0; b.Loop(); i++ {
		// Each gateway's subscribers dial at once, a few dozen in flight
		// per gateway (a home gateway relays at most 100 PADIs in a
		// burst); every session is held until all are up, so the setup
		// phase carries setups only (hang-ups, Stops and bills come
		// after).
		reps := make([]*client.Report, gws)
		errs := make([]error, gws)
		var wg sync.WaitGroup
		for g := range gws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reps[g], errs[g] = s.Dial(ctx, system.Dial{Gateway: g + 1, Users: users[g*per : (g+1)*per],
					Concurrency: envInt(BenchConcEnv, 32), Hold: 20 * time.Second, Timeout: 2 * time.Minute,
					MACBase: fmt.Sprintf("02:eb:%02x:%02x:00:01", g+1, i)})
			}()
		}
		wg.Wait()
		var span float64
		p50, p99 = 0, 0
		for g, rep := range reps {
			if errs[g] != nil {
				b.Fatal(errs[g])
			}
			if rep.Up != per {
				b.Fatalf("gateway %d: %d of %d sessions up: %v", g+1, rep.Up, per, rep.Failures)
			}
			span = max(span, float64(rep.Up)/rep.SetupRate)
			p50, p99 = max(p50, rep.SetupP50), max(p99, rep.SetupP99)
		}
		dialRate = float64(n) / span
		sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		err = s.Settle(sctx)
		cancel()
		if err != nil {
			b.Fatal(err)
		}

		// radclient at its best of a few parallelisms: past some depth
		// FreeRADIUS's socket overflows and radclient waits out its
		// retransmission timer.
		radRate, radPar = 0, 0
		for _, par := range []int{32, 64, 128, 256} {
			t0 := time.Now()
			cmd := system.Command(ctx, s.Top.ISP, nil, radclient, "-q", "-s", "-p", strconv.Itoa(par), "-r", "5", "-t", "1", "-f", file,
				s.Top.NASRADIUSAuth, "auth", s.Top.RADIUS.NASSecret)
			// radclient exits 1 when a try went unanswered ("Lost")
			// even if a retransmission then was; what counts is that
			// every request was accepted in the end.
			out, err := cmd.CombinedOutput()
			took := time.Since(t0)
			if !strings.Contains(string(out), fmt.Sprintf("Accepted      : %d", n)) {
				b.Fatalf("radclient -p %d: not every request accepted (%v):\n%s", par, err, out)
			}
			if r := float64(n) / took.Seconds(); r > radRate {
				radRate, radPar = r, par
			}
		}
	}
	b.ReportMetric(dialRate, "dial-sessions/s")
	b.ReportMetric(radRate, "radclient-access/s")
	b.ReportMetric(dialRate/radRate, "x")
	b.ReportMetric(p50, "setup-p50-ms")
	b.ReportMetric(p99, "setup-p99-ms")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d sessions behind %d gateways: through gatewayd + nasd + FreeRADIUS %.0f sessions/s (setup p50 %.0f ms, p99 %.0f ms, worst gateway); radclient (-p %d, its best) Access-Requests %.0f/s; %.2fx",
		n, gws, dialRate, p50, p99, radPar, radRate, dialRate/radRate)
}
