package store_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/server/internal/billtest"
	"github.com/edgebill/edgebill/server/store"
)

// open gives the test a migrated store on a fresh Postgres with
// FreeRADIUS's stock schema loaded.
func open(t *testing.T) (*store.Store, *lab.Postgres) {
	t.Helper()
	pg := lab.StartPostgres(t, &lab.PostgresOptions{NoFsync: true})
	return billtest.Store(t, pg, 2), pg
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := context.Background()
	applied, err := s.Migrate(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Fatalf("second Migrate applied %v", applied)
	}
	ms, _ := store.Migrations()
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != ms[len(ms)-1].Version {
		t.Fatalf("SchemaVersion = %d, %v; want %d", v, err, ms[len(ms)-1].Version)
	}
	var n int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'radacct' AND indexname LIKE 'billd_%'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("billd indexes on radacct: %d, %v", n, err)
	}
	// This month's partitions exist.
	for _, tbl := range []string{"bills", "verdicts"} {
		var ok bool
		name := "billd." + store.PartitionName(tbl, time.Now())
		if err := s.Pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil || !ok {
			t.Fatalf("%s missing (%v)", name, err)
		}
	}
}

func TestPartitionMovesDefaultRows(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := context.Background()
	g := billtest.NewGateway("gw-old")
	// A bill from 2019: no monthly partition, so it lands in the default.
	b := g.Bill(billtest.Session{User: "alice", Start: time.Date(2019, 5, 3, 10, 0, 0, 0, time.UTC), Seconds: 60})
	enc, _ := b.MarshalBinary()
	if _, err := s.Commit(ctx, &store.Batch{Bills: []store.BillRow{{Bill: b, Hash: b.Hash(), Encoded: enc, Status: store.StatusVerified, ReceivedAt: time.Now()}}}, "t"); err != nil {
		t.Fatal(err)
	}
	var part string
	if err := s.Pool.QueryRow(ctx, `SELECT tableoid::regclass::text FROM billd.bills`).Scan(&part); err != nil || part != "billd.bills_default" {
		t.Fatalf("bill in %q (%v), want the default partition", part, err)
	}
	if err := s.EnsurePartitions(ctx, b.Stop, b.Stop); err != nil {
		t.Fatal(err)
	}
	if err := s.Pool.QueryRow(ctx, `SELECT tableoid::regclass::text FROM billd.bills`).Scan(&part); err != nil || part != "billd.bills_p2019_05" {
		t.Fatalf("bill in %q (%v), want billd.bills_p2019_05", part, err)
	}
}

