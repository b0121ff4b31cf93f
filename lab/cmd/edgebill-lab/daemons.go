//go:build linux

package main

// The daemons' places in the demo. Everything around them (namespaces,
// Postgres, FreeRADIUS, fixtures, forwarding to the host, progress,
// teardown) is real; what each daemon is started with is not known yet,
// because the daemons are being written. Each start function below is
// marked LEAD: fill its Args and Ready from the daemon's flags, then set
// its wired constant to true. Until then the demo builds the binary if
// its package exists and says it is not wired.

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/edgebill/edgebill/lab"
)

// The daemons' packages (module-relative), built by lab.Build.
const (
	pkgNasd     = "./nas/cmd/nasd"
	pkgDial     = "./nas/cmd/pppoe-dial"
	pkgGatewayd = "./gateway/cmd/gatewayd"
	pkgBilld    = "./server/cmd/billd"
)

// LEAD: set each to true once its start function has real flags.
const (
	wiredNasd     = false
	wiredBilld    = false
	wiredGatewayd = false
	wiredDial     = false
)

// Fixed addresses inside the namespaces (nothing else listens there).
const (
	billdRADIUSPort = 1813 // billd's accounting listener, on lab.ISPAddr
	billdHTTPPort   = 8080 // billd's API and dashboard, on lab.ISPAddr
	liveViewPort    = 8081 // each gatewayd's live page, on its WAN address
)

// binaries finds or builds the daemons. With dir set (make demo passes
// bin/), it takes NAME from there; otherwise it builds each package that
// exists in the tree. A package that is missing or does not build yet is
// reported and left out (path ""), not fatal: the daemons are in flux.
func binaries(out *progress, dir string) map[string]string {
	paths := map[string]string{}
	for _, pkg := range []string{pkgNasd, pkgDial, pkgGatewayd, pkgBilld} {
		name := filepath.Base(pkg)
		if dir != "" {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				paths[pkg] = p
			} else {
				out.printf("  %s: not in %s\n", name, dir)
			}
			continue
		}
		if !hasGoFiles(filepath.Join(lab.RepoRoot(), pkg)) {
			out.printf("  %s: not in the tree yet\n", name)
			continue
		}
		// A Harness of its own: a build failure ends only this.
		var built map[string]string
		bh := lab.NewHarness(name, out)
		if bh.Do(func() { built = lab.Build(bh, pkg) }) {
			paths[pkg] = built[pkg]
		} else {
			out.printf("  %s: does not build yet (above)\n", name)
		}
	}
	return paths
}

func hasGoFiles(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if n := e.Name(); filepath.Ext(n) == ".go" && !e.IsDir() {
			return true
		}
	}
	return false
}

// started is a daemon the demo runs, with the URL it serves on the host
// (if any).
type started struct {
	d   *lab.Daemon
	url string
}

// startBilld starts the reconciliation server in isp.
//
// LEAD: billd's flags. What the lab gives it:
//   - database: top.DatabaseURL() (Postgres on isp's 127.0.0.1; run
//     `billd migrate` first, e.g. a second lab.StartDaemon that exits, or
//     an exec before serve)
//   - RADIUS accounting listener for bills: lab.ISPAddr:billdRADIUSPort,
//     clients lab.GatewayNet (the gateways' WAN addresses)
//   - HTTP (API, dashboard): lab.ISPAddr:billdHTTPPort, forwarded to the
//     host below
//
// and, after it is up, each gateway's public key must be registered
// (registerGateway).
func startBilld(h *lab.Harness, top *lab.Topology, bin string) *started {
	if bin == "" || !wiredBilld {
		return nil
	}
	httpAddr := net.JoinHostPort(lab.ISPAddr.String(), strconv.Itoa(billdHTTPPort))
	d := lab.StartDaemon(h, lab.DaemonSpec{
		Name:  "billd",
		Path:  bin,
		Netns: top.ISP,
		Args: []string{"serve", // LEAD
			"-database", top.DatabaseURL(),
			"-radius", net.JoinHostPort(lab.ISPAddr.String(), strconv.Itoa(billdRADIUSPort)),
			"-http", httpAddr,
		},
		Ready: lab.ReadyAll(lab.ReadyUDP(net.JoinHostPort(lab.ISPAddr.String(), strconv.Itoa(billdRADIUSPort))), lab.ReadyTCP(httpAddr)),
	})
	return &started{d: d, url: "http://" + lab.ForwardTCP(h, hostListen+":0", top.ISP, httpAddr) + "/"}
}

