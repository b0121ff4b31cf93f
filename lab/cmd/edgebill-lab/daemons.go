//go:build linux

package main

// The demo's subscribers and its report. Starting the daemons is
// lab/system's (shared with the end-to-end tests): billd migrated and
// serving, nasd, one gatewayd per gateway with its key registered in
// billd, the last one under-billing when there are several.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/edgebill/edgebill/lab/system"
	"github.com/edgebill/edgebill/nas/client"
)

// subscribers makes accounts for n subscribers and deals them over the
// gateways (deal).
func subscribers(ctx context.Context, s *system.System, n int) ([][]client.Credential, error) {
	extra, err := s.AddSubscribers(ctx, "sub", n)
	if err != nil {
		return nil, err
	}
	normal := append([]client.Credential{system.Alice, system.Bob, system.Carol}, extra...)
	return deal(n, len(s.Gateways), normal, []client.Credential{system.Dave, system.Erin}), nil
}

// deal deals n subscribers over gws gateways as evenly as it goes: the
// normal accounts in order (the fixture's alice, bob and carol first),
// and in each gateway's share every fifth (every last, of a share of
// three or four) one of refused in turn, whom the gateway refuses.
// normal must hold n accounts.
func deal(n, gws int, normal, refused []client.Credential) [][]client.Credential {
	out := make([][]client.Credential, gws)
	next, k := 0, 0
	for i := range gws {
		share := n / gws
		if i < n%gws {
			share++
		}
		every := 5
		switch {
		case share < 3:
			every = 0
		case share < 5:
			every = share
		}
		for j := range share {
			if every > 0 && (j+1)%every == 0 {
				out[i] = append(out[i], refused[k%len(refused)])
				k++
				continue
			}
			out[i] = append(out[i], normal[next])
			next++
		}
	}
	return out
}

// describeUsers says who dials, for the demo's output.
func describeUsers(shares [][]client.Credential) string {
	var parts []string
	for i, sh := range shares {
		var names []string
		for _, c := range sh {
			names = append(names, c.User)
		}
		if len(names) > 8 {
			names = append(names[:7], fmt.Sprintf("... (%d in all)", len(sh)))
		}
		parts = append(parts, fmt.Sprintf("gateway %d: %s", i+1, strings.Join(names, " ")))
	}
	return strings.Join(parts, "\n             ")
}

// dialSummary is a line per gateway's dialer: sessions up, refused (and
// why), setup times.
func dialSummary(out *progress, reps []*client.Report) {
	for i, r := range reps {
		if r == nil {
			continue
		}
		why := map[string]string{}
		other := map[string]int{}
		for _, x := range r.PerSess {
			switch {
			case x.Error == "refused":
				why[x.User] = x.Message
			case x.Error != "":
				other[x.Error]++
			}
		}
		line := fmt.Sprintf("gateway %d: %d dials, %d up (setup p50 %.0f ms, p99 %.0f ms), traffic %s sent %s received",
			i+1, r.Sessions, r.Up, r.SetupP50, r.SetupP99, humanBytes(int64(r.Totals.TxOctets)), humanBytes(int64(r.Totals.RxOctets)))
		users := make([]string, 0, len(why))
		for u := range why {
			users = append(users, u)
		}
		sort.Strings(users)
		for _, u := range users {
			line += fmt.Sprintf("; %s refused: %q", u, why[u])
		}
		for e, n := range other {
			line += fmt.Sprintf("; %d failed: %s", n, e)
		}
		out.printf("  %s\n", line)
	}
}

// finding is one entry of `billd report -format json`.
type finding struct {
	Period        time.Time `json:"period"`
	Kind          string    `json:"kind"`
	GatewayID     string    `json:"gateway_id"`
	UserName      string    `json:"username"`
	SessionID     string    `json:"session_id"`
	AcctSessionID string    `json:"acct_session_id"`
	BillSeconds   *int64    `json:"bill_seconds"`
	BillIn        *int64    `json:"bill_in"`
	BillOut       *int64    `json:"bill_out"`
	BillCharge    *int64    `json:"bill_charge"`
	SelfCharge    *int64    `json:"self_charge"`
	AcctSeconds   *int64    `json:"acct_seconds"`
	AcctIn        *int64    `json:"acct_in"`
	AcctOut       *int64    `json:"acct_out"`
	AcctCharge    *int64    `json:"acct_charge"`
	TariffID      string    `json:"tariff_id"`
	TariffVersion *int64    `json:"tariff_version"`
	Currency      string    `json:"currency"`
	Scale         *int16    `json:"scale"`
	Detail        string    `json:"detail"`
}

type reportDoc struct {
	Totals   map[string]int64 `json:"totals"`
	Gateways []struct {
		ID               string           `json:"id"`
		Owner            string           `json:"owner"`
		Bills            int64            `json:"bills"`
		Accuracy         float64          `json:"accuracy"`
		DriftBasisPoints int64            `json:"drift_bp"`
		Drifting         bool             `json:"drifting"`
		Why              string           `json:"why"`
		Kinds            map[string]int64 `json:"kinds"`
	} `json:"gateways"`
	Findings []finding `json:"findings"`
}

// verdictOrder is billd's order of verdict kinds.
var verdictOrder = []string{"match", "within_tolerance", "usage_mismatch", "charge_mismatch", "missing_bill",
	"orphan_bill", "bad_signature", "chain_gap", "duplicate"}

