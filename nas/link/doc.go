// Package link moves whole Ethernet frames carrying PPPoE (RFC 2516 §4:
// ethertypes 0x8863 discovery and 0x8864 session) in and out of nasd and
// pppoe-dial: an AF_PACKET socket on a real interface (Linux), with a
// kernel BPF filter so that only PPPoE frames, and none this host sent,
// reach user space; and Hub, an in-memory Ethernet segment for tests.
//
// Both give the same small surface, which nas and nas/client declare as
// their Link interface: ReadFrame, WriteFrame, HardwareAddr, Close.
package link
