// Package web is billd's HTTP face: a JSON API (verdict counts by
// period, findings with filters, one session's two sides, gateways and
// their accuracy, open sessions' live progress), CSV export of findings, a dashboard page rendered on
// the server (an inline SVG chart, no scripts, no build step), the
// Prometheus metrics and a health check.
//
// Everything but /healthz and /metrics needs the token: an
// "Authorization: Bearer TOKEN" header, or ?token=TOKEN once (the
// dashboard then keeps it in an HttpOnly cookie).
package web
