package bill

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius/rfc2866"
)

// cmpBill compares bills: netip.Addr has no Equal method of its own.
var cmpBill = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// testKey is a fixed gateway key, so signatures and hashes are stable.
func testKey() (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

// sampleBill is an ordinary bill: counters past 2^32, a framed IP, a
// session time that is not whole seconds. It is not signed.
func sampleBill() *Bill {
	start := time.Date(2025, 3, 30, 0, 59, 30, 0, time.UTC)
	return &Bill{
		GatewayID:      "gw-0001",
		SessionID:      "5F3A0001",
		ID:             [IDSize]byte{0x6b, 0x1d, 0x2e, 0x90, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc},
		UserName:       "alice@isp.example",
		SubscriberMAC:  net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01},
		PPPoESessionID: 0x1234,
		BRASMAC:        net.HardwareAddr{0x02, 0x00, 0x5e, 0x00, 0x00, 0xfe},
		FramedIP:       netip.MustParseAddr("100.64.0.17"),
		Start:          start,
		Stop:           start.Add(3723 * time.Second),
		SessionTime:    3723*time.Second + 450*time.Millisecond,
		InputOctets:    5_000_000_123,
		OutputOctets:   98_765_432_100,
		InputPackets:   4_500_000,
		OutputPackets:  70_000_000,
		TerminateCause: rfc2866.AcctTerminateCause_Value_UserRequest,
		TariffID:       "home-100",
		TariffVersion:  3,
		Charge:         123_456,
		Currency:       "CNY",
		Scale:          4,
		Sequence:       42,
		PrevHash:       sha256.Sum256([]byte("bill 41")),
	}
}

func signedSample(t testing.TB) *Bill {
	t.Helper()
	b := sampleBill()
	_, priv := testKey()
	if err := b.Sign(priv); err != nil {
		t.Fatal(err)
	}
	return b
}

// longestBill has every string at its longest, every counter at its
// largest and a 64-bit packet count: the worst case for size.
func longestBill() *Bill {
	b := sampleBill()
	b.GatewayID = strings.Repeat("g", maxVendorString)
	b.SessionID = strings.Repeat("s", maxAttrString)
	b.UserName = strings.Repeat("u", maxAttrString)
	b.TariffID = strings.Repeat("t", maxVendorString)
	b.InputOctets, b.OutputOctets = math.MaxUint64, math.MaxUint64
	b.InputPackets, b.OutputPackets = math.MaxUint64, math.MaxUint64
	b.Charge = math.MaxInt64
	b.Sequence = math.MaxUint64
	b.TariffVersion = math.MaxUint32
	b.Scale = MaxScale
	b.Start = time.Unix(math.MaxUint32-100, 0).UTC()
	b.Stop = time.Unix(math.MaxUint32, 0).UTC()
	b.SessionTime = 100*time.Second + 999*time.Millisecond
	return b
}

func TestSignVerify(t *testing.T) {
	pub, priv := testKey()
	b := sampleBill()
	if err := b.Verify(pub); !errors.Is(err, ErrUnsigned) {
		t.Fatalf("Verify(unsigned) = %v, want ErrUnsigned", err)
	}
	if err := b.Sign(priv); err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(pub); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	// The signature survives the encoding.
	enc, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Bill
	if err := got.UnmarshalBinary(enc); err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(pub); err != nil {
		t.Fatalf("Verify after round trip = %v", err)
	}

	otherPub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{8}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	if err := b.Verify(otherPub); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify(other key) = %v, want ErrSignature", err)
	}
	changed := *b
	changed.Charge--
	if err := changed.Verify(pub); !errors.Is(err, ErrSignature) {
		t.Errorf("Verify(charge changed) = %v, want ErrSignature", err)
	}
	if err := b.Verify(pub[:31]); !errors.Is(err, ErrKey) {
		t.Errorf("Verify(short key) = %v, want ErrKey", err)
	}
	if err := b.Sign(priv[:32]); !errors.Is(err, ErrKey) {
		t.Errorf("Sign(short key) = %v, want ErrKey", err)
	}
	bad := *b
	bad.Stop = bad.Start.Add(-time.Second)
	if err := bad.Sign(priv); !errors.Is(err, ErrStopBeforeStart) {
		t.Errorf("Sign(invalid) = %v, want ErrStopBeforeStart", err)
	}
	if err := bad.Verify(pub); !errors.Is(err, ErrInvalid) {
		t.Errorf("Verify(invalid) = %v, want ErrInvalid", err)
	}
}

