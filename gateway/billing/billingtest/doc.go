// Package billingtest holds helpers for tests of gatewayd's billing and
// of anything that receives its bills. AccountingServer is a RADIUS
// accounting listener on loopback: it verifies each Accounting-Request
// (Request Authenticator and Message-Authenticator, RFC 2866 §3,
// RFC 3579 §3.2), decodes Stops as rfc/bill bills, records everything,
// and answers with an Accounting-Response carrying a
// Message-Authenticator. It can be taken down and brought back up on
// the same port, to test store-and-forward.
package billingtest
