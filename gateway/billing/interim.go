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

	"github.com/edgebill/edgebill/gateway/billing/metrics"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
)

// progressReq is a Start or an Interim-Update waiting for the sender.
type progressReq struct {
	p    *radius.Packet
	kind string // "start", "interim": the metrics' label
	ls   *liveSession
	// event is when what the request reports happened (a Start's
	// session start), for its Acct-Delay-Time; zero for interims.
	event time.Time
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// billUser is the User-Name a session's bill, Start and interims carry.
func billUser(user string) string {
	if user == "" {
		user = unknownUser
	}
	return cut(user, maxAttrString)
}

// progressPacket starts an Accounting-Request of status st for ls with
// what every record of the session carries, as the bill will: User-Name,
// Acct-Session-Id, NAS-Identifier (RFC 2865 §5.32), Calling-Station-Id,
// Framed-IP-Address once known, Class (RFC 2865 §5.25: echoed from the
// Access-Accept), and the gateway id, PPPoE session id and tariff.
func (b *Billing) progressPacket(ls *liveSession, st rfc2866.AcctStatusType) *radius.Packet {
	p := &radius.Packet{Code: radius.CodeAccountingRequest}
	s := &ls.s
	p.Add(rfc2866.AcctStatusType_Type, u32(uint32(st)))
	p.Add(rfc2865.UserName_Type, []byte(billUser(s.User)))
	p.Add(rfc2866.AcctSessionID_Type, []byte(acctSessionID(s)))
	p.Add(rfc2865.NASIdentifier_Type, []byte(cut(b.cfg.GatewayID, maxAttrString)))
	p.Add(rfc2865.CallingStationID_Type, radiusx.AppendCallingStationID(nil, s.SubscriberMAC))
	if ip := s.FramedIP.Unmap(); ip.Is4() {
		a := ip.As4()
		p.Add(rfc2865.FramedIPAddress_Type, a[:])
	}
	return p
}

// addTail adds what follows the usage in both kinds: Class, and the
// vendor attributes naming the gateway, the PPPoE session and the tariff.
func (b *Billing) addTail(p *radius.Packet, ls *liveSession) {
	s := &ls.s
	if len(s.Auth.Class) > 0 && len(s.Auth.Class) <= maxAttrString {
		p.Add(rfc2865.Class_Type, s.Auth.Class)
	}
	_ = ebattr.EdgeBillGatewayID_AddString(p, cut(b.cfg.GatewayID, maxVendorBytes))
	_ = ebattr.EdgeBillPPPoESessionID_Add(p, ebattr.EdgeBillPPPoESessionID(s.PPPoESessionID))
	if t := ls.tariff; t != nil {
		_ = ebattr.EdgeBillTariffID_AddString(p, cut(t.ID(), maxVendorBytes))
		_ = ebattr.EdgeBillTariffVersion_Add(p, ebattr.EdgeBillTariffVersion(t.Version()))
		_ = ebattr.EdgeBillCurrency_AddString(p, t.Currency())
		_ = ebattr.EdgeBillCurrencyScale_Add(p, ebattr.EdgeBillCurrencyScale(t.Scale()))
	}
}

// startPacket builds the Accounting-Request Start of ls (RFC 2866 §5.1
// Acct-Status-Type Start): the attributes every record of the session
// carries; Event-Timestamp (RFC 2869 §5.3) and EdgeBill-Start-Time are
// the session's start, the bill's Start to the second; the running
// charge is what the session costs as it opens (its session fee). No
// Acct-Session-Time, octets or packets: RFC 2866 §5.3-5.8 keep those for
// the Stop (and RFC 2869 §2.1 for interims). Acct-Delay-Time is set when
// it is sent (sendProgress).
func (b *Billing) startPacket(ls *liveSession) *radius.Packet {
	p := b.progressPacket(ls, rfc2866.AcctStatusType_Value_Start)
	start := ls.s.Started.Truncate(time.Second)
	_ = rfc2869.EventTimestamp_Set(p, start)
	b.addTail(p, ls)
	_ = ebattr.EdgeBillStartTime_Set(p, start)
	_ = ebattr.EdgeBillRunningCharge_Add(p, ebattr.EdgeBillRunningCharge(ls.charge()))
	return p
}

// interimPacket builds the Accounting-Request Interim-Update of ls at
// now (RFC 2866 §5.1, RFC 2869 §2.1): the usage so far with 64-bit
// octets (RFC 2869 §5.1-5.2), the session time, and the running charge
// with the tariff it is in (EdgeBill-Running-Charge and friends).
func (b *Billing) interimPacket(ls *liveSession, now time.Time) *radius.Packet {
	p := b.progressPacket(ls, rfc2866.AcctStatusType_Value_InterimUpdate)
	p.Add(rfc2866.AcctSessionTime_Type, u32(uint32(ls.elapsed/time.Second)))
	_ = radiusx.SetOctets64(p, ls.last.InOctets, ls.last.OutOctets)
	p.Add(rfc2866.AcctInputPackets_Type, u32(uint32(ls.last.InPackets)))
	p.Add(rfc2866.AcctOutputPackets_Type, u32(uint32(ls.last.OutPackets)))
	_ = rfc2869.EventTimestamp_Set(p, now)
	b.addTail(p, ls)
	_ = ebattr.EdgeBillRunningCharge_Add(p, ebattr.EdgeBillRunningCharge(ls.charge()))
	return p
}

// queueStart hands the session's Start to the sender. Like an interim it
// is best effort and never waits: see the package documentation,
// "Accounting Start".
func (b *Billing) queueStart(ls *liveSession, _ time.Time) {
	if b.cfg.Accounting == nil {
		return
	}
	b.queueProgress(progressReq{p: b.startPacket(ls), kind: "start", ls: ls, event: ls.s.Started})
}

// queueInterim hands an Interim-Update to the sender; when the sender is
// behind (servers unreachable) the update is dropped: the next one
// carries newer totals anyway.
func (b *Billing) queueInterim(ls *liveSession, now time.Time) {
	if b.cfg.Accounting == nil {
		return
	}
	b.queueProgress(progressReq{p: b.interimPacket(ls, now), kind: "interim", ls: ls})
}

func (b *Billing) queueProgress(r progressReq) {
	select {
	case b.progress <- r:
	default:
		b.progressMetric(r.kind).WithLabelValues("dropped").Inc()
	}
}

func (b *Billing) progressMetric(kind string) *metrics.CounterVec {
	if kind == "start" {
		return b.m.Starts
	}
	return b.m.Interims
}

// sendProgress sends the Starts and interims in the order they were
// queued (a session's Start before its first interim), one at a time,
// each given up after DefaultInterimTimeout. A request whose session was
// billed meanwhile is not sent: it would arrive after the bill and show
// an ended session as live at the server.
func (b *Billing) sendProgress(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-b.progress:
			m := b.progressMetric(r.kind)
			if r.ls.gone.Load() {
				m.WithLabelValues("stale").Inc()
				continue
			}
			if !r.event.IsZero() {
				// RFC 2866 §5.2: the seconds the record waited to go.
				d := max(b.now().Sub(r.event)/time.Second, 0)
				_ = rfc2866.AcctDelayTime_Set(r.p, rfc2866.AcctDelayTime(d))
			}
			cctx, cancel := context.WithTimeout(ctx, DefaultInterimTimeout)
			start := time.Now()
			resp, err := b.cfg.Accounting.Exchange(cctx, r.p)
			cancel()
			if err == nil && resp.Code != radius.CodeAccountingResponse {
				err = errUnexpectedCode(resp.Code)
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				m.WithLabelValues("failed").Inc()
				b.log.Warn(r.kind+" not acknowledged", zap.String("session", rfc2866.AcctSessionID_GetString(r.p)), zap.Error(err))
				continue
			}
			b.m.RADIUSLatency.WithLabelValues(r.kind).Observe(time.Since(start).Seconds())
			m.WithLabelValues("sent").Inc()
		}
	}
}

type errUnexpectedCode radius.Code

func (e errUnexpectedCode) Error() string {
	return "billing: reply is " + radius.Code(e).String() + ", not Accounting-Response"
}
