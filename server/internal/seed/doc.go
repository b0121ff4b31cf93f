// Package seed fills a test database with a week of sessions on both
// sides, some of them wrong, and reconciles it: what the dashboard and
// API tests look at.
package seed
