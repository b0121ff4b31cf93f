//go:build linux

package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/lab/system"
	"github.com/edgebill/edgebill/nas/client"
)

func TestMain(m *testing.M) {
	code := m.Run()
	lab.RemoveBuilds()
	os.Exit(code)
}

// start is system.Start for a test that needs root and the servers; it
// fails (skips outside CI) where they are missing.
func start(t *testing.T, o system.Options) *system.System {
	t.Helper()
	testenv.Root(t)
	testenv.Short(t, "starts the whole system in namespaces")
	if o.Interim == 0 {
		o.Interim = 2 * time.Second
	}
	if o.Checkpoint == 0 {
		o.Checkpoint = 500 * time.Millisecond
	}
	o.Logf = t.Logf
	return system.Start(t, &o)
}

// testCtx bounds a test's waits.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// wait is Dialer.Wait failing t.
func wait(t *testing.T, ctx context.Context, d *system.Dialer) *client.Report {
	t.Helper()
	rep, err := d.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkRefusals checks that the dial report's refused users were
// refused, with their accounts' Reply-Messages, and everyone else came
// up.
func checkRefusals(t *testing.T, reps ...*client.Report) {
	t.Helper()
	msg := map[string]string{
		system.Dave.User: "Account in arrears: please pay your bill",
		system.Erin.User: "Account not yet activated",
	}
	for _, rep := range reps {
		for _, x := range rep.PerSess {
			want, refused := msg[x.User]
			switch {
			case refused && (x.Error != "refused" || x.Message != want):
				t.Errorf("%s (%s): error %q message %q, want refused with %q", x.User, x.MAC, x.Error, x.Message, want)
			case !refused && x.Error != "":
				t.Errorf("%s (%s): %s", x.User, x.MAC, x.Error)
			}
		}
	}
}

// finish waits for everything to settle, reconciles, and checks the
// system's promises.
func finish(t *testing.T, ctx context.Context, s *system.System, exp system.Expect) *system.Outcome {
	t.Helper()
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	o, problems := s.Check(ctx, exp)
	if o != nil {
		t.Logf("outcome: %v", o)
		for _, v := range o.Verdicts {
			if v.Kind != "match" {
				t.Logf("  %s", system.Describe(v))
			}
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	return o
}

// waitUp waits until n sessions are up at nasd.
func waitUp(t *testing.T, ctx context.Context, s *system.System, n int) {
	t.Helper()
	for {
		// Up: in the network phase, authenticated and accounted. nasd's
		// Sessions also counts dials still in discovery, LCP or
		// authentication, which a fault injected now would refuse.
		st, err := s.NasdStats(ctx)
		if err == nil && st.SessionsUp-st.SessionsDown >= uint64(n) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %d sessions at nasd: %v (%+v)", n, ctx.Err(), st)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
