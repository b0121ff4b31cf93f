package journal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/rfc/bill"
)

func openTemp(t *testing.T, opt Options) (*Journal, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, path
}

var (
	subMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	brasMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	t0      = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
)

func testSession(key uint64) gateway.Session {
	return gateway.Session{
		Key:            key,
		AcctSessionID:  fmt.Sprintf("%016X", key),
		PPPoESessionID: uint16(key),
		SubscriberMAC:  subMAC,
		BRASMAC:        brasMAC,
		User:           "alice",
		FramedIP:       netip.MustParseAddr("100.64.0.7"),
		Started:        t0,
		Auth: gateway.Authorization{
			Tariff:          "T1;id=home;v=1;cur=CNY;sc=4;fee=100",
			InterimInterval: time.Minute,
			Class:           []byte("plan-a"),
		},
	}
}

func testBill(key uint64, u gateway.Usage) *bill.Bill {
	b := &bill.Bill{
		GatewayID:      "gw-test",
		SessionID:      fmt.Sprintf("%016X", key),
		UserName:       "alice",
		SubscriberMAC:  subMAC,
		BRASMAC:        brasMAC,
		PPPoESessionID: uint16(key),
		InputOctets:    u.InOctets,
		OutputOctets:   u.OutOctets,
		InputPackets:   u.InPackets,
		OutputPackets:  u.OutPackets,
		TerminateCause: 1,
		TariffID:       "home",
		TariffVersion:  1,
		Charge:         100,
		Currency:       "CNY",
		Scale:          4,
	}
	b.ID[0] = 1
	b.ID[8] = byte(key)
	b.ID[9] = byte(key >> 8)
	b.ID[10] = byte(key >> 16)
	b.SetTimes(t0, 90*time.Second)
	return b
}

