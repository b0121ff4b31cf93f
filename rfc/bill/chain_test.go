package bill

import (
	"crypto/sha256"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// chainOf makes n signed bills of one gateway, each chained to the last.
func chainOf(t testing.TB, n int) []*Bill {
	t.Helper()
	_, priv := testKey()
	var bills []*Bill
	var prev [HashSize]byte
	for i := range n {
		b := sampleBill()
		b.Sequence = uint64(i + 1)
		b.PrevHash = prev
		b.SessionID = "S" + strconv.Itoa(i+1)
		b.ID[0] = byte(i)
		if err := b.Sign(priv); err != nil {
			t.Fatal(err)
		}
		prev = b.Hash()
		bills = append(bills, b)
	}
	return bills
}

func links(bills ...*Bill) []Link {
	var ls []Link
	for _, b := range bills {
		ls = append(ls, b.Link())
	}
	return ls
}

// feed gives the links to a new Checker one by one and gathers findings.
func feed(ls []Link) []Finding {
	var c Checker
	var out []Finding
	for _, l := range ls {
		out = append(out, c.Add(l)...)
	}
	return out
}

func TestChecker(t *testing.T) {
	c := chainOf(t, 6)
	h := func(i int) [HashSize]byte { return c[i-1].Hash() }
	// A second bill 4: the gateway forked its chain.
	fork4 := *c[3]
	fork4.Charge++
	_, priv := testKey()
	if err := fork4.Sign(priv); err != nil {
		t.Fatal(err)
	}
	// A bill 5 that names the fork as its predecessor.
	fork5 := *c[4]
	fork5.PrevHash = fork4.Hash()
	if err := fork5.Sign(priv); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		bills []*Bill
		want  []Finding
	}{
		{"in order", c, nil},
		{"empty", nil, nil},
		{"dropped 3", []*Bill{c[0], c[1], c[3], c[4], c[5]},
			[]Finding{{Kind: Gap, Sequence: 4, Hash: h(4), From: 3, To: 3}}},
		{"dropped 3 and 4", []*Bill{c[0], c[1], c[4], c[5]},
			[]Finding{{Kind: Gap, Sequence: 5, Hash: h(5), From: 3, To: 4}}},
		{"duplicated 3", []*Bill{c[0], c[1], c[2], c[2], c[3]},
			[]Finding{{Kind: Duplicate, Sequence: 3, Hash: h(3)}}},
		{"duplicated later", []*Bill{c[0], c[1], c[2], c[3], c[1]},
			[]Finding{{Kind: Duplicate, Sequence: 2, Hash: h(2)}}},
		{"swapped 3 and 4", []*Bill{c[0], c[1], c[3], c[2], c[4]},
			[]Finding{
				{Kind: Gap, Sequence: 4, Hash: h(4), From: 3, To: 3},
				{Kind: Reorder, Sequence: 3, Hash: h(3), After: 4},
			}},
		{"starts at 3", []*Bill{c[2], c[3]},
			[]Finding{{Kind: Gap, Sequence: 3, Hash: h(3), From: 1, To: 2}}},
		{"reversed", []*Bill{c[2], c[1], c[0]},
			[]Finding{
				{Kind: Gap, Sequence: 3, Hash: h(3), From: 1, To: 2},
				{Kind: Reorder, Sequence: 2, Hash: h(2), After: 3},
				{Kind: Reorder, Sequence: 1, Hash: h(1), After: 3},
			}},
		{"two bills 4", []*Bill{c[0], c[1], c[2], c[3], &fork4, c[4]},
			[]Finding{{Kind: Fork, Sequence: 4, Hash: fork4.Hash(), Other: h(4)}}},
		{"bill 5 follows the other 4", []*Bill{c[0], c[1], c[2], c[3], &fork5},
			[]Finding{{Kind: Fork, Link: true, Sequence: 5, Hash: fork5.Hash(), Other: h(4)}}},
		{"bill 5 before the 4 it does not follow", []*Bill{c[0], c[1], c[2], &fork5, c[3]},
			[]Finding{
				{Kind: Gap, Sequence: 5, Hash: fork5.Hash(), From: 4, To: 4},
				{Kind: Reorder, Sequence: 4, Hash: h(4), After: 5},
				{Kind: Fork, Link: true, Sequence: 5, Hash: fork5.Hash(), Other: h(4)},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := feed(links(tt.bills...))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckSorted runs the checker the way the server does, over stored
// bills sorted by sequence: a dropped, a duplicated and a forked bill.
func TestCheckSorted(t *testing.T) {
	c := chainOf(t, 8)
	ls := links(c[0], c[1], c[2], c[2], c[4], c[5], c[6], c[7])
	want := []Finding{
		{Kind: Duplicate, Sequence: 3, Hash: c[2].Hash()},
		{Kind: Gap, Sequence: 5, Hash: c[4].Hash(), From: 4, To: 4},
	}
	if diff := cmp.Diff(want, CheckSorted(ls)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if got := CheckSorted(links(c...)); got != nil {
		t.Errorf("sound chain: %v", got)
	}
}

func TestCheckerResume(t *testing.T) {
	c := chainOf(t, 6)
	var ch Checker
	ch.Resume(3, c[2].Hash())
	var got []Finding
	for _, b := range []*Bill{c[3], c[5], c[4], c[2], c[1]} {
		got = append(got, ch.Add(b.Link())...)
	}
	want := []Finding{
		{Kind: Gap, Sequence: 6, Hash: c[5].Hash(), From: 5, To: 5},
		{Kind: Reorder, Sequence: 5, Hash: c[4].Hash(), After: 6},
		{Kind: Duplicate, Sequence: 3, Hash: c[2].Hash()},
		{Kind: Reorder, Sequence: 2, Hash: c[1].Hash(), After: 6},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	// A bill 4 that does not follow the resumed head is a fork.
	var ch2 Checker
	ch2.Resume(3, sha256.Sum256([]byte("another 3")))
	if got := ch2.Add(c[3].Link()); len(got) != 1 || got[0].Kind != Fork || !got[0].Link {
		t.Errorf("bill 4 after a different 3: %v", got)
	}
}

// TestCheckerAnyInput feeds links no valid bill has (sequence 0, the
// largest sequence, bill 1 naming a predecessor, random ones): the checker
// reports, never panics.
func TestCheckerAnyInput(t *testing.T) {
	var c Checker
	c.Add(Link{Sequence: 0})
	c.Add(Link{Sequence: math.MaxUint64, Hash: [HashSize]byte{1}})
	c.Add(Link{Sequence: math.MaxUint64 - 1, Hash: [HashSize]byte{2}})
	got := c.Add(Link{Sequence: 1, Hash: [HashSize]byte{3}, PrevHash: [HashSize]byte{9}})
	if len(got) != 2 || got[1].Kind != Fork || !got[1].Link || got[0].Kind != Reorder {
		t.Errorf("bill 1 naming a predecessor: %v", got)
	}
	if s := got[1].String(); !strings.Contains(s, "names a previous bill") {
		t.Errorf("String = %q", s)
	}
	r := rand.New(rand.NewPCG(5, 5))
	var d Checker
	for range 10_000 {
		l := Link{Sequence: r.Uint64N(50), Hash: [HashSize]byte{byte(r.IntN(3))}, PrevHash: [HashSize]byte{byte(r.IntN(3))}}
		for _, f := range d.Add(l) {
			_ = f.String()
		}
	}
}

func TestFindingString(t *testing.T) {
	h := [HashSize]byte{0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67}
	o := [HashSize]byte{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77}
	tests := []struct {
		f    Finding
		want string
	}{
		{Finding{Kind: Gap, Sequence: 9, From: 7, To: 8}, "gap: bills 7 to 8 missing before bill 9"},
		{Finding{Kind: Gap, Sequence: 9, From: 8, To: 8}, "gap: bill 8 missing before bill 9"},
		{Finding{Kind: Duplicate, Sequence: 9, Hash: h}, "duplicate: bill 9 (abcdef012345) again"},
		{Finding{Kind: Fork, Sequence: 9, Hash: h, Other: o}, "fork: two bills 9 (abcdef012345, first 112233445566)"},
		{Finding{Kind: Fork, Link: true, Sequence: 9, Hash: h, Other: o}, "fork: bill 9 (abcdef012345) does not follow bill 8 (112233445566)"},
		{Finding{Kind: Reorder, Sequence: 7, After: 9}, "reorder: bill 7 after bill 9"},
		{Finding{}, "FindingKind(0)"},
	}
	for _, tt := range tests {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("String = %q, want %q", got, tt.want)
		}
	}
}
