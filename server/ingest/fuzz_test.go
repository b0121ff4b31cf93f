package ingest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"layeh.com/radius"

	"github.com/edgebill/edgebill/server/internal/billtest"
)

// FuzzFrameParse: frame never panics and never returns more than it was
// given; on what it accepts, parse and attr never panic, parse gives what
// radius.Parse gives, and attr finds what the parsed packet holds.
func FuzzFrameParse(f *testing.F) {
	g := billtest.NewGateway("gw-fuzz")
	f.Add(billtest.Packet(g.Bill(billtest.Session{User: "u", Start: time.Unix(1700000000, 0), Seconds: 1}), g.Secret, 42, 3))
	f.Add([]byte{4, 1, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 2})
	f.Add([]byte{4, 1, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 99})
	f.Fuzz(func(t *testing.T, b []byte) {
		framed, ok := frame(b)
		if !ok {
			return
		}
		if len(framed) > len(b) || len(framed) < 20 {
			t.Fatalf("frame returned %d octets of %d", len(framed), len(b))
		}
		want, err := radius.Parse(framed, []byte("s"))
		if err != nil {
			t.Fatalf("frame accepted what radius.Parse refuses: %v", err)
		}
		got := parse(framed, "s")
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("parse (-radius.Parse +parse):\n%s", diff)
		}
		for _, a := range want.Attributes {
			v, ok := attr(framed, a.Type)
			if !ok {
				t.Fatalf("attr misses type %d", a.Type)
			}
			if first, _ := want.Lookup(a.Type); string(v) != string(first) {
				t.Fatalf("attr %d = %x, want the first, %x", a.Type, v, first)
			}
		}
	})
}

// FuzzBatchVerify: the batch check agrees with rfc/bill's Verify (the
// same rule) on any signature, alone and in a batch with good ones.
func FuzzBatchVerify(f *testing.F) {
	g := billtest.NewGateway("gw-fuzz")
	b := g.Bill(billtest.Session{User: "u", Start: time.Unix(1700000000, 0), Seconds: 60})
	good := g.Bill(billtest.Session{User: "v", Start: time.Unix(1700000100, 0), Seconds: 60})
	f.Add(b.Signature[:])
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, sig []byte) {
		if len(sig) != len(b.Signature) {
			return
		}
		c := *b
		copy(c.Signature[:], sig)
		enc, err := c.MarshalBinary()
		if err != nil {
			return
		}
		want := c.Verify(g.Pub) == nil
		genc, _ := good.MarshalBinary()
		key := newVerifyKey(g.Pub)
		jobs := []sigJob{{key: key, enc: genc}, {key: key, enc: enc}, {key: key, enc: genc}}
		newVerifier().verify(jobs)
		if jobs[1].ok != want || !jobs[0].ok || !jobs[2].ok {
			t.Fatalf("batch: %v %v %v, rfc/bill Verify: %v", jobs[0].ok, jobs[1].ok, jobs[2].ok, want)
		}
	})
}
