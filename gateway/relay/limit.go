package relay

import "time"

// bucket is a token bucket: rate tokens a second, up to burst.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) take(now time.Time, rate float64, burst int) bool {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens += d * rate
		if b.tokens > float64(burst) {
			b.tokens = float64(burst)
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// maxHosts bounds the per-host buckets kept; past it only the global
// bucket applies to new hosts until the next sweep.
const maxHosts = 4096

// limiter bounds PADI and PADR: over all hosts and per host MAC.
type limiter struct {
	rate, hostRate   float64
	burst, hostBurst int
	all              bucket
	hosts            map[[6]byte]*bucket
}

func (l *limiter) init(c Config) {
	l.rate, l.burst = c.PADIRate, c.PADIBurst
	l.hostRate, l.hostBurst = c.PADIHostRate, c.PADIHostBurst
	l.hosts = make(map[[6]byte]*bucket)
}

// allow is called with the relay's lock held.
func (l *limiter) allow(now time.Time, host [6]byte) bool {
	h := l.hosts[host]
	if h == nil && len(l.hosts) < maxHosts {
		h = &bucket{}
		l.hosts[host] = h
	}
	if h != nil && !h.take(now, l.hostRate, l.hostBurst) {
		return false
	}
	return l.all.take(now, l.rate, l.burst)
}

// sweep forgets hosts whose bucket is full again.
func (l *limiter) sweep(now time.Time) {
	full := time.Duration(float64(l.hostBurst) / l.hostRate * float64(time.Second))
	for k, b := range l.hosts {
		if now.Sub(b.last) > full {
			delete(l.hosts, k)
		}
	}
}
