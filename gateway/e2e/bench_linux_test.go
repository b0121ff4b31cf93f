//go:build linux

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"

	"github.com/edgebill/edgebill/gateway/billing/billingtest"
	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"github.com/edgebill/edgebill/rfc/tariff"
)

// benchTariff prices the benchmark's session: per megabyte both ways.
const benchTariff = "T1;id=bench-volume;v=1;cur=CNY;sc=4;fee=0;both=100/MB/up"

// BenchmarkGatewaydVeth measures PPPoE session frames per second relayed
// by the gatewayd binary, with its metering, between two veth links,
// with the tc fast path (kernel) and in user space:
//
//	gen: eth0 ==veth== lan0 [gatewayd, mid] wan0 ==veth== eth0 :sink
//
// The generator is scripts/bench-compare.sh's: pppoe-blast runs PPPoE
// discovery and a PAP login through gatewayd (which authorises it with a
// RADIUS server in the test), then sends session frames by sendmmsg for
// three seconds; the access concentrator in sink acks the login and
// reads nothing else. frames/s is what sink's interface received, less
// discovery and PAP, over the blast; delivered is that over what was
// offered. After each run the bill gatewayd sends at hang-up must count
// exactly the frames sink received (packets and octets), priced by the
// tariff.
//
// Allocation is measured inside gatewayd, where the relay runs: it is
// started with GOGC=off, so the growth of its heap
// (go_memstats_heap_alloc_bytes on its /metrics) is every byte it
// allocated. It is read over a second of idling after a warm-up session
// (billing's poll, the relay's reaper, the scrape itself) and over a
// second in the middle of the blast; gw-B/frame is the difference over
// the frames relayed in that second: zero, give or take noise, when the
// relay allocates nothing per frame. The test process's own allocations
// (B/op, allocs/op) are the harness's, not the relay's. Run it alone,
// as root:
//
//	go test ./gateway/e2e -run XXX -bench GatewaydVeth -benchtime 1x
func BenchmarkGatewaydVeth(b *testing.B) {
	testenv.Root(b)
	bins := lab.Build(b, pkgGatewayd, pkgBlast)
	for _, mode := range []string{"kernel", "user"} {
		for _, size := range []int{64, 1400} {
			b.Run(mode+"/"+strconv.Itoa(size), func(b *testing.B) {
				benchGatewayd(b, bins, mode, size, 3*time.Second)
			})
		}
	}
}