func TestOpenKeepsKeyAndCounters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	j, err := Open(path, Options{KeyBlock: 4})
	if err != nil {
		t.Fatal(err)
	}
	pub := j.PublicKey()
	var keys []uint64
	for range 6 {
		k, err := j.NextKey()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if diff := cmp.Diff([]uint64{1, 2, 3, 4, 5, 6}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	j.Close()

	j, err = Open(path, Options{KeyBlock: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if !bytes.Equal(pub, j.PublicKey()) {
		t.Errorf("public key changed across reopen")
	}
	k, err := j.NextKey()
	if err != nil {
		t.Fatal(err)
	}
	// Two blocks of 4 were reserved; the rest of the second is skipped.
	if k != 9 {
		t.Errorf("first key after reopen = %d, want 9", k)
	}
}

func TestOpenLocked(t *testing.T) {
	_, path := openTemp(t, Options{})
	_, err := Open(path, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	j, _ := openTemp(t, Options{})
	want := Checkpoint{
		Session: testSession(7),
		At:      t0.Add(time.Minute),
		Elapsed: 61500 * time.Millisecond,
		Usage:   gateway.Usage{InOctets: 1 << 40, OutOctets: 12, InPackets: 3, OutPackets: 4},
		Charge:  4711,
	}
	if err := j.Update(func(tx *Tx) error { return tx.PutCheckpoint(&want) }); err != nil {
		t.Fatal(err)
	}
	var got []Checkpoint
	if err := j.View(func(tx *Tx) (err error) { got, err = tx.Checkpoints(); return err }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Checkpoint{want}, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("checkpoints (-want +got):\n%s", diff)
	}
	if err := j.Update(func(tx *Tx) error { return tx.DeleteCheckpoint(7) }); err != nil {
		t.Fatal(err)
	}
	j.View(func(tx *Tx) error {
		if n := tx.CheckpointCount(); n != 0 {
			t.Errorf("after delete: %d checkpoints", n)
		}
		return nil
	})
}

func TestAppendAckHistory(t *testing.T) {
	j, _ := openTemp(t, Options{HistoryLimit: 3})
	var made []bill.Bill
	for i := range 5 {
		b := testBill(uint64(i+1), gateway.Usage{InOctets: uint64(i)})
		err := j.Update(func(tx *Tx) error { return tx.AppendBill(b, []byte("c"), t0) })
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, *b)
	}
	// The chain: sequences 1..5, each naming the previous bill's hash.
	var links []bill.Link
	for i, b := range made {
		if b.Sequence != uint64(i+1) {
			t.Errorf("bill %d has sequence %d", i, b.Sequence)
		}
		if err := b.Verify(j.PublicKey()); err != nil {
			t.Errorf("bill %d: %v", i, err)
		}
		links = append(links, b.Link())
	}
	if f := bill.CheckSorted(links); len(f) != 0 {
		t.Errorf("chain findings: %v", f)
	}
	pend, err := j.Pending(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pend) != 5 || pend[0].Bill.Sequence != 1 || string(pend[0].Class) != "c" {
		t.Fatalf("pending = %d records, first %+v", len(pend), pend[0])
	}
	for seq := uint64(1); seq <= 4; seq++ {
		if err := j.Ack(seq, t0.Add(time.Duration(seq)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Ack(2, t0); !errors.Is(err, ErrNotPending) {
		t.Errorf("second Ack of 2: %v, want ErrNotPending", err)
	}
	var hist []Record
	j.View(func(tx *Tx) (err error) { hist, err = tx.History(0); return err })
	var seqs []uint64
	for _, r := range hist {
		seqs = append(seqs, r.Bill.Sequence)
		if r.Pending() {
			t.Errorf("history bill %d is not acked", r.Bill.Sequence)
		}
	}
	if diff := cmp.Diff([]uint64{4, 3, 2}, seqs); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	st, err := j.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 1 || st.Sequence != 5 || st.History != 3 {
		t.Errorf("stats = %+v", st)
	}
	var head [bill.HashSize]byte
	j.View(func(tx *Tx) error { _, head = tx.Head(); return nil })
	if head != made[4].Hash() {
		t.Errorf("head is not the last bill's hash")
	}
}

func TestAppendInvalidBillStoresNothing(t *testing.T) {
	j, _ := openTemp(t, Options{})
	b := testBill(1, gateway.Usage{})
	b.Currency = "cny"
	err := j.Update(func(tx *Tx) error {
		if err := tx.DeleteCheckpoint(1); err != nil {
			return err
		}
		return tx.AppendBill(b, nil, t0)
	})
	if !errors.Is(err, bill.ErrInvalid) {
		t.Fatalf("AppendBill: %v, want bill.ErrInvalid", err)
	}
	st, _ := j.Stats()
	if st.Pending != 0 || st.Sequence != 0 {
		t.Errorf("after a failed append: %+v", st)
	}
}

// The crash test. The test binary runs itself as a child (crashChildEnv
// names the journal) that opens, closes and acknowledges sessions in a
// tight loop, every step one transaction that touches checkpoints,
// bills and the chain head together; the parent kills it with SIGKILL at
// a random moment, reopens the journal and checks that it is whole.
const crashChildEnv = "EDGEBILL_JOURNAL_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func crashChild(path string) {
	j, err := Open(path, Options{HistoryLimit: 1 << 30, KeyBlock: 3})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	var open []uint64
	cps, err := func() (c []Checkpoint, err error) {
		err = j.View(func(tx *Tx) error { c, err = tx.Checkpoints(); return err })
		return c, err
	}()
	if err != nil {
		fmt.Println("checkpoints:", err)
		os.Exit(2)
	}
	for _, c := range cps {
		open = append(open, c.Session.Key)
	}
	announced := false
	for i := 0; ; i++ {
		key, err := j.NextKey()
		if err != nil {
			fmt.Println("key:", err)
			os.Exit(2)
		}
		var closed uint64
		err = j.Update(func(tx *Tx) error {
			c := Checkpoint{Session: testSession(key), At: t0, Elapsed: time.Second,
				Usage: gateway.Usage{InOctets: key}}
			if err := tx.PutCheckpoint(&c); err != nil {
				return err
			}
			// Rewrite the other checkpoints too, as a tick does.
			for _, k := range open {
				c := Checkpoint{Session: testSession(k), At: t0, Elapsed: time.Duration(i) * time.Millisecond,
					Usage: gateway.Usage{InOctets: k, OutOctets: uint64(i)}}
				if err := tx.PutCheckpoint(&c); err != nil {
					return err
				}
			}
			if len(open) >= 3 {
				closed = open[0]
				if err := tx.DeleteCheckpoint(closed); err != nil {
					return err
				}
				if err := tx.AppendBill(testBill(closed, gateway.Usage{InOctets: closed}), nil, t0); err != nil {
					return err
				}
			}
			if i%2 == 0 {
				pend, err := tx.Pending(1)
				if err != nil {
					return err
				}
				if len(pend) == 1 {
					return tx.Ack(pend[0].Bill.Sequence, t0)
				}
			}
			return nil
		})
		if err != nil {
			fmt.Println("update:", err)
			os.Exit(2)
		}
		if closed != 0 {
			open = open[1:]
		}
		open = append(open, key)
		if !announced && i >= 5 {
			fmt.Println("ready")
			announced = true
		}
	}
}

func TestCrashSIGKILL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.db")
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var lastSeq uint64
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan string, 1)
		go func() {
			s := bufio.NewScanner(out)
			for s.Scan() {
				ready <- s.Text()
			}
			close(ready)
		}()
		select {
		case line := <-ready:
			if line != "ready" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("round %d: child said %q", round, line)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: child not ready", round)
		}
		time.Sleep(time.Duration(20+rng.IntN(200)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		werr := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended without SIGKILL: %v", round, werr)
		}
		seq := checkJournal(t, path)
		if seq <= lastSeq {
			t.Errorf("round %d: sequence did not advance (%d, was %d)", round, seq, lastSeq)
		}
		t.Logf("round %d: killed at bill %d", round, seq)
		lastSeq = seq
	}
}

// checkJournal reopens the journal and checks what a crash must not
// break: the file's own consistency, the chain from bill 1 to the head,
// every signature, and every session key either open or billed, once.
func checkJournal(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bbolt reopen: %v", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatalf("bbolt check: %v", err)
	}

	j, err := Open(path, Options{HistoryLimit: 1 << 30})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer j.Close()
	var (
		cps        []Checkpoint
		pend, hist []Record
		head       [bill.HashSize]byte
		seq        uint64
	)
	err = j.View(func(tx *Tx) (err error) {
		seq, head = tx.Head()
		if cps, err = tx.Checkpoints(); err != nil {
			return err
		}
		if pend, err = tx.Pending(0); err != nil {
			return err
		}
		hist, err = tx.History(0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	bills := map[uint64]*bill.Bill{}
	for _, r := range append(hist, pend...) {
		b := r.Bill
		if _, dup := bills[b.Sequence]; dup {
			t.Errorf("bill %d both pending and acknowledged", b.Sequence)
		}
		bills[b.Sequence] = &b
	}
	if uint64(len(bills)) != seq {
		t.Errorf("%d bills kept, head sequence %d", len(bills), seq)
	}
	var links []bill.Link
	billed := map[string]uint64{}
	for s := uint64(1); s <= seq; s++ {
		b, ok := bills[s]
		if !ok {
			t.Errorf("bill %d missing", s)
			continue
		}
		if err := b.Verify(j.PublicKey()); err != nil {
			t.Errorf("bill %d: %v", s, err)
		}
		links = append(links, b.Link())
		if prev, dup := billed[b.SessionID]; dup {
			t.Errorf("session %s billed twice: bills %d and %d", b.SessionID, prev, s)
		}
		billed[b.SessionID] = s
	}
	if f := bill.CheckSorted(links); len(f) != 0 {
		t.Errorf("chain: %v", f)
	}
	if seq > 0 && bills[seq] != nil && bills[seq].Hash() != head {
		t.Errorf("head hash is not bill %d's", seq)
	}
	for _, c := range cps {
		if s, ok := billed[fmt.Sprintf("%016X", c.Session.Key)]; ok {
			t.Errorf("session %d both open and billed (bill %d)", c.Session.Key, s)
		}
	}
	return seq
}

func TestRecent(t *testing.T) {
	j, _ := openTemp(t, Options{})
	for i := range 6 {
		b := testBill(uint64(i+1), gateway.Usage{})
		if err := j.Update(func(tx *Tx) error { return tx.AppendBill(b, nil, t0) }); err != nil {
			t.Fatal(err)
		}
	}
	for seq := uint64(1); seq <= 3; seq++ {
		if err := j.Ack(seq, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		limit int
		want  []uint64
	}{{0, []uint64{6, 5, 4, 3, 2, 1}}, {2, []uint64{6, 5}}, {4, []uint64{6, 5, 4, 3}}} {
		var recs []Record
		j.View(func(tx *Tx) (err error) { recs, err = tx.Recent(c.limit); return err })
		var got []uint64
		for _, r := range recs {
			got = append(got, r.Bill.Sequence)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("Recent(%d) (-want +got):\n%s", c.limit, diff)
		}
	}
}

// A tick's checkpoint of 16 open sessions: one transaction, two fsyncs.
func BenchmarkCheckpointTx16(b *testing.B) {
	path := filepath.Join(b.TempDir(), "j.db")
	j, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	cps := make([]Checkpoint, 16)
	for i := range cps {
		cps[i] = Checkpoint{Session: testSession(uint64(i + 1)), At: t0, Elapsed: time.Minute}
	}
	b.ReportAllocs()
	for b.Loop() {
		err := j.Update(func(tx *Tx) error {
			for i := range cps {
				cps[i].Usage.InOctets++
				if err := tx.PutCheckpoint(&cps[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// A session end: checkpoint deleted, bill signed, chained and stored,
// head advanced, in one transaction.
func BenchmarkCloseAndBillTx(b *testing.B) {
	j, err := Open(filepath.Join(b.TempDir(), "j.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		i++
		bl := testBill(i, gateway.Usage{InOctets: i})
		err := j.Update(func(tx *Tx) error {
			if err := tx.DeleteCheckpoint(i); err != nil {
				return err
			}
			return tx.AppendBill(bl, nil, t0)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzRecord(f *testing.F) {
	r := Record{Bill: *testBill(3, gateway.Usage{InOctets: 5}), Class: []byte("c"), Made: t0, Acked: t0.Add(time.Second)}
	r.Bill.Sequence = 1
	r.Bill.Signature[0] = 1
	good, err := r.marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:recordHeader])
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Record
		if a.unmarshal(data) != nil {
			return
		}
		enc, err := a.marshal()
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		var b Record
		if err := b.unmarshal(enc); err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if a.Bill.Hash() != b.Bill.Hash() || !bytes.Equal(a.Class, b.Class) || !a.Made.Equal(b.Made) || !a.Acked.Equal(b.Acked) {
			t.Fatalf("round trip changed the record")
		}
	})
}
