//go:build linux

package system

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/edgebill/edgebill/nas/client"
)

// TerminateNASReboot is RADIUS Acct-Terminate-Cause NAS-Reboot (RFC 2866
// §5.10): what gatewayd puts on the bills of sessions it recovered from
// its journal after a crash.
const TerminateNASReboot = 11

// Expect is what a run should have left behind.
type Expect struct {
	// Up is how many sessions the dialers brought up: each must be one
	// closed radacct row and one bill. Negative: not checked.
	Up int
	// Recovered allows usage_mismatch on bills of sessions gatewayd
	// closed from its journal after a kill -9 (Terminate-Cause
	// NAS-Reboot), as long as the bill claims no more than the BRAS saw:
	// the gateway bills up to its last checkpoint, the BRAS until it
	// noticed the subscriber had gone.
	Recovered bool
}

// Outcome is what a run left behind.
type Outcome struct {
	Sessions  int                       // radacct rows
	Bills     int                       // bills billd stored
	Recovered int                       // bills with Terminate-Cause NAS-Reboot
	Counts    map[string]int            // verdicts by kind
	ByGateway map[string]map[string]int // verdicts by gateway id, then kind ("" for missing bills)
	Verdicts  []Verdict
}

func (o *Outcome) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d BRAS sessions, %d bills (%d recovered after a crash); verdicts %s", o.Sessions, o.Bills, o.Recovered, kinds(o.Counts))
	ids := make([]string, 0, len(o.ByGateway))
	for id := range o.ByGateway {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		name := id
		if name == "" {
			name = "(no gateway)"
		}
		fmt.Fprintf(&b, "; %s: %s", name, kinds(o.ByGateway[id]))
	}
	return b.String()
}

func kinds(m map[string]int) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// Up counts the sessions reports brought up.
func Up(reps ...*client.Report) int {
	n := 0
	for _, r := range reps {
		if r != nil {
			n += r.Up
		}
	}
	return n
}

// Check reads radacct, the bills and the verdicts (reconcile first) and
// returns what it found and every way it differs from what the system
// promises: every BRAS session closed and billed exactly once by a
// verified bill, each gateway's sequence 1..n without a gap or a repeat,
// every bill and every BRAS session judged exactly once, no missing,
// orphan, duplicate, bad-signature or chain-gap verdict, the faulty
// gateway's charged bills all charge mismatches that under-bill, every
// other bill a match or within tolerance (or, with exp.Recovered, a
// recovered session's honest usage mismatch).
func (s *System) Check(ctx context.Context, exp Expect) (*Outcome, []string) {
	sessions, err := s.Sessions(ctx)
	if err != nil {
		return nil, []string{err.Error()}
	}
	bills, err := s.Bills(ctx)
	if err != nil {
		return nil, []string{err.Error()}
	}
	verdicts, err := s.Verdicts(ctx)
	if err != nil {
		return nil, []string{err.Error()}
	}
	faulty := map[string]bool{}
	for _, g := range s.Gateways {
		faulty[g.ID] = g.Faulty
	}
	o, problems := Judge(sessions, bills, verdicts, faulty, exp)
	return o, problems
}

