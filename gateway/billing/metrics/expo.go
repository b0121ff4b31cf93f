package metrics

import (
	"bufio"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file is a small Prometheus client: counters, gauges and
// histograms with labels, and the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). It
// replaces github.com/prometheus/client_golang in gatewayd because that
// module (with protobuf, client_model and expfmt) adds about 3 MB to a
// linux/mipsle binary, which would take gatewayd over its 12 MB budget;
// the tests check the output with prometheus/common's own text parser.

// Registry holds metric families and writes them in registration order.
type Registry struct {
	mu   sync.Mutex
	fams []family
	seen map[string]bool
}

type family interface {
	name() string
	write(w *bufio.Writer)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{seen: make(map[string]bool)} }

// register adds f; a second family of one name is a programming error.
func (r *Registry) register(f family) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[f.name()] {
		panic("metrics: " + f.name() + " registered twice")
	}
	r.seen[f.name()] = true
	r.fams = append(r.fams, f)
}

// WriteTo writes every family in the text format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	fams := append([]family(nil), r.fams...)
	r.mu.Unlock()
	cw := &countWriter{w: w}
	bw := bufio.NewWriter(cw)
	for _, f := range fams {
		f.write(bw)
	}
	err := bw.Flush()
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Handler serves the registry at a scrape.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		r.WriteTo(w)
	})
}

// Opts names a metric family.
type Opts struct {
	Name, Help string
	// Labels are the variable label names, for the Vec kinds.
	Labels []string
	// Const are labels with one value for the whole family.
	Const map[string]string
}

type meta struct {
	opts  Opts
	typ   string
	konst string // rendered const labels, without braces
}

func newMeta(o Opts, typ string) meta {
	m := meta{opts: o, typ: typ}
	if len(o.Const) > 0 {
		keys := make([]string, 0, len(o.Const))
		for k := range o.Const {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeLabel(&b, k, o.Const[k])
		}
		m.konst = b.String()
	}
	return m
}

func (m *meta) name() string { return m.opts.Name }

func (m *meta) header(w *bufio.Writer) {
	w.WriteString("# HELP ")
	w.WriteString(m.opts.Name)
	w.WriteByte(' ')
	w.WriteString(escapeHelp(m.opts.Help))
	w.WriteString("\n# TYPE ")
	w.WriteString(m.opts.Name)
	w.WriteByte(' ')
	w.WriteString(m.typ)
	w.WriteByte('\n')
}

// sample writes one line: name{labels} value.
func (m *meta) sample(w *bufio.Writer, suffix string, labelValues []string, extra string, v float64) {
	w.WriteString(m.opts.Name)
	w.WriteString(suffix)
	parts := 0
	open := func() {
		if parts == 0 {
			w.WriteByte('{')
		} else {
			w.WriteByte(',')
		}
		parts++
	}
	if m.konst != "" {
		open()
		w.WriteString(m.konst)
	}
	for i, lv := range labelValues {
		open()
		var b strings.Builder
		writeLabel(&b, m.opts.Labels[i], lv)
		w.WriteString(b.String())
	}
	if extra != "" {
		open()
		w.WriteString(extra)
	}
	if parts > 0 {
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(v))
	w.WriteByte('\n')
}

