package metrics

import (
	"bytes"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/internal/radclient"
)

type relayFake struct{}

func (relayFake) Stats() RelayStats {
	return RelayStats{Sessions: 3, Up: 2,
		Frames: map[string]uint64{"from_lan": 10, "from_wan": 20},
		Drops:  map[string]uint64{"spoofed": 1, "malformed": 2},
		Dials:  map[string]uint64{"accepted": 5}}
}

// parse checks the output with Prometheus' own text parser.
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("Prometheus' parser refuses the exposition: %v\n%s", err, text)
	}
	return fams
}

func TestExpositionParses(t *testing.T) {
	reg := NewRegistry()
	RegisterProcess(reg)
	m := NewBilling(reg)
	j, err := journal.Open(filepath.Join(t.TempDir(), "j.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	RegisterJournal(reg, j)
	RegisterRelay(reg, relayFake{})
	RegisterRADIUSClient(reg, "accounting", func() radclient.Stats { return radclient.Stats{Requests: 4, Retransmits: 1} })

	m.SessionsOpened.Inc()
	m.SessionsClosed.WithLabelValues("User-Request").Inc()
	m.SessionsClosed.WithLabelValues("Odd \"cause\"\n\\").Add(2)
	m.ChargeMinor.WithLabelValues("CNY", "4").Add(12345)
	m.RADIUSLatency.WithLabelValues("stop").Observe(0.003)
	m.RADIUSLatency.WithLabelValues("stop").Observe(7)
	m.RADIUSLatency.WithLabelValues("stop").Observe(1000)
	m.JournalCommits.Observe(0.002)
	m.SessionsLive.Set(2)

	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	fams := parse(t, rec.Body.String())

	get := func(name string, labels map[string]string) float64 {
		t.Helper()
		f, ok := fams[name]
		if !ok {
			t.Fatalf("no family %s", name)
		}
	next:
		for _, mt := range f.Metric {
			got := map[string]string{}
			for _, l := range mt.Label {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case mt.Counter != nil:
				return mt.Counter.GetValue()
			case mt.Gauge != nil:
				return mt.Gauge.GetValue()
			case mt.Untyped != nil:
				return mt.Untyped.GetValue()
			}
		}
		t.Fatalf("%s%v not found", name, labels)
		return 0
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gatewayd_billing_sessions_opened_total", nil, 1},
		{"gatewayd_billing_sessions_closed_total", map[string]string{"cause": "User-Request"}, 1},
		{"gatewayd_billing_sessions_closed_total", map[string]string{"cause": "Odd \"cause\"\n\\"}, 2},
		{"gatewayd_bills_charge_minor_units_total", map[string]string{"currency": "CNY", "scale": "4"}, 12345},
		{"gatewayd_billing_sessions_live", nil, 2},
		{"gatewayd_bills_pending", nil, 0},
		{"gatewayd_relay_sessions", nil, 3},
		{"gatewayd_relay_sessions_up", nil, 2},
		{"gatewayd_relay_drops_total", map[string]string{"reason": "malformed"}, 2},
		{"gatewayd_relay_frames_total", map[string]string{"dir": "from_wan"}, 20},
		{"gatewayd_relay_dials_total", map[string]string{"result": "accepted"}, 5},
		{"gatewayd_radius_client_events_total", map[string]string{"client": "accounting", "event": "retransmits"}, 1},
	} {
		if got := get(c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	h := fams["gatewayd_radius_request_duration_seconds"].Metric[0].Histogram
	if h.GetSampleCount() != 3 || h.GetSampleSum() != 1007.003 {
		t.Errorf("histogram count %d sum %v", h.GetSampleCount(), h.GetSampleSum())
	}
	var cum []uint64
	for _, b := range h.Bucket {
		if b.GetUpperBound() == 0.0025 || b.GetUpperBound() == 0.005 || b.GetUpperBound() == 10 || b.GetUpperBound() == 300 {
			cum = append(cum, b.GetCumulativeCount())
		}
	}
	if diff := cmp.Diff([]uint64{0, 1, 2, 2}, cum); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
	if get("go_goroutines", nil) < 1 || get("process_start_time_seconds", nil) <= 0 {
		t.Errorf("process gauges")
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	reg := NewRegistry()
	NewCounter(reg, Opts{Name: "x", Help: "x"})
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	NewCounter(reg, Opts{Name: "x", Help: "x"})
}

func TestWriteToCounts(t *testing.T) {
	reg := NewRegistry()
	NewGauge(reg, Opts{Name: "g", Help: "a\\b\nc"}).Set(1.5)
	var b bytes.Buffer
	n, err := reg.WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo: %d, %v (wrote %d)", n, err, b.Len())
	}
	want := "# HELP g a\\\\b\\nc\n# TYPE g gauge\ng 1.5\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func BenchmarkCounterVecInc(b *testing.B) {
	c := NewCounterVec(nil, Opts{Name: "c", Labels: []string{"k"}})
	b.ReportAllocs()
	for b.Loop() {
		c.WithLabelValues("sent").Inc()
	}
}
