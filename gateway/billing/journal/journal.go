package journal

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/rfc/bill"
)

// Schema is the layout version this package writes; a journal from a
// newer gatewayd is refused rather than misread.
const Schema = 1

// Defaults for Options.
const (
	DefaultHistoryLimit = 1000
	DefaultKeyBlock     = 1024
	DefaultLockTimeout  = 2 * time.Second
)

// Errors.
var (
	// ErrNotPending: Ack of a sequence that is not awaiting
	// acknowledgement (already acknowledged, or never made).
	ErrNotPending = errors.New("journal: bill not pending")
	// ErrSchema: the file was written by a newer gatewayd.
	ErrSchema = errors.New("journal: unknown schema version")
	// ErrCorrupt: a record does not decode.
	ErrCorrupt = errors.New("journal: corrupt record")
	// ErrLocked: another process holds the journal.
	ErrLocked = errors.New("journal: locked by another process (is gatewayd running?)")
)

var (
	bucketMeta     = []byte("meta")
	bucketSessions = []byte("sessions")
	bucketPending  = []byte("pending")
	bucketHistory  = []byte("history")

	metaSchema = []byte("schema")
	metaKey    = []byte("signing-key")
	metaSeq    = []byte("seq")
	metaHead   = []byte("head")
	metaKeys   = []byte("keys")
)

// Options tune a Journal. The zero value is the defaults.
type Options struct {
	// HistoryLimit is how many acknowledged bills are kept for the live
	// view (DefaultHistoryLimit); the oldest go first.
	HistoryLimit int
	// KeyBlock is how many Session.Key values NextKey reserves per disk
	// write (DefaultKeyBlock). Keys of a block not used before a restart
	// are skipped, never reused.
	KeyBlock uint64
	// LockTimeout is how long Open waits for another process to let go
	// of the file (DefaultLockTimeout).
	LockTimeout time.Duration
}

// Journal is an open journal. It is safe for concurrent use; write
// transactions are serialised.
type Journal struct {
	db   *bolt.DB
	path string
	opt  Options
	priv ed25519.PrivateKey

	keyMu    sync.Mutex
	nextKey  uint64
	keyLimit uint64
}

// Open opens the journal at path, creating it (and the signing key) if
// it does not exist.
func Open(path string, opt Options) (*Journal, error) {
	if opt.HistoryLimit <= 0 {
		opt.HistoryLimit = DefaultHistoryLimit
	}
	if opt.KeyBlock == 0 {
		opt.KeyBlock = DefaultKeyBlock
	}
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = DefaultLockTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.LockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{db: db, path: path, opt: opt}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketSessions, bucketPending, bucketHistory} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(metaSchema); v != nil {
			if len(v) != 8 || binary.BigEndian.Uint64(v) > Schema {
				return fmt.Errorf("%w %x", ErrSchema, v)
			}
		} else if err := meta.Put(metaSchema, u64(Schema)); err != nil {
			return err
		}
		seed := meta.Get(metaKey)
		if seed == nil {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			seed = priv.Seed()
			if err := meta.Put(metaKey, seed); err != nil {
				return err
			}
		}
		if len(seed) != ed25519.SeedSize {
			return fmt.Errorf("%w: signing key of %d octets", ErrCorrupt, len(seed))
		}
		j.priv = ed25519.NewKeyFromSeed(seed)
		// Keys handed out before a restart may have reached the relay's
		// sessions; start after everything reserved.
		j.nextKey = getU64(meta, metaKeys) + 1
		j.keyLimit = j.nextKey - 1
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("journal: opening %s: %w", path, err)
	}
	return j, nil
}

// Close closes the file.
func (j *Journal) Close() error { return j.db.Close() }

// Path is the file the journal lives in.
func (j *Journal) Path() string { return j.path }

// PrivateKey is the gateway's Ed25519 signing key.
func (j *Journal) PrivateKey() ed25519.PrivateKey { return j.priv }

// PublicKey is the key billd verifies the gateway's bills with.
func (j *Journal) PublicKey() ed25519.PublicKey { return j.priv.Public().(ed25519.PublicKey) }

