package bill_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/edgebill/edgebill/rfc/bill"
	"github.com/edgebill/edgebill/rfc/radiusx"
	"layeh.com/radius"
	"layeh.com/radius/rfc2866"
)

// gatewayKey is a fixed key so the examples print the same every time; a
// gateway makes its own with ed25519.GenerateKey and keeps it in its
// journal.
var gatewayKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))

// firstBill is bill 1 of gateway gw-0001: a 90-minute session.
func firstBill() *bill.Bill {
	b := &bill.Bill{
		GatewayID:      "gw-0001",
		SessionID:      "0000A001",
		ID:             [bill.IDSize]byte{0x2f, 0x8a, 0x11, 0x04},
		UserName:       "alice",
		SubscriberMAC:  net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01},
		PPPoESessionID: 1,
		BRASMAC:        net.HardwareAddr{0x02, 0x00, 0x5e, 0x00, 0x00, 0xfe},
		FramedIP:       netip.MustParseAddr("100.64.0.2"),
		InputOctets:    120_000_000,
		OutputOctets:   4_800_000_000,
		InputPackets:   300_000,
		OutputPackets:  3_400_000,
		TerminateCause: rfc2866.AcctTerminateCause_Value_UserRequest,
		TariffID:       "home-100",
		TariffVersion:  3,
		Charge:         45_000, // 4.5000 CNY
		Currency:       "CNY",
		Scale:          4,
		Sequence:       1,
	}
	// The wall-clock start and the duration from the monotonic clock.
	b.SetTimes(time.Date(2025, 6, 1, 20, 15, 0, 300e6, time.UTC), 90*time.Minute+1500*time.Millisecond)
	return b
}

// A gateway signs each bill it makes and chains the next to it; the
// server verifies with the gateway's public key.
func ExampleBill_Sign() {
	b := firstBill()
	if err := b.Sign(gatewayKey); err != nil {
		fmt.Println(err)
		return
	}
	enc, _ := b.MarshalBinary()
	fmt.Printf("bill %d: %d octets, %v to %v\n", b.Sequence, len(enc),
		b.Start.Format(time.TimeOnly), b.Stop.Format(time.TimeOnly))

	next := firstBill()
	next.Sequence, next.PrevHash = 2, b.Hash()
	next.ID[0]++
	_ = next.Sign(gatewayKey)

	pub := gatewayKey.Public().(ed25519.PublicKey)
	fmt.Println("verify:", b.Verify(pub), next.Verify(pub))
	b.Charge = 4_500
	fmt.Println("altered:", b.Verify(pub))
	// Output:
	// bill 1: 241 octets, 20:15:00 to 21:45:01
	// verify: <nil> <nil>
	// altered: bill: signature does not verify: bill 1 of gateway "gw-0001"
}

// The bill travels in an Accounting-Request Stop; the server takes it out
// of the packet and checks its signature.
func ExampleFromPacket() {
	b := firstBill()
	_ = b.Sign(gatewayKey)

	// Gateway.
	p := radius.New(radius.CodeAccountingRequest, []byte("secret"))
	if err := bill.ToPacket(b, p); err != nil {
		fmt.Println(err)
		return
	}
	_ = rfc2866.AcctDelayTime_Add(p, 0)
	raw, _ := radiusx.Encode(p)

	// Server.
	q, _ := radius.Parse(raw, []byte("secret"))
	got, err := bill.FromPacket(q)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d octets: bill %d of %s for %s, %d.%04d %s, verify: %v\n",
		len(raw), got.Sequence, got.GatewayID, got.UserName,
		got.Charge/10000, got.Charge%10000, got.Currency,
		got.Verify(gatewayKey.Public().(ed25519.PublicKey)))
	// Output:
	// 490 octets: bill 1 of gw-0001 for alice, 4.5000 CNY, verify: <nil>
}

// The server checks each gateway's chain; findings are values.
func ExampleChecker() {
	// Five bills of one gateway; bill 3 is lost, 5 overtakes 4 and 2 is
	// sent again.
	var links []bill.Link
	var prev [bill.HashSize]byte
	for seq := uint64(1); seq <= 5; seq++ {
		b := firstBill()
		b.Sequence, b.PrevHash = seq, prev
		b.ID[0] = byte(seq)
		_ = b.Sign(gatewayKey)
		prev = b.Hash()
		links = append(links, b.Link())
	}
	received := []bill.Link{links[0], links[1], links[4], links[3], links[1]}

	var c bill.Checker
	for _, l := range received {
		for _, f := range c.Add(l) {
			fmt.Println(f)
		}
	}
	// Output:
	// gap: bills 3 to 4 missing before bill 5
	// reorder: bill 4 after bill 5
	// duplicate: bill 2 (be65ad81ce31) again
}
