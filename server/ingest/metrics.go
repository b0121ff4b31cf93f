package ingest

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Drop reasons, the values of billd_ingest_dropped_total's reason label.
// A dropped request gets no answer (RFC 5080 §2.2.2: silently discarded).
const (
	DropMalformed          = "malformed"
	DropNotAccounting      = "not_accounting"
	DropUnknownClient      = "unknown_client"
	DropWrongSource        = "wrong_source"
	DropBadAuthenticator   = "bad_authenticator"
	DropBadMessageAuth     = "bad_message_authenticator"
	DropNoMessageAuth      = "no_message_authenticator"
	DropQueueFull          = "queue_full"
	DropInProgress         = "in_progress"
	DropTooManyRetransmits = "too_many_retransmits"
	DropShutdown           = "shutdown"
)

// Metrics are ingest's Prometheus metrics.
type Metrics struct {
	Received      *prometheus.CounterVec // by type: stop, interim, start, on_off
	Acked         prometheus.Counter
	Stored        prometheus.Counter
	Duplicates    *prometheus.CounterVec // by layer: cache, inflight, store
	Dropped       *prometheus.CounterVec // by reason
	Flagged       *prometheus.CounterVec // by status
	Rejected      prometheus.Counter
	CommitSeconds prometheus.Histogram
	CommitRows    prometheus.Histogram
	CommitErrors  prometheus.Counter
	AckLatency    prometheus.Histogram
	// PreCommitSeconds is the time from the first request for a row to
	// the start of the group commit that writes it: the queue, the
	// batching and the signature checks. AckLatency less this and
	// CommitSeconds is the answering.
	PreCommitSeconds prometheus.Histogram
	VerifySeconds    prometheus.Histogram
	QueueDepth       prometheus.GaugeFunc
	DupCacheSize     prometheus.GaugeFunc
	GatewaysLoaded   prometheus.Gauge
	TariffsLoaded    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, s *Server) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billd_ingest_received_total",
			Help: "Accounting-Requests that passed authentication, by Acct-Status-Type (stop carries a bill).",
		}, []string{"type"}),
		Acked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "billd_ingest_acked_total",
			Help: "Accounting-Responses sent after the request was durably committed (retransmissions included).",
		}),
		Stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "billd_bills_stored_total",
			Help: "Bills stored for the first time.",
		}),
		Duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billd_ingest_duplicates_total",
			Help: "Requests recognised as repeats: by the RFC 5080 cache, by a bill already in flight, or by a bill already stored.",
		}, []string{"layer"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billd_ingest_dropped_total",
			Help: "Requests dropped without an answer, by reason.",
		}, []string{"reason"}),
		Flagged: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billd_bills_flagged_total",
			Help: "Bills stored but flagged (bad signature, unknown or disabled gateway).",
		}, []string{"status"}),
		Rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "billd_ingest_rejected_total",
			Help: "Authenticated requests whose bill did not decode, stored in billd.rejected.",
		}),
		CommitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "billd_commit_seconds",
			Help:    "Time to commit one group of rows (synchronous commit).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		CommitRows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "billd_commit_rows",
			Help:    "Rows per group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13),
		}),
		CommitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "billd_commit_errors_total",
			Help: "Group commits that failed and are being retried (Postgres down?).",
		}),
		AckLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "billd_ack_latency_seconds",
			Help:    "Time from receiving a request to sending its Accounting-Response.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		PreCommitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "billd_ingest_precommit_seconds",
			Help:    "Time from the first request for a row to the start of the group commit that writes it (queue, batching, signature checks).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		VerifySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "billd_verify_seconds",
			Help:    "Time to check the signatures of one batch of bills.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}),
		GatewaysLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "billd_gateways_loaded",
			Help: "Registered gateways in the ingest cache.",
		}),
		TariffsLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "billd_ingest_tariffs_loaded",
			Help: "Tariff versions in the ingest cache, which prices each bill as it arrives.",
		}),
	}
	m.QueueDepth = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "billd_ingest_queue_depth",
		Help: "Requests accepted and waiting to be committed and answered.",
	}, func() float64 { return float64(s.QueueDepth()) })
	m.DupCacheSize = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "billd_ingest_dup_cache_entries",
		Help: "Entries in the RFC 5080 duplicate cache.",
	}, func() float64 { return float64(s.dups.len()) })
	if reg != nil {
		reg.MustRegister(m.Received, m.Acked, m.Stored, m.Duplicates, m.Dropped, m.Flagged, m.Rejected,
			m.CommitSeconds, m.CommitRows, m.CommitErrors, m.AckLatency, m.PreCommitSeconds, m.VerifySeconds, m.QueueDepth, m.DupCacheSize, m.GatewaysLoaded,
			m.TariffsLoaded)
	}
	return m
}
