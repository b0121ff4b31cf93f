package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/edgebill/edgebill/internal/testenv"
)

// Netns is a network namespace made for one test, named with a random
// suffix so parallel tests do not collide, deleted (with every veth end in
// it) when the test ends, pass or fail.
type Netns struct {
	Name string
}

// NewNetns makes a namespace whose name starts with prefix, with its
// loopback up.
func NewNetns(t testing.TB, prefix string) *Netns {
	t.Helper()
	testenv.Root(t)
	testenv.Binary(t, "ip")
	ns := &Netns{Name: prefix + "-" + randHex(3)}
	if err := ip("netns", "add", ns.Name); err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(func() { ns.Delete() })
	if err := ns.IP("link", "set", "lo", "up"); err != nil {
		t.Fatalf("lab: %v", err)
	}
	return ns
}

// Delete removes the namespace; processes still in it keep it alive until
// they end, but it is gone from /run/netns.
func (ns *Netns) Delete() {
	_ = ip("netns", "delete", ns.Name)
}

// IP runs `ip ARGS` inside the namespace.
func (ns *Netns) IP(args ...string) error {
	return ip(append([]string{"-n", ns.Name}, args...)...)
}

// Command returns a command that runs inside the namespace.
func (ns *Netns) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Do runs fn on an OS thread switched into the namespace: sockets fn
// opens belong to the namespace and stay there after fn returns. The
// thread is switched back afterwards and given back to the runtime; only
// if that fails is it left to die with its goroutine (a thread that ends
// would also fire the Pdeathsig of any child forked from it, see
// spawn_linux.go).
func (ns *Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- fmt.Errorf("lab: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + ns.Name)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: %w", err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("lab: setns %s: %w", ns.Name, err)
			return
		}
		err = fn()
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// DialContext dials from inside the namespace (for pgx's DialFunc and
// friends).
func (ns *Netns) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := ns.Do(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// ListenPacket opens a packet socket inside the namespace.
func (ns *Netns) ListenPacket(network, addr string) (net.PacketConn, error) {
	var c net.PacketConn
	err := ns.Do(func() error {
		var err error
		c, err = net.ListenPacket(network, addr)
		return err
	})
	return c, err
}

// Link is one veth pair between two namespaces.
type Link struct {
	A, B         *Netns
	AName, BName string // interface names on each side
	AAddr, BAddr string // CIDR addresses given, or ""
}

// Veth joins a and b with a veth pair named aName in a and bName in b,
// both up; addresses (CIDR, e.g. "10.77.0.1/24") are set where not empty.
// Deleting either namespace deletes the pair.
func Veth(t testing.TB, a *Netns, aName, aAddr string, b *Netns, bName, bAddr string) *Link {
	t.Helper()
	tmpA, tmpB := "eb"+randHex(4), "eb"+randHex(4)
	if err := ip("link", "add", tmpA, "type", "veth", "peer", "name", tmpB); err != nil {
		t.Fatalf("lab: %v", err)
	}
	cleanup := func() { _ = ip("link", "delete", tmpA) }
	steps := [][]string{
		{"link", "set", tmpA, "netns", a.Name},
		{"link", "set", tmpB, "netns", b.Name},
	}
	for _, s := range steps {
		if err := ip(s...); err != nil {
			cleanup()
			t.Fatalf("lab: %v", err)
		}
	}
	for _, side := range []struct {
		ns        *Netns
		tmp, name string
		addr      string
	}{{a, tmpA, aName, aAddr}, {b, tmpB, bName, bAddr}} {
		if err := side.ns.IP("link", "set", side.tmp, "name", side.name); err != nil {
			t.Fatalf("lab: %v", err)
		}
		// No IPv6 on lab links: router solicitations and DAD would be
		// noise in captures and counters.
		_ = side.ns.Command("sysctl", "-qw", "net.ipv6.conf."+side.name+".disable_ipv6=1").Run()
		if side.addr != "" {
			if err := side.ns.IP("addr", "add", side.addr, "dev", side.name); err != nil {
				t.Fatalf("lab: %v", err)
			}
		}
		if err := side.ns.IP("link", "set", side.name, "up"); err != nil {
			t.Fatalf("lab: %v", err)
		}
	}
	return &Link{A: a, B: b, AName: aName, BName: bName, AAddr: aAddr, BAddr: bAddr}
}

// HardwareAddr returns the MAC address of interface name in the namespace.
func (ns *Netns) HardwareAddr(name string) (net.HardwareAddr, error) {
	var mac net.HardwareAddr
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(name)
		if err != nil {
			return err
		}
		mac = ifi.HardwareAddr
		return nil
	})
	return mac, err
}

func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
