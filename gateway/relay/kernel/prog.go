package kernel

import (
	"encoding/binary"

	"github.com/cilium/ebpf/asm"
)

// Offsets into struct __sk_buff (include/uapi/linux/bpf.h).
const (
	skbLen     = 0
	skbPktType = 4
	skbIfindex = 40
	skbData    = 76
	skbDataEnd = 80
)

// Offsets into the map value (see the package doc).
const (
	valSrc     = 0
	valDst     = 8
	valNewSrc  = 16
	valIfindex = 24
	valPackets = 32
	valOctets  = 40
	valSpoofed = 48
	valueSize  = 56
	keySize    = 8
)

// Indexes into the stats array map.
const (
	StatUnknown   = 0 // IP session frame of no installed session
	StatMalformed = 1 // IP session frame whose LENGTH does not fit
	numStats      = 2
)

// tc / TCX verdicts (include/uapi/linux/pkt_cls.h, TCX_* in bpf.h).
const (
	actNext = -1 // TC_ACT_UNSPEC, TCX_NEXT: not ours, carry on
	actShot = 2  // TC_ACT_SHOT, TCX_DROP
)

// hostHalf returns the value a 16-bit load of the two wire octets b0, b1
// gives on this machine, so the program compares without byte swaps.
func hostHalf(b0, b1 byte) int32 {
	return int32(binary.NativeEndian.Uint16([]byte{b0, b1}))
}

// Stack layout: the first 22 octets of the frame are copied to hdr
// (placed so that the source MAC is 4-aligned), the map key sits at
// fp-8, the stats key at fp-12.
const (
	hdr      = -42
	hdrSrc   = hdr + 6
	hdrType  = hdr + 12
	hdrVer   = hdr + 14
	hdrSess  = hdr + 16
	hdrLen   = hdr + 18
	hdrProto = hdr + 20
)

