package recon

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/server/internal/billtest"
)

// sqlReference is the matching as set-based SQL, the form it had before
// it moved into billd (match.go): each bill's best background session by
// DISTINCT ON, the chain marks by a window over the gateway's bills in
// chain order, and each contested session's winner by DISTINCT ON. The
// test holds the matcher to it.
const sqlReference = `WITH best AS (
	SELECT DISTINCT ON (b.gateway_id, b.sequence, b.received_at, b.bill_id, b.stop_time)
		b.gateway_id, b.bill_id, b.stop_time, b.sequence, b.hash, b.prev_hash, b.status, b.received_at, r.radacctid,
		COALESCE(r.nasportid = b.pppoe_session_id::text
			OR split_part(r.nasportid, ':', -1) = b.pppoe_session_id::text, false) AS port_eq,
		COALESCE(lower(translate(r.callingstationid, ':-.', '')) = replace(b.subscriber_mac::text, ':', ''), false) AS mac_eq,
		LEAST(b.stop_time, COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime)) - GREATEST(b.start_time, r.acctstarttime) AS overlap,
		abs(EXTRACT(EPOCH FROM r.acctstarttime - b.start_time)) AS start_gap
	FROM billd.bills b
	LEFT JOIN public.radacct r ON r.username = b.username
		AND COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime) BETWEEN b.stop_time - $3::interval AND b.stop_time + $3::interval
		AND COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime) >= b.start_time
		AND r.acctstarttime <= b.stop_time
		AND COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime) >= $1::timestamptz - 3 * $3::interval
		AND COALESCE(r.acctstoptime, r.acctupdatetime, r.acctstarttime) < $2::timestamptz + 3 * $3::interval
	WHERE b.stop_time >= $1::timestamptz - 2 * $3::interval AND b.stop_time < $2::timestamptz + 2 * $3::interval
	ORDER BY b.gateway_id, b.sequence, b.received_at, b.bill_id, b.stop_time,
		port_eq DESC, mac_eq DESC, overlap DESC, start_gap, r.radacctid
), marked AS (
	SELECT *, COALESCE(lag(sequence) OVER g = sequence, false) AS seq_dup,
		sequence > 1 AND (lag(sequence) OVER g IS DISTINCT FROM sequence - 1 OR lag(hash) OVER g IS DISTINCT FROM prev_hash) AS odd
	FROM best
	WINDOW g AS (PARTITION BY gateway_id ORDER BY sequence, received_at, bill_id, stop_time)
), win AS (
	SELECT DISTINCT ON (radacctid) radacctid, gateway_id, bill_id, stop_time
	FROM marked WHERE radacctid IS NOT NULL AND status = 'verified' AND NOT seq_dup
	ORDER BY radacctid, port_eq DESC, mac_eq DESC, overlap DESC, start_gap, received_at, gateway_id, bill_id, stop_time
)
SELECT m.gateway_id, m.bill_id, m.stop_time, COALESCE(m.radacctid, 0), m.seq_dup, m.odd,
	COALESCE(w.gateway_id = m.gateway_id AND w.bill_id = m.bill_id AND w.stop_time = m.stop_time, false)
FROM marked m LEFT JOIN win w ON w.radacctid = m.radacctid`

