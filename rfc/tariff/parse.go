package tariff

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// SyntaxError reports where and why tariff text does not parse. Offset
// is the byte offset in the text (after Join, for a tariff split over
// several attributes) of the first octet that is wrong.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("tariff: offset %d: %s", e.Offset, e.Msg)
}

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

func errAt(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads tariff text (see the package documentation for the
// grammar). Items may come in any order; String writes them in the
// canonical order. The time zone is loaded here, with time.LoadLocation,
// so that Price needs nothing from the machine.
func Parse(text string) (*Tariff, error) {
	if len(text) > MaxText {
		return nil, errAt(MaxText, "tariff text longer than %d octets", MaxText)
	}
	for i := 0; i < len(text); i++ {
		if c := text[i]; c <= ' ' || c >= 0x7f {
			return nil, errAt(i, "octet 0x%02x: only printable ASCII without spaces is allowed", c)
		}
	}
	p := parser{src: text}
	t, err := p.parse()
	if err != nil {
		return nil, err
	}
	return t, nil
}

type parser struct {
	src  string
	seen map[string]int // item key -> offset, for duplicates
	c    core
	// offsets for checks made after every item is read
	bandOff [MaxBands]int
	tzOff   int
}

// field is a piece of the text with its offset.
type field struct {
	s   string
	off int
}

func split(f field, sep byte) []field {
	var out []field
	start := 0
	for i := 0; i <= len(f.s); i++ {
		if i == len(f.s) || f.s[i] == sep {
			out = append(out, field{f.s[start:i], f.off + start})
			start = i + 1
		}
	}
	return out
}

func (p *parser) parse() (*Tariff, error) {
	items := split(field{p.src, 0}, ';')
	if items[0].s != FormatTag {
		return nil, errAt(0, "tariff text must begin with %q", FormatTag)
	}
	p.seen = make(map[string]int)
	p.c.zone = "UTC"
	for _, it := range items[1:] {
		if it.s == "" {
			return nil, errAt(it.off, "empty item")
		}
		eq := strings.IndexByte(it.s, '=')
		if eq < 0 {
			return nil, errAt(it.off, "item %q has no '='", it.s)
		}
		key := it.s[:eq]
		val := field{it.s[eq+1:], it.off + eq + 1}
		if key != "band" {
			if _, dup := p.seen[key]; dup {
				return nil, errAt(it.off, "item %q given twice", key)
			}
			p.seen[key] = it.off
		}
		var err error
		switch key {
		case "id":
			err = p.id(val)
		case "v":
			err = p.version(val)
		case "cur":
			err = p.currency(val)
		case "sc":
			err = p.scale(val)
		case "tz":
			p.tzOff = val.off
			err = p.zoneName(val)
		case "fee":
			p.c.hasFee = true
			p.c.fee, err = price(val)
		case "time":
			err = p.time(val)
		case "in", "out", "both":
			err = p.volume(key, val)
		case "band":
			err = p.band(val)
		case "cap":
			p.c.hasCap = true
			p.c.cap, err = price(val)
		default:
			err = errAt(it.off, "unknown item %q", key)
		}
		if err != nil {
			return nil, err
		}
	}
	end := len(p.src)
	for _, k := range []string{"id", "v", "cur", "sc"} {
		if _, ok := p.seen[k]; !ok {
			return nil, errAt(end, "item %q is required", k)
		}
	}
	slices.SortFunc(p.c.vol[:p.c.nvol], func(a, b volRate) int { return int(a.dir) - int(b.dir) })
	if err := p.finishBands(); err != nil {
		return nil, err
	}
	loc, err := loadZone(p.c.zone)
	if err != nil {
		return nil, errAt(p.tzOff, "time zone %q: %v", p.c.zone, err)
	}
	return &Tariff{c: p.c, loc: loc}, nil
}

func loadZone(name string) (*time.Location, error) {
	if name == "UTC" {
		return time.UTC, nil
	}
	return time.LoadLocation(name)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number reads a decimal number without sign or leading zeros, at most max.
func number(f field, what string, max uint64) (uint64, error) {
	if f.s == "" {
		return 0, errAt(f.off, "%s: want a number", what)
	}
	if f.s[0] == '0' && len(f.s) > 1 {
		return 0, errAt(f.off, "%s: leading zero in %q", what, f.s)
	}
	var v uint64
	for i := 0; i < len(f.s); i++ {
		c := f.s[i]
		if !isDigit(c) {
			return 0, errAt(f.off+i, "%s: %q is not a digit", what, c)
		}
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, errAt(f.off, "%s: %s is larger than %d", what, f.s, max)
		}
		v = v*10 + d
	}
	return v, nil
}

func price(f field) (int64, error) {
	v, err := number(f, "price", math.MaxInt64)
	return int64(v), err
}

func isNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '-' || c == '_'
}

func (p *parser) id(f field) error {
	if len(f.s) == 0 || len(f.s) > 32 {
		return errAt(f.off, "id must be 1 to 32 octets")
	}
	for i := 0; i < len(f.s); i++ {
		if c := f.s[i]; !isNameChar(c) && c != '.' {
			return errAt(f.off+i, "id: %q not allowed (letters, digits, '.', '-', '_')", c)
		}
	}
	p.c.id = f.s
	return nil
}

func (p *parser) version(f field) error {
	v, err := number(f, "version", math.MaxUint32)
	p.c.version = uint32(v)
	return err
}

func (p *parser) currency(f field) error {
	if len(f.s) != 3 {
		return errAt(f.off, "currency must be 3 capital letters (ISO 4217)")
	}
	for i := 0; i < 3; i++ {
		if c := f.s[i]; c < 'A' || c > 'Z' {
			return errAt(f.off+i, "currency must be 3 capital letters (ISO 4217)")
		}
	}
	p.c.currency = f.s
	return nil
}

func (p *parser) scale(f field) error {
	v, err := number(f, "scale", 9)
	p.c.scale = uint8(v)
	return err
}

func (p *parser) zoneName(f field) error {
	s := f.s
	if s == "" || len(s) > 64 {
		return errAt(f.off, "time zone must be an IANA name of 1 to 64 octets")
	}
	if s == "Local" {
		return errAt(f.off, "time zone \"Local\" depends on the machine; name the zone")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isNameChar(c) && c != '+' && c != '/' {
			return errAt(f.off+i, "time zone: %q not allowed", c)
		}
		if c == '/' && (i == 0 || i == len(s)-1 || s[i-1] == '/') {
			return errAt(f.off+i, "time zone: misplaced '/'")
		}
	}
	p.c.zone = s
	return nil
}

func parseRounding(f field) (rounding, error) {
	for r, name := range roundNames {
		if r != 0 && f.s == name {
			return rounding(r), nil
		}
	}
	return 0, errAt(f.off, "rounding %q: want up, down or near", f.s)
}

// time=<price>/<increment>[/<rounding>]
func (p *parser) time(f field) error {
	parts := split(f, '/')
	if len(parts) < 2 || len(parts) > 3 {
		return errAt(f.off, "time: want <price>/<increment>[/<rounding>]")
	}
	var err error
	if p.c.timePrice, err = price(parts[0]); err != nil {
		return err
	}
	if p.c.incr, err = duration(parts[1]); err != nil {
		return err
	}
	p.c.incrText = formatDuration(p.c.incr)
	p.c.timeRound = roundUp
	if len(parts) == 3 {
		if p.c.timeRound, err = parseRounding(parts[2]); err != nil {
			return err
		}
	}
	p.c.hasTime = true
	return nil
}

// duration reads <n>s, <n>m or <n>h, from 1 s to 24 h.
func duration(f field) (int64, error) {
	if len(f.s) < 2 {
		return 0, errAt(f.off, "increment %q: want <n>s, <n>m or <n>h", f.s)
	}
	var mul uint64
	switch f.s[len(f.s)-1] {
	case 's':
		mul = 1
	case 'm':
		mul = 60
	case 'h':
		mul = 3600
	default:
		return 0, errAt(f.off+len(f.s)-1, "increment %q: unit must be s, m or h", f.s)
	}
	n, err := number(field{f.s[:len(f.s)-1], f.off}, "increment", 86400/mul)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errAt(f.off, "increment must be at least 1s")
	}
	return int64(n * mul), nil
}

