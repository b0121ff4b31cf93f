package metrics

import (
	"sort"
	"sync"

	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/internal/radclient"
)

const ns = "gatewayd_"

// Billing is the billing side's metrics. Build it with NewBilling; one
// built with a nil Registry still counts (tests).
type Billing struct {
	SessionsLive      *Gauge
	SessionsOpened    *Counter
	SessionsClosed    *CounterVec // cause
	SessionsRecovered *Counter
	BillsMade         *Counter
	BillsInvalid      *Counter
	BillsAcked        *Counter
	ChargeMinor       *CounterVec // currency, scale
	Interims          *CounterVec // result: sent, failed, dropped, stale
	Starts            *CounterVec // result: sent, failed, dropped, stale
	CreditExhausted   *Counter
	RADIUSLatency     *HistogramVec
	DeliveryErrors    *Counter
	JournalCommits    *Histogram
	JournalErrors     *Counter
	FaultUnderbill    *Gauge
}

// NewBilling makes the billing metrics and registers them with reg (nil:
// not registered).
func NewBilling(reg *Registry) *Billing {
	return &Billing{
		SessionsLive: NewGauge(reg, Opts{Name: ns + "billing_sessions_live",
			Help: "Sessions being metered and priced now."}),
		SessionsOpened: NewCounter(reg, Opts{Name: ns + "billing_sessions_opened_total",
			Help: "Sessions the relay reported opened."}),
		SessionsClosed: NewCounterVec(reg, Opts{Name: ns + "billing_sessions_closed_total",
			Help: "Sessions closed and billed, by Acct-Terminate-Cause.", Labels: []string{"cause"}}),
		SessionsRecovered: NewCounter(reg, Opts{Name: ns + "billing_sessions_recovered_total",
			Help: "Sessions found open in the journal at start and billed with NAS-Reboot."}),
		BillsMade: NewCounter(reg, Opts{Name: ns + "bills_made_total",
			Help: "Bills signed, chained and journaled."}),
		BillsInvalid: NewCounter(reg, Opts{Name: ns + "bills_invalid_total",
			Help: "Sessions that could not be made into a valid bill (a bug: see the log)."}),
		BillsAcked: NewCounter(reg, Opts{Name: ns + "bills_acknowledged_total",
			Help: "Bills acknowledged by an accounting server and removed from the pending queue."}),
		ChargeMinor: NewCounterVec(reg, Opts{Name: ns + "bills_charge_minor_units_total",
			Help: "Sum of bill charges, in minor units, by currency and scale.", Labels: []string{"currency", "scale"}}),
		Interims: NewCounterVec(reg, Opts{Name: ns + "interim_updates_total",
			Help: "Accounting Interim-Updates, by result (sent, failed, dropped: the sender was behind, stale: the session was billed before it went).", Labels: []string{"result"}}),
		Starts: NewCounterVec(reg, Opts{Name: ns + "accounting_starts_total",
			Help: "Accounting Starts (best effort, not journaled), by result (sent, failed, dropped: the sender was behind, stale: the session was billed before it went).", Labels: []string{"result"}}),
		CreditExhausted: NewCounter(reg, Opts{Name: ns + "billing_credit_exhausted_total",
			Help: "Sessions ended by the gateway because their running charge reached the credit of their authorisation."}),
		RADIUSLatency: NewHistogramVec(reg, Opts{Name: ns + "radius_request_duration_seconds",
			Help:   "Time from sending an Accounting-Request to its verified response, retransmissions and failover included, by kind (stop, interim, start).",
			Labels: []string{"kind"}},
			[]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}),
		DeliveryErrors: NewCounter(reg, Opts{Name: ns + "bill_delivery_errors_total",
			Help: "Bill delivery attempts that ended without an acknowledgement."}),
		JournalCommits: NewHistogram(reg, Opts{Name: ns + "journal_commit_duration_seconds",
			Help: "Journal write transactions (fsync included)."},
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}),
		JournalErrors: NewCounter(reg, Opts{Name: ns + "journal_errors_total",
			Help: "Journal write transactions that failed (retried)."}),
		FaultUnderbill: NewGauge(reg, Opts{Name: ns + "fault_underbill_percent",
			Help: "The deliberate under-billing fault in force (0: none)."}),
	}
}

