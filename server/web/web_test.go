package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/server/internal/seed"
	"github.com/edgebill/edgebill/server/report"
	"github.com/edgebill/edgebill/server/web"
)

const token = "s3cret-token"

func serve(t *testing.T) (*seed.Result, *httptest.Server) {
	t.Helper()
	sd := seed.Week(t, 7)
	rd := &report.Reader{Pool: sd.Store.Pool, DriftBasisPoints: 100, MinPairs: 10}
	h, err := web.New(rd, web.Config{Token: token, Gatherer: prometheus.NewRegistry()}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return sd, srv
}

func get(t *testing.T, srv *httptest.Server, path string, auth bool) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestNewNeedsToken(t *testing.T) {
	if _, err := web.New(&report.Reader{}, web.Config{}, nil); err != web.ErrNoToken {
		t.Fatalf("New without a token: %v", err)
	}
}

func TestAPI(t *testing.T) {
	t.Parallel()
	sd, srv := serve(t)
	q := "from=" + url.QueryEscape(sd.From.Format(time.RFC3339)) + "&to=" + url.QueryEscape(sd.To.Format(time.RFC3339))

	for _, p := range []string{"/api/v1/findings", "/api/v1/verdicts/counts", "/", "/api/v1/findings.csv"} {
		if code, _ := get(t, srv, p, false); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", p, code)
		}
	}
	if code, _ := get(t, srv, "/api/v1/findings?token=wrong", false); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	if code, _ := get(t, srv, "/healthz", false); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	if code, _ := get(t, srv, "/metrics", false); code != http.StatusOK {
		t.Errorf("metrics: %d", code)
	}

	// Counts by day add up to what the run wrote.
	code, body := get(t, srv, "/api/v1/verdicts/counts?"+q, true)
	if code != 200 {
		t.Fatalf("counts: %d %s", code, body)
	}
	var counts struct {
		Totals map[string]int64 `json:"totals"`
		Counts []report.Count   `json:"counts"`
	}
	if err := json.Unmarshal(body, &counts); err != nil {
		t.Fatal(err)
	}
	for k, n := range sd.Counts {
		if counts.Totals[string(k)] != int64(n) {
			t.Errorf("total %s = %d, the run wrote %d", k, counts.Totals[string(k)], n)
		}
	}
	_, hourly := get(t, srv, "/api/v1/verdicts/counts?bucket=hour&"+q, true)
	var hc struct {
		Totals map[string]int64 `json:"totals"`
	}
	json.Unmarshal(hourly, &hc)
	if fmt.Sprint(hc.Totals) != fmt.Sprint(counts.Totals) {
		t.Errorf("hourly totals %v, daily %v", hc.Totals, counts.Totals)
	}
	if code, _ := get(t, srv, "/api/v1/verdicts/counts?bucket=week", true); code != 400 {
		t.Errorf("bad bucket: %d, want 400", code)
	}

	// Findings: every kind but match by default; filters narrow them.
	_, body = get(t, srv, "/api/v1/findings?limit=10000&"+q, true)
	var fs struct{ Findings []report.Finding }
	if err := json.Unmarshal(body, &fs); err != nil {
		t.Fatal(err)
	}
	want := 0
	for k, n := range sd.Counts {
		if k != "match" {
			want += n
		}
	}
	if len(fs.Findings) != want {
		t.Errorf("%d findings, want %d", len(fs.Findings), want)
	}
	_, body = get(t, srv, "/api/v1/findings?kind=usage_mismatch&gateway=gw-drift&"+q, true)
	fs.Findings = nil
	json.Unmarshal(body, &fs)
	if len(fs.Findings) == 0 {
		t.Fatal("no usage mismatches for gw-drift")
	}
	var mismatch report.Finding
	for _, f := range fs.Findings {
		if f.Kind != "usage_mismatch" || f.GatewayID != "gw-drift" {
			t.Fatalf("filter let through %+v", f)
		}
		if *f.DiffIn != *f.BillIn-*f.AcctIn || *f.DiffIn <= 0 {
			t.Fatalf("figures: %+v", f)
		}
		mismatch = f
	}

	// CSV: the same findings, one a line.
	code, body = get(t, srv, "/api/v1/findings.csv?"+q, true)
	if code != 200 {
		t.Fatalf("csv: %d", code)
	}
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != want+1 || strings.Join(recs[0], ",") != strings.Join(web.CSVHeader, ",") {
		t.Errorf("csv: %d records (want %d), header %v", len(recs), want+1, recs[0])
	}

	// One session's two sides.
	_, body = get(t, srv, "/api/v1/sessions?gateway=gw-drift&bill="+mismatch.BillID, true)
	var ss report.Session
	if err := json.Unmarshal(body, &ss); err != nil {
		t.Fatal(err)
	}
	if ss.Bill == nil || ss.Acct == nil || ss.Verdict == nil || ss.Verdict.Kind != "usage_mismatch" ||
		ss.Bill.In-*ss.Acct.In != *mismatch.DiffIn {
		t.Fatalf("session: %s", body)
	}
	_, body = get(t, srv, fmt.Sprintf("/api/v1/sessions?radacct=%d", ss.Acct.RadacctID), true)
	var ss2 report.Session
	json.Unmarshal(body, &ss2)
	if ss2.Bill == nil || ss2.Bill.BillID != ss.Bill.BillID {
		t.Fatalf("session by radacct: %s", body)
	}
	if code, _ := get(t, srv, "/api/v1/sessions?gateway=gw-drift&bill=00", true); code != 404 {
		t.Errorf("unknown bill: %d, want 404", code)
	}

	// Gateways: the drifting one is named, the good one is not.
	_, body = get(t, srv, "/api/v1/gateways?"+q, true)
	var gs struct{ Gateways []report.Gateway }
	json.Unmarshal(body, &gs)
	byID := map[string]report.Gateway{}
	for _, g := range gs.Gateways {
		byID[g.ID] = g
	}
	if g := byID["gw-drift"]; !g.Drifting || g.DriftBasisPoints < 100 || !strings.Contains(g.Why, "higher") {
		t.Errorf("gw-drift: %+v", g)
	}
	if g := byID["gw-fine"]; g.Drifting || g.Accuracy != 1 {
		t.Errorf("gw-fine: %+v", g)
	}
	if gs.Gateways[0].ID != "gw-drift" {
		t.Errorf("worst first: %s first", gs.Gateways[0].ID)
	}
	_, body = get(t, srv, "/api/v1/gateways/gw-lossy/accuracy?"+q, true)
	var acc struct{ Days []report.Day }
	json.Unmarshal(body, &acc)
	if len(acc.Days) < 7 {
		t.Errorf("gw-lossy accuracy: %s", body)
	}
}

