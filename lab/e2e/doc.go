// Package e2e holds the whole-chain end-to-end and fault suites: every
// test starts the whole system with lab/system (namespaces, Postgres,
// FreeRADIUS, billd, nasd, gatewayd), dials subscribers through it with
// pppoe-dial, lets everything settle, reconciles, and checks what
// system.Check promises: every BRAS session billed exactly once, every
// bill judged, the faulty gateway's bills charge mismatches and nothing
// else flagged. The fault tests do the same across kill -9 of gatewayd,
// billd down, Postgres stopped with -m immediate, FreeRADIUS restarted,
// and RADIUS packets dropped, duplicated and reordered by lab/udpproxy.
//
// The soak (TestSoak) runs only with EDGEBILL_SOAK set (make soak).
package e2e
