// Package rfc holds, in its sub-packages, every wire contract shared by two
// or more edgebill components: pure codecs with no I/O, no clock and no
// logging (pppoe, ppp, radiusx, tariff, bill). The rule is enforced by
// TestImports in this folder.
package rfc
