package store

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/edgebill/edgebill/rfc/bill"
)

// Bill statuses: what ingest found when it checked the signature.
const (
	StatusVerified        = "verified"
	StatusBadSignature    = "bad_signature"
	StatusUnknownGateway  = "unknown_gateway"
	StatusGatewayDisabled = "gateway_disabled"
)

// BillRow is a received bill as ingest hands it to Commit.
type BillRow struct {
	Bill *bill.Bill
	// Hash is Bill.Hash(), computed once by ingest.
	Hash [bill.HashSize]byte
	// Encoded is the canonical encoding, signature included.
	Encoded    []byte
	Status     string
	Source     netip.Addr
	ReceivedAt time.Time
	// SelfCharge is what billd's own copy of the bill's tariff gives for
	// the bill's own usage, priced by ingest (column self_charge); nil
	// when the tariff was not known or the usage cannot be priced.
	SelfCharge *int64
}

// ProgressRow is the live state of an open session (Start or
// Interim-Update from a gateway).
type ProgressRow struct {
	GatewayID, SessionID, UserName string
	Status                         string // "start" or "interim"
	Start                          time.Time
	SessionSeconds                 int64
	In, Out                        uint64
	RunningCharge                  *int64
	Source                         netip.Addr
	UpdatedAt                      time.Time
}

// RejectRow is an authenticated Accounting-Request that carries no usable
// bill: stored with the reason, never dropped.
type RejectRow struct {
	GatewayID  string
	Source     netip.Addr
	Reason     string
	Packet     []byte
	ReceivedAt time.Time
}

// Batch is what one group commit writes.
type Batch struct {
	Bills    []BillRow
	Progress []ProgressRow
	Rejects  []RejectRow
}

// Len is the number of rows in b.
func (b *Batch) Len() int { return len(b.Bills) + len(b.Progress) + len(b.Rejects) }

// Reset empties b, keeping its memory.
func (b *Batch) Reset() {
	clear(b.Bills)
	clear(b.Progress)
	clear(b.Rejects)
	b.Bills, b.Progress, b.Rejects = b.Bills[:0], b.Progress[:0], b.Rejects[:0]
}

const insertBills = `INSERT INTO billd.bills (gateway_id, bill_id, stop_time, start_time, sequence, session_id,
	username, subscriber_mac, pppoe_session_id, bras_mac, framed_ip, session_ms, input_octets, output_octets,
	input_packets, output_packets, terminate_cause, tariff_id, tariff_version, charge, currency, scale,
	hash, prev_hash, status, encoded, source, received_at, self_charge, received_by)
SELECT u.*, $30::text FROM unnest($1::text[], $2::bytea[], $3::timestamptz[], $4::timestamptz[], $5::int8[],
	$6::text[], $7::text[], $8::macaddr[], $9::int4[], $10::macaddr[], $11::inet[], $12::int8[], $13::int8[],
	$14::int8[], $15::int8[], $16::int8[], $17::int4[], $18::text[], $19::int8[], $20::int8[], $21::text[],
	$22::int2[], $23::bytea[], $24::bytea[], $25::text[], $26::bytea[], $27::inet[], $28::timestamptz[],
	$29::int8[]) AS u
ON CONFLICT DO NOTHING
RETURNING gateway_id, bill_id`

const deleteProgress = `DELETE FROM billd.progress p USING unnest($1::text[], $2::text[]) AS u(g, s)
WHERE p.gateway_id = u.g AND p.session_id = u.s`

// upsertProgress keeps each session's furthest progress. A Start or
// interim that arrives after its session's bill (a late retransmission,
// or one already on its way when the session ended) does not bring the
// session back: its bill is looked up by user and time (bills_user_stop).
const upsertProgress = `INSERT INTO billd.progress (gateway_id, session_id, username, status, start_time,
	session_seconds, input_octets, output_octets, running_charge, source, updated_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::int8[],
	$7::int8[], $8::int8[], $9::int8[], $10::inet[], $11::timestamptz[])
	AS u(gateway_id, session_id, username, status, start_time, session_seconds, input_octets, output_octets,
		running_charge, source, updated_at)
WHERE NOT EXISTS (SELECT 1 FROM billd.bills b WHERE b.username = u.username
	AND b.stop_time >= COALESCE(u.start_time, u.updated_at - interval '7 days')
	AND b.gateway_id = u.gateway_id AND b.session_id = u.session_id)
ON CONFLICT (gateway_id, session_id) DO UPDATE SET username = EXCLUDED.username, status = EXCLUDED.status,
	start_time = EXCLUDED.start_time, session_seconds = EXCLUDED.session_seconds,
	input_octets = EXCLUDED.input_octets, output_octets = EXCLUDED.output_octets,
	running_charge = EXCLUDED.running_charge, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
WHERE billd.progress.session_seconds <= EXCLUDED.session_seconds`

