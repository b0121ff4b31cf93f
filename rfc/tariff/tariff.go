package tariff

import (
	"errors"
	"time"
)

// Limits of the grammar. They keep a tariff small enough to travel in a
// few RADIUS attributes and bound the work Parse and Price do.
const (
	// MaxText is the longest tariff text Parse accepts, in octets.
	MaxText = 2048
	// MaxBands is the most time-of-day bands a tariff may have.
	MaxBands = 8
	// MaxTiers is the most tiers one volume rate may have.
	MaxTiers = 8
	// MaxSession is the longest session Price and Meter accept. It bounds
	// the number of band segments a session can cross.
	MaxSession = 3660 * 24 * time.Hour
	// FormatTag is the first item of every tariff text; a later grammar
	// gets a new tag, so an old parser refuses it instead of mispricing.
	FormatTag = "T1"
)

const maxSessionSeconds = int64(MaxSession / time.Second)

// Errors returned by Parse, Price and Meter. Test with errors.Is.
var (
	// ErrSyntax is wrapped by every *SyntaxError.
	ErrSyntax = errors.New("tariff: syntax error")
	// ErrOverflow reports a charge that does not fit in int64 minor
	// units. Arithmetic never wraps.
	ErrOverflow = errors.New("tariff: charge overflows int64")
	// ErrStopBeforeStart reports a usage record that ends before it
	// starts.
	ErrStopBeforeStart = errors.New("tariff: usage stops before it starts")
	// ErrTooLong reports a session longer than MaxSession.
	ErrTooLong = errors.New("tariff: session longer than MaxSession")
	// ErrNoTariff reports a RADIUS packet without EdgeBill-Tariff.
	ErrNoTariff = errors.New("tariff: no EdgeBill-Tariff attribute")
)

// Item says what a Line charges for.
type Item uint8

// Items, in the order Price lists their lines.
const (
	_        Item = iota // invalid
	ItemFee              // the session fee
	ItemTime             // session time, per band
	ItemIn               // octets from the subscriber (RFC 2866 input)
	ItemOut              // octets to the subscriber (RFC 2866 output)
	ItemBoth             // octets either way, summed
	ItemCap              // the reduction that brings the total down to the cap
)

var itemNames = [...]string{
	ItemFee:  "fee",
	ItemTime: "time",
	ItemIn:   "in",
	ItemOut:  "out",
	ItemBoth: "both",
	ItemCap:  "cap",
}

func (i Item) String() string {
	if i == 0 || int(i) >= len(itemNames) {
		return "Item(" + itoa(int64(i)) + ")"
	}
	return itemNames[i]
}

// rounding is how a partial increment (time) or unit (volume) counts.
type rounding uint8

const (
	_         rounding = iota
	roundUp            // every started increment counts
	roundDown          // only complete increments count
	roundNear          // half an increment or more counts (half up)
)

var roundNames = [...]string{roundUp: "up", roundDown: "down", roundNear: "near"}

// units of volume, decimal and binary.
type unit uint8

const (
	_ unit = iota
	unitKB
	unitMB
	unitGB
	unitKiB
	unitMiB
	unitGiB
)

var unitNames = [...]string{
	unitKB: "KB", unitMB: "MB", unitGB: "GB",
	unitKiB: "KiB", unitMiB: "MiB", unitGiB: "GiB",
}

var unitSizes = [...]uint64{
	unitKB: 1e3, unitMB: 1e6, unitGB: 1e9,
	unitKiB: 1 << 10, unitMiB: 1 << 20, unitGiB: 1 << 30,
}

// tier is one step of a volume rate: size units at price each; size 0
// marks the last, unbounded tier.
type tier struct {
	size  int64
	price int64
}

// volRate prices the octets of one direction (or both summed).
type volRate struct {
	dir    Item // ItemIn, ItemOut or ItemBoth
	unit   unit
	round  rounding
	ntiers int
	tiers  [MaxTiers]tier
}

// band is a time-of-day band. from and to are minutes of the local day,
// to in 1..1440; to <= from wraps past midnight.
type band struct {
	name     string
	from, to int32
	mult     int64 // multiplier in thousandths, when !own
	own      bool  // price is the band's own rate, not a multiple
	price    int64 // time price per increment in this band (derived for a multiplier)
}

// edge is a wall-clock second of the day at which band b begins.
type edge struct {
	sec  int32
	band uint8 // 0 is the base (no band), i is bands[i-1]
}

// core is everything a tariff says, plus values derived from it
// deterministically at Parse. It is comparable, so equal tariffs are ==.
type core struct {
	id       string
	version  uint32
	currency string
	scale    uint8
	zone     string

	hasFee bool
	fee    int64

	hasTime   bool
	timePrice int64
	incr      int64  // seconds
	incrText  string // incr in canonical form, the unit of time lines
	timeRound rounding

	nvol int
	vol  [2]volRate // sorted in, out, both

	nbands int
	bands  [MaxBands]band // sorted by from
	nedges int
	edges  [2 * MaxBands]edge // sorted by sec; adjacent bands differ

	hasCap bool
	cap    int64
}

// Tariff is a parsed charging policy. Build one with Parse or
// FromPacket. A Tariff is immutable and safe for concurrent use.
type Tariff struct {
	c   core
	loc *time.Location
}

// ID returns the tariff's identifier (item id).
func (t *Tariff) ID() string { return t.c.id }

// Version returns the tariff's version (item v).
func (t *Tariff) Version() uint32 { return t.c.version }

// Currency returns the ISO 4217 code the charges are in (item cur).
func (t *Tariff) Currency() string { return t.c.currency }

// Scale returns the number of decimal places of the minor unit: a charge
// of 12345 at scale 4 is 1.2345 in the currency (item sc).
func (t *Tariff) Scale() uint8 { return t.c.scale }

// Location returns the time zone the bands are in (item tz).
func (t *Tariff) Location() *time.Location { return t.loc }

// Cap returns the most one session can cost and whether there is a cap.
func (t *Tariff) Cap() (int64, bool) { return t.c.cap, t.c.hasCap }

// Equal reports whether t and u say the same thing: the same canonical
// text, hence the same price for every usage.
func (t *Tariff) Equal(u *Tariff) bool {
	if t == nil || u == nil {
		return t == u
	}
	return t.c == u.c
}

// FormatAmount writes an amount in minor units as a decimal in the
// tariff's currency, "-1.2345 CNY" for -12345 at scale 4.
func (t *Tariff) FormatAmount(amount int64) string {
	return formatAmount(amount, t.c.scale) + " " + t.c.currency
}

func formatAmount(amount int64, scale uint8) string {
	neg := amount < 0
	u := uint64(amount)
	if neg {
		u = -u
	}
	digits := utoa(u)
	if scale > 0 {
		for len(digits) <= int(scale) {
			digits = "0" + digits
		}
		digits = digits[:len(digits)-int(scale)] + "." + digits[len(digits)-int(scale):]
	}
	if neg {
		return "-" + digits
	}
	return digits
}
