package ingest_test

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zaptest"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
	"github.com/edgebill/edgebill/rfc/tariff"
	"github.com/edgebill/edgebill/server/ingest"
	"github.com/edgebill/edgebill/server/internal/billtest"
	"github.com/edgebill/edgebill/server/store"
)

type env struct {
	st  *store.Store
	pg  *lab.Postgres
	srv *ingest.Server
	reg *prometheus.Registry
	gw  *billtest.Gateway
}

// start runs a listener on a fresh database; setup, if given, runs on
// the migrated database before the listener starts.
func start(t *testing.T, cfg ingest.Config, setup ...func(*store.Store, *lab.Postgres)) *env {
	t.Helper()
	pg := lab.StartPostgres(t, &lab.PostgresOptions{NoFsync: true})
	ctx := context.Background()
	// billd's database holds FreeRADIUS's schema too (radacct, and
	// radgroupreply where tariffs come from).
	st := billtest.Store(t, pg, 1)
	gw := billtest.NewGateway("gw-1")
	if err := st.AddGateway(ctx, store.Gateway{ID: gw.ID, PublicKey: gw.Pub, Secret: gw.Secret}, false); err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(st, pg)
	}
	reg := prometheus.NewRegistry()
	cfg.Addr = "127.0.0.1:0"
	cfg.Registerer = reg
	cfg.Instance = "test"
	srv, err := ingest.New(cfg, st, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Run(rctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &env{st: st, pg: pg, srv: srv, reg: reg, gw: gw}
}

// exchange sends req from a fresh socket and returns the answer, nil if
// none came within wait.
func (e *env) exchange(t *testing.T, req []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.DialUDP("udp", nil, e.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return exchangeOn(t, c, req, wait)
}

func exchangeOn(t *testing.T, c *net.UDPConn, req []byte, wait time.Duration) []byte {
	t.Helper()
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(wait))
	n, err := c.Read(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		t.Fatal(err)
	}
	return buf[:n]
}

func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.st.Pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func session(user string, start time.Time) billtest.Session {
	return billtest.Session{User: user, Start: start, Seconds: 125, In: 1 << 33, Out: 123456, PPPoE: 0x1234, Charge: 500}
}

func TestIngestStoresOnceAndAcksEachTime(t *testing.T) {
	t.Parallel()
	e := start(t, ingest.Config{})
	now := time.Now().UTC().Truncate(time.Second)
	b := e.gw.Bill(session("alice", now.Add(-time.Hour)))
	req := billtest.Packet(b, e.gw.Secret, 7, 0)

	c, err := net.DialUDP("udp", nil, e.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp := exchangeOn(t, c, req, 5*time.Second)
	if resp == nil {
		t.Fatal("no Accounting-Response")
	}
	if err := radiusx.VerifyResponse(resp, req, []byte(e.gw.Secret)); err != nil {
		t.Fatalf("response: %v", err)
	}
	if radius.Code(resp[0]) != radius.CodeAccountingResponse {
		t.Fatalf("code %d", resp[0])
	}
	// The same packet again (an RFC 5080 retransmission): the cached answer.
	again := exchangeOn(t, c, req, 5*time.Second)
	if string(again) != string(resp) {
		t.Fatalf("retransmission answered %x, want the cached %x", again, resp)
	}
	// A retransmission with a new Acct-Delay-Time and Identifier, from
	// another port, and a replay much later: acknowledged, not stored again.
	for i, r := range [][]byte{billtest.Packet(b, e.gw.Secret, 8, 3), billtest.Packet(b, e.gw.Secret, 200, 3600)} {
		resp := e.exchange(t, r, 5*time.Second)
		if resp == nil || radiusx.VerifyResponse(resp, r, []byte(e.gw.Secret)) != nil {
			t.Fatalf("repeat %d: answer %x", i, resp)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM billd.bills`); n != 1 {
		t.Fatalf("%d bills stored, want 1", n)
	}
	var status, user string
	var in, charge int64
	var pppoe int32
	err = e.st.Pool.QueryRow(context.Background(), `SELECT status, username, input_octets, charge, pppoe_session_id FROM billd.bills`).Scan(&status, &user, &in, &charge, &pppoe)
	if err != nil || status != "verified" || user != "alice" || in != 1<<33 || charge != 500 || pppoe != 0x1234 {
		t.Fatalf("stored %s %s %d %d %d (%v)", status, user, in, charge, pppoe, err)
	}
	m := e.srv.Metrics()
	if got := testutil.ToFloat64(m.Acked); got != 4 {
		t.Errorf("acked = %v, want 4", got)
	}
	if got := testutil.ToFloat64(m.Stored); got != 1 {
		t.Errorf("stored = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.Duplicates.WithLabelValues("cache")); got != 1 {
		t.Errorf("cache duplicates = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.Duplicates.WithLabelValues("store")); got != 2 {
		t.Errorf("store duplicates = %v, want 2", got)
	}
}

// badMessageAuthenticator returns req with its Message-Authenticator
// changed and its Request Authenticator made right again, as only a
// sender who knows the secret could: only the Message-Authenticator check
// can refuse it.
func badMessageAuthenticator(req []byte, secret string) []byte {
	b := append([]byte(nil), req...)
	for a := b[20:]; len(a) >= 2; a = a[a[1]:] {
		if a[0] == 80 {
			a[2] ^= 0xff
		}
	}
	clear(b[4:20])
	h := md5.New()
	h.Write(b)
	h.Write([]byte(secret))
	copy(b[4:20], h.Sum(nil))
	return b
}

func TestIngestDropsBadAuthentication(t *testing.T) {
	t.Parallel()
	e := start(t, ingest.Config{})
	b := e.gw.Bill(session("alice", time.Now().Add(-time.Hour)))
	m := e.srv.Metrics()

	wrong := billtest.Packet(b, "not-the-secret", 1, 0)
	if resp := e.exchange(t, wrong, 700*time.Millisecond); resp != nil {
		t.Fatal("answered a request signed with the wrong secret")
	}
	badMA := badMessageAuthenticator(billtest.Packet(b, e.gw.Secret, 2, 0), e.gw.Secret)
	if err := radiusx.VerifyRequest(badMA, []byte(e.gw.Secret)); !errors.Is(err, radiusx.ErrBadMessageAuthenticator) {
		t.Fatalf("test packet: %v", err)
	}
	if resp := e.exchange(t, badMA, 700*time.Millisecond); resp != nil {
		t.Fatal("answered a request with a bad Message-Authenticator")
	}
	// No Message-Authenticator at all (layeh encodes without one).
	p := radius.New(radius.CodeAccountingRequest, []byte(e.gw.Secret))
	rfc2865.NASIdentifier_SetString(p, e.gw.ID)
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Start)
	noMA, _ := p.Encode()
	if resp := e.exchange(t, noMA, 700*time.Millisecond); resp != nil {
		t.Fatal("answered a request without Message-Authenticator")
	}
	// Unknown gateway from a network with no client secret.
	g2 := billtest.NewGateway("gw-stranger")
	if resp := e.exchange(t, billtest.Packet(g2.Bill(session("bob", time.Now())), g2.Secret, 3, 0), 700*time.Millisecond); resp != nil {
		t.Fatal("answered an unknown client")
	}
	// Garbage.
	if resp := e.exchange(t, []byte{4, 1, 0, 200, 1, 2, 3}, 300*time.Millisecond); resp != nil {
		t.Fatal("answered garbage")
	}
	for reason, want := range map[string]float64{
		ingest.DropBadMessageAuth: 2, // wrong secret fails the Message-Authenticator first
		ingest.DropNoMessageAuth:  1,
		ingest.DropUnknownClient:  1,
		ingest.DropMalformed:      1,
	} {
		if got := testutil.ToFloat64(m.Dropped.WithLabelValues(reason)); got != want {
			t.Errorf("dropped %s = %v, want %v", reason, got, want)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM billd.bills`); n != 0 {
		t.Fatalf("%d bills stored", n)
	}
}

func TestIngestFlagsButStores(t *testing.T) {
	t.Parallel()
	e := start(t, ingest.Config{Clients: []ingest.Client{{Net: netip.MustParsePrefix("127.0.0.0/8"), Secret: "lab-clients"}}})
	ctx := context.Background()
	now := time.Now().Add(-time.Hour)

	// Signed with another key than the registered one.
	forged := e.gw.Unsigned(session("alice", now))
	other := billtest.NewGateway("gw-impostor")
	if err := forged.Sign(other.Priv); err != nil {
		t.Fatal(err)
	}
	// From a gateway nobody registered, through the client network.
	stranger := billtest.NewGateway("gw-stranger")
	sb := stranger.Bill(session("bob", now))
	// From a disabled gateway.
	dis := billtest.NewGateway("gw-disabled")
	if err := e.st.AddGateway(ctx, store.Gateway{ID: dis.ID, PublicKey: dis.Pub, Secret: dis.Secret, Status: store.GatewayDisabled}, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	db := dis.Bill(session("carol", now))

	for _, tc := range []struct {
		req    []byte
		secret string
	}{
		{billtest.Packet(forged, e.gw.Secret, 1, 0), e.gw.Secret},
		{billtest.Packet(sb, "lab-clients", 2, 0), "lab-clients"},
		{billtest.Packet(db, dis.Secret, 3, 0), dis.Secret},
	} {
		var resp []byte
		// The disabled gateway may need a registry reload first.
		for try := 0; try < 20 && resp == nil; try++ {
			resp = e.exchange(t, tc.req, 500*time.Millisecond)
		}
		if resp == nil || radiusx.VerifyResponse(resp, tc.req, []byte(tc.secret)) != nil {
			t.Fatalf("no valid answer: %x", resp)
		}
	}
	got := map[string]string{}
	rows, err := e.st.Pool.Query(ctx, `SELECT gateway_id, status FROM billd.bills`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var g, s string
		rows.Scan(&g, &s)
		got[g] = s
	}
	want := map[string]string{"gw-1": "bad_signature", "gw-stranger": "unknown_gateway", "gw-disabled": "gateway_disabled"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: status %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func TestIngestProgressAndRejects(t *testing.T) {
	t.Parallel()
	e := start(t, ingest.Config{})
	ctx := context.Background()

	interim := func(secs uint32, charge int64, id uint8) []byte {
		p := radius.New(radius.CodeAccountingRequest, []byte(e.gw.Secret))
		p.Identifier = id
		rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_InterimUpdate)
		rfc2865.NASIdentifier_SetString(p, e.gw.ID)
		rfc2865.UserName_SetString(p, "alice")
		rfc2866.AcctSessionID_SetString(p, "s-open")
		rfc2866.AcctSessionTime_Set(p, rfc2866.AcctSessionTime(secs))
		radiusx.SetOctets64(p, 5<<32, 77)
		ebattr.EdgeBillRunningCharge_Set(p, ebattr.EdgeBillRunningCharge(charge))
		ebattr.EdgeBillStartTime_Set(p, time.Unix(1700000000, 0))
		raw, err := radiusx.Encode(p)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for i, r := range [][]byte{interim(60, 100, 1), interim(120, 250, 2)} {
		if resp := e.exchange(t, r, 5*time.Second); resp == nil {
			t.Fatalf("interim %d unanswered", i)
		}
	}
	var secs, in, charge int64
	var startT time.Time
	if err := e.st.Pool.QueryRow(ctx, `SELECT session_seconds, input_octets, running_charge, start_time FROM billd.progress WHERE session_id = 's-open'`).Scan(&secs, &in, &charge, &startT); err != nil {
		t.Fatal(err)
	}
	if secs != 120 || in != 5<<32 || charge != 250 || startT.Unix() != 1700000000 {
		t.Fatalf("progress %d %d %d %v", secs, in, charge, startT)
	}

	// A Stop without the bill: stored in billd.rejected, and answered.
	p := radius.New(radius.CodeAccountingRequest, []byte(e.gw.Secret))
	rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType_Value_Stop)
	rfc2865.NASIdentifier_SetString(p, e.gw.ID)
	rfc2865.UserName_SetString(p, "alice")
	raw, _ := radiusx.Encode(p)
	if resp := e.exchange(t, raw, 5*time.Second); resp == nil {
		t.Fatal("billless Stop unanswered")
	}
	if n := e.count(t, `SELECT count(*) FROM billd.rejected WHERE gateway_id = 'gw-1' AND reason LIKE 'bill:%'`); n != 1 {
		t.Fatalf("%d rejected rows", n)
	}
	// The bill for the open session removes its progress.
	b := e.gw.Bill(billtest.Session{User: "alice", SessionID: "s-open", Start: time.Unix(1700000000, 0), Seconds: 130, Charge: 260})
	if resp := e.exchange(t, billtest.Packet(b, e.gw.Secret, 9, 0), 5*time.Second); resp == nil {
		t.Fatal("bill unanswered")
	}
	if n := e.count(t, `SELECT count(*) FROM billd.progress`); n != 0 {
		t.Fatalf("%d progress rows after the bill", n)
	}
	// An interim that arrives after the bill (a late retransmission, or
	// one already on its way) is answered and does not bring the session
	// back to life.
	if resp := e.exchange(t, interim(125, 255, 3), 5*time.Second); resp == nil {
		t.Fatal("late interim unanswered")
	}
	if n := e.count(t, `SELECT count(*) FROM billd.progress`); n != 0 {
		t.Fatalf("a late interim made %d progress rows after the bill", n)
	}
}

// Two billd instances on one database, each sent the same bill (a
// gateway failing over, or a load balancer resending): both acknowledge,
// the bill is stored once.
func TestTwoInstancesStoreOnce(t *testing.T) {
	t.Parallel()
	e := start(t, ingest.Config{})
	other, err := ingest.New(ingest.Config{Addr: "127.0.0.1:0", Instance: "second"}, e.st, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- other.Run(ctx) }()
	defer func() { cancel(); <-done }()

	for i := range 50 {
		b := e.gw.Bill(session(fmt.Sprintf("u%d", i), time.Now().Add(-time.Hour)))
		var wg sync.WaitGroup
		for j, srv := range []*ingest.Server{e.srv, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := billtest.Packet(b, e.gw.Secret, uint8(j), uint32(j))
				c, err := net.DialUDP("udp", nil, srv.Addr())
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				if resp := exchangeOn(t, c, req, 5*time.Second); resp == nil || radiusx.VerifyResponse(resp, req, []byte(e.gw.Secret)) != nil {
					t.Errorf("bill %d: no valid answer from %v", i, srv.Addr())
				}
			}()
		}
		wg.Wait()
	}
	if n := e.count(t, `SELECT count(*) FROM billd.bills`); n != 50 {
		t.Fatalf("%d bills stored, want 50", n)
	}
}

// TestIngestPricesBills: each bill is priced at ingest with billd's own
// copy of its tariff (self_charge); a bill naming a tariff billd does not
// know gets NULL and makes ingest copy the tariffs from the RADIUS tables
// again, so a later bill naming it once the ISP has configured it is
// priced.
func TestIngestPricesBills(t *testing.T) {
	t.Parallel()
	const (
		planA = "T1;id=plan-a;v=1;cur=CNY;sc=4;fee=100;time=600/1m;both=50/MB"
		planB = "T1;id=plan-b;v=2;cur=CNY;sc=4;fee=7000;time=30/1s;in=1024@0,20/MB/up"
	)
	ctx := context.Background()
	e := start(t, ingest.Config{}, func(st *store.Store, pg *lab.Postgres) {
		if _, _, err := st.AddTariff(ctx, planA, "test"); err != nil {
			t.Fatal(err)
		}
	})
	want := func(text string, s billtest.Session) int64 {
		tf, err := tariff.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		start := s.Start.UTC().Truncate(time.Second)
		c, err := tf.Total(tariff.Usage{Start: start, Stop: start.Add(time.Duration(s.Seconds) * time.Second), In: s.In, Out: s.Out})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// send sends a bill for s and returns its stored self_charge.
	send := func(s billtest.Session) *int64 {
		t.Helper()
		b := e.gw.Bill(s)
		req := billtest.Packet(b, e.gw.Secret, uint8(b.Sequence), 0)
		if resp := e.exchange(t, req, 5*time.Second); resp == nil {
			t.Fatalf("bill %d unanswered", b.Sequence)
		}
		var self *int64
		if err := e.st.Pool.QueryRow(ctx, `SELECT self_charge FROM billd.bills WHERE gateway_id = $1 AND bill_id = $2`,
			b.GatewayID, b.ID[:]).Scan(&self); err != nil {
			t.Fatal(err)
		}
		return self
	}
	now := time.Now().UTC().Truncate(time.Second)

	a := billtest.Session{User: "alice", Start: now.Add(-time.Hour), Seconds: 125, In: 1 << 33, Out: 123456, TariffID: "plan-a", TariffVer: 1, Charge: 1}
	if got, w := send(a), want(planA, a); got == nil || *got != w {
		t.Fatalf("plan-a bill: self_charge %v, want %d", got, w)
	}
	b := billtest.Session{User: "bob", Start: now.Add(-time.Hour), Seconds: 3700, In: 5 << 20, Out: 1, TariffID: "plan-b", TariffVer: 2, Charge: 1}
	if got := send(b); got != nil {
		t.Fatalf("bill naming a tariff billd does not know: self_charge %d, want NULL", *got)
	}
	// The ISP configures plan-b in FreeRADIUS; nothing else copies it
	// into billd.tariffs here (no reconciliation runs): ingest does, when
	// the next bill names it (at most once a second).
	if err := e.pg.Exec(ctx, `INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('plan-b', 'EdgeBill-Tariff', ':=', '`+planB+`')`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		b.User = fmt.Sprintf("bob%d", i)
		got := send(b)
		if got != nil {
			if w := want(planB, b); *got != w {
				t.Fatalf("plan-b bill after the tariff appeared: self_charge %d, want %d", *got, w)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d plan-b bills sent over 15s after the tariff appeared in radgroupreply, none priced", i+1)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := e.count(t, `SELECT count(*) FROM billd.tariffs WHERE id = 'plan-b' AND version = 2`); n != 1 {
		t.Fatalf("plan-b not copied into billd.tariffs (%d rows)", n)
	}
	if got := testutil.ToFloat64(e.srv.Metrics().TariffsLoaded); got != 2 {
		t.Errorf("tariffs loaded = %v, want 2", got)
	}
}

// TestIngestConcurrentRetransmissions: requests for the same bills from
// several sockets at once, with new Identifiers and Acct-Delay-Times (so
// new Authenticators), while earlier ones are being batched and
// committed: every request is answered, every bill stored once, and its
// signature checked (run with -race).
func TestIngestConcurrentRetransmissions(t *testing.T) {
	t.Parallel()
	e := start(t, ingest.Config{})
	const bills, copies = 300, 3
	now := time.Now().UTC().Truncate(time.Second)
	var reqs [copies][][]byte
	for i := range bills {
		b := e.gw.Bill(session(fmt.Sprintf("u%d", i), now.Add(-time.Hour)))
		for c := range copies {
			reqs[c] = append(reqs[c], billtest.Packet(b, e.gw.Secret, uint8(i), uint32(c)))
		}
	}
	var wg sync.WaitGroup
	for c := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialUDP("udp", nil, e.srv.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			for i, req := range reqs[c] {
				var resp []byte
				for try := 0; try < 5 && resp == nil; try++ {
					resp = exchangeOn(t, conn, req, time.Second)
				}
				if resp == nil || radiusx.VerifyResponse(resp, req, []byte(e.gw.Secret)) != nil {
					t.Errorf("copy %d of bill %d: no valid answer", c, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := e.count(t, `SELECT count(*) FROM billd.bills WHERE status = 'verified'`); n != bills {
		t.Fatalf("%d verified bills stored, want %d", n, bills)
	}
}