func benchGatewayd(b *testing.B, bins map[string]string, mode string, size int, blast time.Duration) {
	b.ReportAllocs()
	gen, mid, sink := lab.NewNetns(b, "ebgen"), lab.NewNetns(b, "ebmid"), lab.NewNetns(b, "ebsink")
	lab.Veth(b, gen, "eth0", "", mid, lab.GatewayLANIf, "")
	lab.Veth(b, mid, lab.GatewayWANIf, "", sink, "eth0", "")

	// gatewayd's RADIUS: an authorisation server answering Accept with
	// the tariff, and the accounting listener, both on mid's loopback.
	auth := startAuthServer(b, mid, "bench-auth", benchTariff)
	var acct *billingtest.AccountingServer
	if err := mid.Do(func() (err error) {
		acct, err = billingtest.NewAccountingServer(acctSecret, true)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(acct.Close)
	dir := b.TempDir()
	conf := filepath.Join(dir, "gatewayd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`gateway-id = %s
journal = %s
log-level = info
shutdown-grace = 1s
[lan]
interface = %s
[wan]
interface = %s
[relay]
mode = %s
[auth]
server = %s bench-auth
timeout = 1s
[accounting]
server = %s %s
timeout = 500ms
[metrics]
listen = %s
`, gatewayID, filepath.Join(dir, "journal.db"), lab.GatewayLANIf, lab.GatewayWANIf, mode, auth, acct.Addr(), acctSecret, gwMetrics)), 0o600); err != nil {
		b.Fatal(err)
	}
	gwd := lab.StartDaemon(b, lab.DaemonSpec{
		Name: "gatewayd", Path: bins[pkgGatewayd], Netns: mid,
		Args:  []string{"-config", conf, "-log-format", "console"},
		Env:   []string{"GOGC=off"},
		Ready: lab.ReadyAll(lab.ReadyLog("relay ready"), lab.ReadyTCP(gwMetrics)),
	})
	if mode == "kernel" && !strings.Contains(gwd.Log(), `"offload": true`) {
		b.Fatalf("kernel mode without the offload:\n%s", gwd.Log())
	}
	ac := lab.StartDaemon(b, lab.DaemonSpec{
		Name: "pppoe-blast-ac", Path: bins[pkgBlast], Netns: sink,
		Args:  []string{"ac", "-i", "eth0", "-pap", "-for", "2m"},
		Ready: lab.ReadyLog("ready"),
	})
	scrape := func() map[string]float64 { return scrapeMetrics(b, mid) }

	// A first, short session, so that every metric series exists, then
	// gatewayd's heap growth with nothing to relay (billing's poll, the
	// relay's reaper, the scrape itself) as the baseline.
	if out, err := exec.Command("ip", "netns", "exec", gen.Name, bins[pkgBlast], "dial", "-i", "eth0",
		"-pap", "bench:bench-pw", "-size", strconv.Itoa(size), "-count", "1000").CombinedOutput(); err != nil {
		b.Fatalf("pppoe-blast dial (warm-up): %v\n%s", err, out)
	}
	waitBills(b, acct, 1, 10*time.Second)
	// gatewayd reads its memory statistics at most once a second: every
	// scrape below comes more than a second after the one before.
	const gap = 1150 * time.Millisecond
	time.Sleep(gap)
	i0, t0 := scrape(), time.Now()
	time.Sleep(gap)
	i1, t1 := scrape(), time.Now()
	idle := (i1["go_memstats_heap_alloc_bytes"] - i0["go_memstats_heap_alloc_bytes"]) / t1.Sub(t0).Seconds()

	rx0 := rxPackets(b, sink, "eth0")
	b.ResetTimer()
	ctx, cancel := context.WithTimeout(context.Background(), blast+30*time.Second)
	defer cancel()
	var out testenv.Buffer
	dial := exec.CommandContext(ctx, "ip", "netns", "exec", gen.Name, bins[pkgBlast], "dial", "-i", "eth0",
		"-pap", "bench:bench-pw", "-size", strconv.Itoa(size), "-duration", blast.String())
	dial.Stdout, dial.Stderr = &out, &out
	if err := dial.Start(); err != nil {
		b.Fatal(err)
	}
	// gatewayd's heap over a second in the middle of the blast, when
	// nothing but frames is happening, against the frames relayed then.
	if !poll(gap, func() bool { return rxPackets(b, sink, "eth0") > rx0+1000 }) {
		b.Fatalf("no frames through after %v\n%s", gap, gwd.Log())
	}
	time.Sleep(gap - time.Since(t1))
	m0, rxA, tA := scrape(), rxPackets(b, sink, "eth0"), time.Now()
	time.Sleep(gap)
	m1, rxB, tB := scrape(), rxPackets(b, sink, "eth0"), time.Now()
	if err := dial.Wait(); err != nil {
		b.Fatalf("pppoe-blast dial: %v\n%s", err, out.String())
	}
	// Frames still in flight, then the counts.
	last := rxPackets(b, sink, "eth0")
	for i := 0; i < 100; i++ {
		time.Sleep(20 * time.Millisecond)
		n := rxPackets(b, sink, "eth0")
		if n == last {
			break
		}
		last = n
	}
	b.StopTimer()
	if err := ac.Stop(); err != nil {
		b.Fatalf("pppoe-blast ac: %v", err)
	}
	acOut := kvs(ac.RunLog())
	// What sink counted since rx0: the blast's session frames and its
	// discovery and login (the warm-up's discovery, login and 1000
	// frames came before rx0).
	control := acOut["padi"] + acOut["padr"] + acOut["padt"] + acOut["pap"] - 4
	through := last - rx0 - control
	secs := kvsFloat(out.String(), "seconds")
	if secs <= 0 || through == 0 {
		b.Fatalf("nothing through: dial said\n%s\nac said\n%s", out.String(), ac.RunLog())
	}

	// Exact metering: the bill counts what sink received.
	bl := waitBills(b, acct, 2, 10*time.Second)[1]
	ipLen := uint64(size - 22) // Ethernet 14, PPPoE 6, PPP 2
	if bl.InputPackets != through || bl.InputOctets != through*ipLen || bl.OutputPackets != 0 {
		b.Errorf("bill %d/%d packets, %d/%d octets in/out; sink received %d frames (%d octets of IP)",
			bl.InputPackets, bl.OutputPackets, bl.InputOctets, bl.OutputOctets, through, through*ipLen)
	}
	tf, _ := tariff.Parse(benchTariff)
	if want, err := tf.Total(tariff.Usage{Start: bl.Start, Stop: bl.Stop, In: bl.InputOctets, Out: bl.OutputOctets}); err != nil || want != bl.Charge {
		b.Errorf("charge %d, tariff %d (%v)", bl.Charge, want, err)
	}

	heap := m1["go_memstats_heap_alloc_bytes"] - m0["go_memstats_heap_alloc_bytes"]
	gcs := m1["go_gc_cycles_total"] - m0["go_gc_cycles_total"] + i1["go_gc_cycles_total"] - i0["go_gc_cycles_total"]
	window := rxB - rxA
	perFrame := (heap - idle*tB.Sub(tA).Seconds()) / float64(window)
	fps := float64(through) / secs
	sent := kvsUint(out.String(), "sent")
	b.ReportMetric(fps, "frames/s")
	b.ReportMetric(1e9/fps, "ns/frame")
	b.ReportMetric(perFrame, "gw-B/frame")
	b.ReportMetric(float64(through)/float64(sent), "delivered")
	b.ReportMetric(0, "ns/op")
	b.Logf("%s %d octets: %d frames through in %.2fs, %d offered; gatewayd heap +%.0f B in %v while %d frames passed, +%.0f B/s idle (%v GC cycles); bill %d: %d packets, charge %s",
		mode, size, through, secs, sent, heap, tB.Sub(tA).Round(time.Millisecond), window, idle, gcs, bl.Sequence, bl.InputPackets, tf.FormatAmount(bl.Charge))
}

// rxPackets reads an interface's received-packets counter in ns.
func rxPackets(b *testing.B, ns *lab.Netns, ifname string) uint64 {
	out, err := ns.Command("cat", "/sys/class/net/"+ifname+"/statistics/rx_packets").Output()
	if err != nil {
		b.Fatalf("rx_packets: %v", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// kvs parses pppoe-blast's key=value lines into numbers.
func kvs(s string) map[string]uint64 {
	m := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			m[k] = n
		}
	}
	return m
}

func kvsUint(s, key string) uint64 { return kvs(s)[key] }

func kvsFloat(s, key string) float64 {
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// startAuthServer answers gatewayd's Authorize-Only requests on ns's
// loopback: every one verified (Message-Authenticator required) and
// accepted with the tariff, the answer signed (RFC 3579 §3.2).
func startAuthServer(tb testing.TB, ns *lab.Netns, secret, tariffText string) string {
	tb.Helper()
	c, err := ns.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if radiusx.VerifyRequest(buf[:n], []byte(secret)) != nil {
				continue
			}
			p, err := radius.Parse(buf[:n], []byte(secret))
			if err != nil || p.Code != radius.CodeAccessRequest {
				continue
			}
			resp := p.Response(radius.CodeAccessAccept)
			if t, err := tariff.Parse(tariffText); err == nil {
				t.AddTo(resp)
			}
			rfc2869.AcctInterimInterval_Set(resp, 3600)
			rfc2865.ReplyMessage_SetString(resp, "welcome")
			if out, err := radiusx.Encode(resp); err == nil {
				c.WriteTo(out, from)
			}
		}
	}()
	tb.Cleanup(func() { c.Close(); <-done })
	return c.LocalAddr().String()
}
