// Package lab runs edgebill's real neighbours on one machine, for the
// tests and for the demo: a private PostgreSQL 15 cluster, FreeRADIUS 3.2
// configured from testdata/freeradius, and network namespaces joined by
// veth links. Each helper takes a testing.TB, registers its own teardown
// with t.Cleanup, and makes nothing another test could collide with
// (temporary folders, free ports, namespace names with a random suffix),
// so tests using it may run in parallel.
//
// What a helper needs from the machine (root, initdb, freeradius) it
// checks through internal/testenv: missing, the test skips on a laptop
// and fails in CI (EDGEBILL_REQUIRE_ALL=1).
package lab
