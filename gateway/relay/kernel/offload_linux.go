//go:build linux

package kernel

import (
	"errors"
	"fmt"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Key is a sessions-map key: the interface a frame comes in on and its
// PPPoE SESSION_ID as on the wire.
type Key struct {
	Ifindex uint32
	Session [2]byte
	Pad     uint16
}

// Value is a sessions-map value: how to check, rewrite and forward a
// session's frames from one side, and the counters the program keeps.
type Value struct {
	Src     [6]byte // the only source MAC accepted
	Pad0    uint16
	Dst     [6]byte // destination MAC written
	Pad1    uint16
	NewSrc  [6]byte // source MAC written
	Pad2    uint16
	Ifindex uint32 // interface to forward to
	Pad3    uint32
	Counters
}

// Counters are what the program counts for one side of a session.
type Counters struct {
	Packets uint64 // frames forwarded
	Octets  uint64 // IP octets forwarded: PPPoE LENGTH - 2 per frame
	Spoofed uint64 // frames dropped for a wrong source MAC
}

// Side is one direction of a session: frames arriving on Ifindex from
// Src, for session ID, are forwarded to Out with the MACs rewritten.
type Side struct {
	Ifindex int
	Src     net.HardwareAddr
	Dst     net.HardwareAddr
	NewSrc  net.HardwareAddr
	Out     int
}

// Offload is the loaded program, its maps and its attachments.
type Offload struct {
	prog     *ebpf.Program
	sessions *ebpf.Map
	stats    *ebpf.Map
	links    []link.Link
}

// ErrUnsupported is returned where the kernel offload cannot run.
var ErrUnsupported = errors.New("kernel: tc BPF offload unsupported")

// Load creates the maps (room for maxSessions sessions, both sides) and
// loads the program, without attaching it.
func Load(maxSessions int) (*Offload, error) {
	if maxSessions < 1 {
		maxSessions = 1
	}
	sessions, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "eb_sessions",
		Type:       ebpf.Hash,
		KeySize:    keySize,
		ValueSize:  valueSize,
		MaxEntries: uint32(2 * maxSessions),
	})
	if err != nil {
		return nil, fmt.Errorf("kernel: sessions map: %w", err)
	}
	stats, err := ebpf.NewMap(&ebpf.MapSpec{
		Name:       "eb_stats",
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: numStats,
	})
	if err != nil {
		sessions.Close()
		return nil, fmt.Errorf("kernel: stats map: %w", err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "eb_relay",
		Type:         ebpf.SchedCLS,
		License:      "Dual BSD/GPL",
		Instructions: instructions(sessions.FD(), stats.FD()),
	})
	if err != nil {
		sessions.Close()
		stats.Close()
		return nil, fmt.Errorf("kernel: load program: %w", err)
	}
	return &Offload{prog: prog, sessions: sessions, stats: stats}, nil
}

// Attach attaches the program to the ingress of each interface (TCX,
// Linux 6.6 and later). Attachments end with Close, or with the process.
func (o *Offload) Attach(ifindexes ...int) error {
	for _, ifi := range ifindexes {
		l, err := link.AttachTCX(link.TCXOptions{
			Interface: ifi,
			Program:   o.prog,
			Attach:    ebpf.AttachTCXIngress,
		})
		if err != nil {
			return fmt.Errorf("kernel: attach to ifindex %d: %w", ifi, err)
		}
		o.links = append(o.links, l)
	}
	return nil
}

// Program returns the loaded program (for tests: Program().Run).
func (o *Offload) Program() *ebpf.Program { return o.prog }

func key(ifindex int, session uint16) Key {
	return Key{Ifindex: uint32(ifindex), Session: [2]byte{byte(session >> 8), byte(session)}}
}

// Add installs both sides of session id; frames start flowing through
// the kernel at once. Counters start at zero.
func (o *Offload) Add(id uint16, sides ...Side) error {
	for i, s := range sides {
		var v Value
		if len(s.Src) != 6 || len(s.Dst) != 6 || len(s.NewSrc) != 6 {
			return fmt.Errorf("kernel: session 0x%04x: MAC is not 6 octets", id)
		}
		copy(v.Src[:], s.Src)
		copy(v.Dst[:], s.Dst)
		copy(v.NewSrc[:], s.NewSrc)
		v.Ifindex = uint32(s.Out)
		if err := o.sessions.Update(key(s.Ifindex, id), &v, ebpf.UpdateNoExist); err != nil {
			for _, d := range sides[:i] {
				_ = o.sessions.Delete(key(d.Ifindex, id))
			}
			return fmt.Errorf("kernel: install session 0x%04x: %w", id, err)
		}
	}
	return nil
}

// Counters returns what the program counted for frames of session id
// arriving on ifindex.
func (o *Offload) Counters(ifindex int, id uint16) (Counters, error) {
	var v Value
	if err := o.sessions.Lookup(key(ifindex, id), &v); err != nil {
		return Counters{}, err
	}
	return v.Counters, nil
}

// Remove uninstalls one side of session id and returns its final
// counters, read and deleted in one step so no frame goes uncounted.
func (o *Offload) Remove(ifindex int, id uint16) (Counters, error) {
	var v Value
	err := o.sessions.LookupAndDelete(key(ifindex, id), &v)
	if errors.Is(err, ebpf.ErrNotSupported) {
		// Before Linux 5.14: read, then delete; a frame in between is
		// lost to the count, not to the subscriber.
		if err = o.sessions.Lookup(key(ifindex, id), &v); err == nil {
			err = o.sessions.Delete(key(ifindex, id))
		}
	}
	if err != nil {
		return Counters{}, err
	}
	return v.Counters, nil
}

// Stat returns one of the program's global drop counters (StatUnknown,
// StatMalformed).
func (o *Offload) Stat(i uint32) uint64 {
	var n uint64
	_ = o.stats.Lookup(i, &n)
	return n
}

// Close detaches the program and frees its maps.
func (o *Offload) Close() error {
	var errs []error
	for _, l := range o.links {
		errs = append(errs, l.Close())
	}
	o.links = nil
	errs = append(errs, o.prog.Close(), o.sessions.Close(), o.stats.Close())
	return errors.Join(errs...)
}
