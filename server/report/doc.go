// Package report reads what reconciliation found, for the ops CLI
// (`billd report`), the JSON API and the dashboard: verdict counts by
// period, findings with filters, one session's two sides, and the
// gateways with their accuracy over time and whether their bills drift.
package report
