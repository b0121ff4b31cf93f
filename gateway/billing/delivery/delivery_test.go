package delivery

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/edgebill/edgebill/gateway/billing/billingtest"
	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/rfc/bill"
)

const secret = "test-secret"

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newBill(i int) *bill.Bill {
	b := &bill.Bill{
		GatewayID:      "gw-test",
		SessionID:      fmt.Sprintf("S%04d", i),
		UserName:       "alice",
		SubscriberMAC:  net.HardwareAddr{2, 0, 0, 0, 0, 1},
		BRASMAC:        net.HardwareAddr{2, 0, 0, 0, 0, 2},
		PPPoESessionID: uint16(i),
		InputOctets:    uint64(i) << 33, // over 32 bits: Gigawords in use
		OutputOctets:   uint64(i) * 1000,
		TerminateCause: 1,
		TariffID:       "home",
		TariffVersion:  1,
		Charge:         int64(i) * 100,
		Currency:       "CNY",
		Scale:          4,
	}
	b.ID[0], b.ID[1] = byte(i), byte(i>>8)
	b.ID[15] = 0xee
	b.SetTimes(t0.Add(time.Duration(i)*time.Minute), 30*time.Second)
	return b
}

func appendBills(t *testing.T, j *journal.Journal, from, to int) {
	t.Helper()
	err := j.Update(func(tx *journal.Tx) error {
		for i := from; i < to; i++ {
			if err := tx.AppendBill(newBill(i), []byte("class-x"), time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func newClient(t *testing.T, servers ...string) *radclient.Client {
	t.Helper()
	cfg := radclient.Config{IRT: 40 * time.Millisecond, MRT: 160 * time.Millisecond, MRC: 2, MRD: 400 * time.Millisecond, Sockets: 1}
	for _, s := range servers {
		cfg.Servers = append(cfg.Servers, radclient.Server{Addr: s, Secret: secret})
	}
	c, err := radclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func startDeliverer(t *testing.T, j *journal.Journal, c Accounter) *Deliverer {
	t.Helper()
	d, err := New(Config{Journal: j, Client: c, Retry: 50 * time.Millisecond, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := d.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return d
}

// waitBills waits until the server has recorded n distinct bills.
func waitBills(t *testing.T, s *billingtest.AccountingServer, n int, within time.Duration) []billingtest.Request {
	t.Helper()
	deadline := time.After(within)
	for {
		reqs := s.Requests()
		seen := map[uint64]bool{}
		for _, r := range reqs {
			if r.Bill != nil {
				seen[r.Bill.Sequence] = true
			}
		}
		if len(seen) >= n {
			return reqs
		}
		select {
		case <-s.Seen:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%d of %d bills arrived in %v", len(seen), n, within)
		}
	}
}

// checkArrivals checks that the bills first arrived in sequence order
// 1..n, that each verifies with the gateway's key, and that the chain
// has no finding.
func checkArrivals(t *testing.T, reqs []billingtest.Request, n int, j *journal.Journal) {
	t.Helper()
	var order []uint64
	var links []bill.Link
	first := map[uint64]bool{}
	for _, r := range reqs {
		if r.BillErr != nil {
			t.Errorf("bill did not decode: %v", r.BillErr)
			continue
		}
		if r.Bill == nil {
			t.Errorf("request is not a Stop: %v", r.Status)
			continue
		}
		if err := r.Bill.Verify(j.PublicKey()); err != nil {
			t.Errorf("bill %d: %v", r.Bill.Sequence, err)
		}
		if c := rfc2865.Class_GetString(r.Packet); c != "class-x" {
			t.Errorf("bill %d: Class %q", r.Bill.Sequence, c)
		}
		if first[r.Bill.Sequence] {
			continue // a retransmission the server answered twice
		}
		first[r.Bill.Sequence] = true
		order = append(order, r.Bill.Sequence)
		links = append(links, r.Bill.Link())
	}
	if len(order) != n {
		t.Fatalf("%d distinct bills, want %d", len(order), n)
	}
	for i, s := range order {
		if s != uint64(i+1) {
			t.Fatalf("arrival order %v, want 1..%d", order, n)
		}
	}
	if f := bill.CheckSorted(links); len(f) != 0 {
		t.Errorf("chain findings: %v", f)
	}
}

func waitPending(t *testing.T, j *journal.Journal, want int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := j.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending = %d, want %d", st.Pending, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openJournal(t *testing.T) *journal.Journal {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "j.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

// The accounting server is down for a while (its port closed), then up:
// bills made before and during the outage all arrive, in order, the
// chain verifies, each late bill says how late it is, and the journal
// empties only as bills are acknowledged.
func TestStoreAndForward(t *testing.T) {
	j := openJournal(t)
	srv, err := billingtest.NewAccountingServer(secret, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	appendBills(t, j, 1, 6)
	d := startDeliverer(t, j, newClient(t, srv.Addr()))

	// Down: nothing can be acknowledged; more bills come in.
	time.Sleep(600 * time.Millisecond)
	appendBills(t, j, 6, 13)
	d.Kick()
	time.Sleep(1500 * time.Millisecond)
	if st, _ := j.Stats(); st.Pending != 12 {
		t.Fatalf("while down: %d pending, want 12", st.Pending)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("while down: server recorded %d requests", n)
	}

	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	reqs := waitBills(t, srv, 12, 20*time.Second)
	checkArrivals(t, reqs, 12, j)
	waitPending(t, j, 0, 5*time.Second)
	// Bill 1 waited at least the outage (about 2 s) plus its 1-minute-old
	// stop... all bills stopped long ago: the delay is large.
	for _, r := range reqs {
		if r.Delay < 60 {
			t.Errorf("bill %d: Acct-Delay-Time %d s, want the time since its stop", r.Bill.Sequence, r.Delay)
			break
		}
	}
	// New bills after recovery go straight through.
	appendBills(t, j, 13, 15)
	d.Kick()
	reqs = waitBills(t, srv, 14, 10*time.Second)
	checkArrivals(t, reqs, 14, j)
	waitPending(t, j, 0, 5*time.Second)
}

// The first server never answers; the second does. Every bill goes to
// the second, in order.
func TestFailover(t *testing.T) {
	j := openJournal(t)
	dead, err := billingtest.NewAccountingServer(secret, false)
	if err != nil {
		t.Fatal(err)
	}
	live, err := billingtest.NewAccountingServer(secret, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(live.Close)
	appendBills(t, j, 1, 8)
	startDeliverer(t, j, newClient(t, dead.Addr(), live.Addr()))
	reqs := waitBills(t, live, 7, 20*time.Second)
	checkArrivals(t, reqs, 7, j)
	waitPending(t, j, 0, 5*time.Second)
}

// Replies lost on the way: the server records a bill but its answer
// does not come back every other time. The bill is sent again, arrives
// twice, is kept once by the server (same bill id), and order holds.
func TestLostAcknowledgements(t *testing.T) {
	j := openJournal(t)
	srv, err := billingtest.NewAccountingServer(secret, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	seen := map[uint64]int{}
	srv.SetDrop(func(r *billingtest.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if r.Bill == nil {
			return false
		}
		seen[r.Bill.Sequence]++
		return seen[r.Bill.Sequence] == 1 // the first copy of each is lost
	})
	appendBills(t, j, 1, 5)
	startDeliverer(t, j, newClient(t, srv.Addr()))
	reqs := waitBills(t, srv, 4, 20*time.Second)
	checkArrivals(t, reqs, 4, j)
	waitPending(t, j, 0, 5*time.Second)
}

func TestPacketCarriesBill(t *testing.T) {
	j := openJournal(t)
	appendBills(t, j, 1, 2)
	recs, err := j.Pending(0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Packet(&recs[0], recs[0].Bill.Stop.Add(90*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	p.Secret = []byte(secret)
	wire, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	q, err := radius.Parse(wire, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	got, err := bill.FromPacket(q)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != recs[0].Bill.Hash() {
		t.Errorf("bill changed on the wire")
	}
	if err := got.Verify(j.PublicKey()); err != nil {
		t.Error(err)
	}
}
