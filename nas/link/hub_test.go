package link

import (
	"errors"
	"net"
	"testing"
)

func TestHub(t *testing.T) {
	h := NewHub()
	a := h.Port(net.HardwareAddr{2, 0, 0, 0, 0, 1}, 2)
	b := h.Port(net.HardwareAddr{2, 0, 0, 0, 0, 2}, 2)
	c := h.Port(net.HardwareAddr{2, 0, 0, 0, 0, 3}, 2)
	c.Filter = func(f []byte) bool { return f[0] != 0xee }
	if err := a.WriteFrame([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	for _, p := range []*Port{b, c} {
		n, err := p.ReadFrame(buf)
		if err != nil || string(buf[:n]) != "\x01\x02\x03" {
			t.Fatalf("read %x %v", buf[:n], err)
		}
	}
	a.WriteFrame([]byte{0xee})
	a.WriteFrame([]byte{0xee})
	a.WriteFrame([]byte{0xee}) // b's queue of 2 is full
	if b.Dropped() != 1 || c.Dropped() != 0 {
		t.Fatalf("dropped b %d c %d", b.Dropped(), c.Dropped())
	}
	if a.MTU() != 1500 || string(a.HardwareAddr()) != string([]byte{2, 0, 0, 0, 0, 1}) {
		t.Fatal("port identity")
	}
	b.Close()
	if _, err := b.ReadFrame(buf); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	if err := b.WriteFrame([]byte{1}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if err := a.WriteFrame([]byte{9}); err != nil { // b is gone from the hub
		t.Fatal(err)
	}
}

func TestFilterAssembles(t *testing.T) {
	if len(Filter()) != 7 {
		t.Fatalf("%d instructions", len(Filter()))
	}
}
