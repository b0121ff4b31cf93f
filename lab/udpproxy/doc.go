// Package udpproxy is an in-process UDP fault injector for the lab's
// fault tests: it stands between RADIUS clients (gatewayd, nasd) and a
// server (FreeRADIUS, billd), forwards datagrams both ways, and drops,
// duplicates or reorders them at configured rates drawn from a seeded
// random source, or black-holes everything while Down, as netem would if
// this kernel had it.
//
// Each client address gets its own upstream socket, so replies find their
// way back; the server sees the upstream socket's address as the source,
// which matters to FreeRADIUS (it tells clients apart by source address):
// open the upstream sockets where the real client sits, e.g. with
// Config.UpstreamListenPacket set to a lab namespace's ListenPacket.
//
// Queues are bounded (a full queue drops, and counts it), every goroutine
// ends when Run's context is cancelled, and every decision is counted in
// Stats.
package udpproxy
