//go:build linux

package pppoeblast_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/packet"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/lab/pppoeblast"
)

func TestMain(m *testing.M) {
	code := m.Run()
	lab.RemoveBuilds()
	os.Exit(code)
}

// bench is the relay benchmark's topology: gen <-> mid <-> sink.
type bench struct {
	gen, mid, sink *lab.Netns
}

func newBench(t *testing.T) *bench {
	t.Helper()
	b := &bench{
		gen:  lab.NewNetns(t, "ebb-gen"),
		mid:  lab.NewNetns(t, "ebb-mid"),
		sink: lab.NewNetns(t, "ebb-sink"),
	}
	lab.Veth(t, b.gen, "eth0", "", b.mid, "lan0", "")
	lab.Veth(t, b.mid, "wan0", "", b.sink, "eth0", "")
	return b
}

func (b *bench) bridge(t *testing.T) {
	t.Helper()
	for _, args := range [][]string{
		{"link", "add", "br0", "type", "bridge"},
		{"link", "set", "lan0", "master", "br0"},
		{"link", "set", "wan0", "master", "br0"},
		{"link", "set", "br0", "up"},
	} {
		if err := b.mid.IP(args...); err != nil {
			t.Fatal(err)
		}
	}
}

// relay starts rp-pppoe's pppoe-relay in mid, ready once it holds its
// four packet sockets (discovery and session on each side).
func (b *bench) relay(t *testing.T) *lab.Daemon {
	t.Helper()
	bin := testenv.Binary(t, "pppoe-relay")
	return lab.StartDaemon(t, lab.DaemonSpec{
		Path:  bin,
		Args:  []string{"-C", "lan0", "-S", "wan0", "-F"},
		Netns: b.mid,
		Ready: func(d *lab.Daemon) bool { return packetSockets(d.Pid()) >= 4 },
	})
}

