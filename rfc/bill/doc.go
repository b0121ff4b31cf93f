// Package bill is edgebill's bill: the record a gateway makes of one
// closed PPPoE session, its one canonical binary encoding, its Ed25519
// signature (RFC 8032 §5.1), the per-gateway hash chain that shows a bill
// dropped, replayed or altered, and its mapping onto a RADIUS
// Accounting-Request Stop (RFC 2865 §5, RFC 2866 §5, RFC 2869 §5.1-5.3,
// Vendor-Specific per RFC 2865 §5.26, vendor dictionary
// rfc/radiusx/dictionary.edgebill).
//
// Like every rfc/ package it is a codec: it does no I/O, keeps no clock
// and does not log. It does not import rfc/tariff: a bill names its tariff
// by id and version and carries the charge the tariff gave.
//
// # Encoding
//
// Format version 1, all integers big-endian, times in seconds since
// 1970-01-01 UTC, a string as one length octet and its octets:
//
//	offset  size  field
//	     +------+------------------------------------------------+
//	   0 |    1 | Version = 1                                    |
//	   1 |    8 | Sequence                                       |
//	   9 |   32 | PrevHash: SHA-256 of the previous bill         |
//	  41 |   16 | Bill ID                                        |
//	  57 |    6 | Subscriber MAC                                 |
//	  63 |    6 | BRAS MAC                                       |
//	  69 |    2 | PPPoE Session ID                               |
//	  71 |    1 | Flags: bit 0 = framed IP present               |
//	  72 |    4 | Framed IPv4 address, zero when absent          |
//	  76 |    4 | Start (s)                                      |
//	  80 |    4 | Stop (s)                                       |
//	  84 |    8 | Session Time (ms)                              |
//	  92 |    8 | Input Octets                                   |
//	 100 |    8 | Output Octets                                  |
//	 108 |    8 | Input Packets                                  |
//	 116 |    8 | Output Packets                                 |
//	 124 |    4 | Terminate Cause (RFC 2866 §5.10 value)         |
//	 128 |    4 | Tariff Version                                 |
//	 132 |    8 | Charge, minor units, below 2^63                |
//	 140 |    1 | Scale                                          |
//	     +------+------------------------------------------------+
//	 141 |  1+n | Gateway ID                                     |
//	     |  1+n | Session ID (the gateway's Acct-Session-Id)     |
//	     |  1+n | User Name                                      |
//	     |  1+n | Tariff ID                                      |
//	     |  1+n | Currency                                       |
//	     +------+------------------------------------------------+
//	     |   64 | Signature: Ed25519                             |
//	     +------+------------------------------------------------+
//
// Flags bit 0 says a framed IP is present; the other bits are zero. The
// fixed part is 141 octets; a bill with short strings is about 250 and
// the longest is MaxEncodedLen. A valid bill (see Validate) has exactly
// one encoding, and UnmarshalBinary accepts nothing else: no trailing
// octets, no stray flag, no framed-IP octets without the flag.
//
// The gateway signs, with pure Ed25519, the octets "edgebill bill" and a
// zero octet followed by the encoding up to the signature; the context
// string keeps a bill signature from ever being valid for anything else
// the gateway key signs. Hash is SHA-256 of the whole encoding, signature
// included, and is what the next bill's PrevHash holds.
//
// # Chain
//
// Each gateway numbers its bills from 1, and each bill names the hash of
// the one before (bill 1 names none: all zero). A Checker fed one
// gateway's bills, in the order received or sorted by sequence
// (CheckSorted), reports Gap, Duplicate, Fork and Reorder findings as
// values.
//
// # RADIUS
//
// ToPacket puts a signed bill into an Accounting-Request and FromPacket
// takes it out again, whatever order the attributes come in:
//
//	Bill field        attribute
//	                  Acct-Status-Type (40) = Stop           RFC 2866 §5.1
//	UserName          User-Name (1)                          RFC 2865 §5.1
//	SessionID         Acct-Session-Id (44)                   RFC 2866 §5.5
//	GatewayID         NAS-Identifier (32)                    RFC 2865 §5.32
//	                  and EdgeBill-Gateway-Id (11)
//	SubscriberMAC     Calling-Station-Id (31) "00-10-A4-23-19-C0"
//	                                                         RFC 3580 §3.21
//	FramedIP          Framed-IP-Address (8), when present    RFC 2865 §5.8
//	SessionTime       Acct-Session-Time (46), whole seconds  RFC 2866 §5.7
//	                  and EdgeBill-Session-Time-Ms (25)
//	In/OutputOctets   Acct-Input/Output-Octets (42, 43)      RFC 2866 §5.3-5.4
//	                  + Acct-Input/Output-Gigawords (52, 53) RFC 2869 §5.1-5.2
//	In/OutputPackets  Acct-Input/Output-Packets (47, 48)     RFC 2866 §5.8-5.9
//	                  + EdgeBill-Input/Output-Packets-Gigawords (26, 27)
//	TerminateCause    Acct-Terminate-Cause (49)              RFC 2866 §5.10
//	Stop              Event-Timestamp (55)                   RFC 2869 §5.3
//	ID                EdgeBill-Bill-Id (12)
//	PPPoESessionID    EdgeBill-PPPoE-Session-Id (13)
//	BRASMAC           EdgeBill-BRAS-MAC (14), as Calling-Station-Id
//	Start             EdgeBill-Start-Time (15)
//	TariffID          EdgeBill-Tariff-Id (16)
//	TariffVersion     EdgeBill-Tariff-Version (17)
//	Charge            EdgeBill-Charge (18)
//	Currency, Scale   EdgeBill-Currency (19), EdgeBill-Currency-Scale (20)
//	Sequence          EdgeBill-Sequence (21)
//	PrevHash          EdgeBill-Prev-Hash (22)
//	Signature         EdgeBill-Signature (23)
//	(version)         EdgeBill-Bill-Format (10) = FormatVersion
//
// The EdgeBill attributes are of vendor VendorID, one per Vendor-Specific
// attribute. FromPacket also accepts EdgeBill-Stop-Time (24) in place of
// Event-Timestamp, or beside it if both agree. The longest bill makes a
// packet of about 1,700 octets with Message-Authenticator, well within
// the 4,096 of RFC 2865 §3; an ordinary one about 500.
package bill