func TestGateways(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := context.Background()
	g := billtest.NewGateway("gw-1")
	sg := store.Gateway{ID: g.ID, PublicKey: g.Pub, Secret: g.Secret, Owner: "acme", Source: netip.MustParsePrefix("127.0.0.0/8")}
	if err := s.AddGateway(ctx, sg, false); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGateway(ctx, sg, false); !errors.Is(err, store.ErrGatewayExists) {
		t.Fatalf("second add: %v, want ErrGatewayExists", err)
	}
	sg.Owner = "acme2"
	if err := s.AddGateway(ctx, sg, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGatewayStatus(ctx, g.ID, store.GatewayDisabled); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGatewayStatus(ctx, "nope", store.GatewayDisabled); !errors.Is(err, store.ErrNoGateway) {
		t.Fatalf("disable unknown: %v", err)
	}
	gs, err := s.Gateways(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Owner != "acme2" || gs[0].Status != "disabled" || !gs[0].PublicKey.Equal(g.Pub) || gs[0].Source.String() != "127.0.0.0/8" {
		t.Fatalf("Gateways = %+v", gs)
	}
	if err := s.AddGateway(ctx, store.Gateway{ID: "x", PublicKey: []byte{1}, Secret: "s"}, false); !errors.Is(err, store.ErrGatewayInvalid) {
		t.Fatalf("short key: %v", err)
	}
}

func TestCommitIdempotent(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := context.Background()
	g := billtest.NewGateway("gw-1")
	now := time.Now().UTC().Truncate(time.Second)
	var rows []store.BillRow
	for i := range 5 {
		b := g.Bill(billtest.Session{User: "alice", Start: now.Add(time.Duration(i) * time.Minute), Seconds: 30, In: 1000, Out: 2000, Charge: 10})
		enc, _ := b.MarshalBinary()
		rows = append(rows, store.BillRow{Bill: b, Hash: b.Hash(), Encoded: enc, Status: store.StatusVerified, Source: netip.MustParseAddr("127.0.0.1"), ReceivedAt: now})
	}
	charge := int64(7)
	batch := &store.Batch{
		Bills:    append([]store.BillRow(nil), rows[:3]...),
		Progress: []store.ProgressRow{{GatewayID: g.ID, SessionID: "open-1", UserName: "bob", Status: "interim", SessionSeconds: 60, In: 5, Out: 6, RunningCharge: &charge, UpdatedAt: now}},
		Rejects:  []store.RejectRow{{GatewayID: g.ID, Reason: "test", Packet: []byte{1, 2, 3}, ReceivedAt: now}},
	}
	// The same bill twice in one batch is stored once.
	batch.Bills = append(batch.Bills, rows[0])
	fresh, err := s.Commit(ctx, batch, "t")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(fresh); n != 3 {
		t.Fatalf("first commit: %d fresh (%v), want 3", n, fresh)
	}
	// Again with overlap: only the two new ones are fresh.
	fresh, err = s.Commit(ctx, &store.Batch{Bills: rows}, "t")
	if err != nil {
		t.Fatal(err)
	}
	if n := count(fresh); n != 2 {
		t.Fatalf("second commit: %d fresh (%v), want 2", n, fresh)
	}
	var n int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM billd.bills`).Scan(&n); err != nil || n != 5 {
		t.Fatalf("%d bills stored (%v), want 5", n, err)
	}
	var p int64
	if err := s.Pool.QueryRow(ctx, `SELECT running_charge FROM billd.progress WHERE session_id = 'open-1'`).Scan(&p); err != nil || p != 7 {
		t.Fatalf("progress = %d, %v", p, err)
	}
	// An older interim does not overwrite a newer one.
	charge2 := int64(3)
	if _, err := s.Commit(ctx, &store.Batch{Progress: []store.ProgressRow{{GatewayID: g.ID, SessionID: "open-1", UserName: "bob", Status: "interim", SessionSeconds: 30, RunningCharge: &charge2, UpdatedAt: now}}}, "t"); err != nil {
		t.Fatal(err)
	}
	if err := s.Pool.QueryRow(ctx, `SELECT running_charge FROM billd.progress WHERE session_id = 'open-1'`).Scan(&p); err != nil || p != 7 {
		t.Fatalf("progress after an older interim = %d, %v", p, err)
	}
}

func count(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

func TestReverifyAfterRegistration(t *testing.T) {
	t.Parallel()
	s, _ := open(t)
	ctx := context.Background()
	g := billtest.NewGateway("gw-late")
	now := time.Now().UTC().Truncate(time.Second)
	good := g.Bill(billtest.Session{User: "a", Start: now.Add(-time.Hour), Seconds: 10})
	forged := g.Unsigned(billtest.Session{User: "b", Start: now.Add(-time.Hour), Seconds: 10})
	forged.Sign(billtest.NewGateway("other").Priv)
	var rows []store.BillRow
	for _, b := range []*bill.Bill{good, forged} {
		enc, _ := b.MarshalBinary()
		rows = append(rows, store.BillRow{Bill: b, Hash: b.Hash(), Encoded: enc, Status: store.StatusUnknownGateway, ReceivedAt: now})
	}
	if _, err := s.Commit(ctx, &store.Batch{Bills: rows}, "t"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Reverify(ctx, now.Add(-2*time.Hour), now); err != nil || n != 0 {
		t.Fatalf("before registration: %d, %v", n, err)
	}
	if err := s.AddGateway(ctx, store.Gateway{ID: g.ID, PublicKey: g.Pub, Secret: g.Secret}, false); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Reverify(ctx, now.Add(-2*time.Hour), now); err != nil || n != 2 {
		t.Fatalf("after registration: %d, %v", n, err)
	}
	got := map[string]string{}
	r, _ := s.Pool.Query(ctx, `SELECT username, status FROM billd.bills`)
	for r.Next() {
		var u, st string
		r.Scan(&u, &st)
		got[u] = st
	}
	if got["a"] != "verified" || got["b"] != "bad_signature" {
		t.Fatalf("statuses %v", got)
	}
}
