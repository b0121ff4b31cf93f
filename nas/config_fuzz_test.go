package nas

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse feeds nasd's config parser arbitrary text: it never panics,
// and whatever it accepts it accepts again identically (the parser keeps
// no state between calls).
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/nasd.conf"); err == nil {
		f.Add(string(b))
	}
	f.Add("ac_name = x\n")
	f.Add("unknown = 1\n")
	f.Add("# comment\n\n =\n")
	f.Fuzz(func(t *testing.T, text string) {
		c1, err1 := Parse(strings.NewReader(text))
		c2, err2 := Parse(strings.NewReader(text))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("parse is not deterministic: %v vs %v", err1, err2)
		}
		if err1 == nil && !reflect.DeepEqual(c1, c2) {
			t.Fatalf("parse is not deterministic")
		}
	})
}
