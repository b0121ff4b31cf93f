//go:build linux

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/nas/client"
)

func TestDeal(t *testing.T) {
	var normal []client.Credential
	for _, u := range []string{"alice", "bob", "carol", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"} {
		normal = append(normal, client.Credential{User: u})
	}
	refused := []client.Credential{{User: "dave"}, {User: "erin"}}
	names := func(shares [][]client.Credential) [][]string {
		var out [][]string
		for _, sh := range shares {
			var ns []string
			for _, c := range sh {
				ns = append(ns, c.User)
			}
			out = append(out, ns)
		}
		return out
	}
	for _, tc := range []struct {
		n, gws int
		want   [][]string
	}{
		{6, 2, [][]string{{"alice", "bob", "dave"}, {"carol", "s1", "erin"}}},
		{11, 2, [][]string{{"alice", "bob", "carol", "s1", "dave", "s2"}, {"s3", "s4", "s5", "s6", "erin"}}},
		{2, 1, [][]string{{"alice", "bob"}}},
		{3, 3, [][]string{{"alice"}, {"bob"}, {"carol"}}},
	} {
		if diff := cmp.Diff(tc.want, names(deal(tc.n, tc.gws, normal, refused))); diff != "" {
			t.Errorf("deal(%d, %d) (-want +got):\n%s", tc.n, tc.gws, diff)
		}
	}
}

func TestAmount(t *testing.T) {
	for _, tc := range []struct {
		n     int64
		scale int16
		want  string
	}{
		{12000, 4, "1.2000"}, {280, 4, "0.0280"}, {5, 2, "0.05"}, {-1234, 2, "-12.34"}, {0, 4, "0.0000"}, {42, 0, "42"},
	} {
		if got := amount(tc.n, tc.scale); got != tc.want {
			t.Errorf("amount(%d, %d) = %q, want %q", tc.n, tc.scale, got, tc.want)
		}
	}
}

func TestDescribeFinding(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	sc := int16(4)
	f := finding{Period: time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local), Kind: "charge_mismatch", GatewayID: "gw-lab-2", UserName: "carol",
		SessionID: "0000000000000001", AcctSessionID: "25f40e6900000002", BillSeconds: i(8), BillIn: i(32000), BillOut: i(32000),
		BillCharge: i(280), SelfCharge: i(350), AcctSeconds: i(8), AcctIn: i(32000), AcctOut: i(32000), AcctCharge: i(350),
		TariffID: "peak-offpeak", TariffVersion: i(1), Currency: "CNY", Scale: &sc, Detail: "charge 280, its tariff gives 350"}
	got := describeFinding(f)
	for _, want := range []string{
		"  charge_mismatch  gw-lab-2  user carol  session 0000000000000001  tariff peak-offpeak v1  ended 03:04:05\n",
		"      bill:     8 s  in     32000  out     32000 octets  charged 0.0280 CNY (its tariff gives 0.0350 CNY)\n",
		"      BRAS:     8 s  in     32000  out     32000 octets  priced 0.0350 CNY  (radacct 25f40e6900000002)\n",
		"      charge 280, its tariff gives 350\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("describeFinding lacks %q:\n%s", want, got)
		}
	}
	// A missing bill has only the BRAS's side.
	got = describeFinding(finding{Kind: "missing_bill", UserName: "bob", AcctSeconds: i(5), AcctIn: i(1), AcctOut: i(2)})
	if strings.Contains(got, "bill:") || !strings.Contains(got, "BRAS:") {
		t.Errorf("missing bill:\n%s", got)
	}
}
