package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/server/internal/billtest"
)

// buildBilld builds the billd binary for tests that run it as a process.
func buildBilld(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "billd")
	cmd := exec.Command("go", "build", "-o", bin, "./server/cmd/billd")
	cmd.Dir = lab.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build billd: %v\n%s", err, out)
	}
	return bin
}

// billdProc is billd running as a child process.
type billdProc struct {
	cmd  *exec.Cmd
	logs *lockedBuf
	done chan struct{}
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 1<<20 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startBilldProc(t *testing.T, bin string, args ...string) *billdProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &billdProc{cmd: cmd, logs: &lockedBuf{}, done: make(chan struct{})}
	cmd.Stderr = p.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "billd listening") {
				ready <- sc.Text()
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(); <-p.done })
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("billd exited at start:\n%s", p.logs)
	case <-time.After(20 * time.Second):
		t.Fatalf("billd not ready in 20s:\n%s", p.logs)
	}
	return p
}

func (p *billdProc) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
	}
}

// rssMiB is the process's resident set size.
func (p *billdProc) rssMiB(t *testing.T) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no VmRSS in %s", b)
	}
	kb, _ := strconv.Atoi(string(m[1]))
	return float64(kb) / 1024
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

// gatewayClient sends one gateway's bills one after another as gatewayd
// does: it retransmits every 250 ms with a new Acct-Delay-Time (hence a
// new Identifier and Authenticator) until the bill is acknowledged, and
// records when each was.
type gatewayClient struct {
	g     *billtest.Gateway
	bills []*bill.Bill
	acked []atomic.Bool
	sends atomic.Int64
}

func (c *gatewayClient) run(ctx context.Context, addr string, total *atomic.Int64) error {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	id := uint8(0)
	for i, b := range c.bills {
		start := time.Now()
	send:
		for {
			if ctx.Err() != nil {
				return fmt.Errorf("bill %d of %s never acknowledged", b.Sequence, c.g.ID)
			}
			id++
			req := billtest.Packet(b, c.g.Secret, id, uint32(time.Since(start)/time.Second))
			conn.Write(req)
			c.sends.Add(1)
			conn.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
			for {
				n, err := conn.Read(buf)
				if err != nil {
					var ne net.Error
					if !errors.As(err, &ne) || !ne.Timeout() {
						// ECONNREFUSED while billd is down.
						time.Sleep(100 * time.Millisecond)
					}
					continue send
				}
				if radiusx.VerifyResponse(buf[:n], req, []byte(c.g.Secret)) == nil {
					break send
				}
				// An answer to an earlier try: keep waiting for this one.
			}
		}
		c.acked[i].Store(true)
		total.Add(1)
	}
	return nil
}

