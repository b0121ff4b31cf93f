package tariff

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"layeh.com/radius"
	"layeh.com/radius/rfc2865"

	"github.com/edgebill/edgebill/rfc/radiusx/ebattr"
)

func TestSplitJoin(t *testing.T) {
	item := func(n int) string { return strings.Repeat("a", n-1) + ";" }
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"short", "T1;id=a", []string{"T1;id=a"}},
		{"exactly one chunk", strings.Repeat("b", MaxChunk), []string{strings.Repeat("b", MaxChunk)}},
		{"no separator", strings.Repeat("b", MaxChunk+1), []string{strings.Repeat("b", MaxChunk), "b"}},
		{"cut after the last ';'", item(200) + item(100), []string{item(200), item(100)}},
		{"';' at the chunk end", item(MaxChunk) + "x", []string{item(MaxChunk), "x"}},
		{"three chunks", item(240) + item(240) + "tail-tail", []string{item(240), item(240), "tail-tail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Split (-want +got):\n%s", diff)
			}
			for _, c := range got {
				if len(c) > MaxChunk || c == "" {
					t.Errorf("chunk of %d octets", len(c))
				}
			}
			if j := Join(got); j != tt.in {
				t.Errorf("Join = %q", j)
			}
		})
	}
}

func TestRADIUSOrdinaryPlanIsOneAttribute(t *testing.T) {
	tf := mustParse(t, "T1;id=home-50;v=3;cur=CNY;sc=4;tz=Asia/Shanghai;fee=5000;time=600/1m/up;both=1024@0,10240@100,50/MB/up;band=peak/19:00-23:00/x1.5;band=night/23:00-07:00/300;cap=300000")
	p := radius.New(radius.CodeAccessAccept, []byte("s"))
	if err := tf.AddTo(p); err != nil {
		t.Fatal(err)
	}
	got, err := ebattr.EdgeBillTariff_GetStrings(p)
	if err != nil || len(got) != 1 || got[0] != tf.String() {
		t.Fatalf("attributes %q, %v", got, err)
	}
}

// TestRADIUSLongTariff: a tariff over several attributes, other
// attributes between them, comes back whole, and the wire form obeys
// the 255-octet attribute limit.
func TestRADIUSLongTariff(t *testing.T) {
	var b strings.Builder
	b.WriteString("T1;id=long;v=9;cur=EUR;sc=2;tz=Europe/Berlin;time=1/1s/near")
	b.WriteString(";in=1000000000@1,2000000000@2,3000000000@3,4000000000@4,5000000000@5,6000000000@6,7000000000@7,9223372036854775807/KiB/down")
	b.WriteString(";out=1000000000@1,2000000000@2,3000000000@3,4000000000@4,5000000000@5,6000000000@6,7000000000@7,9223372036854775807/KiB/down")
	for i, span := range []string{"00:00-01:00", "01:00-02:00", "02:00-03:00", "03:00-04:00", "04:00-05:00", "05:00-06:00", "06:00-07:00", "07:00-08:00"} {
		b.WriteString(";band=band-number-" + string(rune('a'+i)) + "/" + span + "/x999999.999")
	}
	b.WriteString(";cap=9223372036854775807")
	tf := mustParse(t, b.String())
	text := tf.String()
	if len(Split(text)) < 3 {
		t.Fatalf("test tariff only %d octets", len(text))
	}
	secret := []byte("testing123")
	p := radius.New(radius.CodeAccessAccept, secret)
	rfc2865.ReplyMessage_SetString(p, "welcome")
	chunks := Split(text)
	for i, c := range chunks {
		if err := ebattr.EdgeBillTariff_AddString(p, c); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			rfc2865.SessionTimeout_Set(p, 3600)
			ebattr.EdgeBillCredit_Set(p, 42)
		}
	}
	wire, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	q, err := radius.Parse(wire, secret)
	if err != nil {
		t.Fatal(err)
	}
	tf2, err := FromPacket(q)
	if err != nil {
		t.Fatal(err)
	}
	if !tf2.Equal(tf) {
		t.Errorf("round trip: %s", tf2)
	}

	// AddTo makes the same attributes.
	p2 := radius.New(radius.CodeAccessAccept, secret)
	if err := tf.AddTo(p2); err != nil {
		t.Fatal(err)
	}
	got, _ := ebattr.EdgeBillTariff_GetStrings(p2)
	if diff := cmp.Diff(chunks, got); diff != "" {
		t.Errorf("AddTo attributes (-want +got):\n%s", diff)
	}
}

func TestFromPacketErrors(t *testing.T) {
	p := radius.New(radius.CodeAccessAccept, []byte("s"))
	if _, err := FromPacket(p); !errors.Is(err, ErrNoTariff) {
		t.Errorf("no attribute: %v", err)
	}
	// A syntax error in the second attribute is reported at its offset
	// in the joined text.
	ebattr.EdgeBillTariff_AddString(p, "T1;id=a;v=1;")
	ebattr.EdgeBillTariff_AddString(p, "cur=CNY;sc=2;fee=x")
	_, err := FromPacket(p)
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != 29 {
		t.Errorf("got %v, want a syntax error at offset 29", err)
	}
}