// Size is the journal file's size in octets.
func (j *Journal) Size() int64 {
	fi, err := os.Stat(j.path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// NextKey returns a Session.Key never returned before by this journal,
// reserving keys on disk KeyBlock at a time (the relay's NewKey).
func (j *Journal) NextKey() (uint64, error) {
	j.keyMu.Lock()
	defer j.keyMu.Unlock()
	if j.nextKey > j.keyLimit {
		limit := j.keyLimit + j.opt.KeyBlock
		err := j.db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(metaKeys, u64(limit))
		})
		if err != nil {
			return 0, fmt.Errorf("journal: reserving session keys: %w", err)
		}
		j.keyLimit = limit
	}
	k := j.nextKey
	j.nextKey++
	return k, nil
}

// Update runs fn in a write transaction, committed (and on disk) when
// Update returns nil; on error nothing fn did is kept.
func (j *Journal) Update(fn func(*Tx) error) error {
	return j.db.Update(func(btx *bolt.Tx) error { return fn(j.wrap(btx)) })
}

// View runs fn in a read-only transaction.
func (j *Journal) View(fn func(*Tx) error) error {
	return j.db.View(func(btx *bolt.Tx) error { return fn(j.wrap(btx)) })
}

func (j *Journal) wrap(btx *bolt.Tx) *Tx {
	return &Tx{
		j:        j,
		tx:       btx,
		meta:     btx.Bucket(bucketMeta),
		sessions: btx.Bucket(bucketSessions),
		pending:  btx.Bucket(bucketPending),
		history:  btx.Bucket(bucketHistory),
	}
}

// Tx is a journal transaction, valid only inside the function given to
// Update or View.
type Tx struct {
	j                                *Journal
	tx                               *bolt.Tx
	meta, sessions, pending, history *bolt.Bucket
}

// Checkpoint is the state of an open session as last saved: enough to
// bill it if the gateway dies now.
type Checkpoint struct {
	Session gateway.Session
	// At is the wall-clock time the checkpoint was taken.
	At time.Time
	// Elapsed is the measured session time at At (monotonic clock).
	Elapsed time.Duration
	// Usage is the session's usage at At.
	Usage gateway.Usage
	// Charge is the running charge at At, in the tariff's minor units.
	Charge int64
}

// checkpointJSON is the stored form: MACs and addresses as text, so the
// file reads well in `bbolt get`.
type checkpointJSON struct {
	V              int           `json:"v"`
	Key            uint64        `json:"key"`
	AcctSessionID  string        `json:"acct_session_id"`
	PPPoESessionID uint16        `json:"pppoe_session_id"`
	SubscriberMAC  string        `json:"subscriber_mac"`
	BRASMAC        string        `json:"bras_mac"`
	User           string        `json:"user"`
	FramedIP       netip.Addr    `json:"framed_ip"`
	Started        time.Time     `json:"started"`
	Tariff         string        `json:"tariff"`
	Interim        time.Duration `json:"interim_ns"`
	Credit         int64         `json:"credit"`
	HasCredit      bool          `json:"has_credit"`
	Class          []byte        `json:"class,omitempty"`
	At             time.Time     `json:"at"`
	Elapsed        time.Duration `json:"elapsed_ns"`
	Usage          gateway.Usage `json:"usage"`
	Charge         int64         `json:"charge"`
}

func macString(m net.HardwareAddr) string {
	if len(m) == 0 {
		return ""
	}
	return m.String()
}

func (c *Checkpoint) marshal() ([]byte, error) {
	s := &c.Session
	return json.Marshal(checkpointJSON{
		V: 1, Key: s.Key, AcctSessionID: s.AcctSessionID, PPPoESessionID: s.PPPoESessionID,
		SubscriberMAC: macString(s.SubscriberMAC), BRASMAC: macString(s.BRASMAC),
		User: s.User, FramedIP: s.FramedIP, Started: s.Started.Round(0),
		Tariff: s.Auth.Tariff, Interim: s.Auth.InterimInterval, Credit: s.Auth.Credit,
		HasCredit: s.Auth.HasCredit, Class: s.Auth.Class,
		At: c.At.Round(0), Elapsed: c.Elapsed, Usage: c.Usage, Charge: c.Charge,
	})
}

