package recon

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Reading the two sides. Each side is one query over its table for the
// range and its margins, read in Postgres's binary format straight from
// pgx's buffers (RawValues) and decoded here, not by Scan. The rows hold
// no pointers: their variable-length octets sit in one blob per side,
// gateways and tariffs in small tables, so a million rows are a few large
// allocations the garbage collector never has to scan. The derived
// figures the verdicts use (a background session's end and seconds) are
// computed by the query, exactly as FreeRADIUS's columns are read
// everywhere else in billd.

// pgEpochMicros is 2000-01-01 in Unix microseconds: Postgres's binary
// timestamps count from there.
const pgEpochMicros = 946_684_800_000_000

// ref is a run of octets in a blob.
type ref struct{ off, n uint32 }

// blob holds one side's variable-length octets.
type blob struct {
	b    []byte
	full bool // 4 GiB reached: put stores no more
}

func (x *blob) put(v []byte) ref {
	if x.full || len(x.b)+len(v) > math.MaxUint32 {
		x.full = true
		return ref{}
	}
	r := ref{uint32(len(x.b)), uint32(len(v))}
	x.b = grow(x.b, len(v))
	x.b = append(x.b, v...)
	return r
}

// grow makes room for n more elements at the end of s, doubling it when
// it must (append grows a large slice by a quarter at a time: moving a
// million rows five times over costs more than reading them).
func grow[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	t := make([]T, len(s), max(2*cap(s), len(s)+n, 1024))
	copy(t, s)
	return t
}

// estimate is the planner's estimate of the rows a query returns (0 if
// it has none): a side's slices are made that large to start with.
func estimate(ctx context.Context, q querier, sql string, args ...any) int {
	rows, err := q.Query(ctx, "EXPLAIN (FORMAT JSON) "+sql, args...)
	if err != nil {
		return 0
	}
	defer rows.Close()
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if !rows.Next() || rows.Scan(&plan) != nil || len(plan) == 0 {
		return 0
	}
	n := plan[0].Plan.Rows
	if n < 0 {
		return 0
	}
	// Room for what the planner expects, and an eighth more; never more
	// than maxPrealloc rows on its word alone (stale statistics can be
	// far out), beyond which the slices double as they fill.
	return int(min(n+n/8, maxPrealloc))
}

// maxPrealloc is the most rows a side is given room for before it is
// read.
const maxPrealloc = 2_000_000

// maxRows is the most rows a side may have in one run: rows are numbered
// by int32 and their octets found by uint32 offsets. Reconcile's pieces
// keep a run far below it.
const maxRows = 1 << 30

var errTooMany = fmt.Errorf("recon: more than %d rows or 4 GiB of octets on one side of a run: cut the range smaller", maxRows)

func (x *blob) bytes(r ref) []byte { return x.b[r.off : r.off+r.n : r.off+r.n] }

// str is the octets as a string, for a map lookup or a comparison only
// (the compiler makes no copy there).
func (x *blob) str(r ref) string { return string(x.bytes(r)) }

// table numbers the few distinct strings of a column (gateways,
// statuses, tariffs).
type table struct {
	idx   map[string]int32
	names []string
	last  int32 // the last one found: rows often repeat it
}

func newTable() *table { return &table{idx: map[string]int32{}, last: -1} }

func (t *table) get(b []byte) int32 {
	if t.last >= 0 && t.names[t.last] == string(b) {
		return t.last
	}
	i, ok := t.idx[string(b)]
	if !ok {
		i = int32(len(t.names))
		s := string(b)
		t.names = append(t.names, s)
		t.idx[s] = i
	}
	t.last = i
	return i
}

// decoder reads the binary fields of one row. A field of the wrong
// length is an error of the query, not of the data.
type decoder struct {
	vals [][]byte
	err  error
}

func (d *decoder) fail(i int, what string) {
	if d.err == nil {
		d.err = fmt.Errorf("recon: column %d: %s of %d bytes", i, what, len(d.vals[i]))
	}
}

func (d *decoder) null(i int) bool { return d.vals[i] == nil }

func (d *decoder) int8(i int) int64 {
	if len(d.vals[i]) != 8 {
		d.fail(i, "int8")
		return 0
	}
	return int64(binary.BigEndian.Uint64(d.vals[i]))
}

func (d *decoder) int4(i int) int64 {
	if len(d.vals[i]) != 4 {
		d.fail(i, "int4")
		return 0
	}
	return int64(int32(binary.BigEndian.Uint32(d.vals[i])))
}

func (d *decoder) bool(i int) bool {
	if len(d.vals[i]) != 1 {
		d.fail(i, "bool")
		return false
	}
	return d.vals[i][0] != 0
}

// micros is a timestamptz in Unix microseconds; ±infinity stay at the
// ends of int64.
func (d *decoder) micros(i int) int64 {
	v := d.int8(i)
	if v == math.MaxInt64 || v == math.MinInt64 {
		return v
	}
	return v + pgEpochMicros
}

type querier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}

