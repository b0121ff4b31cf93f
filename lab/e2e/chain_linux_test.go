//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/edgebill/edgebill/lab/system"
	"github.com/edgebill/edgebill/nas/client"
)

// The whole chain, two gateways, the second under-billing: subscribers
// on the three plans dial through both, move traffic, hang up or vanish;
// dave and erin are refused with their Reply-Messages. Every BRAS
// session is billed exactly once, every bill matches but the faulty
// gateway's, which are all charge mismatches; the live view, billd's
// report and dashboard agree.
func TestWholeChain(t *testing.T) {
	t.Parallel()
	s := start(t, system.Options{Gateways: 2, Faulty: 2})
	ctx := testCtx(t, 3*time.Minute)
	users, err := s.AddSubscribers(ctx, "wc", 16)
	if err != nil {
		t.Fatal(err)
	}
	// Gateway 1: the fixture's alice, bob and carol, then more; every
	// fifth refused. Gateway 2: the rest.
	u1 := system.Mix(append([]client.Credential{system.Alice, system.Bob, system.Carol}, users[:7]...), 5)
	u2 := system.Mix(users[7:], 5)
	dials := []*system.Dialer{
		s.StartDial(system.Dial{Gateway: 1, Users: u1, Rate: 4, Hold: 5 * time.Second, PPS: 20, Size: 400, DropEvery: 3}),
		s.StartDial(system.Dial{Gateway: 2, Users: u2, Rate: 4, Hold: 5 * time.Second, PPS: 20, Size: 400, DropEvery: 4}),
	}
	var reps []*client.Report
	for _, d := range dials {
		reps = append(reps, wait(t, ctx, d))
	}
	checkRefusals(t, reps...)
	up := system.Up(reps...)
	want := 0
	for _, c := range append(u1, u2...) {
		if !system.Refused(c.User) {
			want++
		}
	}
	if up != want {
		t.Errorf("%d sessions up, want %d", up, want)
	}
	o := finish(t, ctx, s, system.Expect{Up: up})
	if o == nil {
		return
	}
	if o.ByGateway["gw-lab-2"]["charge_mismatch"] == 0 {
		t.Errorf("faulty gateway: %v", o.ByGateway["gw-lab-2"])
	}
	if o.ByGateway["gw-lab-1"]["match"]+o.ByGateway["gw-lab-1"]["within_tolerance"] == 0 {
		t.Errorf("honest gateway: %v", o.ByGateway["gw-lab-1"])
	}

	// What each side shows: the bills in the subscribers' live view
	// (from their LAN), billd's report, its dashboard.
	bills, err := s.Bills(ctx)
	if err != nil {
		t.Fatal(err)
	}
	perGateway := map[string]int{}
	for _, b := range bills {
		perGateway[b.GatewayID]++
	}
	for _, g := range s.Gateways {
		var doc struct {
			Bills []struct {
				Status string `json:"status"`
			} `json:"bills"`
		}
		body := get(t, ctx, s, g.LiveAddr(), "/api/bills?limit=1000")
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("%s live view: %v\n%s", g.ID, err, body)
		}
		acked := 0
		for _, b := range doc.Bills {
			if b.Status == "acknowledged" {
				acked++
			}
		}
		if acked != perGateway[g.ID] || len(doc.Bills) != acked {
			t.Errorf("%s live view: %d bills, %d acknowledged; billd has %d", g.ID, len(doc.Bills), acked, perGateway[g.ID])
		}
	}
	out, err := s.BilldCLI(ctx, "report", "-from", "-2h", "-to", "now", "-format", "json", "-limit", "0")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Totals   map[string]int `json:"totals"`
		Findings []struct {
			Kind       string `json:"kind"`
			GatewayID  string `json:"gateway_id"`
			BillCharge *int64 `json:"bill_charge"`
			AcctCharge *int64 `json:"acct_charge"`
			AcctIn     *int64 `json:"acct_in"`
			BillIn     *int64 `json:"bill_in"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("billd report: %v\n%s", err, out)
	}
	for k, n := range o.Counts {
		if rep.Totals[k] != n {
			t.Errorf("billd report: %s %d, verdicts %d", k, rep.Totals[k], n)
		}
	}
	// Findings are every verdict but match: the faulty gateway's charge
	// mismatches, each with both sides' figures, and any honest bill
	// within tolerance (a session whose millisecond time and the BRAS's
	// whole seconds straddle a charging increment).
	mismatches := 0
	for _, f := range rep.Findings {
		switch {
		case f.Kind == "charge_mismatch" && f.GatewayID == "gw-lab-2" && f.BillCharge != nil && f.AcctCharge != nil && f.AcctIn != nil && f.BillIn != nil:
			mismatches++
		case f.Kind == "within_tolerance" && f.GatewayID == "gw-lab-1":
		default:
			t.Errorf("finding %+v: want a charge mismatch of gw-lab-2 with both sides' figures", f)
		}
	}
	if mismatches != o.Counts["charge_mismatch"] {
		t.Errorf("billd report: %d charge mismatches listed, verdicts %d", mismatches, o.Counts["charge_mismatch"])
	}
	if page := get(t, ctx, s, s.BilldHTTP, "/?token="+s.Token); !strings.Contains(page, "gw-lab-2") {
		t.Errorf("dashboard does not name the faulty gateway:\n%.300s", page)
	}
}

// get fetches path from addr inside the namespace that reaches it: the
// live view from the subscribers' side, billd from isp.
func get(t *testing.T, ctx context.Context, s *system.System, addr, path string) string {
	t.Helper()
	ns := s.Top.ISP
	if strings.HasPrefix(addr, "192.168.") {
		ns = s.Top.Sub
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: ns.DialContext, DisableKeepAlives: true}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", addr, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s%s: %s\n%s", addr, path, resp.Status, b)
	}
	return string(b)
}
