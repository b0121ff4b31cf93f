package recon

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The matching, in memory. Both sides of a range (and its margins) are
// read once, set-wise (load.go), and joined here: a hash of the
// background sessions by user, each user's sorted by end, probed once
// per bill. What the SQL of earlier versions did with DISTINCT ON, a
// window and three aggregates over temporary tables is a few passes over
// two slices; see docs/decisions.md ("Reconciliation joins in billd").
//
// The rules are those of the package documentation:
//   - a bill's candidates are its user's background sessions that overlap
//     it and end within Window of its stop;
//   - its best is the first by: PPPoE session id equal (NAS-Port-Id is
//     the id alone or ends in ":<id>"), calling station equal, longest
//     overlap, nearest start, lowest radacctid;
//   - a background session goes to one bill: among the verified bills
//     that do not repeat a chain place and have it as best, the first by
//     the same order, then the first received (then gateway, bill id,
//     stop time, so the choice never depends on the order rows are read);
//   - a gateway's bills in chain order are (sequence, received, bill id,
//     stop time): a bill repeating its predecessor's sequence is a
//     duplicate, one that does not simply follow it is looked at again
//     against the whole table (side.go).
//
// TestMatcherAgreesWithSQL holds these rules to the SQL they had.

// matcher is one run's two sides.
type matcher struct {
	from, to int64 // the range, Unix µs
	window   int64 // Config.Window in µs
	b        *bills
	a        *accts
	// split is the number of bills from which best runs in two halves at
	// once (0: splitBills).
	split int
}

const splitBills = 100_000

// best gives each of bs its best background session.
func (m *matcher) best(bs []billRow) {
	var sid [20]byte
	as := m.a.rows
	for i := range bs {
		b := &bs[i]
		l := m.a.of(m.b.blob.str(b.user))
		if len(l) == 0 {
			continue
		}
		sidText := string(strconv.AppendInt(sid[:0], b.sid, 10)) // compared, never kept: no allocation
		lo, hi := b.stop-m.window, b.stop+m.window
		k, _ := slices.BinarySearchFunc(l, lo, func(x int32, t int64) int { return cmp.Compare(as[x].end, t) })
		for ; k < len(l); k++ {
			ai := l[k]
			a := &as[ai]
			if a.end > hi {
				break
			}
			if a.end < b.start || a.start > b.stop {
				continue
			}
			port := false
			if a.hasPort {
				p := m.a.blob.str(a.port)
				port = p == sidText || lastField(p) == sidText
			}
			mac := a.hasMAC && b.hasMAC && a.mac == b.mac
			overlap := min(b.stop, a.end) - max(b.start, a.start)
			gap := a.start - b.start
			if gap < 0 {
				gap = -gap
			}
			if b.best >= 0 && !candidateBetter(port, mac, overlap, gap, a.id, b, as[b.best].id) {
				continue
			}
			b.best, b.portEq, b.macEq, b.overlap, b.startGap = ai, port, mac, overlap, gap
		}
	}
}

// match gives every bill its best background session, then every
// background session its claimants. The chain (chain) comes first: a
// bill repeating a chain place claims nothing.
func (m *matcher) match() {
	bs := m.b.rows
	// Each bill's best is its own business: on two cores, half each.
	split := m.split
	if split <= 0 {
		split = splitBills
	}
	if n := len(bs); n >= split {
		var wg sync.WaitGroup
		wg.Go(func() { m.best(bs[:n/2]) })
		m.best(bs[n/2:])
		wg.Wait()
	} else {
		m.best(bs)
	}
	as := m.a.rows
	for i := range bs {
		b := &bs[i]
		if b.best < 0 {
			continue
		}
		a := &as[b.best]
		if b.status != m.b.verified || b.seqDup {
			a.weak = true
			continue
		}
		a.claims++
		if a.win < 0 || m.claimBetter(b, &bs[a.win]) {
			a.win = int32(i)
		}
	}
}

const statusVerified = "verified"

