package server_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/edgebill/edgebill/server"
)

// FuzzParseConfig feeds billd's config parser arbitrary text: it never
// panics, and what it accepts it accepts again identically.
func FuzzParseConfig(f *testing.F) {
	if b, err := os.ReadFile("testdata/billd.conf"); err == nil {
		f.Add(string(b))
	}
	f.Add("listen_acct = 127.0.0.1:1813\n")
	f.Add("tolerance_percent = 1.5%\n")
	f.Add("bogus = 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		c1, err1 := server.ParseConfig(strings.NewReader(text))
		c2, err2 := server.ParseConfig(strings.NewReader(text))
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("parse is not deterministic: %v vs %v", err1, err2)
		}
		if err1 == nil && !reflect.DeepEqual(c1, c2) {
			t.Fatalf("parse is not deterministic")
		}
	})
}

// FuzzParsePercent: never panics on any text.
func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"0", "1.5", "100", "0.001", "-1", "1e3", "50%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = server.ParsePercent(s)
	})
}