func formatDuration(secs int64) string {
	switch {
	case secs%3600 == 0:
		return itoa(secs/3600) + "h"
	case secs%60 == 0:
		return itoa(secs/60) + "m"
	}
	return itoa(secs) + "s"
}

// in|out|both=<tiers>/<unit>[/<rounding>], tiers = *(<size>@<price>,) <price>
func (p *parser) volume(key string, f field) error {
	parts := split(f, '/')
	if len(parts) < 2 || len(parts) > 3 {
		return errAt(f.off, "%s: want <tiers>/<unit>[/<rounding>]", key)
	}
	_, in := p.seen["in"]
	_, out := p.seen["out"]
	if _, both := p.seen["both"]; both && (in || out) {
		return errAt(f.off-len(key)-1, "\"both\" cannot be combined with \"in\" or \"out\"")
	}
	v := volRate{round: roundUp}
	switch key {
	case "in":
		v.dir = ItemIn
	case "out":
		v.dir = ItemOut
	default:
		v.dir = ItemBoth
	}
	tiers := split(parts[0], ',')
	if len(tiers) > MaxTiers {
		return errAt(parts[0].off, "%s: more than %d tiers", key, MaxTiers)
	}
	for i, tf := range tiers {
		last := i == len(tiers)-1
		at := strings.IndexByte(tf.s, '@')
		if last {
			if at >= 0 {
				return errAt(tf.off, "%s: the last tier is a bare price, for all further units", key)
			}
			pr, err := price(tf)
			if err != nil {
				return err
			}
			v.tiers[i] = tier{price: pr}
			continue
		}
		if at < 0 {
			return errAt(tf.off, "%s: tier %d: want <units>@<price>", key, i+1)
		}
		size, err := number(field{tf.s[:at], tf.off}, "tier size", math.MaxInt64)
		if err != nil {
			return err
		}
		if size == 0 {
			return errAt(tf.off, "%s: tier %d has no units", key, i+1)
		}
		pr, err := price(field{tf.s[at+1:], tf.off + at + 1})
		if err != nil {
			return err
		}
		v.tiers[i] = tier{size: int64(size), price: pr}
	}
	v.ntiers = len(tiers)
	u := parts[1]
	for i, name := range unitNames {
		if i != 0 && u.s == name {
			v.unit = unit(i)
		}
	}
	if v.unit == 0 {
		return errAt(u.off, "%s: unit %q: want KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024)", key, u.s)
	}
	if len(parts) == 3 {
		var err error
		if v.round, err = parseRounding(parts[2]); err != nil {
			return err
		}
	}
	p.c.vol[p.c.nvol] = v
	p.c.nvol++
	return nil
}

