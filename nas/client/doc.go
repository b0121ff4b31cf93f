// Package client is the subscriber side of a PPPoE link: PPPoE discovery
// (RFC 2516 §5), LCP (RFC 1661), PAP (RFC 1334) or CHAP-MD5 (RFC 1994),
// and IPCP with DNS (RFC 1332, RFC 1877), through rfc/pppoe and rfc/ppp.
// A Mux shares one Ethernet link among many sessions, each with its own
// MAC, so one process can emulate thousands of subscribers; RunLoad does
// that at a set rate with traffic, and reports setup rate and latency.
// pppoe-dial is its command line.
//
// Every session counts the IP packets it sends and receives (the PPP
// payload, DESIGN.md "Usage"), the same bytes nasd accounts for.
package client
