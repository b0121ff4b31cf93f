package web

import (
	"embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/edgebill/edgebill/server/report"
)

//go:embed templates/*.html
var templateFS embed.FS

// kindColor is each verdict kind's colour on the chart and in tables.
var kindColor = map[string]string{
	"match":            "#4caf50",
	"within_tolerance": "#8bc34a",
	"usage_mismatch":   "#ff9800",
	"charge_mismatch":  "#f44336",
	"missing_bill":     "#9c27b0",
	"orphan_bill":      "#3f51b5",
	"bad_signature":    "#212121",
	"chain_gap":        "#795548",
	"duplicate":        "#00bcd4",
}

// findingKinds are the kinds stacked on the chart, in order.
var findingKinds = []string{"usage_mismatch", "charge_mismatch", "missing_bill", "orphan_bill", "bad_signature", "chain_gap", "duplicate"}

var funcs = template.FuncMap{
	"color": func(k string) string {
		if c, ok := kindColor[k]; ok {
			return c
		}
		return "#999"
	},
	"num": func(p *int64) string {
		if p == nil {
			return "–"
		}
		return group(*p)
	},
	"int": func(v int64) string { return group(v) },
	"signed": func(p *int64) string {
		if p == nil {
			return "–"
		}
		if *p > 0 {
			return "+" + group(*p)
		}
		return group(*p)
	},
	"money": func(p *int64, scale *int16, cur string) string {
		if p == nil {
			return "–"
		}
		sc := int16(0)
		if scale != nil {
			sc = *scale
		}
		return money(*p, sc, cur)
	},
	"time": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04:05")
		case *time.Time:
			if v == nil {
				return "–"
			}
			return v.UTC().Format("2006-01-02 15:04:05")
		}
		return ""
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) },
	"bp": func(bp int64) string {
		sign := ""
		if bp > 0 {
			sign = "+"
		}
		return fmt.Sprintf("%s%.2f%%", sign, float64(bp)/100)
	},
	"nonzero": func(p *int64) bool { return p != nil && *p != 0 },
	"ptr":     func(v int64) *int64 { return &v },
	"ptr16":   func(v int16) *int16 { return &v },
}

// group writes an integer with thin spaces between thousands.
func group(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u2009")
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// money writes minor units as a decimal amount.
func money(v int64, scale int16, cur string) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	d := strconv.FormatUint(u, 10)
	if scale > 0 {
		for len(d) <= int(scale) {
			d = "0" + d
		}
		d = d[:len(d)-int(scale)] + "." + d[len(d)-int(scale):]
	}
	if neg {
		d = "-" + d
	}
	if cur != "" {
		d += " " + cur
	}
	return d
}

var (
	dashboardTmpl = template.Must(template.New("dashboard.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/dashboard.html"))
	sessionTmpl   = template.Must(template.New("session.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/session.html"))
)

// Bar is one stacked segment of the chart.
type Bar struct {
	X, Y, W, H float64
	Color      string
	Title      string
}

// Label is a piece of text on the chart.
type Label struct {
	X, Y   float64
	Text   string
	Anchor string
}

// Chart is the verdicts-over-time chart, laid out for the template.
type Chart struct {
	Width, Height float64
	Bars          []Bar
	Labels        []Label
	AccuracyLine  string // SVG polyline points
	Grid          []float64
	Left, Bottom  float64
	PlotRight     float64
	Kinds         []string
	Empty         bool
}

