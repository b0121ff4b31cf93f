package recon_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/rfc/tariff"
	"github.com/edgebill/edgebill/server/recon"
)

func TestJudge(t *testing.T) {
	plan, err := tariff.Parse(planTariff)
	if err != nil {
		t.Fatal(err)
	}
	tariffs := func(id string, v uint32) *tariff.Tariff {
		if id == "plan" && v == 1 {
			return plan
		}
		return nil
	}
	start := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	price := func(secs, in, out int64) int64 {
		c, err := plan.Total(tariff.Usage{Start: start, Stop: start.Add(time.Duration(secs) * time.Second), In: uint64(in), Out: uint64(out)})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pair := func(f func(p *recon.Pair)) *recon.Pair {
		p := &recon.Pair{Status: "verified", BillStart: start, BillStop: start.Add(600 * time.Second), BillMs: 600_000,
			BillIn: 1e6, BillOut: 2e6, BillCharge: price(600, 1e6, 2e6), TariffID: "plan", TariffVersion: 1,
			Matched: true, AcctStart: start, AcctSeconds: 600, AcctIn: 1e6, AcctOut: 2e6}
		if f != nil {
			f(p)
		}
		return p
	}
	tol := recon.Tolerance{Seconds: 2, Octets: 100, BasisPoints: 10}
	for _, tc := range []struct {
		name string
		p    *recon.Pair
		want recon.Kind
	}{
		{"equal", pair(nil), recon.Match},
		{"a second off", pair(func(p *recon.Pair) { p.AcctSeconds = 599 }), recon.WithinTolerance},
		{"under 0.1% of octets off", pair(func(p *recon.Pair) { p.AcctOut = 2e6 - 1500 }), recon.WithinTolerance},
		{"0.2% of octets off", pair(func(p *recon.Pair) { p.AcctOut = 2e6 - 4000 }), recon.UsageMismatch},
		{"ten seconds off", pair(func(p *recon.Pair) { p.AcctSeconds = 590 }), recon.UsageMismatch},
		{"mispriced", pair(func(p *recon.Pair) { p.BillCharge++ }), recon.ChargeMismatch},
		{"unknown tariff", pair(func(p *recon.Pair) { p.TariffVersion = 2 }), recon.ChargeMismatch},
		{"no background", pair(func(p *recon.Pair) { p.Matched = false }), recon.OrphanBill},
		{"duplicate", pair(func(p *recon.Pair) { p.DupReason = "again" }), recon.Duplicate},
		{"bad signature beats all", pair(func(p *recon.Pair) { p.Status = "bad_signature"; p.DupReason = "x"; p.Matched = false }), recon.BadSignature},
	} {
		v := recon.Judge(tc.p, tol, tariffs)
		if diff := cmp.Diff(tc.want, v.Kind); diff != "" {
			t.Errorf("%s: kind (-want +got): %s (%s)", tc.name, diff, v.Detail)
		}
	}
	v := recon.Judge(pair(func(p *recon.Pair) { p.AcctIn = 3e6 }), tol, tariffs)
	if v.DiffIn != -2e6 || *v.AcctCharge != price(600, 3e6, 2e6) || *v.DiffCharge != price(600, 1e6, 2e6)-price(600, 3e6, 2e6) {
		t.Errorf("figures: %+v", v)
	}
}

func BenchmarkJudge(b *testing.B) {
	plan, _ := tariff.Parse(planTariff)
	tariffs := func(string, uint32) *tariff.Tariff { return plan }
	start := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	p := &recon.Pair{Status: "verified", BillStart: start, BillStop: start.Add(600 * time.Second), BillMs: 600_000,
		BillIn: 1e6, BillOut: 2e6, TariffID: "plan", TariffVersion: 1, Matched: true, AcctStart: start, AcctSeconds: 600, AcctIn: 1e6 + 10, AcctOut: 2e6}
	b.ReportAllocs()
	for b.Loop() {
		recon.Judge(p, recon.Tolerance{Octets: 100}, tariffs)
	}
}
