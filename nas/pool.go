package nas

import (
	"fmt"
	"math/bits"
	"net/netip"
	"sync"
)

// pool hands out IPv4 addresses of a prefix, skipping the network and
// broadcast addresses and nasd's own.
type pool struct {
	mu    sync.Mutex
	base  uint32
	size  uint32
	used  []uint64 // bitmap
	next  uint32
	inUse int
}

func newPool(p netip.Prefix, local netip.Addr) (*pool, error) {
	if !p.Addr().Is4() || p.Bits() > 30 {
		return nil, fmt.Errorf("nas: pool %v: need an IPv4 prefix of /30 or larger", p)
	}
	size := uint32(1) << (32 - p.Bits())
	a := p.Addr().As4()
	pl := &pool{base: uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]), size: size,
		used: make([]uint64, (size+63)/64)}
	pl.mark(0)
	pl.mark(size - 1)
	if p.Contains(local) {
		pl.mark(pl.index(local))
	}
	pl.inUse = 0
	return pl, nil
}

func (pl *pool) index(a netip.Addr) uint32 {
	b := a.As4()
	return (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) - pl.base
}

func (pl *pool) mark(i uint32) { pl.used[i/64] |= 1 << (i % 64) }

// alloc returns a free address.
func (pl *pool) alloc() (netip.Addr, bool) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	words := uint32(len(pl.used))
	for n := uint32(0); n <= words; n++ {
		w := (pl.next/64 + n) % words
		free := ^pl.used[w]
		if free == 0 {
			continue
		}
		i := w*64 + uint32(bits.TrailingZeros64(free))
		if i >= pl.size {
			continue
		}
		pl.mark(i)
		pl.next = i + 1
		pl.inUse++
		v := pl.base + i
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
	}
	return netip.Addr{}, false
}

// release returns an address alloc gave.
func (pl *pool) release(a netip.Addr) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	i := pl.index(a)
	if i >= pl.size || pl.used[i/64]&(1<<(i%64)) == 0 {
		return
	}
	pl.used[i/64] &^= 1 << (i % 64)
	pl.inUse--
}
