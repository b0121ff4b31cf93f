package tariff

import "time"

// Meter prices a session while it runs. Feed it the octets counted since
// the last update and the time now; it keeps the running charge, which
// is always Price of the usage so far: the same segments, the same
// rounding, the same tiers and cap, worked out incrementally. Because
// Price is monotone in usage (a longer session or more octets never
// costs less), no running charge exceeds the final one, and the final
// charge is exactly Price of the whole session's usage record.
//
// An update costs a few integer operations and no allocation; only
// crossing a band edge consults the time zone. A Meter is not safe for
// concurrent use.
type Meter struct {
	t          *Tariff
	start, now int64 // Unix seconds
	in, out    uint64

	segStart, segEnd int64 // the open band segment
	segBand          int
	closed           int64 // time charge of the segments before it

	total int64
	err   error
}

// NewMeter starts metering a session that began at start.
func (t *Tariff) NewMeter(start time.Time) *Meter {
	m := new(Meter)
	m.Reset(t, start)
	return m
}

// Reset starts m over, for a session under t that began at start, so a
// Meter can be reused without allocating.
func (m *Meter) Reset(t *Tariff, start time.Time) {
	s := start.Unix()
	*m = Meter{t: t, start: s, now: s, segStart: s}
	if t.c.hasTime {
		m.segBand, m.segEnd = t.segment(s)
	}
	m.recompute()
}

// Update records the octets counted since the last update and the time
// now, and returns the running charge. A now before the last update's
// (a clock stepped back) counts as the last update's time, so the
// session never shrinks. After an error (ErrOverflow, ErrTooLong) the
// Meter stays in error: Update returns the last good charge and the
// error, as Price of the final usage will.
func (m *Meter) Update(now time.Time, dIn, dOut uint64) (int64, error) {
	if m.err != nil {
		return m.total, m.err
	}
	if s := now.Unix(); s > m.now {
		if s-m.start > maxSessionSeconds {
			m.err = ErrTooLong
			return m.total, m.err
		}
		m.now = s
	}
	in, out := m.in+dIn, m.out+dOut
	if in < m.in || out < m.out {
		m.err = ErrOverflow
		return m.total, m.err
	}
	m.in, m.out = in, out
	m.recompute()
	return m.total, m.err
}

func (m *Meter) recompute() {
	c := &m.t.c
	var sum int64
	if c.hasFee {
		sum = c.fee
	}
	var ok bool
	if c.hasTime {
		for m.now >= m.segEnd {
			n := int64(divRound(uint64(m.segEnd-m.segStart), uint64(c.incr), c.timeRound))
			amt, ok1 := mulAmount(n, m.t.bandPrice(m.segBand))
			closed, ok2 := addAmount(m.closed, amt)
			if !ok1 || !ok2 {
				m.err = ErrOverflow
				return
			}
			m.closed = closed
			m.segStart = m.segEnd
			m.segBand, m.segEnd = m.t.segment(m.segStart)
		}
		n := int64(divRound(uint64(m.now-m.segStart), uint64(c.incr), c.timeRound))
		amt, ok1 := mulAmount(n, m.t.bandPrice(m.segBand))
		if !ok1 {
			m.err = ErrOverflow
			return
		}
		if sum, ok = addAmount(sum, m.closed); ok {
			sum, ok = addAmount(sum, amt)
		}
		if !ok {
			m.err = ErrOverflow
			return
		}
	}
	for i := 0; i < c.nvol; i++ {
		v := &c.vol[i]
		octets, err := v.octets(m.in, m.out)
		if err != nil {
			m.err = err
			return
		}
		amt, err := v.charge(octets, nil, nil)
		if err != nil {
			m.err = err
			return
		}
		if sum, ok = addAmount(sum, amt); !ok {
			m.err = ErrOverflow
			return
		}
	}
	if c.hasCap && sum > c.cap {
		sum = c.cap
	}
	m.total = sum
}

// Total returns the running charge as of the last update.
func (m *Meter) Total() int64 { return m.total }

// Err returns the error that stopped the Meter, if any.
func (m *Meter) Err() error { return m.err }

// Usage returns the usage so far as a record: the session's start, the
// last update's time (both in UTC, whole seconds) and the octets each
// way. Price(m.Usage()) has the Total of m.
func (m *Meter) Usage() Usage {
	return Usage{
		Start: time.Unix(m.start, 0).UTC(),
		Stop:  time.Unix(m.now, 0).UTC(),
		In:    m.in,
		Out:   m.out,
	}
}

// Final prices the usage so far with its lines: the bill of a session
// that ends now. Its Total equals m.Total().
func (m *Meter) Final() (Charge, error) {
	if m.err != nil {
		return Charge{}, m.err
	}
	return m.t.Price(m.Usage())
}

// Tariff returns the tariff m prices with.
func (m *Meter) Tariff() *Tariff { return m.t }
