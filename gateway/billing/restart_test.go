package billing

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/billing/billingtest"
	"github.com/edgebill/edgebill/gateway/billing/delivery"
	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// restartChildEnv names the journal the child gatewayd-like process
// bills into until it is killed.
const restartChildEnv = "EDGEBILL_BILLING_RESTART_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(restartChildEnv); path != "" {
		restartChild(path)
		os.Exit(3) // restartChild never returns normally
	}
	os.Exit(m.Run())
}

// growingCounters make every session move 1 MB in and 3 MB out a second.
type growingCounters struct{ start time.Time }

func (g growingCounters) Usage(key uint64) (gateway.Usage, bool) {
	ms := uint64(time.Since(g.start) / time.Millisecond)
	return gateway.Usage{InOctets: 1000 * ms * key, OutOctets: 3000 * ms * key, InPackets: ms, OutPackets: 2 * ms}, true
}

// restartChild runs Billing as gatewayd would: four sessions open, one
// of them closes normally, then it keeps metering and checkpointing
// until the parent kills it.
func restartChild(path string) {
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	start := time.Now()
	b, err := New(Config{GatewayID: "gw-crash", Journal: j, Counters: growingCounters{start},
		Poll: 10 * time.Millisecond, CheckpointInterval: 30 * time.Millisecond})
	if err != nil {
		fmt.Println("new:", err)
		os.Exit(2)
	}
	go b.Run(context.Background())
	for range 4 {
		k, err := b.NextKey()
		if err != nil {
			fmt.Println("key:", err)
			os.Exit(2)
		}
		b.Opened(session(k, tariffSimple, start))
	}
	time.Sleep(100 * time.Millisecond)
	u, _ := growingCounters{start}.Usage(2)
	b.Closed(2, time.Now(), u, gateway.CauseUserRequest)
	time.Sleep(100 * time.Millisecond)
	fmt.Println("ready")
	select {}
}

// kill -9 in the middle of a session, restart: the open sessions are
// billed at their last checkpoint with NAS-Reboot, exactly once (a
// second restart bills nothing more), the chain is unbroken, and the
// bills then reach the accounting server in order.
func TestRestartBillsAtCheckpointOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), restartChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
	}()
	select {
	case l := <-line:
		if l != "ready" {
			t.Fatalf("child: %q", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("child not ready")
	}
	time.Sleep(77 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child not killed: %v", cmd.ProcessState)
	}

	// What the dead gateway left: three checkpoints, one bill.
	j, err := journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cps []journal.Checkpoint
	j.View(func(tx *journal.Tx) (err error) { cps, err = tx.Checkpoints(); return err })
	before := pending(t, j)
	if len(cps) != 3 || len(before) != 1 {
		t.Fatalf("after the kill: %d checkpoints, %d bills; want 3 and 1", len(cps), len(before))
	}
	if before[0].Bill.TerminateCause != rfc2866.AcctTerminateCause_Value_UserRequest {
		t.Fatalf("the normal close: cause %v", before[0].Bill.TerminateCause)
	}
	byKey := map[string]journal.Checkpoint{}
	for _, c := range cps {
		if c.Usage.InOctets == 0 {
			t.Errorf("checkpoint of %d has no usage", c.Session.Key)
		}
		byKey[fmt.Sprintf("GW%08X", c.Session.Key)] = c
	}

	// Restart.
	b, err := New(Config{GatewayID: "gw-crash", Journal: j, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	_ = b
	recs := pending(t, j)
	if len(recs) != 4 {
		t.Fatalf("after restart: %d bills, want 4", len(recs))
	}
	tf, _ := tariff.Parse(tariffSimple)
	var links []bill.Link
	for _, r := range recs {
		bl := r.Bill
		links = append(links, bl.Link())
		if err := bl.Verify(j.PublicKey()); err != nil {
			t.Error(err)
		}
		if bl.Sequence == 1 {
			continue
		}
		c, ok := byKey[bl.SessionID]
		if !ok {
			t.Errorf("bill %d for %s, not an open session", bl.Sequence, bl.SessionID)
			continue
		}
		delete(byKey, bl.SessionID)
		if bl.TerminateCause != rfc2866.AcctTerminateCause_Value_NASReboot {
			t.Errorf("bill %d: cause %v, want NAS-Reboot", bl.Sequence, bl.TerminateCause)
		}
		if bl.InputOctets != c.Usage.InOctets || bl.OutputOctets != c.Usage.OutOctets ||
			bl.InputPackets != c.Usage.InPackets || bl.OutputPackets != c.Usage.OutPackets {
			t.Errorf("bill %d: usage %d/%d, checkpoint %+v", bl.Sequence, bl.InputOctets, bl.OutputOctets, c.Usage)
		}
		if bl.SessionTime != c.Elapsed.Truncate(time.Millisecond) {
			t.Errorf("bill %d: session time %v, checkpoint %v", bl.Sequence, bl.SessionTime, c.Elapsed)
		}
		want, _ := tf.Total(tariff.Usage{Start: bl.Start, Stop: bl.Stop, In: bl.InputOctets, Out: bl.OutputOctets})
		if bl.Charge != want {
			t.Errorf("bill %d: charge %d, Price %d", bl.Sequence, bl.Charge, want)
		}
	}
	if len(byKey) != 0 {
		t.Errorf("open sessions not billed: %v", byKey)
	}
	if f := bill.CheckSorted(links); len(f) != 0 {
		t.Errorf("chain: %v", f)
	}
	if st, _ := j.Stats(); st.Sessions != 0 {
		t.Errorf("%d checkpoints left after recovery", st.Sessions)
	}
	j.Close()

	// A second restart finds nothing to bill.
	j, err = journal.Open(path, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := New(Config{GatewayID: "gw-crash", Journal: j, Logger: zaptest.NewLogger(t)}); err != nil {
		t.Fatal(err)
	}
	if n := len(pending(t, j)); n != 4 {
		t.Fatalf("after a second restart: %d bills, want 4", n)
	}

	// And they are delivered, in order, chain intact.
	srv, err := billingtest.NewAccountingServer("s", true)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	rc, err := radclient.New(radclient.Config{Servers: []radclient.Server{{Addr: srv.Addr(), Secret: "s"}},
		IRT: 50 * time.Millisecond, Sockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	d, err := delivery.New(delivery.Config{Journal: j, Client: rc, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st, _ := j.Stats(); st.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bills not delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var got []bill.Link
	for _, r := range srv.Requests() {
		if r.BillErr != nil {
			t.Fatal(r.BillErr)
		}
		if err := r.Bill.Verify(j.PublicKey()); err != nil {
			t.Error(err)
		}
		got = append(got, r.Bill.Link())
	}
	if len(got) != 4 {
		t.Fatalf("server got %d bills", len(got))
	}
	if f := bill.CheckSorted(got); len(f) != 0 {
		t.Errorf("delivered chain: %v", f)
	}
}