func (c *Checkpoint) unmarshal(b []byte) error {
	var r checkpointJSON
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%w: checkpoint: %v", ErrCorrupt, err)
	}
	if r.V != 1 {
		return fmt.Errorf("%w: checkpoint version %d", ErrCorrupt, r.V)
	}
	parseMAC := func(s string) (net.HardwareAddr, error) {
		if s == "" {
			return nil, nil
		}
		return net.ParseMAC(s)
	}
	sub, err := parseMAC(r.SubscriberMAC)
	if err != nil {
		return fmt.Errorf("%w: checkpoint: %v", ErrCorrupt, err)
	}
	bras, err := parseMAC(r.BRASMAC)
	if err != nil {
		return fmt.Errorf("%w: checkpoint: %v", ErrCorrupt, err)
	}
	*c = Checkpoint{
		Session: gateway.Session{
			Key: r.Key, AcctSessionID: r.AcctSessionID, PPPoESessionID: r.PPPoESessionID,
			SubscriberMAC: sub, BRASMAC: bras, User: r.User, FramedIP: r.FramedIP, Started: r.Started,
			Auth: gateway.Authorization{
				Tariff: r.Tariff, InterimInterval: r.Interim, Credit: r.Credit,
				HasCredit: r.HasCredit, Class: r.Class,
			},
		},
		At: r.At, Elapsed: r.Elapsed, Usage: r.Usage, Charge: r.Charge,
	}
	return nil
}

// PutCheckpoint saves (or replaces) the checkpoint of c.Session.Key.
func (tx *Tx) PutCheckpoint(c *Checkpoint) error {
	b, err := c.marshal()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return tx.sessions.Put(u64(c.Session.Key), b)
}

// DeleteCheckpoint forgets the session key; absent keys are no error.
func (tx *Tx) DeleteCheckpoint(key uint64) error {
	return tx.sessions.Delete(u64(key))
}

