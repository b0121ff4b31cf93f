//go:build linux

package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/lab/system"
)

// snapshot is what the status line shows: the BRAS's side from
// FreeRADIUS's radacct, bills and verdicts from billd's tables when they
// exist, refusals and bills waiting at the gateways from their metrics.
type snapshot struct {
	sessionsUp, sessionsAll int64
	octets                  int64
	refused                 int64 // dials the gateways refused (or FreeRADIUS's Access-Rejects, without gateways)
	pending                 int64 // bills the gateways have not had acknowledged
	bills                   int64 // -1: no billd schema yet
	verdicts                map[string]int64
}

// watcher keeps one connection to the lab's database (through isp).
type watcher struct {
	top  *lab.Topology
	sys  *system.System // nil: the database only
	conn *pgx.Conn
}

func (w *watcher) close() {
	if w.conn != nil {
		w.conn.Close(context.Background())
		w.conn = nil
	}
}

func (w *watcher) snapshot(ctx context.Context) (snapshot, error) {
	s := snapshot{bills: -1}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if w.conn == nil || w.conn.IsClosed() {
		c, err := w.top.PG.Connect(ctx)
		if err != nil {
			return s, err
		}
		w.conn = c
	}
	c := w.conn
	err := c.QueryRow(ctx, `SELECT count(*) FILTER (WHERE acctstoptime IS NULL), count(*),
		COALESCE(sum(acctinputoctets + acctoutputoctets), 0)::bigint FROM radacct`).Scan(&s.sessionsUp, &s.sessionsAll, &s.octets)
	if err != nil {
		w.close()
		return s, err
	}
	_ = c.QueryRow(ctx, `SELECT count(*) FROM radpostauth WHERE reply = 'Access-Reject'`).Scan(&s.refused)
	if w.sys != nil {
		s.refused = 0
		for _, g := range w.sys.Gateways {
			if m, err := w.sys.GatewayMetrics(ctx, g); err == nil {
				s.refused += int64(m.Get(`gatewayd_relay_dials_total{result="refused"}`))
				s.pending += int64(m.Get("gatewayd_bills_pending"))
			}
		}
	}
	var hasBills, hasVerdicts bool
	if err := c.QueryRow(ctx, `SELECT to_regclass('billd.bills') IS NOT NULL, to_regclass('billd.verdicts_all') IS NOT NULL`).Scan(&hasBills, &hasVerdicts); err != nil {
		w.close()
		return s, err
	}
	if hasBills {
		_ = c.QueryRow(ctx, `SELECT count(*) FROM billd.bills`).Scan(&s.bills)
	}
	if hasVerdicts {
		rows, err := c.Query(ctx, `SELECT kind, count(*) FROM billd.verdicts GROUP BY kind UNION ALL SELECT 'match', count(*) FROM billd.matches HAVING count(*) > 0 ORDER BY kind`)
		if err == nil {
			s.verdicts = map[string]int64{}
			for rows.Next() {
				var k string
				var n int64
				if rows.Scan(&k, &n) == nil {
					s.verdicts[k] = n
				}
			}
			rows.Close()
		}
	}
	return s, nil
}

func (s snapshot) line() string {
	b := fmt.Sprintf("sessions up %d (%d in all) | traffic %s | refused %d | bills ", s.sessionsUp, s.sessionsAll, humanBytes(s.octets), s.refused)
	if s.bills < 0 {
		b += "n/a"
	} else {
		b += fmt.Sprint(s.bills)
	}
	if s.pending > 0 {
		b += fmt.Sprintf(" (%d pending at the gateways)", s.pending)
	}
	return b
}

func (s snapshot) verdictLine() string {
	if s.verdicts == nil {
		return "verdicts: n/a (no billd schema)"
	}
	if len(s.verdicts) == 0 {
		return "verdicts: none yet"
	}
	var parts []string
	for _, k := range []string{"match", "within_tolerance", "usage_mismatch", "charge_mismatch", "missing_bill",
		"orphan_bill", "bad_signature", "chain_gap", "duplicate"} {
		if n, ok := s.verdicts[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	return "verdicts: " + strings.Join(parts, ", ")
}
