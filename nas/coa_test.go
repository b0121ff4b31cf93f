package nas_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3576"

	"github.com/edgebill/edgebill/internal/radclient"
	"github.com/edgebill/edgebill/nas"
	"github.com/edgebill/edgebill/nas/client"
	"github.com/edgebill/edgebill/rfc/radiusx"
)

const coaSecret = "coa-test-secret"

func startCoANAS(t *testing.T, mod func(*nas.Config)) (*hubNAS, *radclient.Client) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.CoASecret = coaSecret
	if mod != nil {
		mod(&cfg)
	}
	h := startHubNAS(t, cfg, nas.Options{CoAConn: conn})
	rc, err := radclient.New(radclient.Config{
		Servers: []radclient.Server{{Addr: conn.LocalAddr().String(), Secret: coaSecret}},
		IRT:     100 * time.Millisecond, MRC: 2, MRD: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	return h, rc
}

func coaRequest(code radius.Code, attrs func(p *radius.Packet)) *radius.Packet {
	p := radius.New(code, nil)
	rfc2869.EventTimestamp_Set(p, time.Now())
	if attrs != nil {
		attrs(p)
	}
	return p
}

func errorCause(p *radius.Packet) rfc3576.ErrorCause { return rfc3576.ErrorCause_Get(p) }

// Disconnect-Request (RFC 5176 §3.1): the session named ends with
// Admin-Reset; NAKs say why when nothing is done.
func TestDisconnectRequest(t *testing.T) {
	t.Parallel()
	h, rc := startCoANAS(t, nil)
	ctx := context.Background()
	s, err := h.dial("alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	keep, err := h.dial("bob", "bob-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	acctID := h.srv.Sessions()[0].AcctSessionID
	for _, si := range h.srv.Sessions() {
		if si.User == "alice" {
			acctID = si.AcctSessionID
		}
	}

	for _, tc := range []struct {
		name  string
		attrs func(p *radius.Packet)
		cause rfc3576.ErrorCause
	}{
		{"no such session", func(p *radius.Packet) { rfc2866.AcctSessionID_SetString(p, "nope") }, rfc3576.ErrorCause_Value_SessionContextNotFound},
		{"other NAS", func(p *radius.Packet) {
			rfc2866.AcctSessionID_SetString(p, acctID)
			rfc2865.NASIdentifier_SetString(p, "someone-else")
		}, rfc3576.ErrorCause_Value_NASIdentificationMismatch},
		{"no identification", nil, rfc3576.ErrorCause_Value_MissingAttribute},
		{"unsupported attribute", func(p *radius.Packet) {
			rfc2866.AcctSessionID_SetString(p, acctID)
			rfc2865.FilterID_SetString(p, "x")
		}, rfc3576.ErrorCause_Value_UnsupportedAttribute},
		{"mismatching user", func(p *radius.Packet) {
			rfc2866.AcctSessionID_SetString(p, acctID)
			rfc2865.UserName_SetString(p, "bob")
		}, rfc3576.ErrorCause_Value_SessionContextNotFound},
	} {
		resp, err := rc.Exchange(ctx, coaRequest(radius.CodeDisconnectRequest, tc.attrs))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if resp.Code != radius.CodeDisconnectNAK || errorCause(resp) != tc.cause {
			t.Errorf("%s: %v %v, want Disconnect-NAK %v", tc.name, resp.Code, errorCause(resp), tc.cause)
		}
	}
	if h.srv.Stats().Sessions != 2 {
		t.Fatal("a NAKed request ended a session")
	}

	resp, err := rc.Exchange(ctx, coaRequest(radius.CodeDisconnectRequest, func(p *radius.Packet) {
		rfc2866.AcctSessionID_SetString(p, acctID)
		rfc2865.UserName_SetString(p, "alice")
		rfc2865.NASIdentifier_SetString(p, "hub-nas")
	}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Code != radius.CodeDisconnectACK {
		t.Fatalf("%v %v", resp.Code, errorCause(resp))
	}
	select {
	case <-s.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("session not ended")
	}
	if !errors.Is(s.Err(), client.ErrTerminated) {
		t.Fatalf("session ended with %v", s.Err())
	}
	waitFor(t, 2*time.Second, "Stop", func() bool {
		for _, p := range h.fr.records(acctID) {
			if statusOf(p) == rfc2866.AcctStatusType_Value_Stop {
				return rfc2866.AcctTerminateCause_Get(p) == rfc2866.AcctTerminateCause_Value_AdminReset
			}
		}
		return false
	})
	exchangeEcho(t, keep, 3, 60)
}

// CoA-Request (RFC 5176 §3.2) changes a session's timers.
func TestCoARequest(t *testing.T) {
	t.Parallel()
	h, rc := startCoANAS(t, nil)
	s, err := h.dial("carol", "carol-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := rc.Exchange(context.Background(), coaRequest(radius.CodeCoARequest, func(p *radius.Packet) {
		rfc2865.CallingStationID_SetString(p, s.MAC().String()) // any spelling of the MAC
		rfc2865.SessionTimeout_Set(p, 1)
	}))
	if err != nil || resp.Code != radius.CodeCoAACK {
		t.Fatalf("%v %v", resp, err)
	}
	select {
	case <-s.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("the new Session-Timeout did not end the session")
	}
	waitFor(t, 2*time.Second, "Stop", func() bool {
		for _, p := range h.fr.records("") {
			if statusOf(p) == rfc2866.AcctStatusType_Value_Stop {
				return rfc2866.AcctTerminateCause_Get(p) == rfc2866.AcctTerminateCause_Value_SessionTimeout
			}
		}
		return false
	})
}

// rawCoA sends b to nasd's CoA port and returns the answer, or nil when
// none comes within wait.
func rawCoA(t *testing.T, h *hubNAS, b []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", h.srv.CoAAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return nil
	}
	return buf[:n]
}

// Requests without a Message-Authenticator, with a wrong one, or with an
// Event-Timestamp outside the window are dropped silently; a replayed
// request gets the answer it got, and is not carried out twice.
func TestCoASecurity(t *testing.T) {
	t.Parallel()
	h, _ := startCoANAS(t, func(c *nas.Config) { c.EventTimestampWindow = 10 * time.Second })
	s, err := h.dial("alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(ts time.Time, secret string) *radius.Packet {
		p := radius.New(radius.CodeDisconnectRequest, []byte(secret))
		p.Identifier = 77
		rfc2865.UserName_SetString(p, "alice")
		rfc2869.EventTimestamp_Set(p, ts)
		return p
	}
	unsigned, err := mk(time.Now(), coaSecret).Encode() // layeh: no Message-Authenticator
	if err != nil {
		t.Fatal(err)
	}
	wrongSecret, _ := radiusx.Encode(mk(time.Now(), "not-the-secret"))
	stale, _ := radiusx.Encode(mk(time.Now().Add(-time.Minute), coaSecret))
	future, _ := radiusx.Encode(mk(time.Now().Add(time.Minute), coaSecret))
	for name, b := range map[string][]byte{"unsigned": unsigned, "wrong secret": wrongSecret, "stale": stale, "future": future} {
		if r := rawCoA(t, h, b, 300*time.Millisecond); r != nil {
			t.Errorf("%s: answered", name)
		}
	}
	if h.srv.Stats().Sessions != 1 || h.srv.Stats().CoADropped != 4 {
		t.Fatalf("stats %+v", h.srv.Stats())
	}
	good, _ := radiusx.Encode(mk(time.Now(), coaSecret))
	first := rawCoA(t, h, good, 5*time.Second)
	if first == nil || radius.Code(first[0]) != radius.CodeDisconnectACK {
		t.Fatalf("first answer % x", first)
	}
	<-s.Done()
	again := rawCoA(t, h, good, 5*time.Second) // the session is gone; still the same ACK
	if string(again) != string(first) {
		t.Fatalf("replay answered % x, want the first answer % x", again, first)
	}
	time.Sleep(100 * time.Millisecond)
	stops := 0
	for _, p := range h.fr.records("") {
		if statusOf(p) == rfc2866.AcctStatusType_Value_Stop {
			stops++
		}
	}
	if stops != 1 {
		t.Fatalf("%d Stops", stops)
	}
}

// RequireEventTimestamp drops requests without one.
func TestCoARequireEventTimestamp(t *testing.T) {
	t.Parallel()
	h, _ := startCoANAS(t, func(c *nas.Config) { c.RequireEventTimestamp = true })
	p := radius.New(radius.CodeDisconnectRequest, []byte(coaSecret))
	rfc2865.UserName_SetString(p, "alice")
	b, _ := radiusx.Encode(p)
	if rawCoA(t, h, b, 300*time.Millisecond) != nil {
		t.Fatal("answered a request without Event-Timestamp")
	}
}

// The status listing serves the live sessions and the counters as JSON.
func TestStatusHTTP(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := startHubNAS(t, testConfig(), nas.Options{StatusListener: l})
	s, err := h.dial("alice", "alice-pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	exchangeEcho(t, s, 4, 100)
	get := func(path string, v any) {
		resp, err := http.Get("http://" + h.srv.StatusAddr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var sessions []nas.SessionInfo
	get("/sessions", &sessions)
	if len(sessions) != 1 || sessions[0].User != "alice" || sessions[0].Address != s.Addr().String() ||
		sessions[0].InOctets != 400 || sessions[0].OutOctets != 400 || sessions[0].Phase != "up" {
		t.Fatalf("sessions %+v", sessions)
	}
	var st nas.Stats
	get("/stats", &st)
	if st.Sessions != 1 || st.SessionsUp != 1 || st.IPIn != 4 {
		t.Fatalf("stats %+v", st)
	}
}
