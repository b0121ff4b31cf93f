// Package gateway is the home-gateway daemon, gatewayd: PPPoE relay, PPP
// snooping, authorisation against the ISP's RADIUS, metering and live
// pricing, the durable journal, bill delivery and the subscriber's live
// view. See ../../shared/DESIGN.md, "Gateway".
package gateway
