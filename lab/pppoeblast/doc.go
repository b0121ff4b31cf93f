// Package pppoeblast is the lab's PPPoE load generator and its peer, for
// the side-by-side relay benchmarks (scripts/bench-compare.sh): an access
// concentrator that answers discovery (RFC 2516 §5.2 PADO, §5.4 PADS) and
// counts session frames, a dialer that runs discovery through whatever
// sits in the middle (a kernel bridge, rp-pppoe's pppoe-relay, gatewayd),
// and a blaster that then sends session frames (§4) of a set size as fast
// as sendmmsg(2) allows, or at a set rate, for a set time or count.
//
// It has its own few lines of PPPoE encoding rather than rfc/pppoe's: a
// yardstick should not share code with what it measures. No PPP runs in
// the sessions: each session frame carries PPP protocol 0x0021 and a
// fixed IPv4/UDP packet whose payload starts with a 64-bit sequence
// number, so a counting peer can tell loss, duplication and reordering.
//
// Frame sizes are Ethernet frames as AF_PACKET sees them: header
// included, FCS excluded (64 means 14 + 6 + 2 + 42).
package pppoeblast
