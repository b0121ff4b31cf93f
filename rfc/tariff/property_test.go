package tariff

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"layeh.com/radius"
)

const (
	propTariffs  = 300
	propSessions = 20
)

// forTariffs runs f on propTariffs random tariffs from a fixed seed.
func forTariffs(t *testing.T, seed uint64, f func(t *testing.T, r *rand.Rand, tf *Tariff)) {
	r := rand.New(rand.NewPCG(seed, 0x7a71ff))
	for i := 0; i < propTariffs; i++ {
		text := genTariffText(r)
		tf, err := Parse(text)
		if err != nil {
			t.Fatalf("generated tariff %q: %v", text, err)
		}
		f(t, r, tf)
		if t.Failed() {
			t.Fatalf("tariff %d: %s", i, tf)
		}
	}
}

func TestPropertyRoundTripText(t *testing.T) {
	forTariffs(t, 1, func(t *testing.T, r *rand.Rand, tf *Tariff) {
		s := tf.String()
		tf2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(String()): %v", err)
		}
		if !tf2.Equal(tf) {
			t.Errorf("Parse(String()) not Equal")
		}
		if s2 := tf2.String(); s2 != s {
			t.Errorf("String not stable:\n%s\n%s", s, s2)
		}
		if got := Join(Split(s)); got != s {
			t.Errorf("Join(Split()) = %q", got)
		}
	})
}

func TestPropertyRoundTripRADIUS(t *testing.T) {
	secret := []byte("testing123")
	forTariffs(t, 2, func(t *testing.T, r *rand.Rand, tf *Tariff) {
		p := radius.New(radius.CodeAccessAccept, secret)
		if err := tf.AddTo(p); err != nil {
			t.Fatal(err)
		}
		wire, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		q, err := radius.Parse(wire, secret)
		if err != nil {
			t.Fatal(err)
		}
		tf2, err := FromPacket(q)
		if err != nil {
			t.Fatalf("FromPacket: %v", err)
		}
		if !tf2.Equal(tf) {
			t.Errorf("RADIUS round trip not Equal: %s", tf2)
		}
	})
}

// TestPropertyLines: lines sum to the total, each line is quantity times
// price, the total never exceeds the cap, Total agrees with Price.
func TestPropertyLines(t *testing.T) {
	forTariffs(t, 3, func(t *testing.T, r *rand.Rand, tf *Tariff) {
		for j := 0; j < propSessions; j++ {
			u := genUsage(r)
			c, err := tf.Price(u)
			if errors.Is(err, ErrOverflow) {
				continue
			}
			if err != nil {
				t.Fatalf("Price(%+v): %v", u, err)
			}
			var sum int64
			for _, l := range c.Lines {
				sum += l.Amount
				if l.Item == ItemCap {
					if l.Amount >= 0 {
						t.Errorf("cap line %v not negative", l)
					}
					continue
				}
				if l.Quantity <= 0 || l.Quantity*l.Price != l.Amount {
					t.Errorf("line %v: quantity x price != amount", l)
				}
			}
			if sum != c.Total {
				t.Errorf("Price(%+v): lines sum to %d, total %d", u, sum, c.Total)
			}
			if cp, ok := tf.Cap(); ok && c.Total > cp {
				t.Errorf("total %d over cap %d", c.Total, cp)
			}
			if c.Total < 0 {
				t.Errorf("negative total %d", c.Total)
			}
			if got, err := tf.Total(u); err != nil || got != c.Total {
				t.Errorf("Total = %d, %v; Price %d", got, err, c.Total)
			}
		}
	})
}

// TestPropertyMonotone: more time or more octets never cost less.
func TestPropertyMonotone(t *testing.T) {
	forTariffs(t, 4, func(t *testing.T, r *rand.Rand, tf *Tariff) {
		for j := 0; j < propSessions; j++ {
			u := genUsage(r)
			v := u
			switch r.IntN(4) {
			case 0:
				v.Stop = v.Stop.Add(time.Duration(r.Int64N(7200)) * time.Second)
			case 1:
				v.In += r.Uint64N(1 << 31)
			case 2:
				v.Out += r.Uint64N(1 << 31)
			default:
				v.Stop = v.Stop.Add(time.Duration(r.Int64N(86400)) * time.Second)
				v.In += r.Uint64N(1 << 31)
				v.Out += r.Uint64N(1 << 31)
			}
			a, err1 := tf.Total(u)
			b, err2 := tf.Total(v)
			if err1 != nil || err2 != nil {
				if errors.Is(err1, ErrOverflow) || errors.Is(err2, ErrOverflow) {
					continue
				}
				t.Fatalf("Total: %v, %v", err1, err2)
			}
			if b < a {
				t.Errorf("not monotone: %+v costs %d, %+v costs %d", u, a, v, b)
			}
		}
	})
}

