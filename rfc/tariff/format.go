package tariff

import (
	"strconv"
	"strings"
)

// String returns the canonical text of t: items in the order
// T1, id, v, cur, sc, tz, fee, time, in, out, both, band (by start), cap;
// numbers without leading zeros; rounding always written; increments in
// the largest unit that divides them; multipliers without trailing zeros.
// Parse(t.String()) is equal to t.
func (t *Tariff) String() string {
	var b strings.Builder
	b.Grow(160)
	c := &t.c
	b.WriteString(FormatTag)
	b.WriteString(";id=")
	b.WriteString(c.id)
	b.WriteString(";v=")
	writeInt(&b, int64(c.version))
	b.WriteString(";cur=")
	b.WriteString(c.currency)
	b.WriteString(";sc=")
	writeInt(&b, int64(c.scale))
	b.WriteString(";tz=")
	b.WriteString(c.zone)
	if c.hasFee {
		b.WriteString(";fee=")
		writeInt(&b, c.fee)
	}
	if c.hasTime {
		b.WriteString(";time=")
		writeInt(&b, c.timePrice)
		b.WriteByte('/')
		b.WriteString(c.incrText)
		b.WriteByte('/')
		b.WriteString(roundNames[c.timeRound])
	}
	for i := 0; i < c.nvol; i++ {
		v := &c.vol[i]
		b.WriteByte(';')
		b.WriteString(v.dir.String())
		b.WriteByte('=')
		for j := 0; j < v.ntiers; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			if j < v.ntiers-1 {
				writeInt(&b, v.tiers[j].size)
				b.WriteByte('@')
			}
			writeInt(&b, v.tiers[j].price)
		}
		b.WriteByte('/')
		b.WriteString(unitNames[v.unit])
		b.WriteByte('/')
		b.WriteString(roundNames[v.round])
	}
	for i := 0; i < c.nbands; i++ {
		bd := &c.bands[i]
		b.WriteString(";band=")
		b.WriteString(bd.name)
		b.WriteByte('/')
		writeClock(&b, bd.from)
		b.WriteByte('-')
		writeClock(&b, bd.to)
		b.WriteByte('/')
		if bd.own {
			writeInt(&b, bd.price)
		} else {
			b.WriteByte('x')
			b.WriteString(formatMultiplier(bd.mult))
		}
	}
	if c.hasCap {
		b.WriteString(";cap=")
		writeInt(&b, c.cap)
	}
	return b.String()
}

func writeClock(b *strings.Builder, m int32) {
	b.WriteByte('0' + byte(m/600))
	b.WriteByte('0' + byte(m/60%10))
	b.WriteByte(':')
	b.WriteByte('0' + byte(m%60/10))
	b.WriteByte('0' + byte(m%10))
}

func writeInt(b *strings.Builder, v int64) {
	var buf [20]byte
	b.Write(strconv.AppendInt(buf[:0], v, 10))
}
