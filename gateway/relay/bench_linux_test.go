//go:build linux

package relay

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgebill/edgebill/gateway/relay/internal/pppoetest"
	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/rfc/ppp"
)

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

// BenchmarkVeth measures session frames forwarded per second from the
// subscriber namespace to the ISP namespace through the gateway
// namespace, side by side: the kernel bridge, rp-pppoe's pppoe-relay,
// this relay with the tc BPF offload, and this relay in user space
// (recvmmsg/sendmmsg). The same generator (this file: AF_PACKET,
// sendmmsg of 64 frames a call, after a full PPPoE/PPP dial) blasts for
// one second; the figure is what the ISP side's interface received
// divided by the time it took. Run it alone, as root:
//
//	go test ./gateway/relay -run XXX -bench Veth -benchtime 1x
func BenchmarkVeth(b *testing.B) {
	testenv.Root(b)
	for _, variant := range []string{"bridge", "pppoe-relay", "kernel", "user"} {
		for _, size := range []int{64, 1400} {
			b.Run(variant+"/"+strconv.Itoa(size), func(b *testing.B) {
				benchVeth(b, variant, size)
			})
		}
	}
}

func benchVeth(b *testing.B, variant string, size int) {
	tp := newTopo(b)
	var r *Relay
	switch variant {
	case "bridge":
		for _, args := range [][]string{
			{"link", "add", "br0", "type", "bridge"},
			{"link", "set", "lan0", "master", "br0"},
			{"link", "set", "wan0", "master", "br0"},
			{"link", "set", "br0", "up"},
		} {
			if err := tp.gw.IP(args...); err != nil {
				b.Fatal(err)
			}
		}
	case "pppoe-relay":
		testenv.Binary(b, "pppoe-relay")
		cmd := tp.gw.Command("pppoe-relay", "-S", "wan0", "-C", "lan0", "-F", "-n", "64")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		})
		time.Sleep(300 * time.Millisecond)
	case "kernel":
		r = tp.startRelay(b, Config{Mode: ModeKernel})
	case "user":
		r = tp.startRelay(b, Config{Mode: ModeUser})
	}
	// The BRAS's socket leaves IP to the kernel: it counts nothing, the
	// interface counter does.
	bl, bmac := openRaw(b, tp.isp, "isp0", true)
	bras := pppoetest.NewBRAS(bl, bmac, ppp.AuthPAP)
	bras.CountIP = false
	b.Cleanup(bras.Close)
	cl, cmac := openRaw(b, tp.sub, "sub0", true)
	c := pppoetest.NewClient(cl, cmac)
	b.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Dial(ctx, "alice", "pw"); err != nil {
		b.Fatalf("%s: dial: %v", variant, err)
	}
	id, ac := c.Session()
	frame := pppoetest.IPFrame(ac, cmac, id, size-4-22) // size counts the FCS
	rc, err := cl.SyscallConn()
	if err != nil {
		b.Fatal(err)
	}
	tx := (&sock{rc: rc}).newTx()
	batch := make([][]byte, batchSize)
	for i := range batch {
		batch[i] = frame
	}

	before := rxPackets(b, tp.isp, "isp0")
	b.ResetTimer()
	start := time.Now()
	var sent uint64
	for time.Since(start) < time.Second {
		tx.send(batch)
		sent += batchSize
	}
	sendTime := time.Since(start)
	// Wait for the pipeline to drain.
	last, lastAt := rxPackets(b, tp.isp, "isp0"), time.Now()
	for {
		time.Sleep(20 * time.Millisecond)
		n := rxPackets(b, tp.isp, "isp0")
		if n == last {
			break
		}
		last, lastAt = n, time.Now()
	}
	elapsed := lastAt.Sub(start)
	if elapsed < sendTime {
		elapsed = sendTime
	}
	b.StopTimer()
	got := last - before
	b.ReportMetric(float64(got)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(sent)/sendTime.Seconds(), "offered/s")
	b.ReportMetric(0, "ns/op")
	if r != nil {
		st := r.Stats()
		b.Logf("%s %d: delivered %d of %d offered; relay user-space frames %d, drops %v",
			variant, size, got, sent, st.FromLAN, st.Drops)
	}
}