// TestPropertyMeter: fed a session in random steps, the meter's running
// charge is Price of the usage so far after every update, never falls,
// never exceeds the final charge, and ends at Price of the whole record.
func TestPropertyMeter(t *testing.T) {
	forTariffs(t, 5, func(t *testing.T, r *rand.Rand, tf *Tariff) {
		var m Meter
		for j := 0; j < propSessions/2; j++ {
			u := genUsage(r)
			m.Reset(tf, u.Start)
			now := u.Start
			var in, out uint64
			var running []int64
			for k := 0; k < 60; k++ {
				switch r.IntN(10) {
				case 0: // the clock steps back: counts as no time
					now = now.Add(-time.Duration(r.Int64N(100)) * time.Second)
				case 1:
				default:
					now = now.Add(time.Duration(r.Int64N(int64(2*time.Hour))) + time.Duration(r.Int64N(3))*time.Hour)
				}
				di, do := r.Uint64N(1<<30), r.Uint64N(1<<30)
				if r.IntN(3) == 0 {
					di, do = 0, 0
				}
				in, out = in+di, out+do
				got, err := m.Update(now, di, do)
				if errors.Is(err, ErrOverflow) {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				want, err := tf.Total(m.Usage())
				if err != nil || got != want {
					t.Fatalf("after update %d: meter %d, Price(%+v) = %d, %v", k, got, m.Usage(), want, err)
				}
				if len(running) > 0 && got < running[len(running)-1] {
					t.Fatalf("running charge fell from %d to %d", running[len(running)-1], got)
				}
				running = append(running, got)
			}
			if u := m.Usage(); u.In != in || u.Out != out {
				t.Fatalf("meter usage %+v, fed %d, %d", u, in, out)
			}
			final, err := m.Final()
			if err != nil {
				t.Fatal(err)
			}
			whole, err := tf.Price(m.Usage())
			if err != nil {
				t.Fatal(err)
			}
			if final.Total != m.Total() || whole.Total != m.Total() {
				t.Fatalf("final %d, Price %d, meter %d", final.Total, whole.Total, m.Total())
			}
			for _, v := range running {
				if v > final.Total {
					t.Fatalf("running %d exceeds final %d", v, final.Total)
				}
			}
		}
	})
}

// TestPropertyBandsReference checks the band split against a reference
// written independently of segment(): the band of each UTC minute from
// the wall clock (time.In) and the band definitions, with maximal runs
// rounded on their own. Offsets in every zone used are whole minutes, so
// a band cannot change inside a UTC minute.
func TestPropertyBandsReference(t *testing.T) {
	forTariffs(t, 6, func(t *testing.T, r *rand.Rand, tf *Tariff) {
		c := &tf.c
		if !c.hasTime || c.nbands == 0 {
			return
		}
		bandOfMinute := func(m int64) int {
			lt := time.Unix(m*60, 0).In(tf.loc)
			w := int32(lt.Hour()*60 + lt.Minute())
			for i := 0; i < c.nbands; i++ {
				b := c.bands[i]
				to := b.to % 1440
				if b.from < to && b.from <= w && w < to || b.from >= to && (w >= b.from || w < to) {
					return i + 1
				}
			}
			return 0
		}
		for j := 0; j < propSessions/2; j++ {
			u := genUsage(r)
			start, stop := u.Start.Unix(), u.Stop.Unix()
			var want [MaxBands + 1]int64
			runStart, runBand := start, -1
			for s := start; s < stop; {
				b := bandOfMinute(floorDiv(s, 60))
				if runBand >= 0 && b != runBand {
					want[runBand] += int64(divRound(uint64(s-runStart), uint64(c.incr), c.timeRound))
					runStart = s
				}
				runBand = b
				s = min((floorDiv(s, 60)+1)*60, stop)
			}
			if runBand >= 0 {
				want[runBand] += int64(divRound(uint64(stop-runStart), uint64(c.incr), c.timeRound))
			}
			var a accum
			if err := tf.compute(start, stop, 0, 0, &a); err != nil && !errors.Is(err, ErrOverflow) {
				t.Fatal(err)
			}
			if a.timeN != want {
				t.Fatalf("%v to %v: increments per band %v, reference %v", u.Start, u.Stop, a.timeN, want)
			}
		}
	})
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
