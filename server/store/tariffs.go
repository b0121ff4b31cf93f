package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/edgebill/edgebill/rfc/tariff"
)

// TariffKey names a tariff version, as a bill does.
type TariffKey struct {
	ID      string
	Version uint32
}

func (k TariffKey) String() string { return fmt.Sprintf("%s v%d", k.ID, k.Version) }

// radiusTariffs gathers the tariff text FreeRADIUS hands out: a plan's
// EdgeBill-Tariff attributes in radgroupreply, a user's own in radreply,
// each joined in row order (a long tariff spans several attributes,
// rfc/tariff.Split).
const radiusTariffs = `
SELECT 'radgroupreply:' || groupname, string_agg(value, '' ORDER BY id)
  FROM public.radgroupreply WHERE attribute = 'EdgeBill-Tariff' GROUP BY groupname
UNION ALL
SELECT 'radreply:' || username, string_agg(value, '' ORDER BY id)
  FROM public.radreply WHERE attribute = 'EdgeBill-Tariff' GROUP BY username`

// SyncResult says what SyncTariffs found.
type SyncResult struct {
	Added []TariffKey
	// Conflicts are versions the RADIUS tables now give a different text
	// than the one first stored: the ISP changed a tariff without a new
	// version. The stored text is kept (bills priced before the change
	// name it) and the conflict reported.
	Conflicts []TariffKey
	// Invalid are tariff texts that do not parse, by where they are.
	Invalid map[string]error
}

// SyncTariffs copies every tariff version the ISP's RADIUS tables hand
// out (EdgeBill-Tariff in radgroupreply and radreply) into billd.tariffs,
// keyed by the id and version the text itself names. This is where the
// server gets the tariff a bill names: from the ISP's own records, never
// from the gateway. Versions are kept after the RADIUS tables move on.
// Without FreeRADIUS's schema it does nothing.
func (s *Store) SyncTariffs(ctx context.Context) (SyncResult, error) {
	res := SyncResult{Invalid: map[string]error{}}
	var exists bool
	if err := s.Pool.QueryRow(ctx, `SELECT to_regclass('public.radgroupreply') IS NOT NULL AND to_regclass('public.radreply') IS NOT NULL`).Scan(&exists); err != nil {
		return res, err
	}
	if !exists {
		return res, nil
	}
	rows, err := s.Pool.Query(ctx, radiusTariffs)
	if err != nil {
		return res, err
	}
	type found struct{ where, text string }
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (found, error) {
		var f found
		return f, r.Scan(&f.where, &f.text)
	})
	if err != nil {
		return res, err
	}
	for _, f := range all {
		t, err := tariff.Parse(f.text)
		if err != nil {
			res.Invalid[f.where] = err
			s.log.Warn("tariff in RADIUS tables does not parse", zap.String("where", f.where), zap.Error(err))
			continue
		}
		added, conflict, err := s.putTariff(ctx, t, f.where)
		if err != nil {
			return res, err
		}
		k := TariffKey{t.ID(), t.Version()}
		if added {
			res.Added = append(res.Added, k)
		}
		if conflict {
			res.Conflicts = append(res.Conflicts, k)
			s.log.Warn("tariff version changed in place", zap.Stringer("tariff", k), zap.String("where", f.where))
		}
	}
	return res, nil
}

// AddTariff stores a tariff text given by an operator (source names
// where it came from). It reports whether it was new, and an error if
// the version is already stored with a different text.
func (s *Store) AddTariff(ctx context.Context, text, source string) (TariffKey, bool, error) {
	t, err := tariff.Parse(text)
	if err != nil {
		return TariffKey{}, false, err
	}
	k := TariffKey{t.ID(), t.Version()}
	added, conflict, err := s.putTariff(ctx, t, source)
	if err == nil && conflict {
		err = fmt.Errorf("store: tariff %v is already stored with another text", k)
	}
	return k, added, err
}

func (s *Store) putTariff(ctx context.Context, t *tariff.Tariff, source string) (added, conflict bool, err error) {
	text := t.String()
	tag, err := s.Pool.Exec(ctx, `INSERT INTO billd.tariffs (id, version, text, source) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id, version) DO NOTHING`, t.ID(), int64(t.Version()), text, source)
	if err != nil {
		return false, false, err
	}
	if tag.RowsAffected() == 1 {
		return true, false, nil
	}
	var old string
	if err := s.Pool.QueryRow(ctx, `SELECT text FROM billd.tariffs WHERE id = $1 AND version = $2`, t.ID(), int64(t.Version())).Scan(&old); err != nil {
		return false, false, err
	}
	if old == text {
		return false, false, nil
	}
	if o, err := tariff.Parse(old); err == nil && o.Equal(t) {
		return false, false, nil
	}
	return false, true, nil
}

// Tariffs loads every stored tariff, parsed. A stored text that no longer
// parses (a newer grammar) is reported in bad and left out.
func (s *Store) Tariffs(ctx context.Context) (map[TariffKey]*tariff.Tariff, map[TariffKey]error, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, version, text FROM billd.tariffs`)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	out := map[TariffKey]*tariff.Tariff{}
	bad := map[TariffKey]error{}
	for rows.Next() {
		var id, text string
		var v int64
		if err := rows.Scan(&id, &v, &text); err != nil {
			return nil, nil, err
		}
		k := TariffKey{id, uint32(v)}
		t, err := tariff.Parse(text)
		if err != nil {
			bad[k] = err
			continue
		}
		out[k] = t
	}
	return out, bad, rows.Err()
}
