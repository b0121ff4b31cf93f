package liveview

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/edgebill/edgebill/gateway"
	"github.com/edgebill/edgebill/gateway/billing"
	"github.com/edgebill/edgebill/gateway/billing/journal"
	"github.com/edgebill/edgebill/internal/testenv"
)

// chromiumFlags are the brief's flags for Debian's chromium in a test.
func chromiumFlags(userDir string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + userDir,
		"--window-size=1024,768"}
}

// cdp is a minimal Chrome DevTools Protocol client over
// --remote-debugging-pipe (fd 3 in, fd 4 out, messages ended by NUL), so
// the test can watch one page load over time without a WebSocket library.
type cdp struct {
	t   *testing.T
	cmd *exec.Cmd
	w   *os.File
	r   *bufio.Reader
	id  int
}

func startChromium(t *testing.T, bin string) *cdp {
	t.Helper()
	cr, cw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rr, rw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(chromiumFlags(t.TempDir()), "--remote-debugging-pipe", "about:blank")...)
	cmd.ExtraFiles = []*os.File{cr, rw}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cr.Close()
	rw.Close()
	c := &cdp{t: t, cmd: cmd, w: cw, r: bufio.NewReader(rr)}
	t.Cleanup(func() {
		cw.Close() // chromium exits when its pipe closes
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		rr.Close()
	})
	return c
}

// call sends one command and waits (bounded) for its answer.
func (c *cdp) call(session, method string, params any) json.RawMessage {
	c.t.Helper()
	c.id++
	msg := map[string]any{"id": c.id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		c.t.Fatalf("cdp %s: %v", method, err)
	}
	type reply struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	got := make(chan reply, 1)
	go func() {
		for range 10000 {
			line, err := c.r.ReadBytes(0)
			if err != nil {
				close(got)
				return
			}
			var r reply
			if json.Unmarshal(line[:len(line)-1], &r) == nil && r.ID == c.id {
				got <- r
				return
			}
		}
		close(got)
	}()
	select {
	case r, ok := <-got:
		if !ok {
			c.t.Fatalf("cdp %s: no answer", method)
		}
		if r.Error != nil {
			c.t.Fatalf("cdp %s: %s", method, r.Error.Message)
		}
		return r.Result
	case <-time.After(20 * time.Second):
		c.t.Fatalf("cdp %s: timed out", method)
	}
	return nil
}

func (c *cdp) eval(session, expr string) string {
	c.t.Helper()
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
	}
	json.Unmarshal(c.call(session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}), &r)
	return fmt.Sprint(r.Result.Value)
}

func (c *cdp) screenshot(session, path string) []byte {
	c.t.Helper()
	var r struct {
		Data string `json:"data"`
	}
	json.Unmarshal(c.call(session, "Page.captureScreenshot", map[string]any{"format": "png"}), &r)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		c.t.Fatalf("screenshot is not a PNG (%v)", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		c.t.Fatal(err)
	}
	return png
}

// counters is a fake gateway.Counters: traffic flows while the test runs.
type counters struct {
	mu sync.Mutex
	u  map[uint64]gateway.Usage
}

func (c *counters) Usage(key uint64) (gateway.Usage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, ok := c.u[key]
	return u, ok
}

func (c *counters) flow(key uint64, in, out uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.u[key]
	u.InOctets += in
	u.OutOctets += out
	u.InPackets++
	u.OutPackets += 3
	c.u[key] = u
}

func artifactDir(t *testing.T) string {
	if d := os.Getenv("EDGEBILL_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err == nil {
			return d
		}
	}
	return t.TempDir()
}