// TestMatcherAgreesWithSQL builds random bills and background sessions
// meant to tie and clash (a few users, overlapping sessions, PPPoE ids
// and MACs written every way a BRAS writes them, open and unstarted
// records, chains with gaps, repeats and forks) and checks that every
// bill gets the same best session, chain marks and claim from the
// matcher as from sqlReference.
func TestMatcherAgreesWithSQL(t *testing.T) {
	t.Parallel()
	pg := lab.StartPostgres(t, &lab.PostgresOptions{NoFsync: true})
	ctx := context.Background()
	st := billtest.Store(t, pg, 1)
	base := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	if err := st.EnsurePartitions(ctx, base.Add(-24*time.Hour), base.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	conn, err := st.Conn(ctx, map[string]string{"timezone": "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	const window = 15 * time.Minute
	for seed := range uint64(12) {
		if _, err := conn.Exec(ctx, `TRUNCATE billd.bills, public.radacct`); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(seed, 7))
		plantRandom(t, conn, r, base)
		from, to := base.Add(time.Hour), base.Add(5*time.Hour)
		if seed%3 == 0 {
			from, to = base, base.Add(8*time.Hour) // every row inside
		}

		want := map[string]string{}
		rows, err := conn.Query(ctx, sqlReference, from, to, window)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var gw string
			var id []byte
			var stop time.Time
			var rad int64
			var dup, odd, win bool
			if err := rows.Scan(&gw, &id, &stop, &rad, &dup, &odd, &win); err != nil {
				t.Fatal(err)
			}
			want[billKey(gw, id, stop.UnixMicro())] = fmt.Sprintf("best=%d dup=%v odd=%v win=%v", rad, dup, odd, win)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}

		w := window.Microseconds()
		// Half the seeds find best in two halves at once, as a large run does.
		m := &matcher{from: from.UnixMicro(), to: to.UnixMicro(), window: w, split: []int{0, 16}[seed%2]}
		if m.b, err = loadBills(ctx, conn, m.from-2*w, m.to+2*w); err != nil {
			t.Fatal(err)
		}
		if m.a, err = loadAccts(ctx, conn, m.from-3*w, m.to+3*w); err != nil {
			t.Fatal(err)
		}
		m.chain()
		m.match()
		got := map[string]string{}
		for i := range m.b.rows {
			b := &m.b.rows[i]
			var rad int64
			win := false
			if b.best >= 0 {
				a := &m.a.rows[b.best]
				rad = a.id
				win = a.win == int32(i)
			}
			got[billKey(m.b.gws.names[b.gw], m.b.blob.bytes(b.id), b.stop)] = fmt.Sprintf("best=%d dup=%v odd=%v win=%v", rad, b.seqDup, b.odd, win)
		}
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d bills read, the reference has %d", seed, len(got), len(want))
		}
		differ, matched := 0, 0
		for k, v := range want {
			if got[k] != v {
				differ++
				if differ <= 5 {
					t.Errorf("seed %d: bill %s: matcher %s, SQL %s", seed, k, got[k], v)
				}
			}
			if v[:7] != "best=0 " {
				matched++
			}
		}
		if differ > 0 {
			t.Fatalf("seed %d: %d of %d bills differ", seed, differ, len(want))
		}
		var port, mac, dup, odd, contested int
		for i := range m.b.rows {
			b := &m.b.rows[i]
			if b.best >= 0 && b.portEq {
				port++
			}
			if b.best >= 0 && b.macEq {
				mac++
			}
			if b.seqDup {
				dup++
			}
			if b.odd {
				odd++
			}
		}
		for i := range m.a.rows {
			if m.a.rows[i].claims > 1 {
				contested++
			}
		}
		t.Logf("seed %d: %d bills, %d with a best session (%d on the PPPoE id, %d on the MAC), %d repeats, %d odd, %d sessions contested",
			seed, len(want), matched, port, mac, dup, odd, contested)
		if matched < len(want)/3 {
			t.Fatalf("seed %d: only %d of %d bills have a best session: the data tests little", seed, matched, len(want))
		}
	}
}

func billKey(gw string, id []byte, stop int64) string {
	return fmt.Sprintf("%s/%s/%d", gw, hex.EncodeToString(id), stop)
}

// plantRandom writes about 150 bills and 150 background sessions of four
// users over 8 hours from base.
func plantRandom(t *testing.T, conn *pgx.Conn, r *rand.Rand, base time.Time) {
	t.Helper()
	ctx := context.Background()
	users := []string{"ann", "bob", "cy", "dee"}
	macs := []net.HardwareAddr{{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, {0xaa, 0xbb, 0xcc, 0, 0, 3}}
	hashes := make([][]byte, 6)
	for i := range hashes {
		hashes[i] = []byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}
	}
	// A time within 8 h of base, to the microsecond, often on a whole
	// minute so that ties happen.
	at := func() time.Time {
		if r.IntN(2) == 0 {
			return base.Add(time.Duration(r.IntN(8*60)) * time.Minute)
		}
		return base.Add(time.Duration(r.Int64N(int64(8*time.Hour/time.Microsecond))) * time.Microsecond)
	}
	var bills [][]any
	seqs := map[string]int64{}
	for i := range 150 {
		gw := fmt.Sprintf("gw%d", r.IntN(3))
		seq := seqs[gw] + 1
		switch r.IntN(10) {
		case 0:
			seq += int64(1 + r.IntN(2)) // a gap
		case 1:
			seq = max(seqs[gw], 1) // a repeat
		}
		seqs[gw] = max(seqs[gw], seq)
		start := at()
		stop := start.Add(time.Duration(r.IntN(90)) * time.Minute)
		var mac any = macs[r.IntN(len(macs))]
		if r.IntN(8) == 0 {
			mac = nil
		}
		status := "verified"
		if r.IntN(12) == 0 {
			status = "bad_signature"
		}
		id := make([]byte, 16)
		id[0], id[15] = byte(i), byte(r.IntN(256))
		recv := base.Add(9*time.Hour + time.Duration(r.IntN(20))*time.Second) // ties in received_at too
		bills = append(bills, []any{gw, id, stop, start, seq, "s", users[r.IntN(len(users))], mac, int32(4660 + r.IntN(3)),
			int64(r.IntN(5400_000)), int64(r.IntN(1 << 20)), int64(r.IntN(1 << 20)), int64(0), int64(0), int32(1), "plan", int64(1),
			int64(r.IntN(1000)), "CNY", int16(4), hashes[r.IntN(len(hashes))], hashes[r.IntN(len(hashes))], status, []byte{0},
			netip.MustParseAddr("127.0.0.1"), recv})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"billd", "bills"}, []string{"gateway_id", "bill_id", "stop_time", "start_time",
		"sequence", "session_id", "username", "subscriber_mac", "pppoe_session_id", "session_ms", "input_octets", "output_octets",
		"input_packets", "output_packets", "terminate_cause", "tariff_id", "tariff_version", "charge", "currency", "scale",
		"hash", "prev_hash", "status", "encoded", "source", "received_at"}, pgx.CopyFromRows(bills)); err != nil {
		t.Fatal(err)
	}
	ports := []any{"4660", "4661", "eth0.10:4660", "eth0.10:4662", "bras1:", "04660", nil}
	stations := []any{"02-00-00-00-00-01", "0200.0000.0002", "02:00:00:00:00:02", "AA-BB-CC-00-00-03", "aabbcc000003", "junk", "", nil}
	var accts [][]any
	for i := range 150 {
		start := at()
		var startv, stopv, upd any = start, start.Add(time.Duration(r.IntN(90)) * time.Minute), nil
		switch r.IntN(10) {
		case 0: // still open, last interim
			stopv, upd = nil, start.Add(time.Duration(r.IntN(60))*time.Minute)
		case 1: // never started (as a lost Start leaves it)
			startv = nil
		}
		var user any = users[r.IntN(len(users))]
		if r.IntN(30) == 0 {
			user = nil
		}
		accts = append(accts, []any{fmt.Sprintf("s%d", i), fmt.Sprintf("u%d", i), user, netip.MustParseAddr("10.0.0.1"),
			ports[r.IntN(len(ports))], startv, upd, stopv, nil, nil, nil, stations[r.IntN(len(stations))]})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"radacct"}, []string{"acctsessionid", "acctuniqueid", "username",
		"nasipaddress", "nasportid", "acctstarttime", "acctupdatetime", "acctstoptime", "acctsessiontime",
		"acctinputoctets", "acctoutputoctets", "callingstationid"}, pgx.CopyFromRows(accts)); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseStationMAC holds parseStationMAC to the SQL it stands for:
