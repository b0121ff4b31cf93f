//go:build linux

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/lab/system"
)

func TestMain(m *testing.M) {
	code := m.Run()
	lab.RemoveBuilds()
	os.Exit(code)
}

// The demo itself, as make demo runs it but short: two gateways (the
// second under-billing), six subscribers for 20 seconds. It comes up,
// dials, reports, keeps every promise (exit status 0), shows the faulty
// gateway's findings with both sides' figures, and leaves nothing
// behind.
func TestDemo(t *testing.T) {
	testenv.Root(t)
	testenv.Short(t, "runs the whole system in namespaces")
	bins := lab.Build(t, "./lab/cmd/edgebill-lab", system.PkgNasd, system.PkgDial, system.PkgGatewayd, system.PkgBilld)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins["./lab/cmd/edgebill-lab"], "--duration", "20s", "--subscribers", "6", "--exit",
		"--bin", filepath.Dir(bins[system.PkgNasd]), "--prefix", "tdemo")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	s := string(out)
	if err != nil {
		t.Fatalf("edgebill-lab: %v\n%s", err, s)
	}
	t.Logf("edgebill-lab output:\n%s", s)
	for _, want := range []string{
		"✓ namespaces, Postgres, FreeRADIUS, billd, nasd, gatewayd", "billd:      dashboard http://127.0.0.1:",
		"gatewayd1:  live view http://127.0.0.1:", "gatewayd2:  live view (UNDER-BILLS 20% on purpose) http://127.0.0.1:",
		"psql:", "run over after", `dave refused: "Account in arrears: please pay your bill"`,
		`erin refused: "Account not yet activated"`, "== reconciliation report ==", "check: ✓", "✓ tearing down",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The verdicts: gateway 1's two sessions match (or, when the
	// gateway's millisecond session time and the BRAS's whole seconds
	// fall either side of a charging increment, are within tolerance),
	// gateway 2's two are charge mismatches, listed with the bill's and
	// the BRAS's figures.
	count := func(kind string) int {
		m := regexp.MustCompile(`(?m)^  ` + kind + ` +(\d+)$`).FindStringSubmatch(s)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if good, c := count("match")+count("within_tolerance"), count("charge_mismatch"); good != 2 || c != 2 {
		t.Errorf("verdicts: match or within tolerance %d, charge_mismatch %d; want 2 and 2", good, c)
	}
	if n := strings.Count(s, "  charge_mismatch  gw-lab-2  user "); n != 2 {
		t.Errorf("%d charge_mismatch findings of gw-lab-2 listed, want 2", n)
	}
	if b, r := strings.Count(s, "      bill: "), strings.Count(s, "      BRAS: "); b < 2 || b != r {
		t.Errorf("findings lack both sides' figures")
	}
	names := regexp.MustCompile(`\btdemo(sub|gw|gw2|isp)-[0-9a-f]{6}\b`).FindAllString(s, -1)
	if len(names) < 4 {
		t.Fatalf("namespace names in the output: %v", names)
	}
	for _, n := range names {
		if _, err := os.Stat("/run/netns/" + n); err == nil {
			t.Errorf("namespace %s left behind", n)
		}
	}
}
