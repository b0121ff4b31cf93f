package authz

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3576"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
)

// Server is one RADIUS authorisation server.
type Server = radclient.Server

// Config configures an Authorizer. Zero values are the defaults.
type Config struct {
	// Servers are tried in order, with failover (at least one).
	Servers []Server
	// GatewayID is sent as NAS-Identifier.
	GatewayID string
	// LocalAddr is the source address of requests (FreeRADIUS tells
	// clients apart by it); empty lets the kernel choose.
	LocalAddr string
	// Timeout bounds one Authorize call over all servers (default 10 s).
	Timeout time.Duration
	// IRT and MRC are the per-server retransmission timer and count
	// (RFC 5080 §2.2.1; defaults 1 s and 2: a dial waits, so failover
	// comes quickly). MRD bounds the time on one server (default 3 s).
	IRT time.Duration
	MRC int
	MRD time.Duration
	// FailOpen accepts a dial when no server answers (with an empty
	// Authorization). The default is to refuse it.
	FailOpen bool
	// Dial opens the UDP sockets (e.g. inside a network namespace).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Logger; nil means zap.NewNop().
	Logger *zap.Logger
}

// Authorizer implements gateway.Authorizer over RADIUS.
type Authorizer struct {
	cfg Config
	c   *radclient.Client
	log *zap.Logger
}

var _ gateway.Authorizer = (*Authorizer)(nil)

// ErrUnavailable is returned (wrapped) when no server answered and the
// Authorizer fails closed.
var ErrUnavailable = errors.New("authz: no RADIUS server answered")

// New opens the client sockets (in the caller's network namespace).
func New(cfg Config) (*Authorizer, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("authz: no RADIUS servers configured")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.IRT <= 0 {
		cfg.IRT = time.Second
	}
	if cfg.MRC <= 0 {
		cfg.MRC = 2
	}
	if cfg.MRD <= 0 {
		cfg.MRD = 3 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	c, err := radclient.New(radclient.Config{
		Servers:   cfg.Servers,
		Sockets:   1,
		IRT:       cfg.IRT,
		MRT:       cfg.IRT * 4,
		MRC:       cfg.MRC,
		MRD:       cfg.MRD,
		LocalAddr: cfg.LocalAddr,
		Dial:      cfg.Dial,
		Logger:    cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("authz: %w", err)
	}
	return &Authorizer{cfg: cfg, c: c, log: cfg.Logger.Named("authz")}, nil
}

// Close closes the sockets.
func (a *Authorizer) Close() error { return a.c.Close() }

// Request builds the Authorize-Only Access-Request (without its
// Message-Authenticator, which the client adds when it encodes).
func Request(user string, mac net.HardwareAddr, gatewayID string, secret []byte) (*radius.Packet, error) {
	p := radius.New(radius.CodeAccessRequest, secret)
	if err := rfc2865.UserName_SetString(p, user); err != nil {
		return nil, err
	}
	if err := rfc2865.ServiceType_Set(p, rfc3576.ServiceType_Value_AuthorizeOnly); err != nil {
		return nil, err
	}
	if err := rfc2865.CallingStationID_SetString(p, radiusx.CallingStationID(mac)); err != nil {
		return nil, err
	}
	if gatewayID != "" {
		if err := rfc2865.NASIdentifier_SetString(p, gatewayID); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Authorize asks the servers about user dialling from subscriber.
func (a *Authorizer) Authorize(ctx context.Context, user string, subscriber net.HardwareAddr) (gateway.Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	// The secret is per server; radclient re-signs with each one.
	p, err := Request(user, subscriber, a.cfg.GatewayID, nil)
	if err != nil {
		return gateway.Decision{}, fmt.Errorf("authz: %w", err)
	}
	start := time.Now()
	resp, err := a.c.Exchange(ctx, p)
	if err != nil {
		if a.cfg.FailOpen && (errors.Is(err, radclient.ErrNoAnswer) || errors.Is(err, context.DeadlineExceeded)) {
			a.log.Warn("no RADIUS answer: failing open", zap.String("user", user), zap.Error(err))
			return gateway.Decision{Accept: true}, nil
		}
		if errors.Is(err, radclient.ErrNoAnswer) || errors.Is(err, context.DeadlineExceeded) {
			return gateway.Decision{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return gateway.Decision{}, fmt.Errorf("authz: %w", err)
	}
	d, err := Decode(resp)
	a.log.Debug("authorize", zap.String("user", user), zap.Bool("accept", d.Accept),
		zap.Duration("took", time.Since(start)), zap.Error(err))
	return d, err
}

// Decode turns a verified reply into a Decision.
func Decode(resp *radius.Packet) (gateway.Decision, error) {
	switch resp.Code {
	case radius.CodeAccessAccept:
		d := gateway.Decision{Accept: true}
		parts, err := ebattr.EdgeBillTariff_GetStrings(resp)
		if err != nil {
			return gateway.Decision{}, fmt.Errorf("authz: EdgeBill-Tariff: %w", err)
		}
		d.Auth.Tariff = strings.Join(parts, "")
		if v, err := rfc2869.AcctInterimInterval_Lookup(resp); err == nil {
			d.Auth.InterimInterval = time.Duration(v) * time.Second
		}
		if v, err := ebattr.EdgeBillCredit_Lookup(resp); err == nil {
			d.Auth.Credit, d.Auth.HasCredit = int64(v), true
		}
		if v, err := rfc2865.Class_Lookup(resp); err == nil {
			d.Auth.Class = append([]byte(nil), v...)
		}
		return d, nil
	case radius.CodeAccessReject, radius.CodeAccessChallenge:
		msgs, _ := rfc2865.ReplyMessage_GetStrings(resp)
		return gateway.Decision{ReplyMessage: strings.Join(msgs, "")}, nil
	}
	return gateway.Decision{}, fmt.Errorf("authz: unexpected reply %v", resp.Code)
}