// Checkpoints returns every saved checkpoint, by Key.
func (tx *Tx) Checkpoints() ([]Checkpoint, error) {
	var out []Checkpoint
	err := tx.sessions.ForEach(func(k, v []byte) error {
		var c Checkpoint
		if err := c.unmarshal(v); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// Head returns the sequence number and hash of the last bill made, 0 and
// all zero before the first.
func (tx *Tx) Head() (seq uint64, hash [bill.HashSize]byte) {
	copy(hash[:], tx.meta.Get(metaHead))
	return getU64(tx.meta, metaSeq), hash
}

// AppendBill chains b to the last bill (Sequence, PrevHash), signs it
// with the journal's key, stores it as pending and advances the chain
// head, all in this transaction. class is kept with it for the
// Accounting-Request. On error nothing is stored and b's chain fields
// may have been changed.
func (tx *Tx) AppendBill(b *bill.Bill, class []byte, made time.Time) error {
	seq, head := tx.Head()
	b.Sequence = seq + 1
	b.PrevHash = head
	if err := b.Sign(tx.j.priv); err != nil {
		return fmt.Errorf("journal: signing bill %d: %w", b.Sequence, err)
	}
	rec := Record{Bill: *b, Class: class, Made: made}
	v, err := rec.marshal()
	if err != nil {
		return err
	}
	if err := tx.pending.Put(u64(b.Sequence), v); err != nil {
		return err
	}
	h := b.Hash()
	if err := tx.meta.Put(metaSeq, u64(b.Sequence)); err != nil {
		return err
	}
	return tx.meta.Put(metaHead, h[:])
}

// Record is a bill as the journal keeps it.
type Record struct {
	Bill bill.Bill
	// Class is the RADIUS Class of the session, echoed in the Stop.
	Class []byte
	// Made is when the bill was made; Acked when the network system
	// acknowledged it (zero while pending).
	Made, Acked time.Time
}

// Pending reports whether the bill still awaits acknowledgement.
func (r *Record) Pending() bool { return r.Acked.IsZero() }

const recordHeader = 1 + 8 + 8 + 2

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

func fromUnixNano(n uint64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n)).UTC()
}

func (r *Record) marshal() ([]byte, error) {
	if len(r.Class) > 0xffff {
		return nil, fmt.Errorf("journal: class of %d octets", len(r.Class))
	}
	out := make([]byte, 0, recordHeader+len(r.Class)+bill.MaxEncodedLen)
	out = append(out, 1)
	out = binary.BigEndian.AppendUint64(out, unixNano(r.Made))
	out = binary.BigEndian.AppendUint64(out, unixNano(r.Acked))
	out = binary.BigEndian.AppendUint16(out, uint16(len(r.Class)))
	out = append(out, r.Class...)
	out, err := r.Bill.AppendBinary(out)
	if err != nil {
		return nil, fmt.Errorf("journal: encoding bill: %w", err)
	}
	return out, nil
}

func (r *Record) unmarshal(v []byte) error {
	if len(v) < recordHeader || v[0] != 1 {
		return fmt.Errorf("%w: bill record header", ErrCorrupt)
	}
	n := int(binary.BigEndian.Uint16(v[17:]))
	if len(v) < recordHeader+n {
		return fmt.Errorf("%w: bill record class", ErrCorrupt)
	}
	var nr Record
	nr.Made = fromUnixNano(binary.BigEndian.Uint64(v[1:]))
	nr.Acked = fromUnixNano(binary.BigEndian.Uint64(v[9:]))
	if n > 0 {
		nr.Class = append([]byte(nil), v[recordHeader:recordHeader+n]...)
	}
	if err := nr.Bill.UnmarshalBinary(v[recordHeader+n:]); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	*r = nr
	return nil
}

// Pending returns up to limit bills awaiting acknowledgement (all when
// limit <= 0), lowest sequence first: the order they must be sent in.
func (tx *Tx) Pending(limit int) ([]Record, error) {
	var out []Record
	c := tx.pending.Cursor()
	for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
		var r Record
		if err := r.unmarshal(v); err != nil {
			return out, fmt.Errorf("pending bill %d: %w", binary.BigEndian.Uint64(k), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// PendingCount is the number of bills awaiting acknowledgement.
func (tx *Tx) PendingCount() int { return count(tx.pending) }

// CheckpointCount is the number of open sessions saved.
func (tx *Tx) CheckpointCount() int { return count(tx.sessions) }

// Ack records that the network system acknowledged bill seq: it moves
// from pending to the history (which is trimmed to HistoryLimit).
func (tx *Tx) Ack(seq uint64, at time.Time) error {
	k := u64(seq)
	v := tx.pending.Get(k)
	if v == nil {
		return fmt.Errorf("%w: %d", ErrNotPending, seq)
	}
	if len(v) < recordHeader {
		return fmt.Errorf("%w: bill record header", ErrCorrupt)
	}
	h := append([]byte(nil), v...)
	binary.BigEndian.PutUint64(h[9:], unixNano(at))
	if err := tx.pending.Delete(k); err != nil {
		return err
	}
	if err := tx.history.Put(k, h); err != nil {
		return err
	}
	for n := count(tx.history) - tx.j.opt.HistoryLimit; n > 0; n-- {
		c := tx.history.Cursor()
		first, _ := c.First()
		if first == nil {
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// History returns up to limit acknowledged bills (all kept when limit <=
// 0), newest first.
func (tx *Tx) History(limit int) ([]Record, error) {
	var out []Record
	c := tx.history.Cursor()
	for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
		var r Record
		if err := r.unmarshal(v); err != nil {
			return out, fmt.Errorf("history bill %d: %w", binary.BigEndian.Uint64(k), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Recent returns up to limit bills, newest first: those awaiting
// acknowledgement, then acknowledged ones (delivery acknowledges in
// sequence order, so every pending bill is newer than every
// acknowledged one).
func (tx *Tx) Recent(limit int) ([]Record, error) {
	var out []Record
	for _, b := range []*bolt.Bucket{tx.pending, tx.history} {
		c := b.Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var r Record
			if err := r.unmarshal(v); err != nil {
				return out, fmt.Errorf("bill %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// Stats is a summary for metrics and logs.
type Stats struct {
	Sessions  int    // open sessions checkpointed
	Pending   int    // bills awaiting acknowledgement
	History   int    // acknowledged bills kept
	Sequence  uint64 // the last bill's sequence number
	SizeBytes int64  // the file
}

// Stats reads the summary.
func (j *Journal) Stats() (Stats, error) {
	var s Stats
	err := j.View(func(tx *Tx) error {
		s.Sessions = tx.CheckpointCount()
		s.Pending = tx.PendingCount()
		s.History = count(tx.history)
		s.Sequence, _ = tx.Head()
		return nil
	})
	s.SizeBytes = j.Size()
	return s, err
}

// Pending is View + Tx.Pending.
func (j *Journal) Pending(limit int) (out []Record, err error) {
	err = j.View(func(tx *Tx) error {
		out, err = tx.Pending(limit)
		return err
	})
	return out, err
}

// Ack is Update + Tx.Ack.
func (j *Journal) Ack(seq uint64, at time.Time) error {
	return j.Update(func(tx *Tx) error { return tx.Ack(seq, at) })
}

// count counts the keys of b. (Bucket.Stats does not see what the
// current write transaction changed.)
func count(b *bolt.Bucket) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func getU64(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