// lastField is split_part(s, ':', -1): what follows the last colon, or s.
func lastField(s string) string {
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// candidateBetter reports whether a candidate with these figures ranks
// before b's current best.
func candidateBetter(port, mac bool, overlap, gap, id int64, b *billRow, bestID int64) bool {
	if port != b.portEq {
		return port
	}
	if mac != b.macEq {
		return mac
	}
	if overlap != b.overlap {
		return overlap > b.overlap
	}
	if gap != b.startGap {
		return gap < b.startGap
	}
	return id < bestID
}

// claimBetter reports whether bill x wins a contested background session
// over bill y.
func (m *matcher) claimBetter(x, y *billRow) bool {
	if x.portEq != y.portEq {
		return x.portEq
	}
	if x.macEq != y.macEq {
		return x.macEq
	}
	if x.overlap != y.overlap {
		return x.overlap > y.overlap
	}
	if x.startGap != y.startGap {
		return x.startGap < y.startGap
	}
	if x.recv != y.recv {
		return x.recv < y.recv
	}
	if x.gw != y.gw {
		return m.b.gws.names[x.gw] < m.b.gws.names[y.gw]
	}
	if c := bytes.Compare(m.b.blob.bytes(x.id), m.b.blob.bytes(y.id)); c != 0 {
		return c < 0
	}
	return x.stop < y.stop
}

// chain puts each gateway's bills in chain order and marks repeats and
// breaks.
func (m *matcher) chain() {
	bs := m.b.rows
	// Each gateway's bills together, then in chain order.
	first, order := group(len(bs), len(m.b.gws.names), func(i int) int32 { return bs[i].gw })
	for g := range len(first) - 1 {
		l := order[first[g]:first[g+1]]
		slices.SortFunc(l, func(x, y int32) int {
			a, b := &bs[x], &bs[y]
			if c := cmp.Compare(a.seq, b.seq); c != 0 {
				return c
			}
			if c := cmp.Compare(a.recv, b.recv); c != 0 {
				return c
			}
			if c := bytes.Compare(m.b.blob.bytes(a.id), m.b.blob.bytes(b.id)); c != 0 {
				return c
			}
			return cmp.Compare(a.stop, b.stop)
		})
		for k, i := range l {
			b := &bs[i]
			if k == 0 {
				b.odd = b.seq > 1
				continue
			}
			p := &bs[l[k-1]]
			b.seqDup = p.seq == b.seq
			b.odd = b.seq > 1 && (p.seq != b.seq-1 || p.hash != b.prev)
		}
	}
}

// in reports whether a time is in the run's range.
func (m *matcher) in(t int64) bool { return t >= m.from && t < m.to }

// same reports whether a bill and its best background session are a
// match as Judge would find it with no tolerance, from the charge ingest
// priced: a verified bill whose charge is that price, and a background
// record with the same seconds, octets, start and stop second (so the
// same usage, priced by pure code to the same charge).
func (m *matcher) same(b *billRow, a *acct) bool {
	secs := b.ms / 1000
	return b.status == m.b.verified && b.hasSelf && b.self == b.charge &&
		secs == a.secs && b.in == a.in && b.out == a.out &&
		floorSecond(b.start) == floorSecond(a.start) &&
		floorSecond(b.stop) == floorSecond(a.start)+secs
}

// floorSecond is date_trunc('second', t) in Unix seconds.
func floorSecond(us int64) int64 {
	s := us / 1e6
	if us%1e6 < 0 {
		s--
	}
	return s
}

// dupReason says why a bill is a duplicate, "" if it is not: it repeats
// a chain place, or another bill won its background session.
func (m *matcher) dupReason(i int) string {
	b := &m.b.rows[i]
	if b.seqDup {
		return "sequence " + strconv.FormatInt(b.seq, 10) + " was already billed by an earlier bill"
	}
	if b.best < 0 || b.status != m.b.verified {
		return ""
	}
	a := &m.a.rows[b.best]
	if a.claims > 1 && int(a.win) != i {
		w := &m.b.rows[a.win]
		return "background session " + strconv.FormatInt(a.id, 10) + " is already billed by " +
			m.b.gws.names[w.gw] + " bill " + hex.EncodeToString(m.b.blob.bytes(w.id))
	}
	return ""
}

// pair is bill i and its best background session, for Judge. Its byte
// slices point into the run's blob: they are read, never kept past the
// run.
func (m *matcher) pair(i int, p *Pair) {
	b := &m.b.rows[i]
	*p = Pair{
		GatewayID: m.b.gws.names[b.gw], BillID: m.b.blob.bytes(b.id), Period: fromMicros(b.stop),
		UserName: string(m.b.blob.bytes(b.user)), Status: m.b.statuses.names[b.status],
		DupReason: m.dupReason(i), BillStart: fromMicros(b.start), BillStop: fromMicros(b.stop),
		BillMs: b.ms, BillIn: b.in, BillOut: b.out, BillCharge: b.charge,
		TariffID: m.b.tariffs.names[b.tariff], TariffVersion: b.tariffVersion,
	}
	if b.best >= 0 {
		a := &m.a.rows[b.best]
		p.Matched, p.RadacctID = true, a.id
		p.AcctStart, p.AcctStop, p.AcctOpen = fromMicros(a.start), fromMicros(a.end), !a.closed
		p.AcctSeconds, p.AcctIn, p.AcctOut = a.secs, a.in, a.out
	}
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// matchRow is one pair for billd.matches.
type matchRow struct {
	bill int32
	acct int32
}

// matchCopy is the matches of a run in COPY's binary format, made as
// COPY reads it from the chunks judge sends: about 80 octets a pair.
type matchCopy struct {
	m      *matcher
	chunks <-chan []matchRow
	at     int64 // reconciled_at, Unix µs
	buf    []byte
	off    int
	head   bool
	done   bool
}

var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func (c *matchCopy) Read(p []byte) (int, error) {
	for c.off == len(c.buf) {
		if c.done {
			return 0, io.EOF
		}
		c.fill()
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

func (c *matchCopy) fill() {
	buf := c.buf[:0]
	if !c.head {
		buf = append(buf, copyHeader...)
		c.head = true
	}
	rows, ok := <-c.chunks
	for _, r := range rows {
		b, a := &c.m.b.rows[r.bill], &c.m.a.rows[r.acct]
		buf = binary.BigEndian.AppendUint16(buf, 7)
		buf = appendInt8(buf, b.stop-pgEpochMicros)
		buf = appendBytes(buf, c.m.b.gws.names[b.gw])
		buf = appendBytes(buf, c.m.b.blob.bytes(b.id))
		buf = appendInt8(buf, a.id)
		buf = appendInt8(buf, b.charge)
		buf = appendInt8(buf, b.in+b.out)
		buf = appendInt8(buf, c.at-pgEpochMicros)
	}
	if !ok {
		buf = binary.BigEndian.AppendUint16(buf, 0xffff)
		c.done = true
	}
	c.buf, c.off = buf, 0
}

func appendInt8(buf []byte, v int64) []byte {
	buf = binary.BigEndian.AppendUint32(buf, 8)
	return binary.BigEndian.AppendUint64(buf, uint64(v))
}

func appendBytes[T string | []byte](buf []byte, s T) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	return append(buf, s...)
}