// instructions returns the forwarding program; sessions and stats are the
// file descriptors of its two maps.
//
// The headers are read with bpf_skb_load_bytes rather than in place: a
// frame whose headers are not all in the skb's linear part (AF_PACKET
// senders put only the Ethernet header there) then costs a 22-octet copy
// instead of a bpf_skb_pull_data. Only the MACs are written in place.
func instructions(sessions, stats int) asm.Instructions {
	const (
		rCtx = asm.R6
		rLen = asm.R7
		rVal = asm.R9
	)
	return asm.Instructions{
		asm.Mov.Reg(rCtx, asm.R1),
		// Only frames addressed to this interface (PACKET_HOST): session
		// ids are unique per pair of MACs (RFC 2516 §4), so a frame
		// flooded or broadcast to us may be another host's session.
		asm.LoadMem(asm.R4, rCtx, skbPktType, asm.Word),
		asm.JNE.Imm(asm.R4, 0, "pass"),
		asm.Mov.Reg(asm.R1, rCtx),
		asm.Mov.Imm(asm.R2, 0),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, hdr),
		asm.Mov.Imm(asm.R4, 22),
		asm.FnSkbLoadBytes.Call(),
		asm.JNE.Imm(asm.R0, 0, "pass"), // shorter than 22 octets

		asm.LoadMem(asm.R4, asm.RFP, hdrType, asm.Half),
		asm.JNE.Imm(asm.R4, hostHalf(0x88, 0x64), "pass"),
		asm.LoadMem(asm.R4, asm.RFP, hdrVer, asm.Half),
		asm.JNE.Imm(asm.R4, hostHalf(0x11, 0x00), "pass"),
		asm.LoadMem(asm.R4, asm.RFP, hdrProto, asm.Half),
		asm.JEq.Imm(asm.R4, hostHalf(0x00, 0x21), "ip"),
		asm.JNE.Imm(asm.R4, hostHalf(0x00, 0x57), "pass"),

		// LENGTH must fit the frame and hold the protocol field.
		asm.LoadMem(rLen, asm.RFP, hdrLen, asm.Half).WithSymbol("ip"),
		asm.HostTo(asm.BE, rLen, asm.Half),
		asm.LoadMem(asm.R8, rCtx, skbLen, asm.Word),
		asm.Mov.Reg(asm.R5, rLen),
		asm.Add.Imm(asm.R5, 20),
		asm.JGT.Reg(asm.R5, asm.R8, "malformed"),
		asm.JLT.Imm(rLen, 2, "malformed"),

		// key on the stack at fp-8
		asm.LoadMem(asm.R5, rCtx, skbIfindex, asm.Word),
		asm.StoreMem(asm.RFP, -8, asm.R5, asm.Word),
		asm.LoadMem(asm.R5, asm.RFP, hdrSess, asm.Half),
		asm.StoreMem(asm.RFP, -4, asm.R5, asm.Half),
		asm.StoreImm(asm.RFP, -2, 0, asm.Half),
		asm.LoadMapPtr(asm.R1, sessions),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "unknown"),
		asm.Mov.Reg(rVal, asm.R0),

		asm.LoadMem(asm.R4, asm.RFP, hdrSrc, asm.Word),
		asm.LoadMem(asm.R5, rVal, valSrc, asm.Word),
		asm.JNE.Reg(asm.R4, asm.R5, "spoof"),
		asm.LoadMem(asm.R4, asm.RFP, hdrSrc+4, asm.Half),
		asm.LoadMem(asm.R5, rVal, valSrc+4, asm.Half),
		asm.JNE.Reg(asm.R4, asm.R5, "spoof"),

		// The MACs are in the linear part (the Ethernet header always is).
		asm.LoadMem(asm.R2, rCtx, skbData, asm.Word),
		asm.LoadMem(asm.R3, rCtx, skbDataEnd, asm.Word),
		asm.Mov.Reg(asm.R4, asm.R2),
		asm.Add.Imm(asm.R4, 12),
		asm.JGT.Reg(asm.R4, asm.R3, "pass"),
		asm.LoadMem(asm.R4, rVal, valDst, asm.Word),
		asm.StoreMem(asm.R2, 0, asm.R4, asm.Word),
		asm.LoadMem(asm.R4, rVal, valDst+4, asm.Half),
		asm.StoreMem(asm.R2, 4, asm.R4, asm.Half),
		asm.LoadMem(asm.R4, rVal, valNewSrc, asm.Word),
		asm.StoreMem(asm.R2, 6, asm.R4, asm.Word),
		asm.LoadMem(asm.R4, rVal, valNewSrc+4, asm.Half),
		asm.StoreMem(asm.R2, 10, asm.R4, asm.Half),

		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(rVal, asm.R1, asm.DWord, valPackets),
		asm.Sub.Imm(rLen, 2),
		asm.AddAtomic.Mem(rVal, rLen, asm.DWord, valOctets),

		asm.LoadMem(asm.R1, rVal, valIfindex, asm.Word),
		asm.Mov.Imm(asm.R2, 0),
		asm.FnRedirect.Call(),
		asm.Return(),

		asm.Mov.Imm(asm.R1, 1).WithSymbol("spoof"),
		asm.AddAtomic.Mem(rVal, asm.R1, asm.DWord, valSpoofed),
		asm.Mov.Imm(asm.R0, actShot),
		asm.Return(),

		asm.StoreImm(asm.RFP, -12, StatUnknown, asm.Word).WithSymbol("unknown"),
		asm.Ja.Label("count"),
		asm.StoreImm(asm.RFP, -12, StatMalformed, asm.Word).WithSymbol("malformed"),
		asm.LoadMapPtr(asm.R1, stats).WithSymbol("count"),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -12),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "drop"),
		asm.Mov.Imm(asm.R1, 1),
		asm.AddAtomic.Mem(asm.R0, asm.R1, asm.DWord, 0),
		asm.Mov.Imm(asm.R0, actShot).WithSymbol("drop"),
		asm.Return(),

		asm.Mov.Imm(asm.R0, actNext).WithSymbol("pass"),
		asm.Return(),
	}
}
