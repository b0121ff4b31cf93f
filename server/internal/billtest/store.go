package billtest

import (
	"context"
	"os"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/server/store"
)

// Store gives a test billd's store on pg as billd finds its database:
// FreeRADIUS's stock schema loaded (radacct, and radgroupreply where
// tariffs come from), billd's migrations applied, partitions made from
// last month to monthsAhead months ahead. It closes with the test.
func Store(t testing.TB, pg *lab.Postgres, monthsAhead int) *store.Store {
	t.Helper()
	ctx := context.Background()
	if _, err := os.Stat(lab.StockSchemaSQL); err != nil {
		testenv.Missing(t, "FreeRADIUS's Postgres schema (Debian's freeradius-postgresql): "+err.Error())
	}
	if err := pg.ExecFile(ctx, lab.StockSchemaSQL); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, pg.URL, store.Options{}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := st.Migrate(ctx, monthsAhead); err != nil {
		t.Fatal(err)
	}
	return st
}
