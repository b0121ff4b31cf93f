package pppoeblast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
	"unsafe"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// Blaster sends session frames from one interface through an AF_PACKET
// socket that receives nothing (protocol 0), with sendmmsg(2) in batches.
type Blaster struct {
	fd int
}

// OpenBlaster opens a blaster on interface name of the calling thread's
// network namespace (in a lab test: inside Netns.Do).
func OpenBlaster(name string) (*Blaster, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("pppoeblast: socket: %w", err)
	}
	// Straight to the driver: veth has no queue to bypass, a real NIC
	// would.
	_ = unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_QDISC_BYPASS, 1)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("pppoeblast: bind %s: %w", name, err)
	}
	return &Blaster{fd: fd}, nil
}

// Close closes the socket.
func (b *Blaster) Close() error { return unix.Close(b.fd) }

// BlastConfig says what to send.
type BlastConfig struct {
	Session Session
	// Size is the frame size, MinFrame to MaxFrame.
	Size int
	// Duration and Count bound the blast: it stops at whichever comes
	// first (at least one must be set).
	Duration time.Duration
	Count    uint64
	// Rate caps frames per second (0: as fast as it goes).
	Rate int
	// Batch is the frames per sendmmsg (default 64).
	Batch int
}

// BlastResult is what a blast did.
type BlastResult struct {
	Sent    uint64        // frames the kernel took
	Errors  uint64        // batches refused (ENOBUFS and the like), retried
	Elapsed time.Duration // from the first send to the last
}

// FramesPerSecond is Sent over Elapsed.
func (r BlastResult) FramesPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

// mmsghdr is struct mmsghdr of sendmmsg(2).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// Blast sends frames numbered from 0 until Duration or Count or ctx ends
// it.
func (b *Blaster) Blast(ctx context.Context, cfg BlastConfig) (BlastResult, error) {
	if cfg.Duration <= 0 && cfg.Count == 0 {
		return BlastResult{}, errors.New("pppoeblast: blast needs a duration or a count")
	}
	if cfg.Size < MinFrame || cfg.Size > MaxFrame {
		return BlastResult{}, fmt.Errorf("pppoeblast: frame size %d outside %d to %d", cfg.Size, MinFrame, MaxFrame)
	}
	batch := cfg.Batch
	if batch <= 0 {
		batch = 64
	}
	frames := make([][]byte, batch)
	iovs := make([]unix.Iovec, batch)
	msgs := make([]mmsghdr, batch)
	for i := range frames {
		frames[i] = AppendSessionFrame(make([]byte, 0, cfg.Size), cfg.Session.Peer, cfg.Session.Local, cfg.Session.ID, cfg.Size, 0)
		iovs[i].Base = &frames[i][0]
		iovs[i].SetLen(len(frames[i]))
		msgs[i].hdr.Iov = &iovs[i]
		msgs[i].hdr.SetIovlen(1)
	}

	var res BlastResult
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	for round := uint64(0); ; round++ {
		if cfg.Count > 0 && res.Sent >= cfg.Count {
			break
		}
		if round&15 == 0 || cfg.Rate > 0 { // the clock and ctx: every 16 batches, or every batch when paced
			now := time.Now()
			if cfg.Duration > 0 && !now.Before(deadline) {
				break
			}
			if ctx.Err() != nil {
				break
			}
			if cfg.Rate > 0 {
				due := start.Add(time.Duration(float64(res.Sent) / float64(cfg.Rate) * float64(time.Second)))
				if wait := due.Sub(now); wait > 0 {
					time.Sleep(wait)
				}
			}
		}
		n := batch
		if cfg.Count > 0 && cfg.Count-res.Sent < uint64(n) {
			n = int(cfg.Count - res.Sent)
		}
		if cfg.Rate > 0 && n > max(1, cfg.Rate/1000) {
			n = max(1, cfg.Rate/1000) // about a millisecond's worth per batch
		}
		for i := 0; i < n; i++ {
			SetSeq(frames[i], res.Sent+uint64(i))
		}
		r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(b.fd), uintptr(unsafe.Pointer(&msgs[0])), uintptr(n), 0, 0, 0)
		if errno != 0 {
			switch errno {
			case unix.EINTR:
				continue
			case unix.ENOBUFS, unix.EAGAIN:
				res.Errors++
				time.Sleep(50 * time.Microsecond)
				continue
			}
			res.Elapsed = time.Since(start)
			return res, fmt.Errorf("pppoeblast: sendmmsg: %w", errno)
		}
		res.Sent += uint64(r)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// SetReadBuffer sizes c's receive buffer to n octets, past the system's
// rmem_max when root (SO_RCVBUFFORCE), so a counting peer loses nothing
// to a burst.
func SetReadBuffer(c *packet.Conn, n int) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n)
		if serr != nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
