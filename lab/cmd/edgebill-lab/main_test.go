//go:build linux

package main

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
)

func TestMain(m *testing.M) {
	code := m.Run()
	lab.RemoveBuilds()
	os.Exit(code)
}

// The demo itself, as make demo runs it, with no daemons: the lab comes
// up, runs, reports, and leaves nothing behind.
func TestDemoComesUpAndTearsDown(t *testing.T) {
	testenv.Root(t)
	testenv.Short(t, "starts Postgres and FreeRADIUS in namespaces")
	bin := lab.Build(t, "./lab/cmd/edgebill-lab")["./lab/cmd/edgebill-lab"]
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--duration", "2s", "--exit", "--gateways", "2", "--bin", t.TempDir(), "--prefix", "tdemo")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("edgebill-lab: %v\n%s", err, out)
	}
	s := string(out)
	for _, want := range []string{"✓ namespaces, Postgres, FreeRADIUS", "psql:", "run over after", "== reconciliation report ==", "✓ tearing down"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	names := regexp.MustCompile(`\btdemo(sub|gw|gw2|isp)-[0-9a-f]{6}\b`).FindAllString(s, -1)
	if len(names) < 4 {
		t.Fatalf("namespace names in the output: %v\n%s", names, s)
	}
	for _, n := range names {
		if _, err := os.Stat("/run/netns/" + n); err == nil {
			t.Errorf("namespace %s left behind", n)
		}
	}
}