const insertRejects = `INSERT INTO billd.rejected (gateway_id, source, reason, packet, received_at)
SELECT * FROM unnest($1::text[], $2::inet[], $3::text[], $4::bytea[], $5::timestamptz[])`

// clampInt64 stores a uint64 counter in a bigint column. Counters of
// 2^63 octets and more do not happen; they are kept at the maximum
// rather than wrapped negative.
func clampInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

func addrPtr(a netip.Addr) *netip.Addr {
	if !a.IsValid() {
		return nil
	}
	return &a
}

func macOrNil(m net.HardwareAddr) net.HardwareAddr {
	if len(m) == 0 {
		return nil
	}
	return m
}

// Commit writes the batch in one transaction, as one pipelined round
// trip (a pgx batch: the statements run in one implicit transaction),
// with synchronous_commit on. Bills already stored (same gateway, bill
// id and stop time) are left as they are: Commit is idempotent. fresh[i]
// reports whether b.Bills[i] was new. Bills are written sorted by
// identity so that two instances committing overlapping batches take
// their row locks in the same order and cannot deadlock; b.Bills is
// sorted in place.
func (s *Store) Commit(ctx context.Context, b *Batch, instance string) (fresh []bool, err error) {
	if b.Len() == 0 {
		return nil, nil
	}
	sort.Slice(b.Bills, func(i, j int) bool {
		x, y := b.Bills[i].Bill, b.Bills[j].Bill
		if x.GatewayID != y.GatewayID {
			return x.GatewayID < y.GatewayID
		}
		return bytes.Compare(x.ID[:], y.ID[:]) < 0
	})
	var pb pgx.Batch
	if n := len(b.Progress); n > 0 {
		var (
			gw, sess, user, status = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			start                  = make([]*time.Time, n)
			secs, in, out          = make([]int64, n), make([]int64, n), make([]int64, n)
			charge                 = make([]*int64, n)
			src                    = make([]*netip.Addr, n)
			upd                    = make([]time.Time, n)
		)
		// One row per session, the furthest along: an upsert may not touch
		// a row twice.
		last := map[[2]string]int{}
		k := 0
		for _, p := range b.Progress {
			key := [2]string{p.GatewayID, p.SessionID}
			i, seen := last[key]
			if seen && secs[i] > p.SessionSeconds {
				continue
			}
			if !seen {
				i = k
				k++
				last[key] = i
			}
			gw[i], sess[i], user[i], status[i] = p.GatewayID, p.SessionID, p.UserName, p.Status
			if !p.Start.IsZero() {
				t := p.Start
				start[i] = &t
			} else {
				start[i] = nil
			}
			secs[i], in[i], out[i] = p.SessionSeconds, clampInt64(p.In), clampInt64(p.Out)
			charge[i], src[i], upd[i] = p.RunningCharge, addrPtr(p.Source), p.UpdatedAt
		}
		pb.Queue(upsertProgress, gw[:k], sess[:k], user[:k], status[:k], start[:k], secs[:k], in[:k], out[:k],
			charge[:k], src[:k], upd[:k])
	}
	if n := len(b.Bills); n > 0 {
		var (
			gw, sess, user, tid, cur, status = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			id, hash, prev, enc              = make([][]byte, n), make([][]byte, n), make([][]byte, n), make([][]byte, n)
			stop, start, recv                = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
			seq, ms, in, out, inp, outp      = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			tver, charge                     = make([]int64, n), make([]int64, n)
			self                             = make([]*int64, n)
			smac, bmac                       = make([]net.HardwareAddr, n), make([]net.HardwareAddr, n)
			pppoe, cause                     = make([]int32, n), make([]int32, n)
			framed, src                      = make([]*netip.Addr, n), make([]*netip.Addr, n)
			scale                            = make([]int16, n)
		)
		for i := range b.Bills {
			r := &b.Bills[i]
			x := r.Bill
			gw[i], sess[i], user[i], tid[i], cur[i], status[i] = x.GatewayID, x.SessionID, x.UserName, x.TariffID, x.Currency, r.Status
			id[i], hash[i], prev[i], enc[i] = x.ID[:], r.Hash[:], x.PrevHash[:], r.Encoded
			stop[i], start[i], recv[i] = x.Stop, x.Start, r.ReceivedAt
			seq[i], ms[i] = clampInt64(x.Sequence), x.SessionTime.Milliseconds()
			in[i], out[i], inp[i], outp[i] = clampInt64(x.InputOctets), clampInt64(x.OutputOctets), clampInt64(x.InputPackets), clampInt64(x.OutputPackets)
			tver[i], charge[i] = int64(x.TariffVersion), x.Charge
			smac[i], bmac[i] = macOrNil(x.SubscriberMAC), macOrNil(x.BRASMAC)
			pppoe[i], cause[i] = int32(x.PPPoESessionID), int32(x.TerminateCause)
			framed[i], src[i] = addrPtr(x.FramedIP), addrPtr(r.Source)
			scale[i] = int16(x.Scale)
			self[i] = r.SelfCharge
		}
		pb.Queue(insertBills, gw, id, stop, start, seq, sess, user, smac, pppoe, bmac, framed, ms, in, out, inp, outp,
			cause, tid, tver, charge, cur, scale, hash, prev, status, enc, src, recv, self, instance)
		pb.Queue(deleteProgress, gw, sess)
	}
	if n := len(b.Rejects); n > 0 {
		gw, src, reason, pkt, recv := make([]string, n), make([]*netip.Addr, n), make([]string, n), make([][]byte, n), make([]time.Time, n)
		for i, r := range b.Rejects {
			gw[i], src[i], reason[i], pkt[i], recv[i] = r.GatewayID, addrPtr(r.Source), r.Reason, r.Packet, r.ReceivedAt
		}
		pb.Queue(insertRejects, gw, src, reason, pkt, recv)
	}

	res := s.Pool.SendBatch(ctx, &pb)
	defer func() {
		if cerr := res.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: commit: %w", cerr)
			fresh = nil
		}
	}()
	if len(b.Progress) > 0 {
		if _, err := res.Exec(); err != nil {
			return nil, fmt.Errorf("store: progress: %w", err)
		}
	}
	if len(b.Bills) > 0 {
		rows, err := res.Query()
		if err != nil {
			return nil, fmt.Errorf("store: bills: %w", err)
		}
		type key struct {
			gw string
			id [bill.IDSize]byte
		}
		ins := make(map[key]bool, len(b.Bills))
		for rows.Next() {
			var k key
			var id []byte
			if err := rows.Scan(&k.gw, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: bills: %w", err)
			}
			copy(k.id[:], id)
			ins[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: bills: %w", err)
		}
		fresh = make([]bool, len(b.Bills))
		for i, r := range b.Bills {
			k := key{r.Bill.GatewayID, r.Bill.ID}
			fresh[i] = ins[k]
			delete(ins, k) // the same bill twice in one batch is new once
		}
		if _, err := res.Exec(); err != nil {
			return nil, fmt.Errorf("store: progress cleanup: %w", err)
		}
	}
	if len(b.Rejects) > 0 {
		if _, err := res.Exec(); err != nil {
			return nil, fmt.Errorf("store: rejected: %w", err)
		}
	}
	return fresh, nil
}

