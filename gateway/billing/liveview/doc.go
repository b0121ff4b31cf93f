// Package liveview is the subscriber's page on the gateway: the live
// session (time, octets, running charge, and the credit left with the
// time it lasts when the provider gave a credit, flagged when it runs
// low) pushed as Server-Sent Events
// (HTML Living Standard §9.2, text/event-stream) so the page never
// reloads, the past sessions and their bills, and a JSON API with the
// same data. It is served on the LAN side only: Listen binds a given
// LAN address (never a wildcard) and, on Linux, the LAN interface.
//
// Routes:
//
//	GET /              the page (HTML, inline CSS and JavaScript, no external resources)
//	GET /api/live      {"gateway_id", "now", "sessions": [billing.LiveSession]}
//	GET /api/bills     {"gateway_id", "bills": [billing.PastBill]}, ?limit=N (default 50)
//	GET /api/gateway   {"gateway_id", "public_key"} (hex Ed25519, for registration)
//	GET /api/events    text/event-stream: "live" events (the /api/live document) every
//	                   Push interval, and "bills" events (a revision string) when the
//	                   bill list changed
//
// Every route takes ?mac=aa:bb:cc:dd:ee:ff to show one subscriber's
// sessions only.
package liveview