// band=<name>/<HH:MM>-<HH:MM>/<rate>, rate = x<multiplier> | <price>
func (p *parser) band(f field) error {
	item := f.off - len("band=")
	if p.c.nbands == MaxBands {
		return errAt(item, "more than %d bands", MaxBands)
	}
	parts := split(f, '/')
	if len(parts) != 3 {
		return errAt(f.off, "band: want <name>/<HH:MM>-<HH:MM>/<rate>")
	}
	var b band
	name := parts[0]
	if len(name.s) == 0 || len(name.s) > 16 {
		return errAt(name.off, "band name must be 1 to 16 octets")
	}
	for i := 0; i < len(name.s); i++ {
		if !isNameChar(name.s[i]) {
			return errAt(name.off+i, "band name: %q not allowed (letters, digits, '-', '_')", name.s[i])
		}
	}
	for i := 0; i < p.c.nbands; i++ {
		if p.c.bands[i].name == name.s {
			return errAt(name.off, "band %q given twice", name.s)
		}
	}
	b.name = name.s
	span := parts[1]
	dash := strings.IndexByte(span.s, '-')
	if dash < 0 {
		return errAt(span.off, "band: want <HH:MM>-<HH:MM>")
	}
	var err error
	if b.from, err = clock(field{span.s[:dash], span.off}, false); err != nil {
		return err
	}
	if b.to, err = clock(field{span.s[dash+1:], span.off + dash + 1}, true); err != nil {
		return err
	}
	if b.from == b.to%1440 {
		return errAt(span.off, "band %q is empty or covers the whole day", b.name)
	}
	rate := parts[2]
	if strings.HasPrefix(rate.s, "x") {
		if b.mult, err = multiplier(field{rate.s[1:], rate.off + 1}); err != nil {
			return err
		}
	} else {
		b.own = true
		if b.price, err = price(rate); err != nil {
			return err
		}
	}
	p.bandOff[p.c.nbands] = item
	p.c.bands[p.c.nbands] = b
	p.c.nbands++
	return nil
}