// runReport reconciles the run's range with `billd reconcile`, reads
// `billd report -format json`, and prints the verdict counts, the
// gateways, and each finding with both sides' figures.
func runReport(ctx context.Context, s *system.System, out *progress) error {
	from, to := s.Range()
	var rc string
	var err error
	if !out.step("billd reconcile", 0, func() bool {
		rc, err = s.BilldCLI(ctx, "reconcile", "-from", from.Format(time.RFC3339), "-to", to.Format(time.RFC3339))
		return err == nil
	}) {
		return err
	}
	if first, _, ok := strings.Cut(rc, "\n"); ok {
		out.printf("%s\n", first)
	}
	js, err := s.BilldCLI(ctx, "report", "-from", from.Format(time.RFC3339), "-to", to.Format(time.RFC3339), "-format", "json", "-limit", "0")
	if err != nil {
		return err
	}
	var doc reportDoc
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		return fmt.Errorf("billd report: %v", err)
	}
	out.printf("\nverdicts (billd report):\n")
	for _, k := range verdictOrder {
		if n := doc.Totals[k]; n > 0 || k == "match" || k == "charge_mismatch" {
			out.printf("  %-17s %5d\n", k, n)
		}
	}
	out.printf("\ngateways:\n")
	for _, g := range doc.Gateways {
		var ks []string
		for k, n := range g.Kinds {
			ks = append(ks, fmt.Sprintf("%s %d", k, n))
		}
		sort.Strings(ks)
		drift := ""
		if g.Drifting {
			drift = "  DRIFTING: " + g.Why
		}
		out.printf("  %-9s %-14s %3d bills, %6.2f%% right, drift %+.2f%% (%s)%s\n", g.ID, g.Owner, g.Bills, 100*g.Accuracy,
			float64(g.DriftBasisPoints)/100, strings.Join(ks, ", "), drift)
	}
	out.printf("\nfindings (%d), each with the gateway's bill and the BRAS's record (radacct) side by side:\n", len(doc.Findings))
	for _, f := range doc.Findings {
		out.printf("%s", describeFinding(f))
	}
	if len(doc.Findings) == 0 {
		out.printf("  none\n")
	}
	return nil
}

// describeFinding writes a finding as three or four lines.
func describeFinding(f finding) string {
	scale := int16(0)
	if f.Scale != nil {
		scale = *f.Scale
	}
	money := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return amount(*p, scale) + " " + f.Currency
	}
	num := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	tariff := f.TariffID
	if f.TariffVersion != nil {
		tariff += fmt.Sprintf(" v%d", *f.TariffVersion)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s  %s  user %s  session %s  tariff %s  ended %s\n", f.Kind, f.GatewayID, f.UserName, f.SessionID, tariff,
		f.Period.Local().Format("15:04:05"))
	if f.BillSeconds != nil || f.BillCharge != nil {
		fmt.Fprintf(&b, "      bill: %5s s  in %9s  out %9s octets  charged %s (its tariff gives %s)\n",
			num(f.BillSeconds), num(f.BillIn), num(f.BillOut), money(f.BillCharge), money(f.SelfCharge))
	}
	if f.AcctSeconds != nil || f.AcctIn != nil {
		fmt.Fprintf(&b, "      BRAS: %5s s  in %9s  out %9s octets  priced %s  (radacct %s)\n",
			num(f.AcctSeconds), num(f.AcctIn), num(f.AcctOut), money(f.AcctCharge), f.AcctSessionID)
	}
	if f.Detail != "" {
		fmt.Fprintf(&b, "      %s\n", f.Detail)
	}
	return b.String()
}

// amount writes minor units at scale as a decimal (1234 at 2 is 12.34).
func amount(n int64, scale int16) string {
	if scale <= 0 {
		return fmt.Sprint(n)
	}
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprintf("%0*d", int(scale)+1, n)
	s = s[:len(s)-int(scale)] + "." + s[len(s)-int(scale):]
	if neg {
		s = "-" + s
	}
	return s
}

// checkRun runs the end-to-end suite's check on the demo's run and
// prints its verdict; it returns false if the system broke a promise.
func checkRun(ctx context.Context, s *system.System, out *progress, up int) bool {
	o, problems := s.Check(ctx, system.Expect{Up: up})
	if o == nil {
		out.printf("check: %s\n", strings.Join(problems, "; "))
		return false
	}
	if len(problems) > 0 {
		out.printf("\ncheck: ✗ %d problems:\n", len(problems))
		for _, p := range problems {
			out.printf("  %s\n", p)
		}
		return false
	}
	flagged := 0
	var faulty string
	for _, g := range s.Gateways {
		if g.Faulty {
			faulty = g.ID
			flagged = o.ByGateway[g.ID]["charge_mismatch"]
		}
	}
	line := fmt.Sprintf("\ncheck: ✓ %d BRAS sessions, %d bills: every session billed exactly once, every bill judged", o.Sessions, o.Bills)
	if faulty != "" {
		line += fmt.Sprintf("; %s's %d charged bills all flagged as charge mismatches (it under-bills on purpose)", faulty, flagged)
	}
	out.printf("%s; nothing else flagged\n", line)
	return true
}
