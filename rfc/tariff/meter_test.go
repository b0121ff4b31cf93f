package tariff

import (
	"errors"
	"testing"
	"time"
)

const benchTariff = "T1;id=bench;v=1;cur=CNY;sc=4;tz=Europe/Berlin;fee=5000;time=600/1m/up;both=1024@100,50/MB/up;band=peak/08:00-18:00/x1.5;cap=300000"

func mustParse(t testing.TB, s string) *Tariff {
	t.Helper()
	tf, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return tf
}

func TestMeterSteps(t *testing.T) {
	tf := mustParse(t, "T1;id=m;v=1;cur=CNY;sc=2;tz=UTC;fee=100;time=10/1m/up;out=2/MB/up;band=peak/08:00-09:00/x2;cap=1000")
	start := time.Date(2024, 1, 1, 7, 59, 0, 0, time.UTC)
	m := tf.NewMeter(start)
	if m.Total() != 100 {
		t.Fatalf("at start: %d, want the fee 100", m.Total())
	}
	steps := []struct {
		at   time.Duration
		out  uint64
		want int64
	}{
		{0, 0, 100},
		{1 * time.Second, 0, 110},                     // a started minute
		{60 * time.Second, 0, 110},                    // 07:59-08:00 base, the edge
		{61 * time.Second, 1, 100 + 10 + 20 + 2},      // a started peak minute and MB
		{59 * time.Second, 999999, 100 + 10 + 20 + 2}, // clock back: no time; still 1 MB
		{61 * time.Second, 1, 100 + 10 + 20 + 4},
		{10 * time.Hour, 0, 1000}, // capped
	}
	for _, s := range steps {
		got, err := m.Update(start.Add(s.at), 0, s.out)
		if err != nil || got != s.want {
			t.Errorf("Update(+%v, out %d) = %d, %v; want %d", s.at, s.out, got, err, s.want)
		}
	}
	u := m.Usage()
	if !u.Start.Equal(start) || !u.Stop.Equal(start.Add(10*time.Hour)) || u.Out != 1000001 || u.In != 0 {
		t.Errorf("Usage() = %+v", u)
	}
	if m.Tariff() != tf {
		t.Error("Tariff()")
	}
}

func TestMeterErrorsStick(t *testing.T) {
	tf := mustParse(t, "T1;id=m;v=1;cur=CNY;sc=2;both=1/KB/up")
	start := time.Unix(1700000000, 0)
	m := tf.NewMeter(start)
	if _, err := m.Update(start, 1<<63, 1<<62); err != nil {
		t.Fatal(err)
	}
	before := m.Total()
	if got, err := m.Update(start, 1<<63, 0); !errors.Is(err, ErrOverflow) || got != before {
		t.Fatalf("octet overflow: %d, %v", got, err)
	}
	if _, err := m.Update(start, 0, 0); !errors.Is(err, ErrOverflow) || !errors.Is(m.Err(), ErrOverflow) {
		t.Fatalf("error did not stick: %v", err)
	}
	if _, err := m.Final(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Final: %v", err)
	}

	m = tf.NewMeter(start)
	if _, err := m.Update(start.Add(MaxSession+time.Second), 0, 0); !errors.Is(err, ErrTooLong) {
		t.Fatalf("too long: %v", err)
	}
	m.Reset(tf, start)
	if m.Err() != nil || m.Total() != 0 {
		t.Fatalf("Reset kept state: %v %d", m.Err(), m.Total())
	}
}

// TestMeterNoAllocs: an update allocates nothing, including one that
// crosses band edges and a daylight-saving change.
func TestMeterNoAllocs(t *testing.T) {
	tf := mustParse(t, benchTariff)
	start := time.Date(2024, 3, 30, 20, 0, 0, 0, time.UTC)
	m := tf.NewMeter(start)
	now := start
	allocs := testing.AllocsPerRun(10000, func() {
		now = now.Add(17 * time.Second) // 10000 x 17 s crosses both edges twice and the DST change
		if _, err := m.Update(now, 1500, 40000); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Update allocates %v times per call", allocs)
	}
	allocs = testing.AllocsPerRun(1000, func() {
		m.Reset(tf, start)
		if _, err := tf.Total(Usage{Start: start, Stop: now, In: 1e9, Out: 3e9}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Reset and Total allocate %v times per call", allocs)
	}
}
