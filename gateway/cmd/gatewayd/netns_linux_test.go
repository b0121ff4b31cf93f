package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
)

func nsClient(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	return &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

// gatewayd with its relay, in a namespace between a subscriber's and an
// ISP's: it starts (relay wired, sockets on lan0 and wan0), serves the
// live view to the LAN and not to the WAN even with a route to it,
// exports relay metrics, and stops cleanly on SIGTERM.
func TestGatewaydInNamespaces(t *testing.T) {
	gw := lab.NewNetns(t, "gwd")
	sub := lab.NewNetns(t, "sub")
	isp := lab.NewNetns(t, "isp")
	lab.Veth(t, gw, "lan0", "192.168.77.1/24", sub, "eth0", "192.168.77.2/24")
	lab.Veth(t, gw, "wan0", "10.77.0.2/24", isp, "eth0", "10.77.0.1/24")
	if err := isp.IP("route", "add", "192.168.77.0/24", "via", "10.77.0.2"); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	conf := filepath.Join(dir, "gatewayd.conf")
	err := os.WriteFile(conf, []byte(`gateway-id = gw-netns
journal = `+filepath.Join(dir, "journal.db")+`
shutdown-grace = 1s
[lan]
interface = lan0
[wan]
interface = wan0
[relay]
mode = auto
[auth]
server = 10.77.0.1:1812 s3cret
[accounting]
server = 10.77.0.1:1813 s3cret
[live]
listen = 192.168.77.1:8080
[metrics]
listen = 127.0.0.1:9464
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := gw.Command(os.Args[0], "-config", conf, "-log-format", "console")
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var log testenv.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("gatewayd log:\n%s", log.String())
		}
	})

	lanClient := nsClient(sub.DialContext)
	var page string
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := lanClient.Get("http://192.168.77.1:8080/")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page = string(b)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live view not reachable from the LAN: %v", err)
		}
		select {
		case err := <-exited:
			t.Fatalf("gatewayd exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !strings.Contains(page, "Your connection") {
		t.Errorf("LAN got %q", page[:min(len(page), 200)])
	}
	if !strings.Contains(log.String(), "relay ready") {
		t.Errorf("relay not started")
	}
	// The WAN side has a route to the LAN address, but the socket is
	// bound to lan0.
	wan := nsClient(isp.DialContext)
	wan.Timeout = time.Second
	if resp, err := wan.Get("http://192.168.77.1:8080/"); err == nil {
		resp.Body.Close()
		t.Errorf("live view reachable from the WAN")
	}
	resp, err := nsClient(gw.DialContext).Get("http://127.0.0.1:9464/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"gatewayd_relay_sessions 0", `gatewayd_relay_drops_total{reason="spoofed"}`, "gatewayd_bills_pending 0"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("gatewayd exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("gatewayd did not stop on SIGTERM")
	}
	if !strings.Contains(log.String(), "gatewayd stopped") {
		t.Errorf("no clean stop in the log")
	}
}