// acct is one background session (radacct row) as the matcher reads it.
type acct struct {
	id            int64
	start, end    int64 // Unix µs; end is the stop time, else the last update, else the start
	secs, in, out int64
	port          ref     // NAS-Port-Id
	mac           [6]byte // Calling-Station-Id, if it is a MAC
	hasStart      bool
	hasPort       bool
	hasMAC        bool
	closed        bool // acctstoptime is set

	// What the bills made of it.
	weak   bool  // a bill that is not verified or repeats a chain place has it as best
	claims int32 // verified bills, not repeating a chain place, whose best it is
	win    int32 // the claimant it goes to, -1 none
}

// accts is one run's background sessions, and each user's of them in
// order of their end.
type accts struct {
	rows  []acct
	blob  blob
	users map[string]int32 // user -> index in first
	first []int32          // user i's sessions are order[first[i]:first[i+1]]
	order []int32
}

func (s *accts) byEnd(x, y int32) int { return cmp.Compare(s.rows[x].end, s.rows[y].end) }

// group numbers rows 0..n-1 by key (0..keys-1; a negative key leaves the
// row out), a counting sort: rows of key k are order[first[k]:first[k+1]],
// in row order.
func group(n, keys int, key func(i int) int32) (first, order []int32) {
	first = make([]int32, keys+1)
	for i := range n {
		if k := key(i); k >= 0 {
			first[k+1]++
		}
	}
	for k := 1; k <= keys; k++ {
		first[k] += first[k-1]
	}
	order = make([]int32, first[keys])
	next := append([]int32(nil), first[:keys]...)
	for i := range n {
		if k := key(i); k >= 0 {
			order[next[k]] = int32(i)
			next[k]++
		}
	}
	return first, order
}

func (s *accts) of(user string) []int32 {
	u, ok := s.users[user]
	if !ok {
		return nil
	}
	return s.order[s.first[u]:s.first[u+1]]
}

const sqlAccts = `SELECT radacctid, username, acctstarttime, COALESCE(acctstoptime, acctupdatetime, acctstarttime),
	acctstoptime IS NOT NULL,
	COALESCE(acctsessiontime, EXTRACT(EPOCH FROM COALESCE(acctstoptime, acctupdatetime) - acctstarttime)::bigint, 0),
	COALESCE(acctinputoctets, 0), COALESCE(acctoutputoctets, 0), nasportid, callingstationid
FROM public.radacct
WHERE COALESCE(acctstoptime, acctupdatetime, acctstarttime) >= $1 AND COALESCE(acctstoptime, acctupdatetime, acctstarttime) < $2`