// TestSignatureContext checks the signature is over the context string
// and the encoding up to the signature, as doc.go says, so another
// implementation can verify with nothing but this package's doc.
func TestSignatureContext(t *testing.T) {
	pub, _ := testKey()
	b := signedSample(t)
	enc, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	msg := append([]byte("edgebill bill\x00"), enc[:len(enc)-SignatureSize]...)
	if !ed25519.Verify(pub, msg, enc[len(enc)-SignatureSize:]) {
		t.Fatal("signature is not over \"edgebill bill\\x00\" + encoding")
	}
	if sum := sha256.Sum256(enc); b.Hash() != sum {
		t.Fatalf("Hash = %x, want SHA-256 of the encoding %x", b.Hash(), sum)
	}
}

// TestBitFlip flips every bit of a signed encoding in turn: each altered
// encoding must either fail to decode or fail to verify.
func TestBitFlip(t *testing.T) {
	pub, _ := testKey()
	enc, err := signedSample(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	decoded := 0
	for i := range 8 * len(enc) {
		mut := bytes.Clone(enc)
		mut[i/8] ^= 0x80 >> (i % 8)
		var b Bill
		if err := b.UnmarshalBinary(mut); err != nil {
			continue
		}
		decoded++
		if err := b.Verify(pub); err == nil {
			t.Fatalf("bit %d (octet %d) flipped: bill still verifies", i, i/8)
		}
		if b.Hash() == sha256.Sum256(enc) {
			t.Fatalf("bit %d flipped: same hash", i)
		}
	}
	t.Logf("%d bits: %d flips decoded and failed Verify, the rest failed to decode", 8*len(enc), decoded)
}

func TestMarshalRoundTrip(t *testing.T) {
	_, priv := testKey()
	noIP := sampleBill()
	noIP.FramedIP = netip.Addr{}
	first := sampleBill()
	first.Sequence, first.PrevHash = 1, [HashSize]byte{}
	zero := sampleBill()
	zero.Stop, zero.SessionTime = zero.Start, 999*time.Millisecond
	zero.InputOctets, zero.OutputOctets, zero.InputPackets, zero.OutputPackets, zero.Charge = 0, 0, 0, 0, 0
	epoch := sampleBill()
	epoch.Start, epoch.Stop, epoch.SessionTime = time.Unix(0, 0).UTC(), time.Unix(1, 0).UTC(), 400*time.Millisecond
	local := sampleBill()
	shanghai := time.FixedZone("CST", 8*3600)
	local.Start, local.Stop = local.Start.In(shanghai), local.Stop.In(shanghai)

	tests := []struct {
		name string
		b    *Bill
	}{
		{"sample", sampleBill()},
		{"no framed IP", noIP},
		{"first bill", first},
		{"zero usage, zero length", zero},
		{"1970", epoch},
		{"times not in UTC", local},
		{"longest", longestBill()},
	}
	prefix := []byte("prefix")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.b.Sign(priv); err != nil {
				t.Fatal(err)
			}
			enc, err := tt.b.AppendBinary(bytes.Clone(prefix))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(enc, prefix) {
				t.Fatalf("AppendBinary lost the prefix")
			}
			enc = enc[len(prefix):]
			if len(enc) != tt.b.encodedLen() || len(enc) > MaxEncodedLen {
				t.Errorf("encoding of %d octets, encodedLen %d, max %d", len(enc), tt.b.encodedLen(), MaxEncodedLen)
			}
			var got Bill
			if err := got.UnmarshalBinary(enc); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.b, &got, cmpBill); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			if got.Start.Location() != time.UTC || got.Stop.Location() != time.UTC {
				t.Errorf("decoded times not in UTC: %v %v", got.Start, got.Stop)
			}
			again, err := got.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, again) {
				t.Errorf("re-encoding differs:\n% x\n% x", enc, again)
			}
		})
	}
	if n := longestBill().encodedLen(); n != MaxEncodedLen {
		t.Errorf("longest bill encodes to %d octets, MaxEncodedLen is %d", n, MaxEncodedLen)
	}
}

