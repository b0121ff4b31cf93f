//go:build linux

package link

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// ethPAll is ETH_P_ALL: the socket taps every ethertype, and the BPF
// filter keeps the two of PPPoE (one socket instead of two, and the
// filter also drops the frames this host sends, which an ETH_P_ALL socket
// sees too).
const ethPAll = 0x0003

// Options tune a Conn. The zero value is a socket that sees the frames
// addressed to the interface (and broadcast), with a 4 MiB receive buffer.
type Options struct {
	// Promiscuous receives frames for any destination MAC: a dialer that
	// emulates many subscribers, each with its own MAC, needs it.
	Promiscuous bool
	// ReadBuffer is SO_RCVBUF in octets (default 4 MiB), WriteBuffer
	// SO_SNDBUF (default 1 MiB).
	ReadBuffer, WriteBuffer int
}

// Conn is an AF_PACKET socket bound to one interface that reads and
// writes whole Ethernet frames. ReadFrame must be called from one
// goroutine at a time; WriteFrame from any number.
type Conn struct {
	pc  *packet.Conn
	rc  syscall.RawConn
	mac net.HardwareAddr
	mtu int

	// The read closure and its results are made once, so that a read
	// allocates nothing.
	rbuf  []byte
	rn    int
	rerr  error
	readf func(fd uintptr) bool

	wmu    sync.Mutex
	wbuf   []byte
	werr   error
	writef func(fd uintptr) bool
}

// Listen opens a Conn on the named interface.
func Listen(ifname string, opts *Options) (*Conn, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ReadBuffer <= 0 {
		o.ReadBuffer = 4 << 20
	}
	if o.WriteBuffer <= 0 {
		o.WriteBuffer = 1 << 20
	}
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("link: %w", err)
	}
	pc, err := packet.Listen(ifi, packet.Raw, ethPAll, &packet.Config{Filter: Filter()})
	if err != nil {
		return nil, fmt.Errorf("link: %s: %w", ifname, err)
	}
	c := &Conn{pc: pc, mac: ifi.HardwareAddr, mtu: ifi.MTU}
	if o.Promiscuous {
		if err := pc.SetPromiscuous(true); err != nil {
			pc.Close()
			return nil, fmt.Errorf("link: %s: promiscuous: %w", ifname, err)
		}
	}
	rc, err := pc.SyscallConn()
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("link: %w", err)
	}
	c.rc = rc
	_ = rc.Control(func(fd uintptr) {
		// FORCE variants pass net.core.rmem_max as root; fall back.
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, o.ReadBuffer) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, o.ReadBuffer)
		}
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, o.WriteBuffer) != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, o.WriteBuffer)
		}
	})
	c.readf = func(fd uintptr) bool {
		c.rn, c.rerr = unix.Read(int(fd), c.rbuf)
		return c.rerr != unix.EAGAIN
	}
	c.writef = func(fd uintptr) bool {
		_, c.werr = unix.Write(int(fd), c.wbuf)
		return c.werr != unix.EAGAIN
	}
	return c, nil
}

// ReadFrame reads one frame, Ethernet header first, into b and returns
// its length. It blocks until a frame arrives or the Conn is closed
// (net.ErrClosed).
func (c *Conn) ReadFrame(b []byte) (int, error) {
	c.rbuf = b
	err := c.rc.Read(c.readf)
	c.rbuf = nil
	if err != nil {
		return 0, closedErr(err)
	}
	if c.rerr != nil {
		return 0, fmt.Errorf("link: read: %w", c.rerr)
	}
	return c.rn, nil
}

// WriteFrame sends one frame, Ethernet header included, out of the
// interface; the source MAC is whatever the frame says.
func (c *Conn) WriteFrame(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = b
	err := c.rc.Write(c.writef)
	c.wbuf = nil
	if err != nil {
		return closedErr(err)
	}
	if c.werr != nil {
		return fmt.Errorf("link: write: %w", c.werr)
	}
	return nil
}

// HardwareAddr returns the interface's MAC address.
func (c *Conn) HardwareAddr() net.HardwareAddr { return c.mac }

// MTU returns the interface's MTU.
func (c *Conn) MTU() int { return c.mtu }

// Drops returns how many frames the kernel dropped for want of buffer
// since the last call.
func (c *Conn) Drops() (uint32, error) {
	s, err := c.pc.Stats()
	if err != nil {
		return 0, err
	}
	return s.Drops, nil
}

// Close closes the socket; a blocked ReadFrame returns net.ErrClosed.
func (c *Conn) Close() error { return c.pc.Close() }

func closedErr(err error) error {
	if errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
		return net.ErrClosed
	}
	return fmt.Errorf("link: %w", err)
}
