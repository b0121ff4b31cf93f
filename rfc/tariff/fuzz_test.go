package tariff

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"
)

func addSeeds(f *testing.F, add func(string)) {
	for _, v := range readVectors(f) {
		add(v.tariff)
	}
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 20; i++ {
		add(genTariffText(r))
	}
	add("")
	add("T1")
	add("T1;id=a;v=1;cur=CNY;sc=2;time=1/1m;band=p/23:00-00:00/x1.5;band=q/00:00-01:00/2")
}

// FuzzParse: whatever parses has a canonical form that parses to an
// equal tariff and prints the same again.
func FuzzParse(f *testing.F) {
	addSeeds(f, func(s string) { f.Add(s) })
	f.Fuzz(func(t *testing.T, text string) {
		tf, err := Parse(text)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(text) {
				t.Fatalf("error %v: not a *SyntaxError within the text", err)
			}
			return
		}
		s := tf.String()
		tf2, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String %q fails: %v", text, s, err)
		}
		if !tf2.Equal(tf) || tf2.String() != s {
			t.Fatalf("round trip differs:\n%q\n%q", s, tf2.String())
		}
		if Join(Split(s)) != s {
			t.Fatal("Join(Split()) differs")
		}
	})
}

// FuzzPrice: any tariff and usage price without panicking; lines sum to
// the total; a meter fed the usage in two steps agrees.
func FuzzPrice(f *testing.F) {
	addSeeds(f, func(s string) { f.Add(s, int64(1717236000), uint32(8130), uint64(3e8), uint64(25e8), uint32(600)) })
	f.Fuzz(func(t *testing.T, text string, start int64, dur uint32, in, out uint64, mid uint32) {
		tf, err := Parse(text)
		if err != nil {
			return
		}
		// Keep to years 1 to 9999 so time.Time behaves.
		start = start % (200 * 365 * 86400)
		s := time.Unix(start, 0)
		u := Usage{Start: s, Stop: s.Add(time.Duration(dur) * time.Second), In: in, Out: out}
		c, err := tf.Price(u)
		if err != nil {
			if !errors.Is(err, ErrOverflow) && !errors.Is(err, ErrTooLong) {
				t.Fatalf("Price: %v", err)
			}
			return
		}
		var sum int64
		for _, l := range c.Lines {
			sum += l.Amount
		}
		if sum != c.Total {
			t.Fatalf("lines sum to %d, total %d", sum, c.Total)
		}
		m := tf.NewMeter(s)
		mid = mid % (dur + 1)
		first, err1 := m.Update(s.Add(time.Duration(mid)*time.Second), in/2, out/3)
		last, err2 := m.Update(u.Stop, in-in/2, out-out/3)
		if err1 != nil || err2 != nil || first > last || last != c.Total {
			t.Fatalf("meter %d then %d (%v, %v); Price %d", first, last, err1, err2, c.Total)
		}
	})
}