// packetSockets counts the AF_PACKET sockets in pid's network namespace.
func packetSockets(pid int) int {
	if pid == 0 {
		return 0
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/net/packet")
	if err != nil {
		return 0
	}
	defer f.Close()
	n := -1 // header
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n
}

func openIn(t *testing.T, ns *lab.Netns, name string, ethertype int) (*packet.Conn, net.HardwareAddr) {
	t.Helper()
	var c *packet.Conn
	var mac net.HardwareAddr
	if err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return err
		}
		mac = ifi.HardwareAddr
		c, err = packet.Listen(ifi, packet.Raw, ethertype, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, mac
}

// runThrough dials from gen to an AC in sink, sends count frames at rate,
// hangs up, and checks the AC counted every frame, in order.
func runThrough(t *testing.T, b *bench, size int, count uint64, rate int) pppoeblast.Session {
	t.Helper()
	disc, acMAC := openIn(t, b.sink, "eth0", pppoeblast.EtherTypeDiscovery)
	sess, _ := openIn(t, b.sink, "eth0", pppoeblast.EtherTypeSession)
	pppoeblast.SetReadBuffer(sess, 8<<20)
	ac := &pppoeblast.AC{MAC: acMAC, Discovery: disc, Session: sess}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ac.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("AC: %v", err)
		}
	}()

	gdisc, genMAC := openIn(t, b.gen, "eth0", pppoeblast.EtherTypeDiscovery)
	d := &pppoeblast.Dialer{MAC: genMAC, Conn: gdisc, Timeout: 500 * time.Millisecond, Tries: 10}
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	s, err := d.Dial(dctx)
	if err != nil {
		t.Fatalf("discovery: %v (AC %+v)", err, ac.Stats())
	}
	if s.ACName != "pppoe-blast" {
		t.Errorf("AC-Name %q", s.ACName)
	}
	var bl *pppoeblast.Blaster
	if err := b.gen.Do(func() (err error) { bl, err = pppoeblast.OpenBlaster("eth0"); return err }); err != nil {
		t.Fatal(err)
	}
	defer bl.Close()
	res, err := bl.Blast(dctx, pppoeblast.BlastConfig{Session: s, Size: size, Count: count, Rate: rate})
	if err != nil || res.Sent != count {
		t.Fatalf("Blast = %+v, %v", res, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && ac.Stats().Frames < count {
		time.Sleep(10 * time.Millisecond)
	}
	st := ac.Stats()
	if st.Frames != count || st.Lost != 0 || st.OutOfOrder != 0 || st.Foreign != 0 || st.Octets != count*uint64(size) {
		t.Errorf("AC counted %+v; want %d frames of %d octets, none lost, out of order or foreign", st, count, size)
	}
	if err := d.Hangup(s); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && ac.Stats().Sessions != 0 {
		time.Sleep(10 * time.Millisecond)
	}
	if st := ac.Stats(); st.PADT != 1 || st.Sessions != 0 {
		t.Errorf("after PADT: %+v", st)
	}
	return s
}

func TestThroughBridge(t *testing.T) {
	t.Parallel()
	testenv.Root(t)
	b := newBench(t)
	b.bridge(t)
	s := runThrough(t, b, 64, 3000, 30000)
	sinkMAC, _ := b.sink.HardwareAddr("eth0")
	if s.Peer.String() != sinkMAC.String() {
		t.Errorf("through a bridge the peer is the AC: %s, want %s", s.Peer, sinkMAC)
	}
	runThrough(t, b, 1400, 1000, 20000)
}

func TestThroughPPPoERelay(t *testing.T) {
	t.Parallel()
	testenv.Root(t)
	b := newBench(t)
	relay := b.relay(t)
	// A modest rate: this checks the path frame for frame; the benchmark
	// script measures how fast it goes.
	s := runThrough(t, b, 64, 2000, 10000)
	lanMAC, _ := b.mid.HardwareAddr("lan0")
	if s.Peer.String() != lanMAC.String() {
		t.Errorf("through pppoe-relay the peer is the relay's LAN side %s, got %s", lanMAC, s.Peer)
	}
	if crashed, err := relay.Exited(); crashed {
		t.Fatalf("pppoe-relay ended: %v\n%s", err, relay.Log())
	}
}

// The command, built as the benchmark script builds it, run under the
// lab's supervisor in the namespaces.
func TestCommandThroughBridge(t *testing.T) {
	t.Parallel()
	testenv.Root(t)
	bin := lab.Build(t, "./lab/cmd/pppoe-blast")["./lab/cmd/pppoe-blast"]
	b := newBench(t)
	b.bridge(t)
	ac := lab.StartDaemon(t, lab.DaemonSpec{
		Name:  "pppoe-blast ac",
		Path:  bin,
		Args:  []string{"ac", "-i", "eth0", "-count", "-for", "30s"},
		Netns: b.sink,
		Ready: lab.ReadyLog("ready: ac"),
	})
	dial := lab.StartDaemon(t, lab.DaemonSpec{
		Name:  "pppoe-blast dial",
		Path:  bin,
		Args:  []string{"dial", "-i", "eth0", "-size", "128", "-count", "2000", "-rate", "20000"},
		Netns: b.gen,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := dial.Wait(ctx); err != nil {
		t.Fatalf("dial: %v\n%s", err, dial.Log())
	}
	out := keyValues(dial.RunLog())
	if out["sent"] != "2000" || out["size"] != "128" || out["session"] == "" || out["session"] == "0" {
		t.Fatalf("dial printed %v", out)
	}
	time.Sleep(200 * time.Millisecond)
	if err := ac.Stop(); err != nil {
		t.Fatalf("ac: %v\n%s", err, ac.Log())
	}
	got := keyValues(ac.RunLog())
	for k, v := range map[string]string{"padi": "1", "pads": "1", "padt": "1", "frames": "2000", "octets": "256000", "lost": "0", "out_of_order": "0", "sessions": "0"} {
		if got[k] != v {
			t.Errorf("ac %s=%s, want %s (all: %v)", k, got[k], v, got)
		}
	}
}

func keyValues(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.Contains(k, " ") {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}
