//go:build !linux

package pppoeblast

import (
	"context"
	"errors"
	"time"

	"github.com/mdlayher/packet"
)

// Blaster needs Linux's AF_PACKET.
type Blaster struct{}

// OpenBlaster fails: AF_PACKET is Linux's.
func OpenBlaster(name string) (*Blaster, error) {
	return nil, errors.New("pppoeblast: needs Linux")
}

// Close does nothing.
func (b *Blaster) Close() error { return nil }

// BlastConfig says what to send.
type BlastConfig struct {
	Session  Session
	Size     int
	Duration time.Duration
	Count    uint64
	Rate     int
	Batch    int
}

// BlastResult is what a blast did.
type BlastResult struct {
	Sent    uint64
	Errors  uint64
	Elapsed time.Duration
}

// FramesPerSecond is Sent over Elapsed.
func (r BlastResult) FramesPerSecond() float64 { return 0 }

// Blast fails: AF_PACKET is Linux's.
func (b *Blaster) Blast(ctx context.Context, cfg BlastConfig) (BlastResult, error) {
	return BlastResult{}, errors.New("pppoeblast: needs Linux")
}

// SetReadBuffer fails: AF_PACKET is Linux's.
func SetReadBuffer(c *packet.Conn, n int) error { return errors.New("pppoeblast: needs Linux") }
