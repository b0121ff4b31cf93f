package billing

import (
	"encoding/hex"
	"strconv"
	"time"

	"layeh.com/radius/rfc2866"

	"github.com/edgebill/edgebill/gateway/billing/journal"
)

// LiveSession is an open session as the live view shows it.
type LiveSession struct {
	Key            uint64    `json:"key"`
	AcctSessionID  string    `json:"acct_session_id"`
	User           string    `json:"user"`
	SubscriberMAC  string    `json:"subscriber_mac"`
	PPPoESessionID uint16    `json:"pppoe_session_id"`
	FramedIP       string    `json:"framed_ip,omitempty"`
	Started        time.Time `json:"started"`
	// Seconds is the session time so far.
	Seconds    int64  `json:"seconds"`
	InOctets   uint64 `json:"in_octets"`
	OutOctets  uint64 `json:"out_octets"`
	InPackets  uint64 `json:"in_packets"`
	OutPackets uint64 `json:"out_packets"`
	// Charge is the running charge in minor units; ChargeText the same
	// as a decimal with the currency ("1.2345 CNY").
	Charge        int64  `json:"charge"`
	ChargeText    string `json:"charge_text"`
	Currency      string `json:"currency"`
	Scale         uint8  `json:"scale"`
	TariffID      string `json:"tariff_id"`
	TariffVersion uint32 `json:"tariff_version"`
	Tariff        string `json:"tariff,omitempty"`
	// Credit is the credit the authorisation reported, if any; the
	// session ends when the running charge reaches it.
	Credit *int64 `json:"credit,omitempty"`
	// CreditLeft is Credit less the running charge (never below 0),
	// CreditLeftText the same as a decimal with the currency.
	CreditLeft     *int64 `json:"credit_left,omitempty"`
	CreditLeftText string `json:"credit_left_text,omitempty"`
	// CreditSeconds is, when the tariff makes it known, how long the
	// credit lasts with no more traffic: the seconds until the time
	// charge alone reaches it (a tariff without a time rate, or capped
	// below the credit, gives none).
	CreditSeconds *int64 `json:"credit_seconds,omitempty"`
	// CreditLow says the credit is nearly gone: a tenth of it or less
	// left, or five minutes or less of time.
	CreditLow bool `json:"credit_low,omitempty"`
}

// baseView fills what does not change while the session runs.
func (ls *liveSession) baseView() LiveSession {
	v := LiveSession{
		Key:            ls.s.Key,
		AcctSessionID:  acctSessionID(&ls.s),
		User:           ls.s.User,
		SubscriberMAC:  ls.s.SubscriberMAC.String(),
		PPPoESessionID: ls.s.PPPoESessionID,
		Started:        ls.s.Started.UTC().Round(0),
		TariffID:       noTariffID,
		Currency:       noCurrency,
	}
	if ls.s.FramedIP.IsValid() {
		v.FramedIP = ls.s.FramedIP.String()
	}
	if t := ls.tariff; t != nil {
		v.TariffID, v.TariffVersion = t.ID(), t.Version()
		v.Currency, v.Scale = t.Currency(), t.Scale()
		v.Tariff = t.String()
	}
	if ls.s.Auth.HasCredit {
		c := ls.s.Auth.Credit
		v.Credit = &c
	}
	return v
}

func (ls *liveSession) view(now time.Time) LiveSession {
	v := ls.base
	v.Seconds = int64(ls.elapsed / time.Second)
	v.InOctets, v.OutOctets = ls.last.InOctets, ls.last.OutOctets
	v.InPackets, v.OutPackets = ls.last.InPackets, ls.last.OutPackets
	v.Charge = ls.charge()
	if v.Charge != ls.chargeTextOf || ls.chargeText == "" {
		ls.chargeText = FormatAmount(v.Charge, v.Scale, v.Currency)
		ls.chargeTextOf = v.Charge
	}
	v.ChargeText = ls.chargeText
	if ls.limited() {
		left := max(ls.credit.limit-v.Charge, 0)
		v.CreditLeft = &left
		if left != ls.creditTextOf || ls.creditText == "" {
			ls.creditText = FormatAmount(left, v.Scale, v.Currency)
			ls.creditTextOf = left
		}
		v.CreditLeftText = ls.creditText
		if d := ls.credit.deadline; !d.IsZero() {
			secs := max(int64((d.Sub(now)+time.Second-1)/time.Second), 0)
			v.CreditSeconds = &secs
		}
		v.CreditLow = ls.credit.low || !ls.credit.cutAt.IsZero()
	}
	return v
}

