package recon

import (
	"fmt"
	"time"

	"github.com/edgebill/edgebill/rfc/tariff"
)

// Kind is a verdict kind; the values are stored in billd.verdicts.kind.
type Kind string

// Verdict kinds. A bill gets exactly one of match, within_tolerance,
// usage_mismatch, charge_mismatch, orphan_bill, bad_signature or
// duplicate; a background session no verified bill claims gets
// missing_bill; a break in a gateway's chain gets chain_gap.
const (
	Match           Kind = "match"
	WithinTolerance Kind = "within_tolerance"
	UsageMismatch   Kind = "usage_mismatch"
	ChargeMismatch  Kind = "charge_mismatch"
	MissingBill     Kind = "missing_bill"
	OrphanBill      Kind = "orphan_bill"
	BadSignature    Kind = "bad_signature"
	ChainGap        Kind = "chain_gap"
	Duplicate       Kind = "duplicate"
)

// Kinds lists every kind, good ones first.
var Kinds = []Kind{Match, WithinTolerance, UsageMismatch, ChargeMismatch, MissingBill, OrphanBill, BadSignature, ChainGap, Duplicate}

// Good reports whether a verdict says the bill is right.
func (k Kind) Good() bool { return k == Match || k == WithinTolerance }

// Tolerance is how far a bill's usage may be from the background
// record's and still count as agreeing: a difference is within tolerance
// when it is at most the absolute figure or at most Percent of the
// background figure, whichever is larger.
type Tolerance struct {
	// Seconds of session time.
	Seconds int64
	// Octets each way.
	Octets int64
	// BasisPoints is the relative tolerance in hundredths of a percent
	// (50 = 0.5%), for session time and octets.
	BasisPoints int64
}

// withinAbs reports whether |diff| is at most abs, or at most bp basis
// points of |base|.
func withinAbs(diff, abs, base, bp int64) bool {
	if diff < 0 {
		diff = -diff
	}
	if base < 0 {
		base = -base
	}
	// diff*10000 cannot overflow for the octet counts of one session
	// below 2^49; above that the relative test is done in division.
	if diff <= abs {
		return true
	}
	if bp <= 0 {
		return false
	}
	if diff < 1<<49 && base < 1<<49 {
		return diff*10000 <= base*bp
	}
	return diff/bp <= base/10000
}

// Pair is a bill and the background session matched to it (Acct* fields
// zero when there is none), as the matching SQL returns it.
type Pair struct {
	GatewayID     string
	BillID        []byte
	Period        time.Time // the bill's stop time
	UserName      string
	Status        string // ingest's signature status
	DupReason     string // why the bill is a duplicate, "" if it is not
	BillStart     time.Time
	BillStop      time.Time
	BillMs        int64
	BillIn        int64
	BillOut       int64
	BillCharge    int64
	TariffID      string
	TariffVersion int64

	Matched     bool
	RadacctID   int64
	AcctStart   time.Time
	AcctStop    time.Time // stop time, or last update for an open record
	AcctOpen    bool      // the BRAS has not closed the session
	AcctSeconds int64
	AcctIn      int64
	AcctOut     int64
}

// Verdict is what reconciliation says about one subject, with both sides'
// figures and their differences (bill minus background).
type Verdict struct {
	Kind                   Kind
	Detail                 string
	BillSeconds            int64
	SelfCharge, AcctCharge *int64
	DiffSeconds            int64
	DiffIn, DiffOut        int64
	DiffCharge             *int64
	HasAcct                bool
}

// Tariffs finds the tariff a bill names.
type Tariffs func(id string, version uint32) *tariff.Tariff

