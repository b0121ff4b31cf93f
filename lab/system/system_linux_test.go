//go:build linux

package system

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/nas/client"
)

func TestMix(t *testing.T) {
	var users []client.Credential
	for _, u := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		users = append(users, client.Credential{User: u, Password: u})
	}
	var got []string
	for _, c := range Mix(users, 3) {
		got = append(got, c.User)
	}
	want := []string{"a", "b", "dave", "d", "e", "erin", "g"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Mix(7 users, 3) (-want +got):\n%s", diff)
	}
	if users[2].User != "c" {
		t.Errorf("Mix changed its input")
	}
	if n := len(Mix(users, 0)); n != len(users) {
		t.Errorf("Mix(users, 0) has %d", n)
	}
}

func TestParseMetrics(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(`# HELP gatewayd_bills_pending Bills journaled.
# TYPE gatewayd_bills_pending gauge
gatewayd_bills_pending 3
gatewayd_relay_dials_total{result="accepted"} 10
gatewayd_relay_dials_total{result="refused"} 2
go_goroutines 25
process_resident_memory_bytes 1.5e+07
broken line
`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"gatewayd_bills_pending":                       3,
		"gatewayd_relay_dials_total":                   12,
		`gatewayd_relay_dials_total{result="refused"}`: 2,
		"go_goroutines":                                25,
		"process_resident_memory_bytes":                15e6,
		"gatewayd_relay_dials":                         0, // a prefix of a name is not the name
	} {
		if got := m.Get(name); got != want {
			t.Errorf("Get(%s) = %v, want %v", name, got, want)
		}
	}
	if !m.Has("go_goroutines") || m.Has("nothing") {
		t.Errorf("Has")
	}
}

