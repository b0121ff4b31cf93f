// Command pppoe-blast is the load generator of the side-by-side relay
// benchmarks (scripts/bench-compare.sh): run it inside a namespace, as
// root.
//
//	pppoe-blast ac -i IF [-name NAME] [-count] [-pap] [-for DURATION]
//	    an access concentrator on IF: answers PADI and PADR, with -pap
//	    acks every PAP Authenticate-Request, and with -count counts the
//	    session frames that arrive; ends on SIGINT or SIGTERM or after
//	    -for, and prints its counts.
//	pppoe-blast dial -i IF -size OCTETS (-duration D | -count N) [-rate R] [-pap USER:PASSWORD]
//	    runs discovery on IF through whatever is in the middle, with -pap
//	    then authenticates with PAP (for a middle that relays a
//	    session's IP only once its login succeeded, as gatewayd does),
//	    sends session frames of OCTETS (Ethernet header included, FCS
//	    excluded), sends PADT, and prints what it sent.
//
// Results are printed one key=value per line on stdout, for scripts; "ready"
// goes to stderr once the access concentrator listens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mdlayher/packet"

	"github.com/edgebill/edgebill/lab/pppoeblast"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "ac":
		err = runAC(ctx, os.Args[2:])
	case "dial":
		err = runDial(ctx, os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pppoe-blast:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: pppoe-blast ac -i IF [-name NAME] [-count] [-pap] [-for DURATION]\n"+
		"       pppoe-blast dial -i IF -size OCTETS (-duration D | -count N) [-rate R] [-pap USER:PASSWORD]")
	os.Exit(2)
}

func open(name string, ethertype int) (*packet.Conn, net.HardwareAddr, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, nil, err
	}
	c, err := packet.Listen(ifi, packet.Raw, ethertype, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, ifi.HardwareAddr, nil
}

func runAC(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ac", flag.ExitOnError)
	ifname := fs.String("i", "", "interface")
	name := fs.String("name", "pppoe-blast", "AC-Name")
	count := fs.Bool("count", false, "count session frames (costs a read per frame)")
	life := fs.Duration("for", 10*time.Minute, "end after this long")
	pap := fs.Bool("pap", false, "ack every PAP Authenticate-Request")
	fs.Parse(args)
	if *ifname == "" {
		return errors.New("ac: -i is required")
	}
	disc, mac, err := open(*ifname, pppoeblast.EtherTypeDiscovery)
	if err != nil {
		return err
	}
	defer disc.Close()
	ac := &pppoeblast.AC{Name: *name, MAC: mac, Discovery: disc}
	if *count {
		sess, _, err := open(*ifname, pppoeblast.EtherTypeSession)
		if err != nil {
			return err
		}
		defer sess.Close()
		pppoeblast.SetReadBuffer(sess, 16<<20)
		ac.Session = sess
	}
	ctx, cancel := context.WithTimeout(ctx, *life)
	defer cancel()
	var acker *papAcker
	papErr := make(chan error, 1)
	if *pap {
		c, err := openPAP(*ifname)
		if err != nil {
			return err
		}
		defer c.Close()
		acker = &papAcker{c: c, mac: mac}
		go func() { papErr <- acker.run(ctx) }()
	}
	fmt.Fprintf(os.Stderr, "ready: ac %s on %s (%s)\n", *name, *ifname, mac)
	err = ac.Run(ctx)
	if acker != nil {
		cancel()
		if perr := <-papErr; err == nil {
			err = perr
		}
		fmt.Printf("pap=%d\n", acker.requests.Load())
	}
	s := ac.Stats()
	fmt.Printf("padi=%d\npado=%d\npadr=%d\npads=%d\npadt=%d\nmalformed=%d\nsessions=%d\nframes=%d\noctets=%d\nforeign=%d\nlost=%d\nout_of_order=%d\n",
		s.PADI, s.PADO, s.PADR, s.PADS, s.PADT, s.Malformed, s.Sessions, s.Frames, s.Octets, s.Foreign, s.Lost, s.OutOfOrder)
	return err
}

func runDial(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dial", flag.ExitOnError)
	ifname := fs.String("i", "", "interface")
	size := fs.Int("size", 64, "frame size in octets, Ethernet header included, FCS excluded")
	dur := fs.Duration("duration", 0, "blast this long")
	count := fs.Uint64("count", 0, "blast this many frames")
	rate := fs.Int("rate", 0, "frames per second (0: as fast as possible)")
	hangup := fs.Bool("hangup", true, "send PADT at the end")
	pap := fs.String("pap", "", "USER:PASSWORD: authenticate with PAP after discovery")
	fs.Parse(args)
	if *ifname == "" {
		return errors.New("dial: -i is required")
	}
	if *dur == 0 && *count == 0 {
		return errors.New("dial: -duration or -count is required")
	}
	disc, mac, err := open(*ifname, pppoeblast.EtherTypeDiscovery)
	if err != nil {
		return err
	}
	defer disc.Close()
	d := &pppoeblast.Dialer{MAC: mac, Conn: disc}
	s, err := d.Dial(ctx)
	if err != nil {
		return err
	}
	if *pap != "" {
		user, password, _ := strings.Cut(*pap, ":")
		if err := papLogin(ctx, *ifname, s, user, password); err != nil {
			d.Hangup(s)
			return err
		}
	}
	b, err := pppoeblast.OpenBlaster(*ifname)
	if err != nil {
		return err
	}
	defer b.Close()
	res, err := b.Blast(ctx, pppoeblast.BlastConfig{Session: s, Size: *size, Duration: *dur, Count: *count, Rate: *rate})
	if *hangup {
		d.Hangup(s)
	}
	fmt.Printf("session=%d\npeer=%s\nac_name=%s\nsize=%d\nsent=%d\nerrors=%d\nseconds=%.6f\nfps=%.0f\n",
		s.ID, s.Peer, s.ACName, *size, res.Sent, res.Errors, res.Elapsed.Seconds(), res.FramesPerSecond())
	return err
}
