package tariff

import (
	"math"
	"strings"
	"time"
)

// Usage is what a session used: its start and stop and the octets each
// way, counted as RFC 2866 counts them on a NAS (In from the
// subscriber, Out to the subscriber). Pricing works in whole seconds,
// as bills record them: Start and Stop are truncated to the second
// (time.Time.Unix), and only their wall-clock instants matter.
type Usage struct {
	Start, Stop time.Time
	In, Out     uint64
}

// Line is one itemised part of a charge. For every line but the cap,
// Amount = Quantity × Price. The lines of a Charge sum to its Total.
type Line struct {
	Item Item
	// Band names the time-of-day band of a time line; "" is the time
	// outside every band.
	Band string
	// Tier is the 1-based tier of a tiered volume line, 0 when the
	// volume rate has a single tier.
	Tier int
	// Quantity counts increments (time), units (volume), 1 (fee) or 0
	// (cap).
	Quantity int64
	// Unit names what Quantity counts: "session", an increment such as
	// "1m", a volume unit such as "MB"; "" for the cap.
	Unit string
	// Price is the price of one Unit in minor units; 0 for the cap.
	Price int64
	// Amount is what the line adds to the total; negative for the cap.
	Amount int64
}

// String writes the line on one line of text, as the vector table
// spells it: "fee 1 x session @ 500 = 500", "time/peak 3 x 1m @ 150 =
// 450", "out/2 12 x MB @ 50 = 600", "cap = -1234".
func (l Line) String() string {
	var b strings.Builder
	b.WriteString(l.Item.String())
	if l.Band != "" {
		b.WriteByte('/')
		b.WriteString(l.Band)
	}
	if l.Tier != 0 {
		b.WriteByte('/')
		b.WriteString(itoa(int64(l.Tier)))
	}
	if l.Item != ItemCap {
		b.WriteByte(' ')
		b.WriteString(itoa(l.Quantity))
		b.WriteString(" x ")
		b.WriteString(l.Unit)
		b.WriteString(" @ ")
		b.WriteString(itoa(l.Price))
	}
	b.WriteString(" = ")
	b.WriteString(itoa(l.Amount))
	return b.String()
}

// Charge is the price of a usage record: the total in the tariff's
// minor units and the lines that make it up.
type Charge struct {
	Total int64
	Lines []Line
}

// Price prices a usage record. The charge is
//
//	min(cap, fee + time + volume)
//
// where time is split at band edges in the tariff's zone and each part
// is rounded to increments on its own, and volume is rounded to units
// then priced tier by tier. Lines are listed for every part with a
// non-zero quantity: fee, time (base first, then bands by start), in,
// out, both (tier by tier), then the cap reduction if the cap applies.
//
// Price is pure: the same tariff and usage give the same charge on any
// machine (given the same zone rules, see the package documentation).
func (t *Tariff) Price(u Usage) (Charge, error) {
	var a accum
	if err := t.compute(u.Start.Unix(), u.Stop.Unix(), u.In, u.Out, &a); err != nil {
		return Charge{}, err
	}
	return Charge{Total: a.total, Lines: t.lines(&a)}, nil
}

// Total is Price without the lines, and without allocating.
func (t *Tariff) Total(u Usage) (int64, error) {
	var a accum
	if err := t.compute(u.Start.Unix(), u.Stop.Unix(), u.In, u.Out, &a); err != nil {
		return 0, err
	}
	return a.total, nil
}

// accum holds the quantities of one pricing.
type accum struct {
	timeN    [MaxBands + 1]int64 // increments per band, 0 = base
	units    [2]int64            // per volume rate, after rounding
	take     [2][MaxTiers]int64  // units per tier
	subtotal int64               // before the cap
	total    int64
}

func (t *Tariff) compute(start, stop int64, in, out uint64, a *accum) error {
	if stop < start {
		return ErrStopBeforeStart
	}
	if stop-start > maxSessionSeconds {
		return ErrTooLong
	}
	c := &t.c
	var sum int64
	if c.hasFee {
		sum = c.fee
	}
	if c.hasTime {
		for s := start; s < stop; {
			b, end := t.segment(s)
			e := min(end, stop)
			a.timeN[b] += int64(divRound(uint64(e-s), uint64(c.incr), c.timeRound))
			s = end
		}
		for b := 0; b <= c.nbands; b++ {
			amt, ok := mulAmount(a.timeN[b], t.bandPrice(b))
			if !ok {
				return ErrOverflow
			}
			if sum, ok = addAmount(sum, amt); !ok {
				return ErrOverflow
			}
		}
	}
	for i := 0; i < c.nvol; i++ {
		v := &c.vol[i]
		octets, err := v.octets(in, out)
		if err != nil {
			return err
		}
		amt, err := v.charge(octets, &a.units[i], &a.take[i])
		if err != nil {
			return err
		}
		var ok bool
		if sum, ok = addAmount(sum, amt); !ok {
			return ErrOverflow
		}
	}
	a.subtotal = sum
	a.total = sum
	if c.hasCap && sum > c.cap {
		a.total = c.cap
	}
	return nil
}