// TestCrashAndPostgresRestart: billd killed with SIGKILL under load, and
// Postgres stopped with -m immediate under load: every acknowledged bill
// is in the database, none twice, and the gateways' retransmissions fill
// in the rest. While Postgres is down and a gateway floods billd with new
// bills, billd stays under 300 MiB and says it is dropping.
func TestCrashAndPostgresRestart(t *testing.T) {
	testenv.Short(t, "runs billd as a process through a crash and a Postgres restart (about 20 s)")
	t.Parallel()
	bin := buildBilld(t)
	pg := lab.StartPostgres(t, nil) // fsync on: durability is what is tested
	billd(t, "migrate", "-database", pg.URL)

	const workers, perWorker = 8, 300
	clients := make([]*gatewayClient, workers)
	start := time.Now().Add(-time.Hour)
	for w := range clients {
		g := billtest.NewGateway(fmt.Sprintf("gw-crash-%d", w))
		billd(t, "gateways", "add", "-database", pg.URL, "-id", g.ID, "-public-key", fmt.Sprintf("%x", g.Pub), "-secret", g.Secret)
		c := &gatewayClient{g: g, acked: make([]atomic.Bool, perWorker)}
		for i := range perWorker {
			c.bills = append(c.bills, g.Bill(billtest.Session{User: fmt.Sprintf("u%d-%d", w, i), Start: start.Add(time.Duration(i) * time.Second), Seconds: 60, In: 1000, Out: 2000}))
		}
		clients[w] = c
	}
	flood := billtest.NewGateway("gw-flood")
	billd(t, "gateways", "add", "-database", pg.URL, "-id", flood.ID, "-public-key", fmt.Sprintf("%x", flood.Pub), "-secret", flood.Secret)

	acctAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "udp"))
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	args := []string{"-database", pg.URL, "-listen-acct", acctAddr, "-listen-http", httpAddr, "-token", "t0k3n", "-no-reconcile", "-log-json=false"}
	proc := startBilldProc(t, bin, args...)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.run(ctx, acctAddr, &total); err != nil {
				errs <- err
			}
		}()
	}
	waitFor := func(n int64) {
		t.Helper()
		for total.Load() < n {
			if ctx.Err() != nil {
				t.Fatalf("only %d of %d bills acknowledged\n%s", total.Load(), n, proc.logs)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// Every bill acknowledged so far is stored.
	checkAcked := func(when string) int {
		t.Helper()
		var keys []string
		for _, c := range clients {
			for i := range c.bills {
				if c.acked[i].Load() {
					keys = append(keys, fmt.Sprintf("%s/%x", c.g.ID, c.bills[i].ID))
				}
			}
		}
		conn, err := pg.Connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var missing int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM unnest($1::text[]) k
			WHERE NOT EXISTS (SELECT 1 FROM billd.bills b WHERE b.gateway_id || '/' || encode(b.bill_id, 'hex') = k)`, keys).Scan(&missing); err != nil {
			t.Fatal(err)
		}
		if missing > 0 {
			t.Fatalf("%s: %d of %d acknowledged bills are not in the database", when, missing, len(keys))
		}
		return len(keys)
	}

	total_ := int64(workers * perWorker)
	waitFor(total_ / 4)
	proc.kill()
	<-proc.done
	n := checkAcked("after kill -9")
	t.Logf("billd killed with SIGKILL after %d acknowledgements; all stored", n)
	proc = startBilldProc(t, bin, args...)

	waitFor(total_ / 2)
	pg.Stop(true)
	n = checkAckedAfterRestart(t, pg, checkAcked)
	t.Logf("Postgres stopped (-m immediate) after %d acknowledgements", n)

	// Postgres is down again for the flood: new bills are held up to the
	// queue's bound, the rest dropped, and memory stays bounded.
	pg.Stop(true)
	floodBills(t, flood, acctAddr, 60000)
	rss := proc.rssMiB(t)
	dropped := metric(t, httpAddr, `billd_ingest_dropped_total{reason="queue_full"}`)
	t.Logf("Postgres down, 60000 new bills flooded: billd RSS %.1f MiB, %v dropped as queue_full", rss, dropped)
	if rss > 300 {
		t.Errorf("billd uses %.1f MiB with Postgres down, want under 300", rss)
	}
	if dropped == 0 {
		t.Errorf("no request dropped as queue_full while Postgres was down")
	}
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}

	wg.Wait()
	close(errs)
	for err := range errs {
		resp, herr := http.Get("http://" + httpAddr + "/metrics")
		var m []byte
		if herr == nil {
			m, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		var lines []string
		for _, l := range strings.Split(string(m), "\n") {
			if strings.HasPrefix(l, "billd_") && !strings.Contains(l, "_bucket") {
				lines = append(lines, l)
			}
		}
		t.Fatalf("%v\n%s\n%s", err, strings.Join(lines, "\n"), proc.logs)
	}
	checkAcked("at the end")
	var stored, distinct int
	conn, err := pg.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT (gateway_id, bill_id)) FROM billd.bills
		WHERE gateway_id LIKE 'gw-crash-%'`).Scan(&stored, &distinct); err != nil {
		t.Fatal(err)
	}
	var sends int64
	for _, c := range clients {
		sends += c.sends.Load()
	}
	t.Logf("%d bills, %d requests sent (retransmissions included), %d rows stored", total_, sends, stored)
	if stored != int(total_) || distinct != int(total_) {
		t.Fatalf("%d rows, %d distinct bills stored; want %d of each", stored, distinct, total_)
	}
}

// checkAckedAfterRestart starts Postgres again (crash recovery) and
// checks every acknowledged bill survived.
func checkAckedAfterRestart(t *testing.T, pg *lab.Postgres, check func(string) int) int {
	t.Helper()
	time.Sleep(time.Second) // billd holds its batches and retries meanwhile
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
	return check("after Postgres crash recovery")
}

// floodBills sends n new, signed bills as fast as it can, without waiting
// for answers.
func floodBills(t *testing.T, g *billtest.Gateway, addr string, n int) {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	now := time.Now().Add(-2 * time.Hour)
	for i := range n {
		b := g.Bill(billtest.Session{User: "flood", Start: now.Add(time.Duration(i) * time.Millisecond), Seconds: 1})
		conn.Write(billtest.Packet(b, g.Secret, uint8(i), 0))
		if i%256 == 255 {
			time.Sleep(time.Millisecond) // let the reader keep up a little
		}
	}
}

func metric(t *testing.T, httpAddr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
