package tariff_test

import (
	"fmt"
	"time"

	"layeh.com/radius"

	"github.com/edgebill/edgebill/rfc/tariff"
)

// A plan in CNY at 1/10000: 0.50 per session, 0.06 per started minute,
// 0.09 from 19:00 to 23:00 Beijing time, the first 1024 MB free, then
// 0.01 per MB, and at most 30.00 per session.
func Example() {
	t, err := tariff.Parse("T1;id=home-50;v=3;cur=CNY;sc=4;tz=Asia/Shanghai;fee=5000;time=600/1m/up;both=1024@0,10240@100,50/MB/up;band=peak/19:00-23:00/x1.5;cap=300000")
	if err != nil {
		panic(err)
	}
	beijing := t.Location()
	c, err := t.Price(tariff.Usage{
		Start: time.Date(2024, 6, 1, 18, 0, 0, 0, beijing),
		Stop:  time.Date(2024, 6, 1, 20, 15, 30, 0, beijing),
		In:    300_000_000,
		Out:   2_500_000_001,
	})
	if err != nil {
		panic(err)
	}
	for _, l := range c.Lines {
		fmt.Println(l)
	}
	fmt.Println("total", t.FormatAmount(c.Total))
	// Output:
	// fee 1 x session @ 5000 = 5000
	// time 60 x 1m @ 600 = 36000
	// time/peak 76 x 1m @ 900 = 68400
	// both/1 1024 x MB @ 0 = 0
	// both/2 1777 x MB @ 100 = 177700
	// total 28.7100 CNY
}

func ExampleParse() {
	t, err := tariff.Parse("T1;id=night-owl;v=1;cur=EUR;sc=2;tz=Europe/Berlin;time=2/60s;band=night/23:00-00:00/0;band=early/00:00-07:00/0")
	if err != nil {
		panic(err)
	}
	fmt.Println(t)
	_, err = tariff.Parse("T1;id=x;v=1;cur=EUR;sc=2;time=2/1d")
	fmt.Println(err)
	// Output:
	// T1;id=night-owl;v=1;cur=EUR;sc=2;tz=Europe/Berlin;time=2/1m/up;band=early/00:00-07:00/0;band=night/23:00-24:00/0
	// tariff: offset 33: increment "1d": unit must be s, m or h
}

// The night band lasts 7 hours on the night Berlin springs forward.
func ExampleTariff_Price_dst() {
	t, _ := tariff.Parse("T1;id=d;v=1;cur=EUR;sc=2;tz=Europe/Berlin;time=10/1m/up;band=night/23:00-07:00/4")
	berlin := t.Location()
	c, _ := t.Price(tariff.Usage{
		Start: time.Date(2024, 3, 30, 22, 0, 0, 0, berlin),
		Stop:  time.Date(2024, 3, 31, 8, 0, 0, 0, berlin),
	})
	for _, l := range c.Lines {
		fmt.Println(l)
	}
	fmt.Println("total", t.FormatAmount(c.Total))
	// Output:
	// time 120 x 1m @ 10 = 1200
	// time/night 420 x 1m @ 4 = 1680
	// total 28.80 EUR
}

// A meter prices a live session; its final charge is Price of the
// whole usage record.
func ExampleMeter() {
	t, _ := tariff.Parse("T1;id=m;v=1;cur=CNY;sc=2;fee=100;time=10/1m/up;out=2/MB/up;cap=1000")
	start := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	m := t.NewMeter(start)
	for i := 1; i <= 4; i++ {
		now := start.Add(time.Duration(i) * 45 * time.Second)
		running, _ := m.Update(now, 0, 600_000)
		fmt.Println(now.Format("15:04:05"), t.FormatAmount(running))
	}
	final, _ := t.Price(m.Usage())
	fmt.Println("final", t.FormatAmount(final.Total))
	// Output:
	// 10:00:45 1.12 CNY
	// 10:01:30 1.24 CNY
	// 10:02:15 1.34 CNY
	// 10:03:00 1.36 CNY
	// final 1.36 CNY
}

// A tariff travels in EdgeBill-Tariff attributes of an Access-Accept.
func ExampleTariff_AddTo() {
	t, _ := tariff.Parse("T1;id=home-50;v=3;cur=CNY;sc=4;fee=5000")
	accept := radius.New(radius.CodeAccessAccept, []byte("secret"))
	if err := t.AddTo(accept); err != nil {
		panic(err)
	}
	got, err := tariff.FromPacket(accept)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.ID(), got.Version(), got.Equal(t))
	// Output:
	// home-50 3 true
}

func ExampleSplit() {
	text := "T1;id=x;v=1;cur=CNY;sc=2"
	for i := 0; i < 30; i++ {
		text += ";band=b" + fmt.Sprint(i) // not a valid tariff: just text to cut
	}
	chunks := tariff.Split(text)
	for _, c := range chunks {
		fmt.Println(len(c), c[len(c)-1:])
	}
	fmt.Println(tariff.Join(chunks) == text)
	// Output:
	// 240 ;
	// 44 9
	// true
}

func ExampleTariff_String() {
	t, _ := tariff.Parse("T1;id=home-50;v=3;cur=CNY;sc=4;tz=Asia/Shanghai;fee=5000;time=600/1m/up;both=1024@0,10240@100,50/MB/up;band=peak/19:00-23:00/x1.5;cap=300000")
	fmt.Println(len(t.String()), len(tariff.Split(t.String())))
	// Output:
	// 140 1
}