func (t *Tariff) bandPrice(b int) int64 {
	if b == 0 {
		return t.c.timePrice
	}
	return t.c.bands[b-1].price
}

// octets picks the octets a volume rate prices.
func (v *volRate) octets(in, out uint64) (uint64, error) {
	switch v.dir {
	case ItemIn:
		return in, nil
	case ItemOut:
		return out, nil
	}
	s := in + out
	if s < in {
		return 0, ErrOverflow
	}
	return s, nil
}

// charge prices octets: rounds them to units, then walks the tiers.
// units and take, when not nil, receive the quantities.
func (v *volRate) charge(octets uint64, units *int64, take *[MaxTiers]int64) (int64, error) {
	n := int64(divRound(octets, unitSizes[v.unit], v.round)) // < 2^55, the unit is >= 1000
	if units != nil {
		*units = n
	}
	var sum int64
	for j := 0; j < v.ntiers && n > 0; j++ {
		tr := &v.tiers[j]
		k := n
		if tr.size != 0 && tr.size < k {
			k = tr.size
		}
		n -= k
		if take != nil {
			take[j] = k
		}
		amt, ok := mulAmount(k, tr.price)
		if !ok {
			return 0, ErrOverflow
		}
		if sum, ok = addAmount(sum, amt); !ok {
			return 0, ErrOverflow
		}
	}
	return sum, nil
}

// lines lists the parts of a computed charge.
func (t *Tariff) lines(a *accum) []Line {
	c := &t.c
	n := 0
	if c.hasFee {
		n++
	}
	for b := 0; b <= c.nbands; b++ {
		if a.timeN[b] != 0 {
			n++
		}
	}
	for i := 0; i < c.nvol; i++ {
		for j := 0; j < c.vol[i].ntiers; j++ {
			if a.take[i][j] != 0 {
				n++
			}
		}
	}
	if a.total != a.subtotal {
		n++
	}
	if n == 0 {
		return nil
	}
	ls := make([]Line, 0, n)
	if c.hasFee {
		ls = append(ls, Line{Item: ItemFee, Quantity: 1, Unit: "session", Price: c.fee, Amount: c.fee})
	}
	for b := 0; b <= c.nbands; b++ {
		if q := a.timeN[b]; q != 0 {
			l := Line{Item: ItemTime, Quantity: q, Unit: c.incrText, Price: t.bandPrice(b)}
			if b > 0 {
				l.Band = c.bands[b-1].name
			}
			l.Amount = q * l.Price // checked in compute
			ls = append(ls, l)
		}
	}
	for i := 0; i < c.nvol; i++ {
		v := &c.vol[i]
		for j := 0; j < v.ntiers; j++ {
			if q := a.take[i][j]; q != 0 {
				l := Line{Item: v.dir, Quantity: q, Unit: unitNames[v.unit], Price: v.tiers[j].price}
				if v.ntiers > 1 {
					l.Tier = j + 1
				}
				l.Amount = q * l.Price // checked in compute
				ls = append(ls, l)
			}
		}
	}
	if a.total != a.subtotal {
		ls = append(ls, Line{Item: ItemCap, Amount: a.total - a.subtotal})
	}
	return ls
}

// segment returns the band in force at Unix second s and the first
// second after s at which another band is in force (math.MaxInt64 when
// the band never changes).
//
// A band is in force while the wall clock in the tariff's zone reads a
// time of day inside it, so edges follow the wall clock across
// daylight-saving changes: an edge at a local time that a spring-forward
// skips falls at the jump; an edge at a local time that a fall-back
// repeats is crossed twice.
func (t *Tariff) segment(s int64) (int, int64) {
	c := &t.c
	if c.nedges == 0 {
		return 0, math.MaxInt64
	}
	tt := time.Unix(s, 0).In(t.loc)
	first := true
	var cur int
	for {
		h, m, sec := tt.Clock()
		sod := int32(h*3600 + m*60 + sec)
		b, next := c.bandAt(sod)
		if first {
			cur, first = b, false
		} else if b != cur {
			return cur, s // the band changed at a zone transition
		}
		// The wall clock runs with the instant until the zone's
		// offset next changes.
		cand := s + int64(next-sod)
		_, zend := tt.ZoneBounds()
		if zend.IsZero() {
			return cur, cand
		}
		ze := zend.Unix()
		if cand < ze {
			return cur, cand
		}
		s, tt = ze, zend
	}
}

// bandAt returns the band in force at second-of-day sod and the second
// of day (up to 86400 past the last edge) at which the next band starts.
func (c *core) bandAt(sod int32) (int, int32) {
	n := c.nedges
	i := 0
	for i < n && c.edges[i].sec <= sod {
		i++
	}
	// edges[i-1] is the last edge at or before sod; none means the last
	// edge of the previous day.
	cur := c.edges[(i+n-1)%n].band
	if i < n {
		return int(cur), c.edges[i].sec
	}
	return int(cur), c.edges[0].sec + 86400
}
