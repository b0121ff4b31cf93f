//go:build linux

package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgebill/edgebill/internal/testenv"
)

func TestHarnessCleanupOrderAndFatal(t *testing.T) {
	var out strings.Builder
	h := NewHarness("demo", &out)
	var order []int
	var dir string
	ok := h.Do(func() {
		h.Cleanup(func() { order = append(order, 1) })
		dir = h.TempDir()
		h.Cleanup(func() { order = append(order, 2) })
		h.Cleanup(func() { h.Fatalf("a cleanup failing") }) // must not stop the rest
		h.Fatalf("set-up failed: %d", 42)
		order = append(order, 99) // not reached
	})
	if ok || !h.Failed() {
		t.Fatalf("Do = %v, Failed = %v; want false, true", ok, h.Failed())
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("TempDir %s: %v", dir, err)
	}
	h.Teardown()
	h.Teardown() // a second Ctrl-C: nothing runs twice
	if len(order) != 2 || order[0] != 2 || order[1] != 1 {
		t.Errorf("cleanups ran as %v, want [2 1]", order)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("TempDir %s left after Teardown (%v)", dir, err)
	}
	if s := out.String(); !strings.Contains(s, "demo: set-up failed: 42") || !strings.Contains(s, "a cleanup failing") {
		t.Errorf("output:\n%s", s)
	}
}

func TestHarnessPanicAndKeep(t *testing.T) {
	var out strings.Builder
	h := NewHarness("demo", &out)
	h.Keep(true)
	var dir string
	ok := h.Do(func() {
		dir = h.TempDir()
		panic("boom")
	})
	h.Teardown()
	if ok || !h.Failed() || !strings.Contains(out.String(), "panic: boom") {
		t.Fatalf("Do = %v, Failed = %v, output:\n%s", ok, h.Failed(), out.String())
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Keep(true), yet %v", err)
	}
	os.RemoveAll(filepath.Dir(dir))

	h = NewHarness("demo", &out)
	if !h.Do(func() {}) || h.Failed() {
		t.Fatal("an empty Do failed")
	}
}

// The demo builds the topology with a Harness, not a test: the helpers
// that take a testing.TB get the shim.
func TestTopologyWithHarness(t *testing.T) {
	t.Parallel()
	testenv.Root(t)
	var out strings.Builder
	h := NewHarness("demo", &out)
	defer func() {
		h.Teardown()
		if t.Failed() {
			t.Logf("harness output:\n%s", out.String())
		}
	}()
	var top *Topology
	if !h.Do(func() {
		top = NewTopology(h, &TopologyOptions{Prefix: "h", Postgres: PostgresOptions{NoFsync: true}})
	}) {
		t.Fatal("NewTopology under a Harness failed")
	}
	ns := []string{top.Sub.Name, top.ISP.Name, top.Gateway(1).NS.Name}
	ctx := context.Background()
	c, err := top.PG.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	err = c.QueryRow(ctx, "SELECT count(*) FROM radusergroup").Scan(&n)
	c.Close(ctx)
	if err != nil || n == 0 {
		t.Fatalf("fixtures: %d rows, %v", n, err)
	}
	h.Teardown()
	for _, name := range ns {
		if _, err := os.Stat("/run/netns/" + name); !os.IsNotExist(err) {
			t.Errorf("namespace %s left after Teardown", name)
		}
	}
	if top.RADIUS.proc != nil && !top.RADIUS.proc.exited() {
		t.Error("freeradius still running after Teardown")
	}
}