// The live page in headless Chromium shows the running charge changing
// while traffic flows: one page load, the charge sampled three times a
// second apart (strictly increasing, same document: no reload), two
// screenshots that differ, and the brief's --screenshot command line.
func TestPageInChromium(t *testing.T) {
	bin := testenv.Binary(t, "chromium")

	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctr := &counters{u: map[uint64]gateway.Usage{}}
	b, err := billing.New(billing.Config{GatewayID: "gw-demo-1", Journal: j, Counters: ctr,
		Poll: 100 * time.Millisecond, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Add(1)
	go func() { defer wg.Done(); b.Run(ctx) }()

	mac := net.HardwareAddr{0x02, 0x42, 0xac, 0x11, 0, 7}
	sess := func(key uint64, started time.Time) gateway.Session {
		return gateway.Session{Key: key, AcctSessionID: fmt.Sprintf("GW%08X", key), PPPoESessionID: 0x1234,
			SubscriberMAC: mac, BRASMAC: net.HardwareAddr{2, 0, 0, 0, 0, 0xbb}, User: "alice@isp.example",
			Started: started,
			Auth:    gateway.Authorization{Tariff: "T1;id=home-vol;v=2;cur=CNY;sc=4;fee=500;time=60/1m/up;both=20/MB/up"}}
	}
	// One past session, already billed.
	past := time.Now().Add(-time.Hour)
	b.Opened(sess(1, past))
	b.Closed(1, past.Add(23*time.Minute), gateway.Usage{InOctets: 12e6, OutOctets: 340e6, InPackets: 9000, OutPackets: 250000}, gateway.CauseUserRequest)
	// The live one, with traffic flowing and a credit of 20 CNY.
	live := sess(2, time.Now().Add(-95*time.Second))
	live.Auth.Credit, live.Auth.HasCredit = 200000, true
	b.Opened(live)
	b.Addressed(2, mustAddr("100.64.12.34"))
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
				ctr.flow(2, 40e3, 900e3)
			}
		}
	}()

	ln, err := Listen(ctx, "127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Source: b, GatewayID: "gw-demo-1", Push: 250 * time.Millisecond, Logger: zaptest.NewLogger(t)}
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String() + "/"

	c := startChromium(t, bin)
	var target struct {
		TargetID string `json:"targetId"`
	}
	json.Unmarshal(c.call("", "Target.createTarget", map[string]any{"url": "about:blank"}), &target)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	json.Unmarshal(c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &att)
	s := att.SessionID
	c.call(s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1024, "height": 768, "deviceScaleFactor": 1, "mobile": false})
	c.call(s, "Page.navigate", map[string]any{"url": url})

	// Wait for the first push to render.
	deadline := time.Now().Add(15 * time.Second)
	for c.eval(s, `document.querySelector(".charge") ? "yes" : "no"`) != "yes" {
		if time.Now().After(deadline) {
			t.Fatal("the page never showed a running charge")
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.eval(s, `window.__sameDocument = "yes"`)
	dir := artifactDir(t)
	var charges, credits []int64
	var shots [][]byte
	for i := range 3 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		v := c.eval(s, `document.querySelector(".charge").getAttribute("data-charge")`)
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("data-charge %q", v)
		}
		charges = append(charges, n)
		v = c.eval(s, `document.querySelector(".credit").getAttribute("data-credit-left")`)
		left, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("data-credit-left %q", v)
		}
		credits = append(credits, left)
		t.Logf("sample %d: running charge %s (%s)", i, c.eval(s, `document.querySelector(".charge").textContent`),
			c.eval(s, `document.querySelector(".stats").textContent`))
		if i == 0 || i == 2 {
			p := filepath.Join(dir, fmt.Sprintf("liveview-%d.png", i))
			shots = append(shots, c.screenshot(s, p))
			t.Logf("screenshot %s", p)
		}
	}
	for i := 1; i < len(charges); i++ {
		if charges[i] <= charges[i-1] {
			t.Errorf("running charge did not rise: %v", charges)
		}
		if credits[i] >= credits[i-1] || credits[i] != 200000-charges[i] {
			t.Errorf("credit left %v for running charges %v", credits, charges)
		}
	}
	if txt := c.eval(s, `document.querySelector(".credit").textContent`); !strings.HasPrefix(txt, "credit left ") ||
		!strings.Contains(txt, " CNY, about ") || !strings.HasSuffix(txt, " at no more traffic") {
		t.Errorf("credit line %q", txt)
	} else {
		t.Logf("credit line: %s", txt)
	}
	if got := c.eval(s, `window.__sameDocument`); got != "yes" {
		t.Errorf("the page reloaded (marker %q)", got)
	}
	if pts := c.eval(s, `document.querySelector("svg.spark").getAttribute("data-points")`); strings.Count(pts, ",") < 5 {
		t.Errorf("sparkline has few points: %q", pts)
	}
	if bytes.Equal(shots[0], shots[1]) {
		t.Errorf("the two screenshots are identical")
	}
	if got := c.eval(s, `document.querySelectorAll("#bills tr[data-seq]").length`); got != "1" {
		t.Errorf("past bills rows: %s", got)
	}
	if got := c.eval(s, `document.getElementById("conn").className`); got != "on" {
		t.Errorf("event stream state %q", got)
	}

	// The brief's command line: a screenshot of the page as it loads.
	png := filepath.Join(dir, "liveview-cli.png")
	cli := exec.Command(bin, append(chromiumFlags(t.TempDir()), "--screenshot="+png, url)...)
	cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
	defer ccancel()
	cli = exec.CommandContext(cctx, cli.Path, cli.Args[1:]...)
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, lastLines(out, 5))
	}
	data, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) || len(data) < 5000 {
		t.Fatalf("--screenshot wrote no PNG (%v, %d octets)", err, len(data))
	}
	t.Logf("screenshot %s (%d octets)", png, len(data))
}

func lastLines(b []byte, n int) string {
	l := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
