// Package e2e is the end-to-end proof of gatewayd (issue 5, "Proof"):
// real binaries in real network namespaces, as root. pppoe-dial (or the
// nas/client library) dials from the subscriber namespace through
// gatewayd in the gateway namespace to nasd, with FreeRADIUS and
// Postgres, in the ISP namespace (lab.NewTopology); gatewayd's bills go
// to a RADIUS accounting listener in the test (billingtest), nasd's
// accounting to FreeRADIUS's radacct through a recording tap.
//
// The tests show that:
//
//   - for every session, gatewayd's bill usage equals nasd's (radacct
//     octets, and the packets of nasd's Accounting-Request Stop) and the
//     subscriber's own counts exactly; its charge is rfc/tariff's Price
//     of that usage under the tariff of the subscriber's FreeRADIUS plan;
//     every bill verifies with the key `gatewayd pubkey` prints and the
//     chain (rfc/bill Checker) is unbroken (TestDialsBilledExactly);
//   - subscribers in arrears or not activated are refused by the gateway
//     with their Reply-Message, and nasd never sees their credentials
//     (TestRefusedNeverReachBRAS);
//   - after kill -9 of gatewayd and a restart, every session is billed
//     exactly once (NAS-Reboot at the checkpoint for those open at the
//     crash), and bills made while the accounting listener is down all
//     arrive, in sequence order, once it is up (TestCrashAndStoreForward);
//   - bad frames from the LAN and the WAN crash nothing and disturb no
//     established session (TestBadInputDisturbsNothing);
//   - a subscriber whose Access-Accept carries a small EdgeBill-Credit
//     (the test's own radreply rows) is cut by gatewayd when the running
//     charge reaches it: LCP Terminate-Request and PADT to the
//     subscriber, PADT to nasd, one bill with Terminate-Cause
//     Session-Timeout and a charge of at least the credit and at most
//     one metering step above it, at exactly nasd's and the subscriber's
//     usage; the other sessions on the gateway carry on; every session's
//     accounting starts with a Start carrying its bill's Acct-Session-Id
//     and User-Name, before any interim (TestCreditCut);
//   - with the whole system (lab/system: billd on its Postgres), the
//     Start alone makes billd show the session live (billd.progress,
//     status "start") before its first interim, and the bill replaces it
//     (TestStartReachesBilld).
//
// BenchmarkGatewaydVeth measures session frames per second through
// gatewayd on veth, kernel offload and user space, and checks the bill's
// count against the frames delivered.
//
// The package holds tests only; it has no API.
package e2e