// TestDashboardScreenshot renders the dashboard of a seeded database in
// Debian's headless Chromium and checks the picture and the page.
func TestDashboardScreenshot(t *testing.T) {
	t.Parallel()
	chromium := testenv.Binary(t, "chromium")
	sd, srv := serve(t)
	q := "from=" + url.QueryEscape(sd.From.Format(time.RFC3339)) + "&to=" + url.QueryEscape(sd.To.Format(time.RFC3339))

	code, html := get(t, srv, "/?"+q, true)
	if code != 200 {
		t.Fatalf("dashboard: %d %s", code, html)
	}
	page := string(html)
	for _, s := range []string{`id="verdict-chart"`, `class="bar"`, `class="accuracy"`, `id="findings"`, `class="finding"`,
		"Drifting gateways", "gw-drift", "usage_mismatch", "missing_bill", "chain_gap", "two sides"} {
		if !strings.Contains(page, s) {
			t.Errorf("dashboard lacks %q", s)
		}
	}
	if n := strings.Count(page, `class="bar"`); n < 7 {
		t.Errorf("chart has %d bars", n)
	}
	// The session page, linked from a finding.
	i := strings.Index(page, `/session?gateway=`)
	if i < 0 {
		t.Fatal("no session link")
	}
	link := strings.ReplaceAll(page[i:i+strings.IndexByte(page[i:], '"')], "&amp;", "&")
	code, sp := get(t, srv, link, true)
	if code != 200 || !strings.Contains(string(sp), `id="sides"`) || !strings.Contains(string(sp), "BRAS record") {
		t.Fatalf("session page %s: %d\n%s", link, code, sp)
	}

	dir := t.TempDir()
	shot := filepath.Join(dir, "dashboard.png")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--screenshot="+shot, "--window-size=1280,900", srv.URL+"/?token="+token+"&"+q)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	if b.Dx() != 1280 || b.Dy() != 900 {
		t.Errorf("screenshot is %dx%d", b.Dx(), b.Dy())
	}
	colors := map[[3]uint32]int{}
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}]++
		}
	}
	// The header bar (#263238) and the mismatch bars (#ff9800) are there,
	// and the page is more than a blank or an error.
	has := func(r, g, bl uint32) bool {
		for c := range colors {
			if absd(c[0], r) < 8 && absd(c[1], g) < 8 && absd(c[2], bl) < 8 {
				return true
			}
		}
		return false
	}
	if len(colors) < 50 || !has(0x26, 0x32, 0x38) || !has(0xff, 0x98, 0x00) {
		t.Errorf("screenshot looks empty: %d colours, header %v, chart %v (kept at %s)", len(colors), has(0x26, 0x32, 0x38), has(0xff, 0x98, 0x00), shot)
	}
	if st, _ := os.Stat(shot); st.Size() < 20000 {
		t.Errorf("screenshot of %d octets", st.Size())
	}
	if out := os.Getenv("EDGEBILL_SCREENSHOT_OUT"); out != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(out, b, 0o644)
	}
}

func absd(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
