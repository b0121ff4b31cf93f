// Package metrics holds gatewayd's Prometheus metrics: the billing
// side's own (sessions, bills, interims, RADIUS latency, journal) and
// families that read the relay's and the RADIUS client's counters
// through small interfaces at scrape time, so neither hot path touches
// the registry. expo.go is the small Prometheus client they are built on
// (text exposition format 0.0.4), written here to keep gatewayd within
// its binary-size budget.
//
// All gatewayd's own names start with "gatewayd_".
package metrics
