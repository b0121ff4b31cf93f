//go:build linux

package e2e

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab/system"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/nas/link"
)

// progressRow is billd's live view of a session (billd.progress).
type progressRow struct {
	SessionID, Status string
	Start             *time.Time
	Seconds           int64
	Charge            *int64
}

// gatewayd's Accounting Start reaches a real billd (lab/system: billd
// serving on its Postgres, the gateway registered with it) and billd
// shows the session as live, from the Start alone, before its first
// interim (the plans' interim interval is a minute): a billd.progress
// row with status "start", session time 0, the session's start time and
// the charge at the open. At hang-up the bill comes with the same
// Acct-Session-Id and start time, and the row goes.
func TestStartReachesBilld(t *testing.T) {
	t.Parallel()
	testenv.Root(t)
	testenv.Short(t, "starts the whole system (billd, nasd, gatewayd, FreeRADIUS, Postgres) in namespaces")
	sys := system.Start(t, &system.Options{Prefix: "gws", Logf: t.Logf})
	g := sys.Gateway(1)

	var c *link.Conn
	if err := sys.Top.Sub.Do(func() (err error) {
		c, err = link.Listen(g.SubIf, &link.Options{Promiscuous: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m := client.NewMux(c, zap.NewNop())
	ctx, cancel := context.WithCancel(context.Background())
	muxDone := make(chan struct{})
	go func() { m.Run(ctx); close(muxDone) }()
	t.Cleanup(func() { cancel(); <-muxDone })

	dialled := time.Now()
	s := mustDial(t, m, macN(0xd1, 1), "alice")
	var row progressRow
	waitFor(t, 10*time.Second, "alice's session in billd.progress", func() bool {
		rows := progressRows(t, sys, g.ID, "alice")
		if len(rows) == 0 {
			return false
		}
		if len(rows) > 1 {
			t.Fatalf("%d progress rows for one session: %+v", len(rows), rows)
		}
		row = rows[0]
		return true
	})
	seen := time.Since(dialled)
	if row.Status != "start" || row.Seconds != 0 || row.Start == nil || row.Charge == nil {
		t.Fatalf("progress row %+v, want a Start's: status start, 0 s, a start time and the charge at the open", row)
	}
	if seen > 30*time.Second {
		t.Errorf("billd showed the session %v after the dial: not before the first interim", seen)
	}
	t.Logf("billd.progress shows %s %v after the dial: status %q, started %v, charge %d",
		row.SessionID, seen.Round(time.Millisecond), row.Status, row.Start.UTC(), *row.Charge)

	exchange(t, s, 20, 500)
	hangup(t, s)
	var billStart time.Time
	waitFor(t, 20*time.Second, "alice's bill in billd.bills", func() bool {
		ok, start := billOf(t, sys, g.ID, row.SessionID)
		billStart = start
		return ok
	})
	if !billStart.Equal(*row.Start) {
		t.Errorf("bill starts %v, the Start said %v", billStart, *row.Start)
	}
	waitFor(t, 10*time.Second, "the progress row gone", func() bool {
		return len(progressRows(t, sys, g.ID, "alice")) == 0
	})
}

func progressRows(t *testing.T, sys *system.System, gw, user string) []progressRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sys.Top.PG.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT session_id, status, start_time, session_seconds, running_charge
		FROM billd.progress WHERE gateway_id = $1 AND username = $2`, gw, user)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []progressRow
	for rows.Next() {
		var r progressRow
		if err := rows.Scan(&r.SessionID, &r.Status, &r.Start, &r.Seconds, &r.Charge); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func billOf(t *testing.T, sys *system.System, gw, session string) (bool, time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sys.Top.PG.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var start time.Time
	err = c.QueryRow(ctx, `SELECT start_time FROM billd.bills WHERE gateway_id = $1 AND session_id = $2`, gw, session).Scan(&start)
	if err != nil {
		return false, time.Time{}
	}
	return true, start
}