// Reverify checks again the bills stored with status unknown_gateway,
// stop time in [from, to), whose gateway has been registered since: each
// becomes verified or bad_signature (or gateway_disabled), from its
// stored canonical encoding and the registered key. Reconciliation runs
// it first, so no bill is judged unverified for want of a registration
// made later. It returns how many bills changed.
func (s *Store) Reverify(ctx context.Context, from, to time.Time) (int, error) {
	rows, err := s.Pool.Query(ctx, `SELECT b.gateway_id, b.bill_id, b.stop_time, b.encoded, g.public_key, g.status
		FROM billd.bills b JOIN billd.gateways g ON g.id = b.gateway_id
		WHERE b.status = 'unknown_gateway' AND b.stop_time >= $1 AND b.stop_time < $2`, from, to)
	if err != nil {
		return 0, err
	}
	type change struct {
		gw     string
		id     []byte
		stop   time.Time
		status string
	}
	var changes []change
	for rows.Next() {
		var c change
		var enc, key []byte
		var gstatus string
		if err := rows.Scan(&c.gw, &c.id, &c.stop, &enc, &key, &gstatus); err != nil {
			rows.Close()
			return 0, err
		}
		var b bill.Bill
		switch {
		case b.UnmarshalBinary(enc) != nil || b.Verify(key) != nil:
			c.status = StatusBadSignature
		case gstatus != GatewayActive:
			c.status = StatusGatewayDisabled
		default:
			c.status = StatusVerified
		}
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, c := range changes {
		if _, err := s.Pool.Exec(ctx, `UPDATE billd.bills SET status = $4 WHERE gateway_id = $1 AND bill_id = $2 AND stop_time = $3 AND status = 'unknown_gateway'`,
			c.gw, c.id, c.stop, c.status); err != nil {
			return 0, err
		}
	}
	if len(changes) > 0 {
		s.log.Info("bills of gateways registered since verified again", zap.Int("bills", len(changes)))
	}
	return len(changes), nil
}
