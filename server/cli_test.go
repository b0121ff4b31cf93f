package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/server"
)

func run(args ...string) (int, string, string) {
	var out, errb strings.Builder
	code := server.Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelp(t *testing.T) {
	if code, out, _ := run("help"); code != 0 || !strings.Contains(out, "reconcile") || !strings.Contains(out, "A first run") {
		t.Errorf("help: %d\n%s", code, out)
	}
	if code, _, errb := run(); code != 2 || !strings.Contains(errb, "Commands:") {
		t.Errorf("no command: %d %s", code, errb)
	}
	if code, _, errb := run("frobnicate"); code != 2 || !strings.Contains(errb, "unknown command") {
		t.Errorf("unknown command: %d %s", code, errb)
	}
	for _, cmd := range [][]string{{"serve", "-h"}, {"migrate", "-h"}, {"reconcile", "-h"}, {"report", "-h"}, {"gateways", "-h"}, {"gateways", "add", "-h"}, {"tariffs", "-h"}} {
		if code, _, errb := run(cmd...); code != 0 || !strings.Contains(errb, "Usage: billd") {
			t.Errorf("%v: %d\n%s", cmd, code, errb)
		}
	}
	if code, _, errb := run("reconcile", "-database", "postgres://nowhere/x"); code != 1 || !strings.Contains(errb, "-from is required") {
		t.Errorf("reconcile without -from: %d %s", code, errb)
	}
	t.Setenv("DATABASE_URL", "")
	if code, _, errb := run("migrate"); code != 1 || !strings.Contains(errb, "no database") {
		t.Errorf("migrate without a database: %d %s", code, errb)
	}
	if code, _, errb := run("gateways", "add", "-database", "postgres://127.0.0.1:1/x", "-id", "g", "-public-key", "zz", "-secret", "s"); code != 1 || !strings.Contains(errb, "public key") {
		t.Errorf("bad key: %d %s", code, errb)
	}
	// 32 zero octets decode to a point of order 4: no key at all.
	if code, _, errb := run("gateways", "add", "-database", "postgres://127.0.0.1:1/x", "-id", "g", "-public-key", strings.Repeat("00", 32), "-secret", "s"); code != 1 || !strings.Contains(errb, "small order") {
		t.Errorf("small-order key: %d %s", code, errb)
	}
	if code, out, _ := run("version"); code != 0 || !strings.HasPrefix(out, "billd ") {
		t.Errorf("version: %d %s", code, out)
	}
}

// TestServe runs `billd serve` with every part on, talks to it, and stops
// it as a signal would.
func TestServe(t *testing.T) {
	t.Parallel()
	pg := lab.StartPostgres(t, &lab.PostgresOptions{NoFsync: true})
	if err := pg.ExecFile(context.Background(), lab.StockSchemaSQL); err != nil {
		t.Fatal(err)
	}
	if code, out, errb := run("migrate", "-database", pg.URL); code != 0 || !strings.Contains(out, "applied 0001_init") {
		t.Fatalf("migrate: %d %s %s", code, out, errb)
	}
	if code, out, _ := run("migrate", "-database", pg.URL); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate again: %d %s", code, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb testenv.Buffer
	done := make(chan int, 1)
	go func() {
		done <- server.Main(ctx, []string{"serve", "-database", pg.URL, "-listen-acct", "127.0.0.1:0", "-listen-http", "127.0.0.1:0",
			"-token", "tok", "-log-json=false"}, pw, &errb)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	_, httpAddr, _ := strings.Cut(strings.TrimSpace(line), "http=")
	for _, tc := range []struct {
		path string
		code int
		has  string
	}{
		{"/healthz", 200, "ok"},
		{"/metrics", 200, "billd_ingest_queue_depth"},
		{"/", 401, ""},
		{"/?token=tok", 200, "verdict-chart"},
		{"/api/v1/progress?token=tok", 200, "sessions"},
		{"/api/v1/gateways?token=tok", 200, "gateways"},
	} {
		resp, err := http.Get("http://" + httpAddr + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.has) {
			t.Errorf("%s: %d, want %d with %q", tc.path, resp.StatusCode, tc.code, tc.has)
		}
	}
	// Let continuous reconciliation run once (a loaded machine may take a while).
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !strings.Contains(errb.String(), "reconciled"); {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d\n%s", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(errb.String(), "reconciled") {
		t.Errorf("no continuous reconciliation in the log:\n%s", errb.String())
	}
}