// Judge is Check's judgement over what it read: sessions (radacct),
// bills and verdicts, with faulty naming the gateways that under-bill.
func Judge(sessions []Session, bills []Bill, verdicts []Verdict, faulty map[string]bool, exp Expect) (*Outcome, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	o := &Outcome{Sessions: len(sessions), Bills: len(bills), Counts: map[string]int{}, ByGateway: map[string]map[string]int{}, Verdicts: verdicts}

	for _, x := range sessions {
		if x.Open {
			bad("radacct %d (%s, %s) is still open", x.RadacctID, x.User, x.AcctSession)
		}
		if Refused(x.User) {
			bad("radacct %d: %s should have been refused by the gateway", x.RadacctID, x.User)
		}
	}
	if exp.Up >= 0 && len(sessions) != exp.Up {
		bad("%d BRAS sessions in radacct, the dialers brought %d up", len(sessions), exp.Up)
	}
	if len(bills) != len(sessions) {
		bad("%d bills for %d BRAS sessions", len(bills), len(sessions))
	}
	seen := map[string]bool{}
	next := map[string]int64{}
	for _, b := range bills {
		if b.Status != "verified" {
			bad("bill %s/%s (%s) is %s", b.GatewayID, b.SessionID, b.User, b.Status)
		}
		k := b.GatewayID + "/" + b.SessionID
		if seen[k] {
			bad("session %s billed twice", k)
		}
		seen[k] = true
		if b.Sequence != next[b.GatewayID]+1 {
			bad("%s: bill sequence %d follows %d", b.GatewayID, b.Sequence, next[b.GatewayID])
		}
		next[b.GatewayID] = b.Sequence
		if b.TerminateCause == TerminateNASReboot {
			o.Recovered++
		}
		if Refused(b.User) {
			bad("bill %s for %s, who should have been refused", k, b.User)
		}
	}

	billVerdicts, acctClaims := 0, map[int64]int{}
	for _, v := range verdicts {
		o.Counts[v.Kind]++
		if o.ByGateway[v.GatewayID] == nil {
			o.ByGateway[v.GatewayID] = map[string]int{}
		}
		o.ByGateway[v.GatewayID][v.Kind]++
		if v.BillID != "" {
			billVerdicts++
		}
		if v.RadacctID != nil {
			acctClaims[*v.RadacctID]++
		}
		what := fmt.Sprintf("%s %s/%s (%s)", v.Kind, v.GatewayID, v.SessionID, v.User)
		switch v.Kind {
		case "match", "within_tolerance":
			if faulty[v.GatewayID] && deref(v.BillCharge) != 0 {
				bad("%s: the faulty gateway's charged bill was not flagged", what)
			}
		case "charge_mismatch":
			if !faulty[v.GatewayID] {
				bad("%s: an honest gateway's bill flagged (%s)", what, v.Detail)
			} else if deref(v.BillCharge) >= deref(v.SelfCharge) {
				bad("%s: charge %d is not under the tariff's %d", what, deref(v.BillCharge), deref(v.SelfCharge))
			}
		case "usage_mismatch":
			ok := exp.Recovered && deref(v.TerminateCause) == TerminateNASReboot &&
				deref(v.DiffSeconds) <= 0 && deref(v.DiffIn) <= 0 && deref(v.DiffOut) <= 0
			if !ok {
				bad("%s: seconds %+d, in %+d, out %+d, cause %d (%s)", what, deref(v.DiffSeconds), deref(v.DiffIn), deref(v.DiffOut),
					deref(v.TerminateCause), v.Detail)
			}
		default:
			bad("%s: radacct %v: %s", what, ptr(v.RadacctID), v.Detail)
		}
	}
	if billVerdicts != len(bills) {
		bad("%d verdicts on bills for %d bills", billVerdicts, len(bills))
	}
	for _, x := range sessions {
		if n := acctClaims[x.RadacctID]; n != 1 {
			bad("radacct %d (%s) judged %d times", x.RadacctID, x.User, n)
		}
	}
	return o, problems
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func ptr(p *int64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

// Describe is one line of a verdict with both sides' figures.
func Describe(v Verdict) string {
	side := func(secs, in, out, charge *int64) string {
		if secs == nil && in == nil {
			return "-"
		}
		return fmt.Sprintf("%ss in %s out %s charge %s", ptr(secs), ptr(in), ptr(out), ptr(charge))
	}
	s := fmt.Sprintf("%s %s %s (%s, session %s, cause %s): bill %s | BRAS %s", v.Kind, v.GatewayID, v.User, v.TariffID,
		v.SessionID, ptr(v.TerminateCause), side(v.BillSeconds, v.BillIn, v.BillOut, v.BillCharge),
		side(v.AcctSeconds, v.AcctIn, v.AcctOut, v.AcctCharge))
	if v.Detail != "" {
		s += ": " + v.Detail
	}
	return s
}