// TestFormatV1Vector pins format version 1 octet for octet: the sample
// bill laid out by hand from the diagram in doc.go (numbers converted
// with Python's datetime and hashlib), then its signature with the test
// key, which Ed25519 makes deterministic (taken from the first run). A
// change here is a change of format and needs a new version.
func TestFormatV1Vector(t *testing.T) {
	const want = "01" + // version
		"000000000000002a" + // sequence 42
		"d1f764a83e230b3ca0a53eaf6d49b950ab87e1b675abddd582b3381c5dcbd7ea" + // SHA-256("bill 41")
		"6b1d2e90112233445566778899aabbcc" + // bill id
		"02005e100001" + "02005e0000fe" + "1234" + // MACs, PPPoE session id
		"01" + "64400011" + // flags, 100.64.0.17
		"67e89772" + "67e8a5fd" + // start 2025-03-30T00:59:30Z, stop +3723 s
		"000000000038d0ba" + // 3723450 ms
		"000000012a05f27b" + "00000016fee0e524" + // octets in, out
		"000000000044aa20" + "00000000042c1d80" + // packets in, out
		"00000001" + "00000003" + // User-Request, tariff version 3
		"000000000001e240" + "04" + // charge 123456, scale 4
		"07" + "67772d30303031" + // "gw-0001"
		"08" + "3546334130303031" + // "5F3A0001"
		"11" + "616c696365406973702e6578616d706c65" + // "alice@isp.example"
		"08" + "686f6d652d313030" + // "home-100"
		"03" + "434e59" // "CNY"
	const wantSig = "d1e33e71d205cc219634a8cff1a4adb48a5a4830fa0b367ccf7216cf5abf539b" +
		"0d81e2c1416955c29297f8f05070a8d8e998f2df94147d56cca581805f35970a"
	b := signedSample(t)
	got, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want+wantSig, hex.EncodeToString(got)); diff != "" {
		t.Errorf("encoding (-want +got):\n%s", diff)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	enc, err := signedSample(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(enc)) }
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, io.ErrUnexpectedEOF},
		{"version 0", mut(func(b []byte) []byte { b[0] = 0; return b }), ErrFormat},
		{"version 2", mut(func(b []byte) []byte { b[0] = 2; return b }), ErrFormat},
		{"trailing octet", append(bytes.Clone(enc), 0), ErrTrailing},
		{"unknown flag", mut(func(b []byte) []byte { b[offFlags] |= 0x02; return b }), ErrNonCanonical},
		{"address without flag", mut(func(b []byte) []byte { b[offFlags] = 0; return b }), ErrNonCanonical},
		{"sequence 0", mut(func(b []byte) []byte { clear(b[offSequence:offPrevHash]); return b }), ErrSequence},
		{"no previous hash", mut(func(b []byte) []byte { clear(b[offPrevHash:offID]); return b }), ErrSequence},
		{"bill id zero", mut(func(b []byte) []byte { clear(b[offID:offSubMAC]); return b }), ErrField},
		{"stop before start", mut(func(b []byte) []byte { b[offStop] = 0; return b }), ErrStopBeforeStart},
		{"session time", mut(func(b []byte) []byte { b[offSessionMs+5]++; return b }), ErrSessionTime},
		{"session time overflows", mut(func(b []byte) []byte { b[offSessionMs] = 0xff; return b }), ErrSessionTime},
		{"negative charge", mut(func(b []byte) []byte { b[offCharge] = 0x80; return b }), ErrField},
		{"terminate cause 0", mut(func(b []byte) []byte { clear(b[offTermCause:offTariffVer]); return b }), ErrField},
		{"scale 19", mut(func(b []byte) []byte { b[offScale] = 19; return b }), ErrField},
		{"empty gateway id", mut(func(b []byte) []byte { return append(append(b[:fixedLen:fixedLen], 0), enc[fixedLen+8:]...) }), ErrField},
		{"currency lower case", mut(func(b []byte) []byte { b[len(b)-SignatureSize-1] = 'y'; return b }), ErrField},
		{"string overruns", mut(func(b []byte) []byte { b[fixedLen] = 0xff; return b[:fixedLen+100] }), io.ErrUnexpectedEOF},
	}
	// Every truncation is io.ErrUnexpectedEOF.
	for n := 1; n < len(enc); n++ {
		tests = append(tests, struct {
			name string
			data []byte
			want error
		}{"truncated", enc[:n], io.ErrUnexpectedEOF})
	}
	for _, tt := range tests {
		b := sampleBill()
		before := *b
		err := b.UnmarshalBinary(tt.data)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s (%d octets): err = %v, want %v", tt.name, len(tt.data), err, tt.want)
		}
		if diff := cmp.Diff(&before, b, cmpBill); diff != "" {
			t.Errorf("%s: bill changed on error (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(b *Bill)
		want error
	}{
		{"sample", func(b *Bill) {}, nil},
		{"sequence 0", func(b *Bill) { b.Sequence = 0 }, ErrSequence},
		{"sequence 1 with previous", func(b *Bill) { b.Sequence = 1 }, ErrSequence},
		{"sequence 2 without previous", func(b *Bill) { b.Sequence, b.PrevHash = 2, [HashSize]byte{} }, ErrSequence},
		{"zero id", func(b *Bill) { b.ID = [IDSize]byte{} }, ErrField},
		{"no gateway", func(b *Bill) { b.GatewayID = "" }, ErrField},
		{"gateway 248", func(b *Bill) { b.GatewayID = strings.Repeat("g", 248) }, ErrField},
		{"no session id", func(b *Bill) { b.SessionID = "" }, ErrField},
		{"session id 254", func(b *Bill) { b.SessionID = strings.Repeat("s", 254) }, ErrField},
		{"no user", func(b *Bill) { b.UserName = "" }, ErrField},
		{"user 254", func(b *Bill) { b.UserName = strings.Repeat("u", 254) }, ErrField},
		{"no subscriber MAC", func(b *Bill) { b.SubscriberMAC = nil }, ErrField},
		{"EUI-64 BRAS MAC", func(b *Bill) { b.BRASMAC = make(net.HardwareAddr, 8) }, ErrField},
		{"IPv6 framed", func(b *Bill) { b.FramedIP = netip.MustParseAddr("2001:db8::1") }, ErrField},
		{"4in6 framed", func(b *Bill) { b.FramedIP = netip.MustParseAddr("::ffff:100.64.0.1") }, ErrField},
		{"zero start", func(b *Bill) { b.Start = time.Time{} }, ErrField},
		{"after 2106", func(b *Bill) { b.Stop = time.Unix(math.MaxUint32+1, 0) }, ErrField},
		{"sub-second start", func(b *Bill) { b.Start = b.Start.Add(time.Millisecond) }, ErrField},
		{"stop before start", func(b *Bill) { b.Stop = b.Start.Add(-time.Second) }, ErrStopBeforeStart},
		{"negative session time", func(b *Bill) { b.SessionTime = -time.Millisecond }, ErrSessionTime},
		{"sub-ms session time", func(b *Bill) { b.SessionTime += time.Microsecond }, ErrSessionTime},
		{"session time 1s short", func(b *Bill) { b.SessionTime = b.Stop.Sub(b.Start) - time.Second }, ErrSessionTime},
		{"session time 999ms short", func(b *Bill) { b.SessionTime = b.Stop.Sub(b.Start) - 999*time.Millisecond }, nil},
		{"session time 1s long", func(b *Bill) { b.SessionTime = b.Stop.Sub(b.Start) + time.Second }, ErrSessionTime},
		{"session time 999ms long", func(b *Bill) { b.SessionTime = b.Stop.Sub(b.Start) + 999*time.Millisecond }, nil},
		{"no terminate cause", func(b *Bill) { b.TerminateCause = 0 }, ErrField},
		{"no tariff", func(b *Bill) { b.TariffID = "" }, ErrField},
		{"negative charge", func(b *Bill) { b.Charge = -1 }, ErrField},
		{"no currency", func(b *Bill) { b.Currency = "" }, ErrField},
		{"currency yuan", func(b *Bill) { b.Currency = "yuan" }, ErrField},
		{"scale 19", func(b *Bill) { b.Scale = 19 }, ErrField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sampleBill()
			tt.mod(b)
			err := b.Validate()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("%v does not match ErrInvalid", err)
				}
				if !strings.HasPrefix(err.Error(), "bill: ") {
					t.Errorf("message %q lacks the package prefix", err)
				}
				if _, err := b.MarshalBinary(); err == nil {
					t.Errorf("MarshalBinary of an invalid bill succeeded")
				}
				if b.Hash() != [HashSize]byte{} {
					t.Errorf("Hash of an invalid bill is not zero")
				}
			}
		})
	}
}