// a Calling-Station-Id is the MAC m exactly when lower(translate(id,
// ':-.', ”)) is m printed as 12 hex digits.
func FuzzParseStationMAC(f *testing.F) {
	for _, s := range []string{"02-00-5E-10-00-01", "0200.5e10.0001", "02:00:5e:10:00:01", "02005E100001", "", "junk",
		"02-00-5E-10-00-01-02", "0-2-0-0-5-e-1-0-0-0-0-1", "g2005e100001", "02005e10000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ref []byte
		for _, c := range []byte(s) {
			switch {
			case c == ':' || c == '-' || c == '.':
			case 'A' <= c && c <= 'Z':
				ref = append(ref, c+'a'-'A')
			default:
				ref = append(ref, c)
			}
		}
		mac, ok := parseStationMAC([]byte(s))
		want := len(ref) == 12
		for _, c := range ref {
			want = want && ('0' <= c && c <= '9' || 'a' <= c && c <= 'f')
		}
		if ok != want {
			t.Fatalf("%q: ok %v, want %v", s, ok, want)
		}
		if ok && hex.EncodeToString(mac[:]) != string(ref) {
			t.Fatalf("%q: %x, want %s", s, mac, ref)
		}
	})
}

func TestLastField(t *testing.T) {
	for in, want := range map[string]string{"4660": "4660", "eth0.10:4660": "4660", "a:b:c": "c", "bras1:": "", "": "", ":": ""} {
		if got := lastField(in); got != want {
			t.Errorf("lastField(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChainBreak(t *testing.T) {
	h := func(b byte) []byte { return []byte{b, 1, 2, 3, 4, 5, 6, 7} }
	for _, c := range []struct {
		seq, pseq   int64
		found       bool
		prev, phash []byte
		from, to    int64
		detail      string
		ok          bool
	}{
		{seq: 5, pseq: 4, found: true, prev: h(1), phash: h(1)},
		{seq: 1, found: false},
		{seq: 3, found: false, from: 1, to: 2, detail: "bills 1 to 2 missing before bill 3", ok: true},
		{seq: 2, found: false, from: 1, to: 1, detail: "bill 1 missing before bill 2", ok: true},
		{seq: 9, pseq: 7, found: true, prev: h(1), phash: h(1), from: 8, to: 8, detail: "bill 8 missing before bill 9", ok: true},
		{seq: 5, pseq: 4, found: true, prev: h(1), phash: h(2), from: 5, to: 5,
			detail: "bill 5 does not follow bill 4: its previous hash 010102030405 is not 020102030405", ok: true},
	} {
		from, to, detail, ok := chainBreak(c.seq, c.pseq, c.found, c.prev, c.phash)
		if from != c.from || to != c.to || detail != c.detail || ok != c.ok {
			t.Errorf("chainBreak(%d, %d, %v): %d-%d %q %v; want %d-%d %q %v", c.seq, c.pseq, c.found, from, to, detail, ok, c.from, c.to, c.detail, c.ok)
		}
	}
}
