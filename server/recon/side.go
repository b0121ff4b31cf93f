package recon

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// What the second connection does once both sides are read, while the
// first writes the matches: it looks up the bill before each break in a
// gateway's chain, then the background records of the missing bills,
// and makes their verdicts. They are written with the others, by COPY.

// sqlChainProbe gives, for each bill the matcher found odd ($1..$4: its
// gateway, id, stop time and sequence), its stored previous hash and the
// bill before it by sequence in the whole table (its sequence and hash;
// NULL if none): a bill the range does not hold may sit between two it
// does. An index probe each; they are few.
const sqlChainProbe = `SELECT w.i, b.prev_hash, p.sequence, p.hash
FROM unnest($1::text[], $2::bytea[], $3::timestamptz[], $4::int8[]) WITH ORDINALITY AS w(gateway_id, bill_id, stop_time, sequence, i)
JOIN billd.bills b ON b.gateway_id = w.gateway_id AND b.bill_id = w.bill_id AND b.stop_time = w.stop_time
LEFT JOIN LATERAL (SELECT x.sequence, x.hash FROM billd.bills x
	WHERE x.gateway_id = w.gateway_id AND x.sequence < w.sequence
	ORDER BY x.sequence DESC, x.received_at LIMIT 1) p ON true`

// sqlMissingProbe gives the closed background sessions no bill claims
// ($1: their radacctids) as radacct has them, unless the scope ($2) is
// "billed" and the user has no bill in the 30 days before the range
// ($3, $4: the range; $5: the bills' margin after it).
const sqlMissingProbe = `SELECT m.i, r.radacctid, r.username, r.acctstarttime, r.acctstoptime, r.acctsessiontime,
	r.acctinputoctets, r.acctoutputoctets
FROM unnest($1::int8[]) WITH ORDINALITY AS m(radacctid, i)
JOIN public.radacct r ON r.radacctid = m.radacctid
WHERE r.acctstoptime IS NOT NULL
	AND ($2::text = 'all' OR EXISTS (SELECT 1 FROM billd.bills b WHERE b.username = r.username
		AND b.stop_time >= $3::timestamptz - interval '30 days' AND b.stop_time < $4::timestamptz + $5::interval))`

var chainColumns = []string{"period", "kind", "gateway_id", "bill_id", "username", "seq_from", "seq_to", "bill_start", "detail", "reconciled_at"}

var missingColumns = []string{"period", "kind", "radacctid", "username", "acct_start", "acct_stop", "acct_seconds",
	"acct_in", "acct_out", "detail", "reconciled_at"}

// missingSet is the background sessions of the range no bill claims, and
// why, if only bills that cannot claim have them.
type missingSet struct {
	ids []int64
	why []string
}

func (m *matcher) missing() missingSet {
	var s missingSet
	for i := range m.a.rows {
		a := &m.a.rows[i]
		if a.closed && m.in(a.end) && a.claims == 0 {
			s.ids = append(s.ids, a.id)
			if a.weak {
				s.why = append(s.why, "only bills that are not verified or repeat a chain place claim it")
			} else {
				s.why = append(s.why, "")
			}
		}
	}
	return s
}

// sideResult is the chain and missing verdicts of a run, as rows for
// COPY, with their daily sums.
type sideResult struct {
	chain, missing [][]any
	counts         map[Kind]int
	days           daySums
	took           time.Duration
	err            error
}

// side makes the chain verdicts, then, once missing sends them, the
// missing ones; closing missing without a send ends it early.
func (e *Engine) side(ctx context.Context, q querier, m *matcher, missing <-chan missingSet, now, from, to time.Time) *sideResult {
	start := time.Now()
	r := &sideResult{counts: map[Kind]int{}, days: daySums{}}
	if r.err = r.chainBreaks(ctx, q, m, now); r.err != nil {
		return r
	}
	s, ok := <-missing
	if !ok {
		return r
	}
	waited := time.Now()
	r.err = r.missingBills(ctx, q, s, now, e.cfg.MissingScope, from, to, 2*e.cfg.Window)
	r.took = waited.Sub(start) + time.Since(waited)
	return r
}