// TestSetTimes checks, over many random sessions, that SetTimes always
// gives times that pass Validate and keep the measured duration to the
// millisecond.
func TestSetTimes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for range 100_000 {
		b := sampleBill()
		start := time.Unix(r.Int64N(4_000_000_000), r.Int64N(1e9))
		if r.IntN(2) == 0 {
			start = start.In(time.FixedZone("X", 3600*r.IntN(24)-12*3600))
		}
		d := time.Duration(r.Int64N(int64(40 * 24 * time.Hour)))
		if r.IntN(4) == 0 {
			d = time.Duration(r.Int64N(int64(3 * time.Second)))
		}
		b.SetTimes(start, d)
		if err := b.Validate(); err != nil {
			t.Fatalf("SetTimes(%v, %v): %v", start, d, err)
		}
		if b.SessionTime != d.Truncate(time.Millisecond) || b.Start.Location() != time.UTC {
			t.Fatalf("SetTimes(%v, %v) = %v %v %v", start, d, b.Start, b.Stop, b.SessionTime)
		}
	}
}

func TestHash(t *testing.T) {
	b := signedSample(t)
	enc, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if b.Hash() != sha256.Sum256(enc) {
		t.Fatal("Hash is not SHA-256 of the encoding")
	}
	l := b.Link()
	if l.Sequence != b.Sequence || l.Hash != b.Hash() || l.PrevHash != b.PrevHash {
		t.Fatalf("Link = %+v", l)
	}
	if got := testing.AllocsPerRun(100, func() { b.Hash() }); got != 0 {
		t.Errorf("Hash allocates %v times", got)
	}
}
