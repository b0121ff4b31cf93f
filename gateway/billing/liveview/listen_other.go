//go:build !linux

package liveview

import (
	"errors"
	"syscall"
)

// bindToDevice is Linux-only; elsewhere an interface name is refused.
func bindToDevice(iface string) func(network, address string, c syscall.RawConn) error {
	if iface == "" {
		return nil
	}
	return func(string, string, syscall.RawConn) error {
		return errors.New("liveview: binding to an interface needs Linux")
	}
}
