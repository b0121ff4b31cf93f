package tariff

import (
	"testing"
	"time"
)

// A two-band, two-tier tariff with a cap (the target: Price
// under 2 µs), over a session that crosses a band edge.
const benchTwoBands = "T1;id=bench;v=1;cur=CNY;sc=4;tz=Europe/Berlin;fee=5000;time=600/1m/up;both=1024@100,50/MB/up;band=peak/08:00-18:00/x1.5;band=night/23:00-06:00/200;cap=300000"

var benchUsage = Usage{
	Start: time.Date(2024, 6, 3, 16, 42, 17, 0, time.UTC), // 18:42 CEST
	Stop:  time.Date(2024, 6, 3, 21, 47, 5, 0, time.UTC),  // 23:47 CEST
	In:    812345678,
	Out:   2345678901,
}

func BenchmarkPrice(b *testing.B) {
	tf := mustParse(b, benchTwoBands)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tf.Price(benchUsage); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTotal(b *testing.B) {
	tf := mustParse(b, benchTwoBands)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tf.Total(benchUsage); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMeterUpdate: one update a second with traffic, crossing band
// edges now and then (target: under 200 ns, no allocation).
func BenchmarkMeterUpdate(b *testing.B) {
	tf := mustParse(b, benchTwoBands)
	m := tf.NewMeter(benchUsage.Start)
	now := benchUsage.Start
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		if _, err := m.Update(now, 1500, 90000); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchTwoBands); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkString(b *testing.B) {
	tf := mustParse(b, benchTwoBands)
	b.ReportAllocs()
	for b.Loop() {
		_ = tf.String()
	}
}
