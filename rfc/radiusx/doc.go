// Package radiusx adds to layeh.com/radius what edgebill needs and it
// lacks:
//
//   - Message-Authenticator (RFC 3579 §3.2, RFC 5080 §2.2.2, RFC 5176 §3.3):
//     Encode signs any packet with it, placed first in the attribute list
//     as the BlastRADIUS (CVE-2024-3596) mitigations recommend, and
//     VerifyRequest / VerifyResponse require and check it. FreeRADIUS 3.2
//     with require_message_authenticator = yes drops Access-Requests
//     without it.
//   - 64-bit octet counters carried as Acct-Input/Output-Octets (RFC 2866
//     §5.3, §5.4) plus Acct-Input/Output-Gigawords (RFC 2869 §5.1, §5.2).
//   - The edgebill vendor dictionary, dictionary.edgebill, in FreeRADIUS
//     format; sub-package ebattr is generated from it by radius-dict-gen
//     and FreeRADIUS $INCLUDEs the same file.
//
// Like every rfc/ package it is a codec: bytes in, values out. It does no
// I/O and keeps no clock.
package radiusx