func (r *sideResult) chainBreaks(ctx context.Context, q querier, m *matcher, now time.Time) error {
	var (
		idx  []int32
		gw   []string
		id   [][]byte
		stop []time.Time
		seq  []int64
	)
	for i := range m.b.rows {
		b := &m.b.rows[i]
		if b.odd && !b.seqDup && m.in(b.stop) {
			idx, gw, id = append(idx, int32(i)), append(gw, m.b.gws.names[b.gw]), append(id, m.b.blob.bytes(b.id))
			stop, seq = append(stop, fromMicros(b.stop)), append(seq, b.seq)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, sqlChainProbe, gw, id, stop, seq)
	if err != nil {
		return fmt.Errorf("recon: chain: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k     int
			prev  []byte
			pseq  pgtype.Int8
			phash []byte
		)
		if err := rows.Scan(&k, &prev, &pseq, &phash); err != nil {
			return fmt.Errorf("recon: chain: %w", err)
		}
		if k < 1 || k > len(idx) {
			return fmt.Errorf("recon: chain: probe %d of %d", k, len(idx))
		}
		b := &m.b.rows[idx[k-1]]
		from, to, detail, ok := chainBreak(b.seq, pseq.Int64, pseq.Valid, prev, phash)
		if !ok {
			continue
		}
		gwName := m.b.gws.names[b.gw]
		r.chain = append(r.chain, []any{fromMicros(b.stop), string(ChainGap), gwName, m.b.blob.bytes(b.id),
			string(m.b.blob.bytes(b.user)), from, to, fromMicros(b.start), detail, now})
		r.counts[ChainGap]++
		r.days.get(dayKey{fromMicros(b.stop).Truncate(24 * time.Hour), gwName, ChainGap}).n++
	}
	return rows.Err()
}

// chainBreak says whether bill seq, whose stored previous hash is prev,
// breaks its gateway's chain given the bill before it (pseq and its hash
// phash, if found), and how: bills missing before it (seq_from..seq_to),
// or a previous hash that is not its predecessor's (a fork: seq..seq).
func chainBreak(seq, pseq int64, found bool, prev, phash []byte) (from, to int64, detail string, ok bool) {
	if !found {
		pseq = 0
	}
	switch {
	case pseq < seq-1 && pseq+1 == seq-1:
		return pseq + 1, seq - 1, "bill " + strconv.FormatInt(pseq+1, 10) + " missing before bill " + strconv.FormatInt(seq, 10), true
	case pseq < seq-1:
		return pseq + 1, seq - 1, "bills " + strconv.FormatInt(pseq+1, 10) + " to " + strconv.FormatInt(seq-1, 10) +
			" missing before bill " + strconv.FormatInt(seq, 10), true
	case seq > 1 && pseq == seq-1 && (phash == nil || !bytes.Equal(phash, prev)):
		return seq, seq, "bill " + strconv.FormatInt(seq, 10) + " does not follow bill " + strconv.FormatInt(seq-1, 10) +
			": its previous hash " + hex12(prev) + " is not " + hex12(phash), true
	}
	return 0, 0, "", false
}

// hex12 is left(encode(b, 'hex'), 12).
func hex12(b []byte) string { return hex.EncodeToString(b[:min(len(b), 6)]) }

func (r *sideResult) missingBills(ctx context.Context, q querier, s missingSet, now time.Time, scope string, from, to time.Time, margin time.Duration) error {
	if len(s.ids) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, sqlMissingProbe, s.ids, scope, from, to, margin)
	if err != nil {
		return fmt.Errorf("recon: missing: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k               int
			id              int64
			user            pgtype.Text
			start           pgtype.Timestamptz
			stop            time.Time
			secs, aIn, aOut pgtype.Int8
		)
		if err := rows.Scan(&k, &id, &user, &start, &stop, &secs, &aIn, &aOut); err != nil {
			return fmt.Errorf("recon: missing: %w", err)
		}
		if k < 1 || k > len(s.ids) {
			return fmt.Errorf("recon: missing: probe %d of %d", k, len(s.ids))
		}
		r.missing = append(r.missing, []any{stop, string(MissingBill), id, user, start, stop, secs, aIn, aOut, s.why[k-1], now})
		r.counts[MissingBill]++
		d := r.days.get(dayKey{stop.Truncate(24 * time.Hour), "", MissingBill})
		d.n++
		d.acctOctets += aIn.Int64 + aOut.Int64 // NULL counts 0
	}
	return rows.Err()
}
