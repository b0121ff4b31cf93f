package delivery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/gateway/billing/metrics"
	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/rfc/bill"
)

// Defaults for Config.
const (
	DefaultRetry = 5 * time.Second
	batch        = 32
)

// Accounter delivers one accounting request and returns the verified
// response, retrying until acknowledged or ctx ends (internal/radclient's
// Client.Account).
type Accounter interface {
	Account(ctx context.Context, p *radius.Packet) (*radius.Packet, error)
}

var _ Accounter = (*radclient.Client)(nil)

// Config configures a Deliverer.
type Config struct {
	// Journal holds the pending bills. Required.
	Journal *journal.Journal
	// Client sends them. Required.
	Client Accounter
	// Retry is the pause after a delivery error other than the context
	// ending (DefaultRetry). The client itself retransmits and fails
	// over; this only guards against a client that gives up.
	Retry time.Duration
	// Now is the clock (time.Now).
	Now    func() time.Time
	Logger *zap.Logger
	// Metrics; nil means unregistered ones.
	Metrics *metrics.Billing
}

// Deliverer sends pending bills in order until acknowledged.
type Deliverer struct {
	cfg  Config
	log  *zap.Logger
	m    *metrics.Billing
	kick chan struct{}
}

// New makes a Deliverer; Run starts it.
func New(cfg Config) (*Deliverer, error) {
	if cfg.Journal == nil || cfg.Client == nil {
		return nil, errors.New("delivery: journal and client are required")
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewBilling(nil)
	}
	return &Deliverer{cfg: cfg, log: cfg.Logger.Named("delivery"), m: cfg.Metrics, kick: make(chan struct{}, 1)}, nil
}

// Kick says new bills are in the journal. It never blocks.
func (d *Deliverer) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; it returns nil then. A bill in flight when
// ctx ends stays pending, to be sent again.
func (d *Deliverer) Run(ctx context.Context) error {
	for {
		recs, err := d.cfg.Journal.Pending(batch)
		if err != nil {
			// A corrupt record would block the queue for good; nothing
			// here can repair it, so say so loudly and keep trying.
			d.log.Error("reading pending bills", zap.Error(err))
			if !sleep(ctx, d.cfg.Retry) {
				return nil
			}
			continue
		}
		if len(recs) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-d.kick:
			}
			continue
		}
		for i := range recs {
			if err := d.deliver(ctx, &recs[i]); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d.m.DeliveryErrors.Inc()
				d.log.Warn("bill not delivered; will retry", zap.Uint64("seq", recs[i].Bill.Sequence), zap.Error(err))
				if !sleep(ctx, d.cfg.Retry) {
					return nil
				}
				break
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Packet builds the Accounting-Request Stop for a journaled bill at now:
// the bill's attributes (rfc/bill ToPacket), the session's Class
// (RFC 2865 §5.25) and Acct-Delay-Time since the bill's Stop. The
// RADIUS client adds Identifier, Authenticator and Message-Authenticator
// per server, and raises Acct-Delay-Time on each new transmission.
func Packet(r *journal.Record, now time.Time) (*radius.Packet, error) {
	p := &radius.Packet{Code: radius.CodeAccountingRequest}
	if err := bill.ToPacket(&r.Bill, p); err != nil {
		return nil, fmt.Errorf("delivery: bill %d: %w", r.Bill.Sequence, err)
	}
	if len(r.Class) > 0 && len(r.Class) <= 253 {
		p.Add(rfc2865.Class_Type, r.Class)
	}
	delay := now.Sub(r.Bill.Stop) / time.Second
	delay = max(0, min(delay, math.MaxUint32))
	if err := rfc2866.AcctDelayTime_Set(p, rfc2866.AcctDelayTime(delay)); err != nil {
		return nil, err
	}
	return p, nil
}

func (d *Deliverer) deliver(ctx context.Context, r *journal.Record) error {
	p, err := Packet(r, d.cfg.Now())
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := d.cfg.Client.Account(ctx, p)
	if err != nil {
		return err
	}
	if resp.Code != radius.CodeAccountingResponse {
		return fmt.Errorf("delivery: reply is %v, not Accounting-Response", resp.Code)
	}
	d.m.RADIUSLatency.WithLabelValues("stop").Observe(time.Since(start).Seconds())
	if err := d.cfg.Journal.Ack(r.Bill.Sequence, d.cfg.Now()); err != nil {
		// The bill was acknowledged but stays pending: it will be sent
		// again and billd will store it once.
		return fmt.Errorf("delivery: recording the acknowledgement: %w", err)
	}
	d.m.BillsAcked.Inc()
	d.log.Info("bill acknowledged", zap.Uint64("seq", r.Bill.Sequence), zap.String("session", r.Bill.SessionID),
		zap.String("user", r.Bill.UserName), zap.Duration("took", time.Since(start)))
	return nil
}
