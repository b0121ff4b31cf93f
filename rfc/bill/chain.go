package bill

import (
	"encoding/hex"
	"fmt"
	"strconv"
)

// Link is what the chain checker needs of a bill: its sequence number, its
// hash and the hash it names as its predecessor's. A store can keep these
// three columns and check the chain without decoding bills.
type Link struct {
	Sequence uint64
	Hash     [HashSize]byte
	PrevHash [HashSize]byte
}

// Link returns b's place in its gateway's chain.
func (b *Bill) Link() Link {
	return Link{Sequence: b.Sequence, Hash: b.Hash(), PrevHash: b.PrevHash}
}

// FindingKind says what the chain checker found.
type FindingKind uint8

// Kinds of finding. The zero value is invalid.
const (
	_ FindingKind = iota
	// Gap: sequence numbers From through To had not arrived when a later
	// bill did. Fed in order of receipt, a Gap may later be filled (each
	// late bill is then a Reorder); over a slice sorted by sequence it is
	// final.
	Gap
	// Duplicate: the same bill (same sequence, same hash) again.
	Duplicate
	// Fork: two different bills claim one place in the chain: either two
	// bills with the same sequence (Other is the one received first), or
	// a bill whose PrevHash does not name the bill before it (Link is
	// true, Other is the hash of the bill Sequence-1 that was received).
	Fork
	// Reorder: the bill arrived after one with a higher sequence (After).
	Reorder
)

func (k FindingKind) String() string {
	switch k {
	case Gap:
		return "gap"
	case Duplicate:
		return "duplicate"
	case Fork:
		return "fork"
	case Reorder:
		return "reorder"
	}
	return "FindingKind(" + strconv.Itoa(int(k)) + ")"
}

// Finding is one thing wrong with a gateway's chain.
type Finding struct {
	Kind FindingKind
	// Sequence and Hash name the bill the finding is about: for a Gap the
	// bill after it; for a Fork with Link, the bill whose PrevHash is
	// wrong.
	Sequence uint64
	Hash     [HashSize]byte
	// From and To (inclusive) are the missing sequence numbers of a Gap.
	From, To uint64
	// Other is the hash of the bill a Fork conflicts with.
	Other [HashSize]byte
	// Link is set on a Fork found through PrevHash rather than through a
	// repeated sequence.
	Link bool
	// After is, for a Reorder, the highest sequence received before it.
	After uint64
}

func (f Finding) String() string {
	switch f.Kind {
	case Gap:
		if f.From == f.To {
			return fmt.Sprintf("gap: bill %d missing before bill %d", f.From, f.Sequence)
		}
		return fmt.Sprintf("gap: bills %d to %d missing before bill %d", f.From, f.To, f.Sequence)
	case Duplicate:
		return fmt.Sprintf("duplicate: bill %d (%s) again", f.Sequence, short(f.Hash))
	case Fork:
		if f.Link && f.Sequence <= 1 {
			return fmt.Sprintf("fork: bill %d (%s) names a previous bill", f.Sequence, short(f.Hash))
		}
		if f.Link {
			return fmt.Sprintf("fork: bill %d (%s) does not follow bill %d (%s)",
				f.Sequence, short(f.Hash), f.Sequence-1, short(f.Other))
		}
		return fmt.Sprintf("fork: two bills %d (%s, first %s)", f.Sequence, short(f.Hash), short(f.Other))
	case Reorder:
		return fmt.Sprintf("reorder: bill %d after bill %d", f.Sequence, f.After)
	}
	return f.Kind.String()
}

func short(h [HashSize]byte) string { return hex.EncodeToString(h[:6]) }

// Checker checks one gateway's chain as its bills arrive. Its zero value
// expects sequence 1 first; Resume starts it further on. Add never fails:
// whatever it is fed, it reports findings. It keeps every link it is fed,
// about 100 octets each. A Checker is not safe for concurrent use.
type Checker struct {
	seen    map[uint64]entry
	high    uint64 // highest sequence fed or resumed from
	started bool   // something was fed or resumed from
}

type entry struct {
	hash, prev [HashSize]byte
	prevKnown  bool
}

// Resume makes c continue after a bill already checked: the head of the
// chain as checked so far. A later bill below seq cannot be told a
// duplicate from a fork, since c never saw the bills before seq; it is
// reported as a Reorder.
func (c *Checker) Resume(seq uint64, hash [HashSize]byte) {
	if c.seen == nil {
		c.seen = make(map[uint64]entry)
	}
	c.seen[seq] = entry{hash: hash}
	if !c.started || seq > c.high {
		c.high = seq
	}
	c.started = true
}

// Add feeds the next bill received and returns what it reveals, nil when
// the chain is sound so far.
func (c *Checker) Add(l Link) []Finding {
	if c.seen == nil {
		c.seen = make(map[uint64]entry)
	}
	s := l.Sequence
	if e, ok := c.seen[s]; ok {
		if e.hash == l.Hash {
			return []Finding{{Kind: Duplicate, Sequence: s, Hash: l.Hash}}
		}
		return []Finding{{Kind: Fork, Sequence: s, Hash: l.Hash, Other: e.hash}}
	}
	c.seen[s] = entry{hash: l.Hash, prev: l.PrevHash, prevKnown: true}

	var out []Finding
	switch {
	case !c.started:
		// The first bill fed: the chain starts at 1.
		if s > 1 {
			out = append(out, Finding{Kind: Gap, Sequence: s, Hash: l.Hash, From: 1, To: s - 1})
		}
		c.high = s
	case s < c.high:
		out = append(out, Finding{Kind: Reorder, Sequence: s, Hash: l.Hash, After: c.high})
	case s > c.high:
		// c.high is below s, so c.high+1 does not overflow.
		if s > c.high+1 {
			out = append(out, Finding{Kind: Gap, Sequence: s, Hash: l.Hash, From: c.high + 1, To: s - 1})
		}
		c.high = s
	}
	c.started = true

	// The link back to bill s-1, when it has been seen; bill 1 names none.
	switch {
	case s == 1:
		if l.PrevHash != [HashSize]byte{} {
			out = append(out, Finding{Kind: Fork, Link: true, Sequence: s, Hash: l.Hash})
		}
	case s > 1:
		if p, ok := c.seen[s-1]; ok && p.hash != l.PrevHash {
			out = append(out, Finding{Kind: Fork, Link: true, Sequence: s, Hash: l.Hash, Other: p.hash})
		}
	}
	// The link from bill s+1, when it arrived first.
	if s+1 > s {
		if n, ok := c.seen[s+1]; ok && n.prevKnown && n.prev != l.Hash {
			out = append(out, Finding{Kind: Fork, Link: true, Sequence: s + 1, Hash: n.hash, Other: l.Hash})
		}
	}
	return out
}

// CheckSorted checks a gateway's bills sorted by sequence (as a store
// returns them), feeding them to a new Checker in slice order, and returns
// every finding. Over a sorted slice there is no Reorder and every Gap is
// final; a bill out of order is reported as a Reorder.
func CheckSorted(links []Link) []Finding {
	var c Checker
	var out []Finding
	for _, l := range links {
		out = append(out, c.Add(l)...)
	}
	return out
}
