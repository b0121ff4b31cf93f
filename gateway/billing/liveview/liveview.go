package liveview

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/edgebill/edgebill/gateway/billing"
	"github.com/edgebill/edgebill/internal/httpserve"
)

// Source is what the page shows; *billing.Billing is one.
type Source interface {
	Live() []billing.LiveSession
	Past(limit int) ([]billing.PastBill, error)
}

var _ Source = (*billing.Billing)(nil)

// DefaultPush is how often the live session is pushed.
const DefaultPush = time.Second

// Server serves the live view.
type Server struct {
	Source    Source
	GatewayID string
	// PublicKey is the gateway's bill-signing key, hex, shown for
	// registration with billd.
	PublicKey string
	// Push is the interval of live events (DefaultPush).
	Push   time.Duration
	Logger *zap.Logger
}

//go:embed page.html
var page []byte

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /api/live", s.apiLive)
	mux.HandleFunc("GET /api/bills", s.apiBills)
	mux.HandleFunc("GET /api/gateway", s.apiGateway)
	mux.HandleFunc("GET /api/events", s.events)
	return mux
}

func (s *Server) logger() *zap.Logger {
	if s.Logger == nil {
		return zap.NewNop()
	}
	return s.Logger
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(page)
}

// macFilter reads ?mac=; empty means everyone.
func macFilter(r *http.Request) (string, error) {
	v := r.URL.Query().Get("mac")
	if v == "" {
		return "", nil
	}
	m, err := net.ParseMAC(v)
	if err != nil {
		return "", err
	}
	return m.String(), nil
}

// LiveDoc is the /api/live document and the data of a "live" event.
type LiveDoc struct {
	GatewayID string                `json:"gateway_id"`
	Now       time.Time             `json:"now"`
	Sessions  []billing.LiveSession `json:"sessions"`
}

// BillsDoc is the /api/bills document.
type BillsDoc struct {
	GatewayID string             `json:"gateway_id"`
	Bills     []billing.PastBill `json:"bills"`
}

func (s *Server) live(mac string) LiveDoc {
	all := s.Source.Live()
	out := make([]billing.LiveSession, 0, len(all))
	for _, l := range all {
		if mac == "" || l.SubscriberMAC == mac {
			out = append(out, l)
		}
	}
	return LiveDoc{GatewayID: s.GatewayID, Now: time.Now().UTC().Truncate(time.Millisecond), Sessions: out}
}

func (s *Server) bills(mac string, limit int) ([]billing.PastBill, error) {
	all, err := s.Source.Past(limit)
	if err != nil || mac == "" {
		return all, err
	}
	out := all[:0:0]
	for _, b := range all {
		if b.SubscriberMAC == mac {
			out = append(out, b)
		}
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (s *Server) apiLive(w http.ResponseWriter, r *http.Request) {
	mac, err := macFilter(r)
	if err != nil {
		http.Error(w, "bad mac: "+err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, s.live(mac))
}

func (s *Server) apiBills(w http.ResponseWriter, r *http.Request) {
	mac, err := macFilter(r)
	if err != nil {
		http.Error(w, "bad mac: "+err.Error(), http.StatusBadRequest)
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			http.Error(w, "limit is 1 to 1000", http.StatusBadRequest)
			return
		}
		limit = n
	}
	bills, err := s.bills(mac, limit)
	if err != nil {
		s.logger().Error("reading bills", zap.Error(err))
		http.Error(w, "journal unreadable", http.StatusInternalServerError)
		return
	}
	if bills == nil {
		bills = []billing.PastBill{}
	}
	writeJSON(w, BillsDoc{GatewayID: s.GatewayID, Bills: bills})
}

func (s *Server) apiGateway(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]string{"gateway_id": s.GatewayID, "public_key": s.PublicKey})
}

// billsRevision changes whenever a bill is made or acknowledged.
func (s *Server) billsRevision(mac string) string {
	bills, err := s.bills(mac, 50)
	if err != nil || len(bills) == 0 {
		return "0"
	}
	pending := 0
	for _, b := range bills {
		if b.Status == "pending" {
			pending++
		}
	}
	return fmt.Sprintf("%d.%d.%d", bills[0].Sequence, pending, len(bills))
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	mac, err := macFilter(r)
	if err != nil {
		http.Error(w, "bad mac: "+err.Error(), http.StatusBadRequest)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	push := s.Push
	if push <= 0 {
		push = DefaultPush
	}
	t := time.NewTicker(push)
	defer t.Stop()
	var buf []byte
	rev := ""
	fmt.Fprintf(w, "retry: %d\n\n", push.Milliseconds()*2)
	for {
		// Server-Sent Events: one "data:" line (JSON has no newlines).
		doc, _ := json.Marshal(s.live(mac))
		buf = append(buf[:0], "event: live\ndata: "...)
		buf = append(buf, doc...)
		buf = append(buf, "\n\n"...)
		if nr := s.billsRevision(mac); nr != rev {
			rev = nr
			buf = append(buf, "event: bills\ndata: "...)
			buf = append(buf, strconv.Quote(rev)...)
			buf = append(buf, "\n\n"...)
		}
		rc.SetWriteDeadline(time.Now().Add(10 * push))
		if _, err := w.Write(buf); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
	}
}

// ErrNotLAN: the address to listen on is a wildcard.
var ErrNotLAN = errors.New("liveview: listen address must be a LAN address, not a wildcard")

// Listen opens the live view's socket on addr (host:port with a
// concrete IP address of the LAN side) and, when iface is given, binds
// it to that interface (SO_BINDTODEVICE on Linux), so the page is never
// reachable from the WAN.
func Listen(ctx context.Context, addr, iface string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("liveview: %w", err)
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	if ip == nil || ip.IsUnspecified() {
		return nil, fmt.Errorf("%w: %q", ErrNotLAN, addr)
	}
	lc := net.ListenConfig{Control: bindToDevice(iface)}
	return lc.Listen(ctx, "tcp", addr)
}

// Serve serves on ln until ctx ends, then shuts down (open event
// streams are cut).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	return httpserve.Serve(ctx, srv, ln)
}
