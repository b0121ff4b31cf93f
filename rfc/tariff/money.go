package tariff

import (
	"math"
	"math/bits"
	"strconv"
)

// Checked arithmetic on the non-negative int64 amounts pricing works
// with. Every caller passes a >= 0 and b >= 0; the result is false when
// the exact result does not fit in int64.

func mulAmount(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	return int64(lo), true
}

func addAmount(a, b int64) (int64, bool) {
	s := a + b
	if s < a {
		return 0, false
	}
	return s, true
}

// divRound divides n by d (d > 0) and rounds the quotient by r.
// Nearest rounds half up. The result never exceeds n/d + 1, so it
// cannot overflow.
func divRound(n, d uint64, r rounding) uint64 {
	q, rem := n/d, n%d
	switch r {
	case roundUp:
		if rem != 0 {
			q++
		}
	case roundNear:
		if rem >= d-rem {
			q++
		}
	}
	return q
}

func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }
