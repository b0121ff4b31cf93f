// Package kernel moves the forwarding of established PPPoE sessions into
// the kernel: a tc (TCX) ingress program on the LAN and WAN interfaces
// that forwards IP-carrying session frames of sessions the relay has
// installed, rewriting their MAC addresses and counting them, and lets
// everything else (discovery, PPP control, unknown sessions' control
// frames) go up to the relay's AF_PACKET sockets.
//
// The program is written with github.com/cilium/ebpf/asm, so no C
// compiler is needed at build or run time. It matches a frame when
//
//	ethertype == 0x8864 (RFC 2516 §4 session stage), VER/TYPE 1/1, CODE 0,
//	PPP protocol == 0x0021 (IPv4, RFC 1332) or 0x0057 (IPv6, RFC 5072),
//	written in its two-octet form (RFC 1661 §2),
//
// and then
//
//	20 + LENGTH <= frame length and LENGTH >= 2, else dropped (malformed);
//	(ingress ifindex, SESSION_ID) found in the sessions map, else dropped
//	(unknown session);
//	source MAC == the one bound to the session, else dropped and counted
//	in the session's Spoofed counter;
//	destination and source MAC rewritten, Packets += 1,
//	Octets += LENGTH - 2 (the IP packet: the PPP payload without its
//	protocol field, as DESIGN.md "Usage" defines it), and redirected to
//	the egress of the other interface.
//
// Counters are 64-bit and updated with atomic adds, so they are exact
// whichever CPU runs the program. A frame the program does not match
// (TCX_NEXT) goes on to the stack and to the relay's AF_PACKET socket,
// whose classic BPF filter must then exclude the frames this program
// forwards (AF_PACKET taps see a frame before tc ingress does).
//
// Map layout, shared with user space (native byte order, SESSION_ID as
// on the wire):
//
//	key   (8 octets):  ifindex u32 | session id [2]byte | pad [2]byte
//	value (56 octets): expect src MAC [6] | pad [2] | new dst MAC [6] |
//	                   pad [2] | new src MAC [6] | pad [2] |
//	                   out ifindex u32 | pad u32 |
//	                   packets u64 | octets u64 | spoofed u64
package kernel