// clock reads HH:MM; 24:00 only as the end of a band. Minutes of the day.
func clock(f field, end bool) (int32, error) {
	s := f.s
	if len(s) != 5 || s[2] != ':' || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[3]) || !isDigit(s[4]) {
		return 0, errAt(f.off, "time of day %q: want HH:MM", s)
	}
	h := int32(s[0]-'0')*10 + int32(s[1]-'0')
	m := int32(s[3]-'0')*10 + int32(s[4]-'0')
	if m > 59 || h > 24 || h == 24 && (m != 0 || !end) {
		return 0, errAt(f.off, "time of day %q out of range", s)
	}
	v := h*60 + m
	if end && v == 0 {
		v = 1440
	}
	return v, nil
}

// multiplier reads a decimal with at most 3 fractional digits, in
// thousandths.
func multiplier(f field) (int64, error) {
	intPart, frac, hasDot := strings.Cut(f.s, ".")
	n, err := number(field{intPart, f.off}, "multiplier", 999999)
	if err != nil {
		return 0, err
	}
	v := int64(n) * 1000
	if hasDot {
		if len(frac) == 0 || len(frac) > 3 {
			return 0, errAt(f.off+len(intPart)+1, "multiplier: want 1 to 3 digits after '.'")
		}
		scale := int64(100)
		for i := 0; i < len(frac); i++ {
			if !isDigit(frac[i]) {
				return 0, errAt(f.off+len(intPart)+1+i, "multiplier: %q is not a digit", frac[i])
			}
			v += int64(frac[i]-'0') * scale
			scale /= 10
		}
	}
	return v, nil
}

func formatMultiplier(m int64) string {
	s := itoa(m / 1000)
	if frac := m % 1000; frac != 0 {
		f := []byte{'0' + byte(frac/100), '0' + byte(frac/10%10), '0' + byte(frac%10)}
		for f[len(f)-1] == '0' {
			f = f[:len(f)-1]
		}
		s += "." + string(f)
	}
	return s
}

// finishBands checks the bands against each other and the time rate,
// derives multiplied prices, sorts bands and builds the edge table.
func (p *parser) finishBands() error {
	c := &p.c
	if c.nbands == 0 {
		return nil
	}
	if !c.hasTime {
		return errAt(p.bandOff[0], "bands change the time rate, so they need a time item")
	}
	var owner [1440]uint8 // 0 base, i for bands[i-1]
	for i := 0; i < c.nbands; i++ {
		b := &c.bands[i]
		for m := b.from; ; m = (m + 1) % 1440 {
			if o := owner[m]; o != 0 {
				return errAt(p.bandOff[i], "band %q overlaps band %q at %02d:%02d", b.name, c.bands[o-1].name, m/60, m%60)
			}
			owner[m] = uint8(i + 1)
			if (m+1)%1440 == b.to%1440 {
				break
			}
		}
		if !b.own {
			// Rounded half up to the minor unit, once, here.
			v, ok := mulAmount(c.timePrice, b.mult)
			if !ok {
				return errAt(p.bandOff[i], "band %q: price times multiplier overflows", b.name)
			}
			b.price = v/1000 + boolInt(v%1000 >= 500)
		}
	}
	// Sort the bands by start and renumber the owner table to match.
	var order [MaxBands]int
	for i := range c.nbands {
		order[i] = i
	}
	slices.SortFunc(order[:c.nbands], func(a, b int) int { return int(c.bands[a].from - c.bands[b].from) })
	var sorted [MaxBands]band
	var renum [MaxBands + 1]uint8
	for newIdx, old := range order[:c.nbands] {
		sorted[newIdx] = c.bands[old]
		renum[old+1] = uint8(newIdx + 1)
	}
	c.bands = sorted
	c.nedges = 0
	for m := 0; m < 1440; m++ {
		prev := owner[(m+1439)%1440]
		if owner[m] != prev {
			c.edges[c.nedges] = edge{sec: int32(m * 60), band: renum[owner[m]]}
			c.nedges++
		}
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
