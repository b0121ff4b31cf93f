package main

import (
	"context"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/billing/config"
	"github.com/edgebill/edgebill/gateway/billing/metrics"
	"github.com/edgebill/edgebill/gateway/relay"
	"github.com/edgebill/edgebill/gateway/relay/authz"
)

// relayHandle is what run needs of the relay half.
type relayHandle struct {
	run   func(ctx context.Context) error
	relay relayPart // counts and ends sessions for billing
	close func()
}

// startRelay is the one place the relay is wired: the authoriser over
// the [auth] servers, the relay over the LAN and WAN interfaces with
// billing as its gateway.Sessions, and its counters as metrics.
func startRelay(cfg *config.Config, sessions gateway.Sessions, newKey func() uint64, log *zap.Logger, reg *metrics.Registry) (*relayHandle, error) {
	az, err := authz.New(authz.Config{
		Servers:   radiusServers(cfg.Auth.Servers),
		GatewayID: cfg.GatewayID,
		LocalAddr: cfg.Auth.LocalAddress,
		IRT:       cfg.Auth.Timeout,
		MRC:       cfg.Auth.Retries,
		MRD:       cfg.Auth.MaxDuration,
		FailOpen:  cfg.Auth.FailOpen,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	r, err := relay.New(relay.Config{
		LAN:              cfg.LAN.Interface,
		WAN:              cfg.WAN.Interface,
		Mode:             relay.Mode(cfg.Relay.Mode),
		GatewayID:        cfg.GatewayID,
		CircuitID:        cfg.Relay.AgentCircuitID,
		RemoteID:         cfg.Relay.AgentRemoteID,
		MaxSessions:      cfg.Relay.MaxSessions,
		PADIRate:         float64(cfg.Relay.PADIRate),
		PADIBurst:        cfg.Relay.PADIBurst,
		HandshakeTimeout: cfg.Relay.HandshakeTimeout,
		IdleTimeout:      cfg.Relay.IdleTimeout,
		EchoFailures:     cfg.Relay.EchoFailures,
		Authorizer:       az,
		Sessions:         sessions,
		NewKey:           newKey,
		Logger:           log,
	})
	if err != nil {
		az.Close()
		return nil, err
	}
	metrics.RegisterRelay(reg, relayStats{r})
	return &relayHandle{run: r.Run, relay: r, close: func() { az.Close() }}, nil
}

// relayStats adapts relay.Stats to the metrics package.
type relayStats struct{ r *relay.Relay }

func (s relayStats) Stats() metrics.RelayStats {
	st := s.r.Stats()
	out := metrics.RelayStats{
		Sessions: st.Sessions,
		Up:       st.Up,
		Frames:   map[string]uint64{"from_lan": st.FromLAN, "from_wan": st.FromWAN},
		Drops:    make(map[string]uint64, len(st.Drops)),
		Dials: map[string]uint64{
			"accepted": st.Accepted, "refused": st.Refused, "auth_error": st.AuthErrors,
			"generic_error": st.GenericErrors,
		},
	}
	for i, n := range st.Drops {
		out.Drops[relay.DropReason(i).String()] = n
	}
	return out
}