// RegisterJournal adds gauges read from the journal at scrape time: its
// file size, the bills pending, the open sessions checkpointed and the
// last bill's sequence.
func RegisterJournal(reg *Registry, j *journal.Journal) {
	var (
		mu   sync.Mutex
		last journal.Stats
	)
	stat := func(f func(journal.Stats) float64) func() []Sample {
		return func() []Sample {
			mu.Lock()
			defer mu.Unlock()
			if s, err := j.Stats(); err == nil {
				last = s
			}
			return one(f(last))
		}
	}
	NewGaugeFunc(reg, Opts{Name: ns + "journal_size_bytes", Help: "Size of the journal file."},
		stat(func(s journal.Stats) float64 { return float64(s.SizeBytes) }))
	NewGaugeFunc(reg, Opts{Name: ns + "bills_pending", Help: "Bills journaled and not yet acknowledged (store-and-forward queue)."},
		stat(func(s journal.Stats) float64 { return float64(s.Pending) }))
	NewGaugeFunc(reg, Opts{Name: ns + "journal_sessions", Help: "Open sessions checkpointed in the journal."},
		stat(func(s journal.Stats) float64 { return float64(s.Sessions) }))
	NewGaugeFunc(reg, Opts{Name: ns + "bill_sequence", Help: "Sequence number of the last bill made."},
		stat(func(s journal.Stats) float64 { return float64(s.Sequence) }))
}

// RelayStats is a snapshot of the relay's counters.
type RelayStats struct {
	// Sessions is the number of sessions in the relay's table; Up the
	// number carrying IP.
	Sessions, Up int
	// Frames counts frames relayed, by direction or kind (for example
	// "from_lan", "from_wan").
	Frames map[string]uint64
	// Drops counts frames dropped, by reason (for example "spoofed",
	// "unknown_session", "malformed", "padi_rate").
	Drops map[string]uint64
	// Dials counts authorisation outcomes ("accepted", "refused",
	// "auth_error").
	Dials map[string]uint64
}

// RelaySource is what the relay exposes for metrics; Stats is called at
// each scrape.
type RelaySource interface {
	Stats() RelayStats
}

// RegisterRelay adds gatewayd_relay_sessions, gatewayd_relay_sessions_up,
// gatewayd_relay_frames_total{dir}, gatewayd_relay_drops_total{reason}
// and gatewayd_relay_dials_total{result}, read from src at scrape time
// (one Stats call per scrape).
func RegisterRelay(reg *Registry, src RelaySource) {
	var mu sync.Mutex
	var last RelayStats
	snap := func(f func(s *RelayStats) []Sample) func() []Sample {
		return func() []Sample {
			mu.Lock()
			defer mu.Unlock()
			if f == nil {
				return nil
			}
			return f(&last)
		}
	}
	NewGaugeFunc(reg, Opts{Name: ns + "relay_sessions", Help: "Sessions in the relay's table (any state)."},
		func() []Sample {
			// The first family of a scrape takes the snapshot.
			mu.Lock()
			last = src.Stats()
			v := last.Sessions
			mu.Unlock()
			return one(float64(v))
		})
	NewGaugeFunc(reg, Opts{Name: ns + "relay_sessions_up", Help: "Sessions authenticated and carrying IP."},
		snap(func(s *RelayStats) []Sample { return one(float64(s.Up)) }))
	NewCounterFunc(reg, Opts{Name: ns + "relay_frames_total", Help: "Frames relayed, by direction.", Labels: []string{"dir"}},
		snap(func(s *RelayStats) []Sample { return samples(s.Frames) }))
	NewCounterFunc(reg, Opts{Name: ns + "relay_drops_total", Help: "Frames dropped, by reason.", Labels: []string{"reason"}},
		snap(func(s *RelayStats) []Sample { return samples(s.Drops) }))
	NewCounterFunc(reg, Opts{Name: ns + "relay_dials_total", Help: "Dials by authorisation result.", Labels: []string{"result"}},
		snap(func(s *RelayStats) []Sample { return samples(s.Dials) }))
}

func samples(m map[string]uint64) []Sample {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Sample, len(keys))
	for i, k := range keys {
		out[i] = Sample{LabelValues: []string{k}, Value: float64(m[k])}
	}
	return out
}

// RegisterRADIUSClient adds gatewayd_radius_client_events_total{client,
// event}: the internal/radclient counters (requests, retransmits,
// responses, bad replies, unmatched, failovers, timeouts) of the client
// named client ("accounting").
func RegisterRADIUSClient(reg *Registry, client string, stats func() radclient.Stats) {
	NewCounterFunc(reg, Opts{Name: ns + "radius_client_events_total", Help: "RADIUS client events, by event.",
		Labels: []string{"event"}, Const: map[string]string{"client": client}},
		func() []Sample {
			s := stats()
			return samples(map[string]uint64{
				"requests": s.Requests, "retransmits": s.Retransmits, "responses": s.Responses,
				"bad_replies": s.BadReplies, "unmatched": s.Unmatched, "failovers": s.Failovers,
				"timeouts": s.Timeouts,
			})
		})
}
