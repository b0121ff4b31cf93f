// Package tariff is edgebill's charging policy: a compact text form
// carried in RADIUS reply attributes (EdgeBill-Tariff, vendor 32473, see
// rfc/radiusx/dictionary.edgebill; RFC 2865 §5.26 Vendor-Specific) and
// the pure function that prices a session's usage record with it. The
// gateway and the reconciliation server both import it, so both compute
// the same charge to the last minor unit.
//
// # Text form
//
// A tariff is one line of printable ASCII without spaces: a format tag
// and items separated by ';', each item key=value. The characters
// FreeRADIUS treats specially in strings (quotes, '\', '%', '$', '{',
// '}', '#') never occur in valid text, so a tariff goes into radreply or
// radgroupreply as it is.
//
//	tariff  = "T1" *( ";" item )
//	item    = "id=" id            ; required, 1-32 of A-Z a-z 0-9 . - _
//	        / "v=" uint32         ; required, the version
//	        / "cur=" AAA          ; required, ISO 4217 code, e.g. CNY
//	        / "sc=" 0-9           ; required, scale: minor unit = 10^-sc
//	        / "tz=" zone          ; IANA time zone name, default UTC
//	        / "fee=" price        ; session fee, charged once per session
//	        / "time=" price "/" incr [ "/" round ]
//	        / ("in=" / "out=" / "both=") tiers "/" unit [ "/" round ]
//	        / "band=" name "/" HH:MM "-" HH:MM "/" rate   ; repeatable
//	        / "cap=" price        ; the most one session costs
//	price   = decimal integer, minor units, no sign, no leading zeros
//	incr    = n "s" / n "m" / n "h"   ; 1s to 24h
//	round   = "up" / "down" / "near"  ; default up
//	tiers   = *( units "@" price "," ) price
//	unit    = "KB" / "MB" / "GB"      ; 10^3, 10^6, 10^9 octets
//	        / "KiB" / "MiB" / "GiB"   ; 2^10, 2^20, 2^30 octets
//	rate    = "x" multiplier / price  ; multiplier: up to 3 decimals, "x1.5"
//
// Items may come in any order; each but band at most once; unknown items
// are errors, so an old parser refuses a newer tariff rather than price
// it wrongly. "both" excludes "in" and "out". Bands need a time item. At
// most 8 bands, 8 tiers per volume rate, 2048 octets in all. Parse
// errors are *SyntaxError values with the byte offset and the reason.
//
// String writes the canonical form: items in the order of the grammar
// above, bands by start time, rounding always written, increments in
// their largest exact unit (60s is 1m), "24:00" for a band ending at
// midnight, multipliers without trailing zeros. Parse(t.String()) equals
// t.
//
// # Semantics
//
// Money is an int64 count of minor units of the tariff's currency: at
// sc=4 a price of 600 is 0.0600 CNY. No floating point is used anywhere;
// arithmetic that would overflow int64 returns ErrOverflow. Prices are
// never negative, which makes every charge monotone in usage.
//
// A session's charge is min(cap, fee + time + volume):
//
//   - fee: the session fee, once, even for a session of zero length.
//   - time: the session [start, stop) in whole seconds is split into
//     segments at band edges; each segment counts its increments on its
//     own, rounded by the rule (up: every started increment; down: whole
//     increments only; near: half an increment or more, half up), and
//     is priced at its band's rate. Outside every band the time item's
//     price applies. A segment that crosses no edge is the whole session.
//   - bands: a band is in force while the wall clock in the tariff's
//     zone reads a time of day in [from, to); to <= from wraps past
//     midnight ("23:00-07:00"). Edges therefore follow daylight saving:
//     a night band 23:00-07:00 lasts 7 hours on the spring-forward night
//     and 9 hours on the fall-back night; an edge at a local time that
//     is skipped falls at the jump; one at a repeated local time is
//     crossed twice. A band's rate is its own price per increment, or
//     the time price times the multiplier, rounded half up to the minor
//     unit once when the tariff is parsed. Bands price time only: a
//     usage record carries octet totals with no time stamps, so volume
//     cannot be split at an edge.
//   - volume: each volume item counts octets in (from the subscriber),
//     out (to the subscriber) or both summed; rounds them to whole
//     units by its rule; then prices units tier by tier: "1024@0,
//     10240@100,50" is the first 1024 units free (a free allowance is a
//     first tier at price 0), the next 10240 at 100, the rest at 50.
//   - cap: when fee + time + volume exceeds the cap, the charge is the
//     cap, and a cap line with the (negative) difference is added.
//
// Price returns the total and its lines (what, quantity, unit, unit
// price, amount, band or tier), which sum to the total. Meter prices a
// live session incrementally with the same rules; its running charge is
// always Price of the usage so far, so it never exceeds the final
// charge, and pricing interim usage then final usage never bills more
// than pricing the final usage once.
//
// # Example
//
//	T1;id=home-50;v=3;cur=CNY;sc=4;tz=Asia/Shanghai;fee=5000;time=600/1m/up;both=1024@0,10240@100,50/MB/up;band=peak/19:00-23:00/x1.5;cap=300000
//
// is plan home-50 version 3 in CNY at 1/10000: 0.50 per session, 0.06
// per started minute (0.09 from 19:00 to 23:00 Beijing time), the first
// 1024 MB either way free, then 0.01 per started MB for 10240 MB, then
// 0.005, and at most 30.00 per session. It is 140 octets, one attribute.
//
// # Time zones
//
// Parse loads the zone with time.LoadLocation, so Price and Meter do no
// I/O. LoadLocation reads the system's zone database (or $ZONEINFO) and
// falls back to a copy embedded in the binary: this package imports
// time/tzdata, so a gateway without /usr/share/zoneinfo still parses
// every tariff. The gateway and the server agree to the minor unit as
// long as their zone rules agree for the session's dates; keep the
// zone database current on both, as with any time-zone-aware billing.
// "Local" is refused, since it means a different zone on each machine.
//
// # RADIUS
//
// An EdgeBill-Tariff attribute carries at most MaxChunk (247) octets of
// text. A longer tariff is Split over several attributes in order and
// Joined back by concatenation; AddTo and FromPacket do both on a
// *radius.Packet (layeh.com/radius).
package tariff

import _ "time/tzdata" // zone rules when the machine has none; see "Time zones"
