package billing

import (
	"context"
	"encoding/binary"
	"time"

	"go.uber.org/zap"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
)

// interimPacket builds the Accounting-Request Interim-Update of ls at
// now (RFC 2866 §5.1, RFC 2869 §2.1): the usage so far with 64-bit
// octets (RFC 2869 §5.1-5.2), the session time, and the running charge
// with the tariff it is in (EdgeBill-Running-Charge and friends).
func (b *Billing) interimPacket(ls *liveSession, now time.Time) *radius.Packet {
	p := &radius.Packet{Code: radius.CodeAccountingRequest}
	s := &ls.s
	add := func(t radius.Type, v []byte) { p.Add(t, v) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	add(rfc2866.AcctStatusType_Type, u32(uint32(rfc2866.AcctStatusType_Value_InterimUpdate)))
	user := s.User
	if user == "" {
		user = unknownUser
	}
	add(rfc2865.UserName_Type, []byte(cut(user, maxAttrString)))
	add(rfc2866.AcctSessionID_Type, []byte(acctSessionID(s)))
	add(rfc2865.NASIdentifier_Type, []byte(cut(b.cfg.GatewayID, maxAttrString)))
	add(rfc2865.CallingStationID_Type, radiusx.AppendCallingStationID(nil, s.SubscriberMAC))
	if ip := s.FramedIP.Unmap(); ip.Is4() {
		a := ip.As4()
		add(rfc2865.FramedIPAddress_Type, a[:])
	}
	add(rfc2866.AcctSessionTime_Type, u32(uint32(ls.elapsed/time.Second)))
	_ = radiusx.SetOctets64(p, ls.last.InOctets, ls.last.OutOctets)
	add(rfc2866.AcctInputPackets_Type, u32(uint32(ls.last.InPackets)))
	add(rfc2866.AcctOutputPackets_Type, u32(uint32(ls.last.OutPackets)))
	_ = rfc2869.EventTimestamp_Set(p, now)
	if len(s.Auth.Class) > 0 && len(s.Auth.Class) <= maxAttrString {
		add(rfc2865.Class_Type, s.Auth.Class)
	}
	_ = ebattr.EdgeBillGatewayID_AddString(p, cut(b.cfg.GatewayID, maxVendorBytes))
	_ = ebattr.EdgeBillPPPoESessionID_Add(p, ebattr.EdgeBillPPPoESessionID(s.PPPoESessionID))
	if t := ls.tariff; t != nil {
		_ = ebattr.EdgeBillTariffID_AddString(p, cut(t.ID(), maxVendorBytes))
		_ = ebattr.EdgeBillTariffVersion_Add(p, ebattr.EdgeBillTariffVersion(t.Version()))
		_ = ebattr.EdgeBillCurrency_AddString(p, t.Currency())
		_ = ebattr.EdgeBillCurrencyScale_Add(p, ebattr.EdgeBillCurrencyScale(t.Scale()))
	}
	_ = ebattr.EdgeBillRunningCharge_Add(p, ebattr.EdgeBillRunningCharge(ls.charge()))
	return p
}

// queueInterim hands an Interim-Update to the sender; when the sender is
// behind (servers unreachable) the update is dropped: the next one
// carries newer totals anyway.
func (b *Billing) queueInterim(ls *liveSession, now time.Time) {
	if b.cfg.Accounting == nil {
		return
	}
	select {
	case b.interims <- b.interimPacket(ls, now):
	default:
		b.m.Interims.WithLabelValues("dropped").Inc()
	}
}

func (b *Billing) sendInterims(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-b.interims:
			cctx, cancel := context.WithTimeout(ctx, DefaultInterimTimeout)
			start := time.Now()
			resp, err := b.cfg.Accounting.Exchange(cctx, p)
			cancel()
			if err == nil && resp.Code != radius.CodeAccountingResponse {
				err = errUnexpectedCode(resp.Code)
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				b.m.Interims.WithLabelValues("failed").Inc()
				b.log.Warn("interim update not acknowledged", zap.String("session", rfc2866.AcctSessionID_GetString(p)), zap.Error(err))
				continue
			}
			b.m.RADIUSLatency.WithLabelValues("interim").Observe(time.Since(start).Seconds())
			b.m.Interims.WithLabelValues("sent").Inc()
		}
	}
}

type errUnexpectedCode radius.Code

func (e errUnexpectedCode) Error() string {
	return "billing: reply is " + radius.Code(e).String() + ", not Accounting-Response"
}
