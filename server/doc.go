// Package server is billd, the reconciliation server: RADIUS accounting
// listener for gateway bills, Postgres store and migrations, the
// reconciliation engine, HTTP API, dashboard and metrics.
package server