// makeChart stacks the findings of each day and draws the share of good
// verdicts as a line (right axis, 0 to 100%).
func makeChart(counts []report.Count, from, to time.Time) Chart {
	c := Chart{Width: 1180, Height: 320, Left: 56, Bottom: 280, PlotRight: 1120, Kinds: findingKinds}
	type day struct {
		kinds map[string]int64
	}
	var days []time.Time
	byDay := map[time.Time]*day{}
	for d := from.Truncate(24 * time.Hour); d.Before(to); d = d.Add(24 * time.Hour) {
		days = append(days, d)
		byDay[d] = &day{kinds: map[string]int64{}}
	}
	for _, x := range counts {
		if d := byDay[x.Period.Truncate(24*time.Hour)]; d != nil {
			d.kinds[x.Kind] += x.N
		}
	}
	if len(days) == 0 {
		c.Empty = true
		return c
	}
	var maxStack int64
	for _, d := range days {
		var s int64
		for _, k := range findingKinds {
			s += byDay[d].kinds[k]
		}
		maxStack = max(maxStack, s)
	}
	top := niceCeil(maxStack)
	plotH := c.Bottom - 20
	slot := (c.PlotRight - c.Left) / float64(len(days))
	barW := math.Max(2, slot*0.7)
	var pts []string
	total := int64(0)
	for i, d := range days {
		x := c.Left + float64(i)*slot + (slot-barW)/2
		y := c.Bottom
		k := byDay[d].kinds
		for _, kind := range findingKinds {
			n := k[kind]
			if n == 0 {
				continue
			}
			h := float64(n) / float64(top) * plotH
			y -= h
			c.Bars = append(c.Bars, Bar{X: x, Y: y, W: barW, H: h, Color: kindColor[kind], Title: fmt.Sprintf("%s %s: %d", d.Format("2006-01-02"), kind, n)})
		}
		good := k["match"] + k["within_tolerance"]
		bills := good
		for _, kind := range []string{"usage_mismatch", "charge_mismatch", "orphan_bill", "bad_signature", "duplicate"} {
			bills += k[kind]
		}
		for _, n := range k {
			total += n
		}
		if bills > 0 {
			acc := float64(good) / float64(bills)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+barW/2, c.Bottom-acc*plotH))
		}
		if len(days) <= 16 || i%((len(days)+15)/16) == 0 {
			c.Labels = append(c.Labels, Label{X: x + barW/2, Y: c.Bottom + 16, Text: d.Format("01-02"), Anchor: "middle"})
		}
	}
	c.Empty = total == 0
	c.AccuracyLine = strings.Join(pts, " ")
	for i := 0; i <= 4; i++ {
		y := c.Bottom - float64(i)/4*plotH
		c.Grid = append(c.Grid, y)
		c.Labels = append(c.Labels,
			Label{X: c.Left - 6, Y: y + 4, Text: group(top * int64(i) / 4), Anchor: "end"},
			Label{X: c.PlotRight + 6, Y: y + 4, Text: fmt.Sprintf("%d%%", 25*i), Anchor: "start"})
	}
	return c
}

func niceCeil(v int64) int64 {
	if v <= 4 {
		return 4
	}
	p := int64(1)
	for p*10 < v {
		p *= 10
	}
	for _, m := range []int64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

type dashboardData struct {
	From, To   time.Time
	Now        time.Time
	Chart      Chart
	Totals     map[string]int64
	Kinds      []string
	Judged     int64
	Good       int64
	Accuracy   float64
	Gateways   []report.Gateway
	Drifting   []report.Gateway
	Findings   []report.Finding
	Query      template.URL
	KindFilter string
}

func (s *Server) pageDashboard(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.period(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	counts, err := s.r.Counts(ctx, from, to, "day", "")
	if err != nil {
		return err
	}
	gs, err := s.r.Gateways(ctx, from, to)
	if err != nil {
		return err
	}
	f, err := s.filter(r)
	if err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	fs, err := s.r.Findings(ctx, f)
	if err != nil {
		return err
	}
	d := dashboardData{From: from, To: to, Now: s.cfg.Now().UTC(), Chart: makeChart(counts, from, to),
		Totals: report.Totals(counts), Findings: fs, KindFilter: r.URL.Query().Get("kind")}
	for _, k := range []string{"match", "within_tolerance", "usage_mismatch", "charge_mismatch", "missing_bill",
		"orphan_bill", "bad_signature", "chain_gap", "duplicate"} {
		d.Kinds = append(d.Kinds, k)
		if k != "chain_gap" && k != "missing_bill" {
			d.Judged += d.Totals[k]
		}
	}
	d.Good = d.Totals["match"] + d.Totals["within_tolerance"]
	d.Accuracy = 1
	if d.Judged > 0 {
		d.Accuracy = float64(d.Good) / float64(d.Judged)
	}
	for _, g := range gs {
		if g.Drifting {
			d.Drifting = append(d.Drifting, g)
		}
	}
	if len(gs) > 10 {
		gs = gs[:10]
	}
	d.Gateways = gs
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	if d.KindFilter != "" {
		q.Set("kind", d.KindFilter)
	}
	d.Query = template.URL(q.Encode())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return dashboardTmpl.ExecuteTemplate(w, "layout", d)
}

type sessionData struct {
	Now     time.Time
	Session *report.Session
	Scale   *int16
	Cur     string
}

func (s *Server) pageSession(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.session(r)
	if err != nil {
		return err
	}
	d := sessionData{Now: s.cfg.Now().UTC(), Session: ss}
	if ss.Bill != nil {
		sc := ss.Bill.Scale
		d.Scale, d.Cur = &sc, ss.Bill.Currency
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	return sessionTmpl.ExecuteTemplate(w, "layout", d)
}