// loadAccts reads the background sessions ending in [lo, hi).
func loadAccts(ctx context.Context, q querier, lo, hi int64) (*accts, error) {
	n := estimate(ctx, q, sqlAccts, fromMicros(lo), fromMicros(hi))
	rows, err := q.Query(ctx, sqlAccts, pgx.QueryResultFormats{pgx.BinaryFormatCode}, fromMicros(lo), fromMicros(hi))
	if err != nil {
		return nil, fmt.Errorf("recon: background sessions: %w", err)
	}
	defer rows.Close()
	s := &accts{users: make(map[string]int32, n/8), rows: make([]acct, 0, n), blob: blob{b: make([]byte, 0, 8*n)}}
	user := make([]int32, 0, n) // each row's user, -1 for none (a NULL user or start joins nothing)
	var d decoder
	for rows.Next() {
		d.vals = rows.RawValues()
		if len(d.vals) != 10 {
			return nil, fmt.Errorf("recon: background sessions: %d columns", len(d.vals))
		}
		r := acct{id: d.int8(0), end: d.micros(3), closed: d.bool(4), secs: d.int8(5), in: d.int8(6), out: d.int8(7), win: -1}
		if !d.null(2) {
			r.start, r.hasStart = d.micros(2), true
		}
		if !d.null(8) {
			r.port, r.hasPort = s.blob.put(d.vals[8]), true
		}
		if !d.null(9) {
			r.mac, r.hasMAC = parseStationMAC(d.vals[9])
		}
		u := int32(-1)
		if !d.null(1) && r.hasStart {
			var ok bool
			if u, ok = s.users[string(d.vals[1])]; !ok {
				u = int32(len(s.users))
				s.users[string(d.vals[1])] = u
			}
		}
		if d.err != nil {
			return nil, d.err
		}
		s.rows = append(grow(s.rows, 1), r)
		user = append(grow(user, 1), u)
		if len(s.rows) > maxRows || s.blob.full {
			return nil, errTooMany
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recon: background sessions: %w", err)
	}
	// Each user's sessions together, in order of their end.
	s.first, s.order = group(len(user), len(s.users), func(i int) int32 { return user[i] })
	for u := range len(s.users) {
		l := s.order[s.first[u]:s.first[u+1]]
		if !slices.IsSortedFunc(l, s.byEnd) { // they are read nearly in order
			slices.SortFunc(l, s.byEnd)
		}
	}
	return s, nil
}

// parseStationMAC reads a Calling-Station-Id as a MAC when, with its
// separators (: - .) dropped, it is 12 hex digits: exactly when
// lower(translate(id, ':-.', ”)) can equal a macaddr printed without
// colons, which is how the matching compares them.
func parseStationMAC(s []byte) (mac [6]byte, ok bool) {
	n := 0
	for _, c := range s {
		var v byte
		switch {
		case c == ':' || c == '-' || c == '.':
			continue
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return mac, false
		}
		if n == 12 {
			return mac, false
		}
		mac[n/2] = mac[n/2]<<4 | v
		n++
	}
	return mac, n == 12
}

// billRow is one bill as the matcher reads it.
type billRow struct {
	gw            int32 // in bills.gws
	status        int32 // in bills.statuses
	tariff        int32 // in bills.tariffs
	user          ref
	id            ref    // the bill id's octets
	hash, prev    uint64 // the bill's hash and previous hash, fingerprinted (see fingerprint)
	stop, start   int64  // Unix µs
	recv          int64
	seq           int64
	sid           int64 // PPPoE session id
	ms, in, out   int64
	charge        int64
	self          int64 // ingest's price of its own usage, if hasSelf
	tariffVersion int64
	mac           [6]byte
	hasMAC        bool
	hasSelf       bool

	// What the matching made of it.
	portEq   bool
	macEq    bool
	seqDup   bool  // repeats a chain place a bill received before it took
	odd      bool  // not simply the successor of the bill before it in its gateway's chain
	best     int32 // its best background session (index in accts.rows), -1 none
	overlap  int64
	startGap int64
}

// bills is one run's bills.
type bills struct {
	rows                   []billRow
	blob                   blob
	gws, statuses, tariffs *table
	verified               int32 // the status "verified", -1 if no bill has it
	fp                     fingerprint
}

// fingerprint keeps a bill's hash and previous hash as 64 bits each
// instead of 64 octets: the chain only asks whether one bill's hash is
// the next one's previous hash. The fingerprint is keyed by a seed made
// for each run, so no gateway can choose a previous hash that passes for
// another (a chance collision is 1 in 2^64 for each bill; a break the
// fingerprints find is checked against the stored octets, sqlChain).
type fingerprint struct{ seed maphash.Seed }

func (f fingerprint) of(b []byte) uint64 { return maphash.Bytes(f.seed, b) }

const sqlBills = `SELECT gateway_id, bill_id, stop_time, start_time, sequence, hash, prev_hash, status, received_at, username,
	subscriber_mac, pppoe_session_id, session_ms, input_octets, output_octets, charge, self_charge, tariff_id, tariff_version
FROM billd.bills WHERE stop_time >= $1 AND stop_time < $2`

// loadBills reads the bills stopping in [lo, hi).
func loadBills(ctx context.Context, q querier, lo, hi int64) (*bills, error) {
	n := estimate(ctx, q, sqlBills, fromMicros(lo), fromMicros(hi))
	rows, err := q.Query(ctx, sqlBills, pgx.QueryResultFormats{pgx.BinaryFormatCode}, fromMicros(lo), fromMicros(hi))
	if err != nil {
		return nil, fmt.Errorf("recon: bills: %w", err)
	}
	defer rows.Close()
	s := &bills{gws: newTable(), statuses: newTable(), tariffs: newTable(), verified: -1,
		rows: make([]billRow, 0, n), blob: blob{b: make([]byte, 0, 32*n)}, fp: fingerprint{maphash.MakeSeed()}}
	var d decoder
	for rows.Next() {
		d.vals = rows.RawValues()
		if len(d.vals) != 19 {
			return nil, fmt.Errorf("recon: bills: %d columns", len(d.vals))
		}
		b := billRow{
			gw: s.gws.get(d.vals[0]), id: s.blob.put(d.vals[1]), stop: d.micros(2), start: d.micros(3), seq: d.int8(4),
			hash: s.fp.of(d.vals[5]), prev: s.fp.of(d.vals[6]), status: s.statuses.get(d.vals[7]), recv: d.micros(8),
			user: s.blob.put(d.vals[9]), sid: d.int4(11), ms: d.int8(12), in: d.int8(13), out: d.int8(14),
			charge: d.int8(15), tariff: s.tariffs.get(d.vals[17]), tariffVersion: d.int8(18), best: -1,
		}
		if !d.null(10) {
			if len(d.vals[10]) != 6 {
				d.fail(10, "macaddr")
			}
			b.hasMAC = copy(b.mac[:], d.vals[10]) == 6
		}
		if !d.null(16) {
			b.self, b.hasSelf = d.int8(16), true
		}
		if d.err != nil {
			return nil, d.err
		}
		s.rows = append(grow(s.rows, 1), b)
		if len(s.rows) > maxRows || s.blob.full {
			return nil, errTooMany
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recon: bills: %w", err)
	}
	if i, ok := s.statuses.idx[statusVerified]; ok {
		s.verified = i
	}
	return s, nil
}