// Live returns the open sessions as of the last tick, oldest first. It
// is safe to call from any goroutine; the slice must not be modified.
func (b *Billing) Live() []LiveSession { return *b.snapshot.Load() }

// PastBill is a bill as the live view shows it.
type PastBill struct {
	Sequence       uint64    `json:"sequence"`
	BillID         string    `json:"bill_id"`
	AcctSessionID  string    `json:"acct_session_id"`
	User           string    `json:"user"`
	SubscriberMAC  string    `json:"subscriber_mac"`
	PPPoESessionID uint16    `json:"pppoe_session_id"`
	FramedIP       string    `json:"framed_ip,omitempty"`
	Start          time.Time `json:"start"`
	Stop           time.Time `json:"stop"`
	Seconds        float64   `json:"seconds"`
	InOctets       uint64    `json:"in_octets"`
	OutOctets      uint64    `json:"out_octets"`
	InPackets      uint64    `json:"in_packets"`
	OutPackets     uint64    `json:"out_packets"`
	Cause          string    `json:"cause"`
	TariffID       string    `json:"tariff_id"`
	TariffVersion  uint32    `json:"tariff_version"`
	Charge         int64     `json:"charge"`
	ChargeText     string    `json:"charge_text"`
	Currency       string    `json:"currency"`
	Scale          uint8     `json:"scale"`
	// Status is "pending" until the network system acknowledged the
	// bill, then "acknowledged".
	Status    string     `json:"status"`
	Made      time.Time  `json:"made"`
	Acked     *time.Time `json:"acked,omitempty"`
	Hash      string     `json:"hash"`
	PrevHash  string     `json:"prev_hash"`
	Signature string     `json:"signature"`
}

func pastBill(r *journal.Record) PastBill {
	bl := &r.Bill
	p := PastBill{
		Sequence:       bl.Sequence,
		BillID:         hex.EncodeToString(bl.ID[:]),
		AcctSessionID:  bl.SessionID,
		User:           bl.UserName,
		SubscriberMAC:  bl.SubscriberMAC.String(),
		PPPoESessionID: bl.PPPoESessionID,
		Start:          bl.Start,
		Stop:           bl.Stop,
		Seconds:        bl.SessionTime.Seconds(),
		InOctets:       bl.InputOctets,
		OutOctets:      bl.OutputOctets,
		InPackets:      bl.InputPackets,
		OutPackets:     bl.OutputPackets,
		Cause:          rfc2866.AcctTerminateCause(bl.TerminateCause).String(),
		TariffID:       bl.TariffID,
		TariffVersion:  bl.TariffVersion,
		Charge:         bl.Charge,
		ChargeText:     FormatAmount(bl.Charge, bl.Scale, bl.Currency),
		Currency:       bl.Currency,
		Scale:          bl.Scale,
		Status:         "pending",
		Made:           r.Made,
		PrevHash:       hex.EncodeToString(bl.PrevHash[:]),
		Signature:      hex.EncodeToString(bl.Signature[:]),
	}
	h := bl.Hash()
	p.Hash = hex.EncodeToString(h[:])
	if bl.FramedIP.IsValid() {
		p.FramedIP = bl.FramedIP.String()
	}
	if !r.Pending() {
		p.Status = "acknowledged"
		a := r.Acked
		p.Acked = &a
	}
	return p
}

// Past returns up to limit bills (all the journal keeps when limit <=
// 0), newest first: those awaiting acknowledgement, then the
// acknowledged ones the journal keeps.
func (b *Billing) Past(limit int) ([]PastBill, error) {
	var recs []journal.Record
	err := b.j.View(func(tx *journal.Tx) (err error) {
		recs, err = tx.Recent(limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]PastBill, len(recs))
	for i := range recs {
		out[i] = pastBill(&recs[i])
	}
	return out, nil
}

// FormatAmount writes minor units as a decimal with the currency code:
// 12345 at scale 4 in CNY is "1.2345 CNY".
func FormatAmount(amount int64, scale uint8, currency string) string {
	neg := amount < 0
	u := uint64(amount)
	if neg {
		u = -u
	}
	digits := strconv.FormatUint(u, 10)
	if scale > 0 {
		for len(digits) <= int(scale) {
			digits = "0" + digits
		}
		digits = digits[:len(digits)-int(scale)] + "." + digits[len(digits)-int(scale):]
	}
	if neg {
		digits = "-" + digits
	}
	if currency == "" {
		return digits
	}
	return digits + " " + currency
}
