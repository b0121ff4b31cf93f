//go:build linux

package relay

import (
	"fmt"
	"net"
	"syscall"
	"unsafe"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// sock is the batch I/O side of an AF_PACKET socket: recvmmsg and
// sendmmsg through the runtime poller, with every buffer and header
// allocated once, so a relayed frame costs no allocation and one
// system call per batch each way.
type sock struct {
	rc syscall.RawConn
}

// mmsghdr is struct mmsghdr (sendmmsg(2)); Go pads it like C does.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

type rxBatch struct {
	rc     syscall.RawConn
	msgs   []mmsghdr
	iovs   []unix.Iovec
	lens   []int
	n      int
	err    error
	readFn func(fd uintptr) bool
}

func (s *sock) newRx(bufs [][]byte, lens []int) *rxBatch {
	r := &rxBatch{rc: s.rc, msgs: make([]mmsghdr, len(bufs)), iovs: make([]unix.Iovec, len(bufs)), lens: lens}
	for i := range bufs {
		r.iovs[i].Base = &bufs[i][0]
		r.iovs[i].SetLen(len(bufs[i]))
		r.msgs[i].hdr.Iov = &r.iovs[i]
		r.msgs[i].hdr.SetIovlen(1)
	}
	r.readFn = r.doRead
	return r
}

func (r *rxBatch) doRead(fd uintptr) bool {
	for i := range r.msgs {
		r.msgs[i].n = 0
		r.msgs[i].hdr.Flags = 0
	}
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.msgs[0])),
			uintptr(len(r.msgs)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			r.n, r.err = int(n), nil
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		r.n, r.err = 0, e
		return true
	}
}

func (r *rxBatch) read() (int, error) {
	if err := r.rc.Read(r.readFn); err != nil {
		return 0, err
	}
	if r.err != nil {
		return 0, r.err
	}
	for i := 0; i < r.n; i++ {
		n := int(r.msgs[i].n)
		if r.msgs[i].hdr.Flags&unix.MSG_TRUNC != 0 {
			n = 0 // cut: too long for the buffer, dropped as malformed
		}
		r.lens[i] = n
	}
	return r.n, nil
}

type txBatch struct {
	rc      syscall.RawConn
	msgs    []mmsghdr
	iovs    []unix.Iovec
	n, done int
	refused int
	writeFn func(fd uintptr) bool
}

func (s *sock) newTx() *txBatch {
	t := &txBatch{rc: s.rc, msgs: make([]mmsghdr, batchSize), iovs: make([]unix.Iovec, batchSize)}
	for i := range t.msgs {
		t.msgs[i].hdr.Iov = &t.iovs[i]
		t.msgs[i].hdr.SetIovlen(1)
	}
	t.writeFn = t.doWrite
	return t
}

func (t *txBatch) doWrite(fd uintptr) bool {
	for t.done < t.n {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&t.msgs[t.done])),
			uintptr(t.n-t.done), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			t.done += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			// This frame was refused (ENOBUFS from a full queue, EMSGSIZE
			// ...): drop it, send the rest.
			t.done++
			t.refused++
		}
	}
	return true
}

// send sends frames (at most batchSize) and returns how many were
// refused.
func (t *txBatch) send(frames [][]byte) int {
	t.n, t.done, t.refused = len(frames), 0, 0
	for i, f := range frames {
		t.iovs[i].Base = &f[0]
		t.iovs[i].SetLen(len(f))
	}
	if err := t.rc.Write(t.writeFn); err != nil {
		return t.n - t.done + t.refused
	}
	for i := range frames {
		t.iovs[i].Base = nil // do not keep the read buffers reachable
	}
	return t.refused
}

// socketFilter is the classic BPF program on the relay's sockets: only
// PPPoE discovery and session frames reach user space. With the kernel
// offload it also leaves out the session frames carrying IP in the
// two-octet protocol form (RFC 1661 §2: 0x0021, 0x0057), which the tc
// program forwards and counts: AF_PACKET taps see frames before tc
// ingress does, and would otherwise see (and count) them too.
func socketFilter(offload bool) ([]bpf.RawInstruction, error) {
	const accept, drop = 0x40000, 0
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8863, SkipTrue: 0, SkipFalse: 1},
		bpf.RetConstant{Val: accept},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x8864, SkipTrue: 1},
		bpf.RetConstant{Val: drop},
	}
	if offload {
		prog = append(prog,
			// Too short to hold a protocol field: user space counts it.
			bpf.LoadExtension{Num: bpf.ExtLen},
			bpf.JumpIf{Cond: bpf.JumpLessThan, Val: 22, SkipTrue: 3},
			bpf.LoadAbsolute{Off: 20, Size: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0021, SkipTrue: 2},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0057, SkipTrue: 1},
		)
	}
	prog = append(prog, bpf.RetConstant{Val: accept})
	if offload {
		prog = append(prog, bpf.RetConstant{Val: drop})
	}
	return bpf.Assemble(prog)
}

// openPort opens an AF_PACKET socket on the named interface, bound to
// every protocol and filtered to PPPoE, ignoring the frames the host
// itself sends (PACKET_IGNORE_OUTGOING, Linux 4.20).
func openPort(name string, offload bool) (*port, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("relay: %s has no Ethernet address", name)
	}
	filter, err := socketFilter(offload)
	if err != nil {
		return nil, fmt.Errorf("relay: filter: %w", err)
	}
	c, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, &packet.Config{Filter: filter})
	if err != nil {
		return nil, fmt.Errorf("relay: listen on %s: %w", name, err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("relay: %w", err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1)
		if serr != nil {
			return
		}
		// Room for bursts: 4 MiB each way (FORCE needs CAP_NET_ADMIN,
		// which an AF_PACKET socket already required).
		for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[0], 4<<20) != nil {
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, o[1], 4<<20)
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("relay: socket options on %s: %w", name, err)
	}
	p := newPort(Port{Link: c, MAC: ifi.HardwareAddr, Ifindex: ifi.Index, Name: name})
	p.sock = &sock{rc: rc}
	return p, nil
}
