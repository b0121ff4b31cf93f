//go:build !linux

package kernel

import (
	"errors"
	"net"
)

// Counters are what the program counts for one side of a session.
type Counters struct {
	Packets, Octets, Spoofed uint64
}

// Side is one direction of a session.
type Side struct {
	Ifindex int
	Src     net.HardwareAddr
	Dst     net.HardwareAddr
	NewSrc  net.HardwareAddr
	Out     int
}

// Offload is unavailable off Linux.
type Offload struct{}

// ErrUnsupported is returned where the kernel offload cannot run.
var ErrUnsupported = errors.New("kernel: tc BPF offload unsupported")

// Load fails off Linux.
func Load(int) (*Offload, error) { return nil, ErrUnsupported }

func (o *Offload) Attach(...int) error                    { return ErrUnsupported }
func (o *Offload) Add(uint16, ...Side) error              { return ErrUnsupported }
func (o *Offload) Counters(int, uint16) (Counters, error) { return Counters{}, ErrUnsupported }
func (o *Offload) Remove(int, uint16) (Counters, error)   { return Counters{}, ErrUnsupported }
func (o *Offload) Stat(uint32) uint64                     { return 0 }
func (o *Offload) Close() error                           { return nil }
