package ingest

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// dupKey identifies one request on the wire, as RFC 5080 §2.2.2 says a
// server tells a retransmission from a new request: source address and
// port, Identifier and Request Authenticator. A retransmission with a new
// Acct-Delay-Time has a new Authenticator, hence a new key: the bill's
// own identity (gateway, bill id) takes over from there.
type dupKey struct {
	src  netip.AddrPort
	id   uint8
	auth [16]byte
}

// dupEntry is a request seen: still being committed (resp nil), or done
// with the response sent.
type dupEntry struct {
	resp []byte
}

const dupShards = 16

// dupCache remembers requests for between ttl and 2*ttl: each shard keeps
// two generations of maps and drops the older one every ttl, or early
// when the current one passes max entries, so its size is bounded by
// the request rate times ttl and never by more than 2*max per shard.
type dupCache struct {
	ttl    time.Duration
	max    int
	seed   maphash.Seed
	shards [dupShards]dupShard
}

type dupShard struct {
	mu        sync.Mutex
	cur, prev map[dupKey]*dupEntry
	rotated   time.Time
}

func newDupCache(ttl time.Duration, maxPerShard int) *dupCache {
	c := &dupCache{ttl: ttl, max: maxPerShard, seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].cur = map[dupKey]*dupEntry{}
		c.shards[i].prev = map[dupKey]*dupEntry{}
	}
	return c
}

func (c *dupCache) shard(k *dupKey) *dupShard {
	var h maphash.Hash
	h.SetSeed(c.seed)
	a := k.src.Addr().As16()
	h.Write(a[:])
	h.Write(k.auth[:])
	h.WriteByte(k.id)
	return &c.shards[h.Sum64()%dupShards]
}

func (s *dupShard) rotate(now time.Time, ttl time.Duration, max int) {
	if now.Sub(s.rotated) >= ttl || len(s.cur) >= max {
		s.prev, s.cur = s.cur, make(map[dupKey]*dupEntry, len(s.cur))
		s.rotated = now
	}
}

// begin looks k up. If it is known, it returns its response (nil while
// the request is still being committed) and true. Otherwise it records
// k as in progress and returns false.
func (c *dupCache) begin(k dupKey, now time.Time) (resp []byte, seen bool) {
	s := c.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate(now, c.ttl, c.max)
	if e, ok := s.cur[k]; ok {
		return e.resp, true
	}
	if e, ok := s.prev[k]; ok {
		return e.resp, true
	}
	s.cur[k] = &dupEntry{}
	return nil, false
}

// done records the response sent for k.
func (c *dupCache) done(k dupKey, resp []byte) {
	s := c.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.cur[k]; ok {
		e.resp = resp
		return
	}
	if e, ok := s.prev[k]; ok {
		e.resp = resp
		return
	}
	s.cur[k] = &dupEntry{resp: resp}
}

// forget removes k, for a request dropped before it was answered, so
// that its retransmission is processed afresh.
func (c *dupCache) forget(k dupKey) {
	s := c.shard(&k)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cur, k)
	delete(s.prev, k)
}

// len is the number of entries, for metrics.
func (c *dupCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.cur) + len(s.prev)
		s.mu.Unlock()
	}
	return n
}
