// Package system starts the whole of edgebill on one machine, for the
// demo (lab/cmd/edgebill-lab), the end-to-end and fault suites (lab/e2e),
// the soak and the side-by-side benchmarks: lab.NewTopology's namespaces
// with Postgres and FreeRADIUS, then billd (migrated, serving), nasd, one
// gatewayd per gateway (its bill-signing key registered with billd before
// it starts; one may run with the under-billing fault), optionally an
// in-process RADIUS fault proxy (lab/udpproxy) between each gateway and
// FreeRADIUS and billd, and pppoe-dial runs on the subscribers' side.
//
// Everything the package knows about the daemons is their command lines
// and configuration files (as an operator would run them), the database
// (radacct, billd's schema) and their HTTP endpoints (metrics, status,
// the live view): nothing is linked in.
//
//	sub ── pppoe-dial ── lan0 [gw: gatewayd] wan0 ── wan bridge [isp: nasd, FreeRADIUS, Postgres, billd]
//	                                │ (optional udpproxy in gw, towards FreeRADIUS and billd)
//
// Linux only (network namespaces, AF_PACKET); elsewhere the package is
// empty.
package system
