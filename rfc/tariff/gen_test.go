package tariff

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Random tariffs and usage for the property tests. Everything comes from
// a seeded generator, so a failure replays.

var genZones = []string{
	"UTC", "Europe/Berlin", "America/New_York", "Asia/Shanghai",
	"Australia/Lord_Howe", // 30-minute daylight saving
	"Asia/Kathmandu",      // +05:45
	"America/Sao_Paulo", "Europe/London",
}

var genIncrements = []string{"1s", "7s", "30s", "1m", "90s", "5m", "15m", "1h", "24h"}
var genUnits = []string{"KB", "MB", "GB", "KiB", "MiB", "GiB"}
var genRound = []string{"up", "down", "near"}

func genPrice(r *rand.Rand, max int64) int64 {
	switch r.IntN(8) {
	case 0:
		return 0
	case 1:
		return r.Int64N(10)
	}
	return r.Int64N(max + 1)
}

// genTariffText writes a random valid tariff; items in random order.
func genTariffText(r *rand.Rand) string {
	items := []string{
		fmt.Sprintf("id=p%d", r.IntN(1000)),
		fmt.Sprintf("v=%d", r.Uint32()),
		"cur=" + []string{"CNY", "EUR", "USD", "JPY"}[r.IntN(4)],
		fmt.Sprintf("sc=%d", r.IntN(10)),
	}
	if r.IntN(4) != 0 {
		items = append(items, "tz="+genZones[r.IntN(len(genZones))])
	}
	if r.IntN(2) == 0 {
		items = append(items, fmt.Sprintf("fee=%d", genPrice(r, 10000)))
	}
	hasTime := r.IntN(4) != 0
	if hasTime {
		items = append(items, fmt.Sprintf("time=%d/%s/%s", genPrice(r, 1000), genIncrements[r.IntN(len(genIncrements))], genRound[r.IntN(3)]))
	}
	vol := func(dir string) string {
		n := 1 + r.IntN(4)
		var tiers []string
		for i := 0; i < n-1; i++ {
			tiers = append(tiers, fmt.Sprintf("%d@%d", 1+r.Int64N(5000), genPrice(r, 500)))
		}
		tiers = append(tiers, fmt.Sprint(genPrice(r, 500)))
		return fmt.Sprintf("%s=%s/%s/%s", dir, strings.Join(tiers, ","), genUnits[r.IntN(len(genUnits))], genRound[r.IntN(3)])
	}
	switch r.IntN(5) {
	case 1:
		items = append(items, vol("in"))
	case 2:
		items = append(items, vol("out"))
	case 3:
		items = append(items, vol("in"), vol("out"))
	case 4:
		items = append(items, vol("both"))
	}
	if hasTime && r.IntN(4) != 0 {
		// k distinct minutes cut the day; some of the pieces become bands.
		k := 2 + r.IntN(7)
		var pts []int
		for len(pts) < k {
			var m int
			if r.IntN(2) == 0 {
				m = r.IntN(24) * 60 // on the hour, often near DST jumps
			} else {
				m = r.IntN(1440)
			}
			if !slices.Contains(pts, m) {
				pts = append(pts, m)
			}
		}
		slices.Sort(pts)
		nb := 0
		for i := range pts {
			if nb == MaxBands || r.IntN(3) == 0 {
				continue
			}
			from, to := pts[i], pts[(i+1)%len(pts)]
			rate := fmt.Sprint(genPrice(r, 2000))
			if r.IntN(2) == 0 {
				rate = fmt.Sprintf("x%d.%03d", r.IntN(4), r.IntN(1000))
			}
			items = append(items, fmt.Sprintf("band=b%d/%02d:%02d-%02d:%02d/%s", nb, from/60, from%60, to/60, to%60, rate))
			nb++
		}
	}
	if r.IntN(3) == 0 {
		items = append(items, fmt.Sprintf("cap=%d", genPrice(r, 500000)))
	}
	r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	return FormatTag + ";" + strings.Join(items, ";")
}

// DST transitions (and ordinary days) to start sessions near.
var genAnchors = []time.Time{
	time.Date(2024, 3, 31, 1, 0, 0, 0, time.UTC),   // Europe spring forward
	time.Date(2024, 10, 27, 1, 0, 0, 0, time.UTC),  // Europe fall back
	time.Date(2024, 3, 10, 7, 0, 0, 0, time.UTC),   // New York spring forward
	time.Date(2024, 11, 3, 6, 0, 0, 0, time.UTC),   // New York fall back
	time.Date(2024, 4, 6, 15, 0, 0, 0, time.UTC),   // Lord Howe fall back (02:00 -> 01:30)
	time.Date(2024, 10, 5, 15, 30, 0, 0, time.UTC), // Lord Howe spring forward
	time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC),
	time.Date(2031, 3, 30, 1, 0, 0, 0, time.UTC), // beyond the explicit zone data
}

func genOctets(r *rand.Rand) uint64 {
	switch r.IntN(6) {
	case 0:
		return 0
	case 1:
		return r.Uint64N(1 << 16)
	case 2:
		return 1<<32 - 2 + r.Uint64N(4) // around 2^32
	case 3:
		return r.Uint64N(1 << 44)
	}
	return r.Uint64N(1 << 32)
}

func genDuration(r *rand.Rand) int64 {
	switch r.IntN(6) {
	case 0:
		return 0
	case 1:
		return r.Int64N(120)
	case 2:
		return r.Int64N(4 * 3600)
	case 3:
		return r.Int64N(3 * 86400)
	}
	return r.Int64N(26 * 3600)
}

func genUsage(r *rand.Rand) Usage {
	a := genAnchors[r.IntN(len(genAnchors))]
	start := a.Add(time.Duration(r.Int64N(2*86400)-86400) * time.Second)
	return Usage{
		Start: start,
		Stop:  start.Add(time.Duration(genDuration(r)) * time.Second),
		In:    genOctets(r),
		Out:   genOctets(r),
	}
}