func TestParseReport(t *testing.T) {
	rep, err := ParseReport("pppoe-dial: noise\n" + `{"sessions": 2, "up": 1, "failed": 1, "failures": {"refused": 1},
		"per_session": [{"index": 0, "user": "alice"}, {"index": 1, "user": "dave", "error": "refused", "message": "Account in arrears"}]}` + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Up != 1 || rep.Failures["refused"] != 1 || len(rep.PerSess) != 2 || rep.PerSess[1].Message != "Account in arrears" {
		t.Errorf("report %+v", rep)
	}
	if _, err := ParseReport("no report"); err == nil {
		t.Error("no JSON: no error")
	}
	if Up(rep, nil, rep) != 2 {
		t.Error("Up")
	}
}

func i64(v int64) *int64 { return &v }

// judgeCase builds a run: sessions 1..n at the BRAS, each with a bill of
// gateway gw (sequence 1..n) and a verdict.
func judgeCase(gw string, kinds ...string) ([]Session, []Bill, []Verdict) {
	var ss []Session
	var bs []Bill
	var vs []Verdict
	for i, k := range kinds {
		id := int64(i + 1)
		user := "u" + string(rune('a'+i))
		ss = append(ss, Session{RadacctID: id, User: user, AcctSession: "bras", Seconds: 10, In: 100, Out: 100})
		bs = append(bs, Bill{GatewayID: gw, SessionID: "s" + user, User: user, Status: "verified", Sequence: id, TerminateCause: 1, Charge: 80})
		v := Verdict{Kind: k, GatewayID: gw, BillID: "b" + user, RadacctID: i64(id), User: user, SessionID: "s" + user,
			BillCharge: i64(80), SelfCharge: i64(100), AcctCharge: i64(100), TerminateCause: i64(1),
			DiffSeconds: i64(0), DiffIn: i64(0), DiffOut: i64(0)}
		vs = append(vs, v)
	}
	return ss, bs, vs
}

func TestJudge(t *testing.T) {
	honest := map[string]bool{"gw-1": false, "gw-2": true}
	for _, tc := range []struct {
		name   string
		gw     string
		kinds  []string
		exp    Expect
		change func(ss []Session, bs []Bill, vs []Verdict) ([]Session, []Bill, []Verdict)
		want   []string // substrings of the problems, in order; none: clean
	}{
		{name: "honest gateway, all match", gw: "gw-1", kinds: []string{"match", "within_tolerance"}, exp: Expect{Up: 2}},
		{name: "faulty gateway, all flagged", gw: "gw-2", kinds: []string{"charge_mismatch", "charge_mismatch"}, exp: Expect{Up: 2}},
		{name: "honest gateway flagged", gw: "gw-1", kinds: []string{"match", "charge_mismatch"}, exp: Expect{Up: 2},
			want: []string{"an honest gateway's bill flagged"}},
		{name: "faulty gateway not flagged", gw: "gw-2", kinds: []string{"match"}, exp: Expect{Up: 1},
			want: []string{"the faulty gateway's charged bill was not flagged"}},
		{name: "a session lost at the BRAS", gw: "gw-1", kinds: []string{"match"}, exp: Expect{Up: 2},
			want: []string{"1 BRAS sessions in radacct, the dialers brought 2 up"}},
		{name: "billed twice", gw: "gw-1", kinds: []string{"match", "duplicate"}, exp: Expect{Up: -1},
			change: func(ss []Session, bs []Bill, vs []Verdict) ([]Session, []Bill, []Verdict) {
				bs[1].SessionID = bs[0].SessionID
				return ss, bs, vs
			},
			want: []string{"session gw-1/sua billed twice", "duplicate gw-1/sub (ub)"}},
		{name: "a missing bill and a chain gap", gw: "gw-1", kinds: []string{"match", "match"}, exp: Expect{Up: 2},
			change: func(ss []Session, bs []Bill, vs []Verdict) ([]Session, []Bill, []Verdict) {
				bs[1].Sequence = 3
				vs[1] = Verdict{Kind: "missing_bill", RadacctID: i64(2), User: "ub"}
				return ss, bs, vs
			},
			want: []string{"gw-1: bill sequence 3 follows 1", "missing_bill /", "1 verdicts on bills for 2 bills"}},
		{name: "open and unjudged BRAS session", gw: "gw-1", kinds: []string{"match"}, exp: Expect{Up: -1},
			change: func(ss []Session, bs []Bill, vs []Verdict) ([]Session, []Bill, []Verdict) {
				return append(ss, Session{RadacctID: 9, User: "uz", Open: true}), bs, vs
			},
			want: []string{"radacct 9 (uz, ) is still open", "1 bills for 2 BRAS sessions", "radacct 9 (uz) judged 0 times"}},
		{name: "recovered usage mismatch not expected", gw: "gw-1", kinds: []string{"usage_mismatch"}, exp: Expect{Up: 1},
			change: func(ss []Session, bs []Bill, vs []Verdict) ([]Session, []Bill, []Verdict) {
				vs[0].TerminateCause, vs[0].DiffSeconds = i64(TerminateNASReboot), i64(-4)
				return ss, bs, vs
			},
			want: []string{"usage_mismatch gw-1/sua (ua): seconds -4"}},
		{name: "recovered usage mismatch expected", gw: "gw-1", kinds: []string{"usage_mismatch"}, exp: Expect{Up: 1, Recovered: true},
			change: func(ss []Session, bs []Bill, vs []Verdict) ([]Session, []Bill, []Verdict) {
				vs[0].TerminateCause, vs[0].DiffSeconds, vs[0].DiffIn = i64(TerminateNASReboot), i64(-4), i64(-300)
				bs[0].TerminateCause = TerminateNASReboot
				return ss, bs, vs
			}},
		{name: "recovered bill claiming more than the BRAS", gw: "gw-1", kinds: []string{"usage_mismatch"}, exp: Expect{Up: 1, Recovered: true},
			change: func(ss []Session, bs []Bill, vs []Verdict) ([]Session, []Bill, []Verdict) {
				vs[0].TerminateCause, vs[0].DiffOut = i64(TerminateNASReboot), i64(50)
				return ss, bs, vs
			},
			want: []string{"usage_mismatch gw-1/sua (ua): seconds +0, in +0, out +50"}},
		{name: "a refused user at the BRAS", gw: "gw-1", kinds: []string{"match"}, exp: Expect{Up: 1},
			change: func(ss []Session, bs []Bill, vs []Verdict) ([]Session, []Bill, []Verdict) {
				ss[0].User, bs[0].User, vs[0].User = "dave", "dave", "dave"
				return ss, bs, vs
			},
			want: []string{"dave should have been refused", "bill gw-1/sua for dave"}},
		{name: "unverified bill", gw: "gw-1", kinds: []string{"bad_signature"}, exp: Expect{Up: 1},
			change: func(ss []Session, bs []Bill, vs []Verdict) ([]Session, []Bill, []Verdict) {
				bs[0].Status = "bad_signature"
				return ss, bs, vs
			},
			want: []string{"is bad_signature", "bad_signature gw-1/sua"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss, bs, vs := judgeCase(tc.gw, tc.kinds...)
			if tc.change != nil {
				ss, bs, vs = tc.change(ss, bs, vs)
			}
			o, problems := Judge(ss, bs, vs, honest, tc.exp)
			if len(problems) != len(tc.want) {
				t.Fatalf("problems %q, want %d like %q", problems, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(problems[i], w) {
					t.Errorf("problem %d: %q lacks %q", i, problems[i], w)
				}
			}
			if o.Sessions != len(ss) || o.Bills != len(bs) || len(o.Verdicts) != len(vs) {
				t.Errorf("outcome %v", o)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	v := Verdict{Kind: "charge_mismatch", GatewayID: "gw-2", User: "carol", TariffID: "peak-offpeak", SessionID: "0000000000000001",
		TerminateCause: i64(1), BillSeconds: i64(8), BillIn: i64(32000), BillOut: i64(32000), BillCharge: i64(280),
		AcctSeconds: i64(8), AcctIn: i64(32000), AcctOut: i64(32000), AcctCharge: i64(350), Detail: "charge 280, its tariff gives 350"}
	want := "charge_mismatch gw-2 carol (peak-offpeak, session 0000000000000001, cause 1): bill 8s in 32000 out 32000 charge 280 | " +
		"BRAS 8s in 32000 out 32000 charge 350: charge 280, its tariff gives 350"
	if got := Describe(v); got != want {
		t.Errorf("Describe:\n got %s\nwant %s", got, want)
	}
}