// startNasd starts the BRAS in isp.
//
// LEAD: nasd's flags. What the lab gives it:
//   - PPPoE on lab.ISPWANIf ("wan", the bridge every gateway's WAN joins)
//   - RADIUS: top.NASRADIUSAuth and top.NASRADIUSAcct, secret
//     top.RADIUS.NASSecret (it sends from isp's 127.0.0.1, FreeRADIUS's
//     "nas" client)
//   - an address pool for IPCP (e.g. 100.64.0.0/16), or Framed-IP from
//     RADIUS
func startNasd(h *lab.Harness, top *lab.Topology, bin string) *started {
	if bin == "" || !wiredNasd {
		return nil
	}
	d := lab.StartDaemon(h, lab.DaemonSpec{
		Name:  "nasd",
		Path:  bin,
		Netns: top.ISP,
		Args: []string{ // LEAD
			"-i", lab.ISPWANIf,
			"-radius-auth", top.NASRADIUSAuth,
			"-radius-acct", top.NASRADIUSAcct,
			"-radius-secret", top.RADIUS.NASSecret,
		},
		Ready: lab.ReadyLog("LEAD: nasd's ready line"),
	})
	return &started{d: d}
}

// startGatewayd starts gateway g's daemon in its namespace; faulty turns
// on the deliberate pricing fault, so the report shows a finding.
//
// LEAD: gatewayd's flags. What the lab gives it:
//   - LAN lab.GatewayLANIf, WAN lab.GatewayWANIf (address g.Addr)
//   - authorisation: top.RADIUSAuth, secret top.RADIUS.GatewaySecret
//   - bills: lab.ISPAddr:billdRADIUSPort (billd's secret for gateways)
//   - journal and keys: a folder, h.TempDir()
//   - live view: g.Addr:liveViewPort, forwarded to the host below
//   - the pricing fault flag when faulty
func startGatewayd(h *lab.Harness, top *lab.Topology, g *lab.GatewayLinks, bin string, faulty bool) *started {
	if bin == "" || !wiredGatewayd {
		return nil
	}
	live := net.JoinHostPort(g.Addr.String(), strconv.Itoa(liveViewPort))
	args := []string{ // LEAD
		"-lan", lab.GatewayLANIf,
		"-wan", lab.GatewayWANIf,
		"-radius", top.RADIUSAuth,
		"-radius-secret", top.RADIUS.GatewaySecret,
		"-bills", net.JoinHostPort(lab.ISPAddr.String(), strconv.Itoa(billdRADIUSPort)),
		"-state", h.TempDir(),
		"-live", live,
	}
	if faulty {
		args = append(args, "-LEAD-pricing-fault")
	}
	d := lab.StartDaemon(h, lab.DaemonSpec{
		Name:  fmt.Sprintf("gatewayd%d", g.Index),
		Path:  bin,
		Netns: g.NS,
		Args:  args,
		Ready: lab.ReadyTCP(live),
	})
	return &started{d: d, url: "http://" + lab.ForwardTCP(h, hostListen+":0", g.NS, live) + "/"}
}

// registerGateway registers gateway g's public key with billd.
//
// LEAD: read the key gatewayd made (its -state folder, or a `gatewayd
// key` command) and run `billd gateways add ...` in isp.
func registerGateway(ctx context.Context, h *lab.Harness, top *lab.Topology, g *lab.GatewayLinks, gatewaydBin, billdBin string) error {
	return nil
}

// startDialer starts pppoe-dial in sub on gateway g's LAN with n
// subscribers for the run's duration: sessions brought up over the first
// part of the run, traffic moved, some hung up, some dropped abruptly,
// the refused users (dave: arrears, erin: not activated) among them.
//
// LEAD: pppoe-dial's flags. What the lab gives it: interface g.SubIf in
// top.Sub; users and passwords from testdata/sql/subscribers.sql (alice,
// bob, carol on the three plans; dave and erin refused).
func startDialer(h *lab.Harness, top *lab.Topology, g *lab.GatewayLinks, bin string, n int, cfg config) *started {
	if bin == "" || !wiredDial || n == 0 {
		return nil
	}
	d := lab.StartDaemon(h, lab.DaemonSpec{
		Name:  fmt.Sprintf("pppoe-dial%d", g.Index),
		Path:  bin,
		Netns: top.Sub,
		Args: []string{ // LEAD
			"-i", g.SubIf,
			"-sessions", strconv.Itoa(n),
			"-duration", cfg.duration.String(),
			"-users", "alice:alice-pw,bob:bob-pw,carol:carol-pw,dave:dave-pw,erin:erin-pw",
		},
	})
	return &started{d: d}
}

// runReport prints billd's reconciliation report: verdict counts and each
// finding with both sides' figures.
//
// LEAD: run `billd reconcile` then `billd report` in isp (a
// lab.StartDaemon that exits, then its RunLog), or query billd's API.
// Until then the demo prints the verdict counts straight from the
// database, if billd's schema is there (see status.go).
func runReport(ctx context.Context, h *lab.Harness, top *lab.Topology, billdBin string, out *progress) bool {
	return false
}