func price(t *tariff.Tariff, start, stop time.Time, in, out int64) (*int64, error) {
	if in < 0 || out < 0 {
		return nil, fmt.Errorf("negative octets")
	}
	c, err := t.Total(tariff.Usage{Start: start, Stop: stop, In: uint64(in), Out: uint64(out)})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// Judge gives a bill its verdict. The order of the checks is the order of
// precedence: a bill not verified against its gateway's key is
// bad_signature whatever else is true of it; then duplicate; then
// orphan_bill (no background session); then usage (time and octets
// against tolerance); then the charge: the bill's charge must be exactly
// what its tariff gives for the bill's own usage (gateway and server
// price with the same code, to the minor unit), else charge_mismatch.
// Everything equal and the background usage priced to the same charge
// is match; agreeing within tolerance is within_tolerance.
func Judge(p *Pair, tol Tolerance, tariffs Tariffs) Verdict {
	v := Verdict{BillSeconds: p.BillMs / 1000}
	var t *tariff.Tariff
	if tariffs != nil && p.TariffVersion >= 0 && p.TariffVersion <= 1<<32-1 {
		t = tariffs(p.TariffID, uint32(p.TariffVersion))
	}
	if t != nil {
		if c, err := price(t, p.BillStart, p.BillStop, p.BillIn, p.BillOut); err == nil {
			v.SelfCharge = c
		}
	}
	if p.Matched {
		v.HasAcct = true
		v.DiffSeconds = v.BillSeconds - p.AcctSeconds
		v.DiffIn = p.BillIn - p.AcctIn
		v.DiffOut = p.BillOut - p.AcctOut
		if t != nil {
			start := p.AcctStart
			stop := start.Add(time.Duration(p.AcctSeconds) * time.Second)
			if v.SelfCharge != nil && start.Unix() == p.BillStart.Unix() && stop.Unix() == p.BillStop.Unix() &&
				p.AcctIn == p.BillIn && p.AcctOut == p.BillOut {
				// The same usage: Price is pure, so the same charge.
				v.AcctCharge = v.SelfCharge
			} else if c, err := price(t, start, stop, p.AcctIn, p.AcctOut); err == nil {
				v.AcctCharge = c
			}
			if v.AcctCharge != nil {
				d := p.BillCharge - *v.AcctCharge
				v.DiffCharge = &d
			}
		}
	}

	switch {
	case p.Status != "verified":
		v.Kind, v.Detail = BadSignature, p.Status
		return v
	case p.DupReason != "":
		v.Kind, v.Detail = Duplicate, p.DupReason
		return v
	case !p.Matched:
		v.Kind, v.Detail = OrphanBill, "no background session of this user overlaps the bill"
		return v
	}
	usageOK := withinAbs(v.DiffSeconds, tol.Seconds, p.AcctSeconds, tol.BasisPoints) &&
		withinAbs(v.DiffIn, tol.Octets, p.AcctIn, tol.BasisPoints) &&
		withinAbs(v.DiffOut, tol.Octets, p.AcctOut, tol.BasisPoints)
	if !usageOK {
		v.Kind = UsageMismatch
		v.Detail = fmt.Sprintf("bill-background: %+d s, %+d octets in, %+d octets out", v.DiffSeconds, v.DiffIn, v.DiffOut)
		if p.AcctOpen {
			v.Detail += " (background session still open)"
		}
		return v
	}
	if t == nil {
		v.Kind = ChargeMismatch
		v.Detail = fmt.Sprintf("tariff %s v%d is not known to billd (EdgeBill-Tariff in radgroupreply/radreply)", p.TariffID, p.TariffVersion)
		return v
	}
	if v.SelfCharge == nil || v.AcctCharge == nil {
		v.Kind, v.Detail = ChargeMismatch, "the usage cannot be priced with the bill's tariff"
		return v
	}
	if p.BillCharge != *v.SelfCharge {
		v.Kind = ChargeMismatch
		v.Detail = fmt.Sprintf("charge %d, its tariff gives %d for the bill's own usage and %d for the background usage",
			p.BillCharge, *v.SelfCharge, *v.AcctCharge)
		return v
	}
	if v.DiffSeconds == 0 && v.DiffIn == 0 && v.DiffOut == 0 && *v.DiffCharge == 0 {
		v.Kind = Match
		return v
	}
	v.Kind = WithinTolerance
	return v
}
