// Package config is gatewayd's configuration file: a typed Config whose
// Default documents every default, and a strict Parse that rejects
// unknown sections and keys, repeated keys and bad values, naming the
// file and line. gateway/testdata/gatewayd.conf is the reference copy.
//
// The format is line-oriented. A line is blank, a comment (starting
// with '#'; a '#' later in a line is part of the value, as secrets may
// hold one), a section header, or key = value. Keys before the first
// section are global. Durations are Go durations ("30s", "5m"); booleans
// are true or false. Only server may repeat.
//
//	(global)      gateway-id, journal, log-level, shutdown-grace
//	[lan] [wan]   interface
//	[relay]       mode, max-sessions, padi-rate, handshake-timeout,
//	              idle-timeout, echo-failures, agent-circuit-id,
//	              agent-remote-id
//	[auth]        server = host:port secret (repeatable, in order of
//	              preference), timeout, retries, local-address, fail-open
//	[accounting]  server (repeatable), timeout, retries, local-address,
//	              interim-interval, checkpoint-interval, retry-interval,
//	              default-tariff
//	[live]        listen, interface
//	[metrics]     listen
//	[fault]       underbill-percent
//
// The package lives under gateway/billing only because that is the
// folder its author owned; it configures all of gatewayd.
package config
