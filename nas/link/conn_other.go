//go:build !linux

package link

import (
	"errors"
	"net"
)

// Options tune a Conn (see the Linux version).
type Options struct {
	Promiscuous             bool
	ReadBuffer, WriteBuffer int
}

// Conn is an AF_PACKET socket: Linux only.
type Conn struct{}

var errUnsupported = errors.New("link: AF_PACKET sockets need Linux")

// Listen fails: AF_PACKET sockets need Linux.
func Listen(string, *Options) (*Conn, error) { return nil, errUnsupported }

func (*Conn) ReadFrame([]byte) (int, error)  { return 0, errUnsupported }
func (*Conn) WriteFrame([]byte) error        { return errUnsupported }
func (*Conn) HardwareAddr() net.HardwareAddr { return nil }
func (*Conn) MTU() int                       { return 0 }
func (*Conn) Drops() (uint32, error)         { return 0, errUnsupported }
func (*Conn) Close() error                   { return errUnsupported }
