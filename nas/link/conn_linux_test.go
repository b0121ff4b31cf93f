//go:build linux

package link_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/nas/link"
)

// On a real veth pair the kernel filter passes PPPoE frames only, and
// none the socket's own host sent; a promiscuous socket also gets frames
// for other MACs.
func TestConnFilter(t *testing.T) {
	testenv.Short(t, "makes network namespaces")
	testenv.Root(t)
	a := lab.NewNetns(t, "lka")
	b := lab.NewNetns(t, "lkb")
	lab.Veth(t, a, "eth0", "", b, "eth0", "")
	var ca, cb, promisc *link.Conn
	if err := a.Do(func() (err error) { ca, err = link.Listen("eth0", nil); return err }); err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	if err := b.Do(func() (err error) {
		if cb, err = link.Listen("eth0", nil); err != nil {
			return err
		}
		promisc, err = link.Listen("eth0", &link.Options{Promiscuous: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	defer promisc.Close()
	bmac := cb.HardwareAddr()
	if cb.MTU() != 1500 {
		t.Fatalf("MTU %d", cb.MTU())
	}
	frame := func(dst []byte, et uint16, tag byte) []byte {
		f := make([]byte, 60)
		copy(f[0:6], dst)
		copy(f[6:12], ca.HardwareAddr())
		f[12], f[13] = byte(et>>8), byte(et)
		f[14], f[20] = 0x11, tag
		return f
	}
	other := []byte{0x02, 0x99, 0, 0, 0, 1}
	sent := [][]byte{
		frame(bmac, 0x0800, 1),  // IPv4: filtered
		frame(bmac, 0x8863, 2),  // discovery: passes
		frame(bmac, 0x86dd, 3),  // IPv6: filtered
		frame(bmac, 0x8864, 4),  // session: passes
		frame(other, 0x8864, 5), // for another MAC: the promiscuous socket only
	}
	// The veth may take a moment to carry frames.
	time.Sleep(200 * time.Millisecond)
	for _, f := range sent {
		if err := ca.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	read := func(c *link.Conn, n int) [][]byte {
		var got [][]byte
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 2048)
			for len(got) < n {
				m, err := c.ReadFrame(buf)
				if err != nil {
					return
				}
				got = append(got, append([]byte(nil), buf[:m]...))
			}
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("read %d frames of %d", len(got), n)
		}
		return got
	}
	got := read(cb, 2)
	if got[0][20] != 2 || got[1][20] != 4 {
		t.Fatalf("got tags %d %d", got[0][20], got[1][20])
	}
	got = read(promisc, 3)
	if got[2][20] != 5 {
		t.Fatalf("promiscuous: last tag %d", got[2][20])
	}
	// ca sent them all: its own socket saw none of its outgoing frames.
	if err := cb.WriteFrame(frame(ca.HardwareAddr(), 0x8863, 7)); err != nil {
		t.Fatal(err)
	}
	got = read(ca, 1)
	if !bytes.Equal(got[0][0:6], ca.HardwareAddr()) || got[0][20] != 7 {
		t.Fatalf("ca read % x, want only the reply", got[0][:21])
	}
	if d, err := cb.Drops(); err != nil || d != 0 {
		t.Fatalf("drops %d %v", d, err)
	}
}
