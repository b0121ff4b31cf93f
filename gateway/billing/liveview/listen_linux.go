package liveview

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// bindToDevice returns a socket Control that sets SO_BINDTODEVICE, so
// the socket takes only what arrives on iface (socket(7)).
func bindToDevice(iface string) func(network, address string, c syscall.RawConn) error {
	if iface == "" {
		return nil
	}
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, iface)
		})
		if err != nil {
			return err
		}
		return serr
	}
}
