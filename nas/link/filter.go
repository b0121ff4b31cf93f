package link

import "golang.org/x/net/bpf"

// Ethertypes of PPPoE (RFC 2516 §4).
const (
	EtherTypeDiscovery = 0x8863
	EtherTypeSession   = 0x8864
)

// packetOutgoing is the kernel's PACKET_OUTGOING packet type (linux/if_packet.h):
// a frame this host sent, which an ETH_P_ALL socket also sees.
const packetOutgoing = 4

// Filter returns the classic BPF program the socket runs in the kernel:
// drop frames this host sent, pass ethertypes 0x8863 and 0x8864, drop the
// rest.
func Filter() []bpf.RawInstruction {
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 4},
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: EtherTypeDiscovery, SkipTrue: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: EtherTypeSession, SkipFalse: 1},
		bpf.RetConstant{Val: 0x40000},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		panic("link: BPF program does not assemble: " + err.Error()) // a constant program
	}
	return prog
}
