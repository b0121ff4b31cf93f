// Package nas is the lab access concentrator (BRAS), nasd, and the
// subscriber side: a PPPoE/PPP client library and pppoe-dial, a dialer
// that emulates many subscribers.
package nas
