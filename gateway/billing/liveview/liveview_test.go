package liveview

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/gateway/billing"
)

type fakeSource struct {
	live  []billing.LiveSession
	bills []billing.PastBill
}

func (f *fakeSource) Live() []billing.LiveSession { return f.live }
func (f *fakeSource) Past(limit int) ([]billing.PastBill, error) {
	if limit < len(f.bills) {
		return f.bills[:limit], nil
	}
	return f.bills, nil
}

var src = &fakeSource{
	live: []billing.LiveSession{
		{Key: 1, User: "alice", SubscriberMAC: "02:00:00:00:00:01", Charge: 5600, ChargeText: "0.5600 CNY", Currency: "CNY", Scale: 4},
		{Key: 2, User: "bob", SubscriberMAC: "02:00:00:00:00:02", Charge: 100, ChargeText: "0.0100 CNY", Currency: "CNY", Scale: 4,
			Credit: ptr[int64](1000), CreditLeft: ptr[int64](900), CreditLeftText: "0.0900 CNY", CreditSeconds: ptr[int64](240), CreditLow: true},
	},
	bills: []billing.PastBill{
		{Sequence: 2, User: "bob", SubscriberMAC: "02:00:00:00:00:02", Status: "pending"},
		{Sequence: 1, User: "alice", SubscriberMAC: "02:00:00:00:00:01", Status: "acknowledged"},
	},
}

func ptr[T any](v T) *T { return &v }

func get(t *testing.T, h http.Handler, url string, v any) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	if v != nil && rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
	}
	return rec
}

func TestAPI(t *testing.T) {
	s := &Server{Source: src, GatewayID: "gw-1", PublicKey: "abcd"}
	h := s.Handler()

	var live LiveDoc
	get(t, h, "/api/live", &live)
	if diff := cmp.Diff(src.live, live.Sessions); diff != "" || live.GatewayID != "gw-1" {
		t.Errorf("/api/live (-want +got):\n%s", diff)
	}
	get(t, h, "/api/live?mac=02-00-00-00-00-02", &live)
	if len(live.Sessions) != 1 || live.Sessions[0].User != "bob" {
		t.Errorf("/api/live?mac: %+v", live.Sessions)
	}
	if rec := get(t, h, "/api/live?mac=nonsense", nil); rec.Code != 400 {
		t.Errorf("bad mac: %d", rec.Code)
	}

	var bills BillsDoc
	get(t, h, "/api/bills", &bills)
	if diff := cmp.Diff(src.bills, bills.Bills); diff != "" {
		t.Errorf("/api/bills (-want +got):\n%s", diff)
	}
	get(t, h, "/api/bills?limit=1", &bills)
	if len(bills.Bills) != 1 {
		t.Errorf("/api/bills?limit=1: %d bills", len(bills.Bills))
	}
	get(t, h, "/api/bills?mac=02:00:00:00:00:01", &bills)
	if len(bills.Bills) != 1 || bills.Bills[0].Sequence != 1 {
		t.Errorf("/api/bills?mac: %+v", bills.Bills)
	}
	if rec := get(t, h, "/api/bills?limit=0", nil); rec.Code != 400 {
		t.Errorf("limit=0: %d", rec.Code)
	}

	var gw map[string]string
	get(t, h, "/api/gateway", &gw)
	if gw["public_key"] != "abcd" {
		t.Errorf("/api/gateway: %v", gw)
	}
	rec := get(t, h, "/", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "EventSource") {
		t.Errorf("/: %d", rec.Code)
	}
	if rec := get(t, h, "/nothing", nil); rec.Code != 404 {
		t.Errorf("/nothing: %d", rec.Code)
	}
}

func TestEvents(t *testing.T) {
	s := &Server{Source: src, GatewayID: "gw-1", Push: 20 * time.Millisecond}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var events []string
	lives := 0
	for lives < 3 && sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			events = append(events, name)
			if name == "live" {
				lives++
				if !sc.Scan() {
					break
				}
				var doc LiveDoc
				if err := json.Unmarshal([]byte(strings.TrimPrefix(sc.Text(), "data: ")), &doc); err != nil {
					t.Fatalf("live data: %v", err)
				}
				if len(doc.Sessions) != 2 {
					t.Fatalf("live event with %d sessions", len(doc.Sessions))
				}
			}
		}
	}
	if diff := cmp.Diff([]string{"live", "bills", "live", "live"}, events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestListenRefusesWildcard(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", "[::]:8080", ":8080", "lan:80"} {
		if _, err := Listen(context.Background(), addr, ""); err == nil {
			t.Errorf("Listen(%q) accepted", addr)
		} else if addr != "lan:80" && !errors.Is(err, ErrNotLAN) {
			t.Errorf("Listen(%q): %v", addr, err)
		}
	}
	ln, err := Listen(context.Background(), "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