func writeLabel(b *strings.Builder, k, v string) {
	b.WriteString(k)
	b.WriteString(`="`)
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// escapeHelp escapes a HELP text; help texts rarely need it, so the
// common case returns s itself and a scrape allocates nothing here.
func escapeHelp(s string) string {
	if !strings.ContainsAny(s, "\\\n") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// value is a float64 updated atomically.
type value struct{ bits atomic.Uint64 }

func (v *value) add(d float64) {
	for {
		old := v.bits.Load()
		if v.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}
func (v *value) set(f float64) { v.bits.Store(math.Float64bits(f)) }
func (v *value) get() float64  { return math.Float64frombits(v.bits.Load()) }

// Counter only goes up.
type Counter struct {
	meta
	v value
}

// NewCounter makes a counter and registers it with reg (nil: none).
func NewCounter(reg *Registry, o Opts) *Counter {
	c := &Counter{meta: newMeta(o, "counter")}
	reg.register(c)
	return c
}

// Inc adds 1.
func (c *Counter) Inc() { c.v.add(1) }

// Add adds d, which must not be negative.
func (c *Counter) Add(d float64) {
	if d > 0 {
		c.v.add(d)
	}
}

// Value is the count.
func (c *Counter) Value() float64 { return c.v.get() }

func (c *Counter) write(w *bufio.Writer) {
	c.header(w)
	c.sample(w, "", nil, "", c.v.get())
}

// Gauge goes up and down.
type Gauge struct {
	meta
	v value
}

// NewGauge makes a gauge and registers it with reg (nil: none).
func NewGauge(reg *Registry, o Opts) *Gauge {
	g := &Gauge{meta: newMeta(o, "gauge")}
	reg.register(g)
	return g
}

// Set sets the value.
func (g *Gauge) Set(v float64) { g.v.set(v) }

// Add adds d (negative to subtract).
func (g *Gauge) Add(d float64) { g.v.add(d) }

// Value is the value.
func (g *Gauge) Value() float64 { return g.v.get() }

func (g *Gauge) write(w *bufio.Writer) {
	g.header(w)
	g.sample(w, "", nil, "", g.v.get())
}

// vec holds one child per label-value combination.
type vec[T any] struct {
	meta
	mu   sync.Mutex
	kids map[string]*T
	vals map[string][]string
	make func() *T
}

func (v *vec[T]) with(values ...string) *T {
	if len(values) != len(v.opts.Labels) {
		panic("metrics: " + v.opts.Name + ": wrong number of label values")
	}
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.kids[key]; ok {
		return k
	}
	k := v.make()
	v.kids[key] = k
	v.vals[key] = append([]string(nil), values...)
	return k
}

// each calls f for every child, sorted by label values.
func (v *vec[T]) each(f func(values []string, k *T)) {
	v.mu.Lock()
	keys := make([]string, 0, len(v.kids))
	for k := range v.kids {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kids := make([]*T, len(keys))
	vals := make([][]string, len(keys))
	for i, k := range keys {
		kids[i], vals[i] = v.kids[k], v.vals[k]
	}
	v.mu.Unlock()
	for i := range kids {
		f(vals[i], kids[i])
	}
}

func newVec[T any](o Opts, typ string, mk func() *T) vec[T] {
	return vec[T]{meta: newMeta(o, typ), kids: make(map[string]*T), vals: make(map[string][]string), make: mk}
}

// CounterVec is a counter per label values.
type CounterVec struct{ vec[value] }

// NewCounterVec makes a labelled counter and registers it.
func NewCounterVec(reg *Registry, o Opts) *CounterVec {
	c := &CounterVec{newVec(o, "counter", func() *value { return new(value) })}
	reg.register(c)
	return c
}

// LabeledCounter is one child of a CounterVec.
type LabeledCounter struct{ v *value }

// WithLabelValues returns the child for these values, in Labels order.
func (c *CounterVec) WithLabelValues(values ...string) LabeledCounter {
	return LabeledCounter{c.with(values...)}
}

// Inc adds 1.
func (c LabeledCounter) Inc() { c.v.add(1) }

// Add adds d (not negative).
func (c LabeledCounter) Add(d float64) {
	if d > 0 {
		c.v.add(d)
	}
}

// Value is the count.
func (c LabeledCounter) Value() float64 { return c.v.get() }

func (c *CounterVec) write(w *bufio.Writer) {
	c.header(w)
	c.each(func(values []string, v *value) { c.sample(w, "", values, "", v.get()) })
}

// Histogram counts observations into cumulative buckets.
type Histogram struct {
	meta
	h hist
}

type hist struct {
	upper  []float64
	counts []atomic.Uint64 // per bucket, not cumulative; last is +Inf
	sum    value
}

func newHist(buckets []float64) hist {
	b := append([]float64(nil), buckets...)
	sort.Float64s(b)
	return hist{upper: b, counts: make([]atomic.Uint64, len(b)+1)}
}

func (h *hist) observe(v float64) {
	i := sort.SearchFloat64s(h.upper, v) // first upper >= v
	h.counts[i].Add(1)
	h.sum.add(v)
}

func (h *hist) write(m *meta, w *bufio.Writer, values []string) {
	var cum uint64
	for i, u := range h.upper {
		cum += h.counts[i].Load()
		m.sample(w, "_bucket", values, `le="`+formatFloat(u)+`"`, float64(cum))
	}
	cum += h.counts[len(h.upper)].Load()
	m.sample(w, "_bucket", values, `le="+Inf"`, float64(cum))
	m.sample(w, "_sum", values, "", h.sum.get())
	m.sample(w, "_count", values, "", float64(cum))
}

// NewHistogram makes a histogram with these bucket upper bounds.
func NewHistogram(reg *Registry, o Opts, buckets []float64) *Histogram {
	h := &Histogram{meta: newMeta(o, "histogram"), h: newHist(buckets)}
	reg.register(h)
	return h
}

// Observe records v.
func (h *Histogram) Observe(v float64) { h.h.observe(v) }

func (h *Histogram) write(w *bufio.Writer) {
	h.header(w)
	h.h.write(&h.meta, w, nil)
}

// HistogramVec is a histogram per label values.
type HistogramVec struct {
	vec[hist]
}

// NewHistogramVec makes a labelled histogram and registers it.
func NewHistogramVec(reg *Registry, o Opts, buckets []float64) *HistogramVec {
	h := &HistogramVec{newVec(o, "histogram", func() *hist { x := newHist(buckets); return &x })}
	reg.register(h)
	return h
}

// Observer is one child of a HistogramVec.
type Observer struct{ h *hist }

// Observe records v.
func (o Observer) Observe(v float64) { o.h.observe(v) }

// WithLabelValues returns the child for these values.
func (h *HistogramVec) WithLabelValues(values ...string) Observer {
	return Observer{h.with(values...)}
}

func (h *HistogramVec) write(w *bufio.Writer) {
	h.header(w)
	h.each(func(values []string, x *hist) { x.write(&h.meta, w, values) })
}

// Sample is one labelled value a Func family reports.
type Sample struct {
	LabelValues []string
	Value       float64
}

// Func is a family read at scrape time.
type Func struct {
	meta
	f func() []Sample
}

// NewCounterFunc registers a counter family whose samples f returns at
// each scrape (f must be safe to call concurrently).
func NewCounterFunc(reg *Registry, o Opts, f func() []Sample) *Func {
	x := &Func{meta: newMeta(o, "counter"), f: f}
	reg.register(x)
	return x
}

// NewGaugeFunc is NewCounterFunc for a gauge.
func NewGaugeFunc(reg *Registry, o Opts, f func() []Sample) *Func {
	x := &Func{meta: newMeta(o, "gauge"), f: f}
	reg.register(x)
	return x
}

func (x *Func) write(w *bufio.Writer) {
	x.header(w)
	for _, s := range x.f() {
		if len(s.LabelValues) != len(x.opts.Labels) {
			continue
		}
		x.sample(w, "", s.LabelValues, "", s.Value)
	}
}

// one is a single unlabelled sample.
func one(v float64) []Sample { return []Sample{{Value: v}} }

// RegisterProcess adds the usual process and Go runtime gauges:
// process_start_time_seconds, process_resident_memory_bytes (Linux),
// go_goroutines, go_memstats_heap_alloc_bytes, go_memstats_sys_bytes
// and go_gc_cycles_total.
func RegisterProcess(reg *Registry) {
	start := float64(time.Now().Unix())
	NewGaugeFunc(reg, Opts{Name: "process_start_time_seconds", Help: "Start time of the process since the Unix epoch in seconds."},
		func() []Sample { return one(start) })
	NewGaugeFunc(reg, Opts{Name: "process_resident_memory_bytes", Help: "Resident memory size in bytes."},
		func() []Sample { return one(float64(rss())) })
	NewGaugeFunc(reg, Opts{Name: "go_goroutines", Help: "Number of goroutines that currently exist."},
		func() []Sample { return one(float64(runtime.NumGoroutine())) })
	var mu sync.Mutex
	var ms runtime.MemStats
	var at time.Time
	mem := func(f func(*runtime.MemStats) float64) func() []Sample {
		return func() []Sample {
			mu.Lock()
			defer mu.Unlock()
			if time.Since(at) > time.Second {
				runtime.ReadMemStats(&ms)
				at = time.Now()
			}
			return one(f(&ms))
		}
	}
	NewGaugeFunc(reg, Opts{Name: "go_memstats_heap_alloc_bytes", Help: "Bytes of allocated heap objects."},
		mem(func(m *runtime.MemStats) float64 { return float64(m.HeapAlloc) }))
	NewGaugeFunc(reg, Opts{Name: "go_memstats_sys_bytes", Help: "Bytes of memory obtained from the OS."},
		mem(func(m *runtime.MemStats) float64 { return float64(m.Sys) }))
	NewCounterFunc(reg, Opts{Name: "go_gc_cycles_total", Help: "Completed GC cycles."},
		mem(func(m *runtime.MemStats) float64 { return float64(m.NumGC) }))
}

// rss reads the resident set from /proc/self/statm (0 elsewhere).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
