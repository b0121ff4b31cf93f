package store

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Gateway statuses.
const (
	GatewayActive   = "active"
	GatewayDisabled = "disabled"
)

// Gateway is one registered gateway.
type Gateway struct {
	ID        string
	PublicKey ed25519.PublicKey
	// Secret is the RADIUS shared secret its Accounting-Requests use.
	Secret string
	Owner  string
	Status string
	// Source, when valid, is where its packets must come from.
	Source    netip.Prefix
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Errors of the gateway registry.
var (
	ErrGatewayExists  = errors.New("store: gateway already registered")
	ErrNoGateway      = errors.New("store: no such gateway")
	ErrGatewayInvalid = errors.New("store: invalid gateway")
)

func (g *Gateway) validate() error {
	switch {
	case g.ID == "" || len(g.ID) > 247:
		return fmt.Errorf("%w: id must be 1 to 247 octets", ErrGatewayInvalid)
	case len(g.PublicKey) != ed25519.PublicKeySize:
		return fmt.Errorf("%w: public key of %d octets, want %d", ErrGatewayInvalid, len(g.PublicKey), ed25519.PublicKeySize)
	case g.Secret == "":
		return fmt.Errorf("%w: empty secret", ErrGatewayInvalid)
	case g.Status != GatewayActive && g.Status != GatewayDisabled:
		return fmt.Errorf("%w: status %q", ErrGatewayInvalid, g.Status)
	}
	return nil
}

// AddGateway registers g (Status defaults to active). With replace, an
// existing registration of the same id is overwritten (a key rotation);
// without, it is ErrGatewayExists.
func (s *Store) AddGateway(ctx context.Context, g Gateway, replace bool) error {
	if g.Status == "" {
		g.Status = GatewayActive
	}
	if err := g.validate(); err != nil {
		return err
	}
	var src *netip.Prefix
	if g.Source.IsValid() {
		p := g.Source.Masked()
		src = &p
	}
	q := `INSERT INTO billd.gateways (id, public_key, secret, owner, status, source) VALUES ($1, $2, $3, $4, $5, $6)`
	if replace {
		q += ` ON CONFLICT (id) DO UPDATE SET public_key = EXCLUDED.public_key, secret = EXCLUDED.secret,
			owner = EXCLUDED.owner, status = EXCLUDED.status, source = EXCLUDED.source, updated_at = now()`
	}
	_, err := s.Pool.Exec(ctx, q, g.ID, []byte(g.PublicKey), g.Secret, g.Owner, g.Status, src)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: %q", ErrGatewayExists, g.ID)
	}
	return err
}

// SetGatewayStatus enables or disables a gateway. A disabled gateway's
// bills are still stored, flagged gateway_disabled.
func (s *Store) SetGatewayStatus(ctx context.Context, id, status string) error {
	if status != GatewayActive && status != GatewayDisabled {
		return fmt.Errorf("%w: status %q", ErrGatewayInvalid, status)
	}
	tag, err := s.Pool.Exec(ctx, `UPDATE billd.gateways SET status = $2, updated_at = now() WHERE id = $1`, id, status)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %q", ErrNoGateway, id)
	}
	return nil
}

// Gateways lists every registered gateway by id.
func (s *Store) Gateways(ctx context.Context) ([]Gateway, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, public_key, secret, owner, status, source, created_at, updated_at
		FROM billd.gateways ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Gateway, error) {
		var g Gateway
		var key []byte
		var src *netip.Prefix
		err := r.Scan(&g.ID, &key, &g.Secret, &g.Owner, &g.Status, &src, &g.CreatedAt, &g.UpdatedAt)
		g.PublicKey = ed25519.PublicKey(key)
		if src != nil {
			g.Source = *src
		}
		return g, err
	})
}
