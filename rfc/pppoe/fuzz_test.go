package pppoe_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/edgebill/edgebill/rfc/pppoe"
)

// addGoldenSeeds adds every frame of the golden captures to the corpus.
func addGoldenSeeds(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(pcapDir, "*.pcap"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		frames, err := parsePcap(data)
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		for _, fr := range frames {
			f.Add(fr)
		}
	}
}

// knownError reports whether err is one the parsers are documented to
// return.
func knownError(err error) bool {
	for _, e := range []error{io.ErrUnexpectedEOF, pppoe.ErrEtherType, pppoe.ErrVersionType,
		pppoe.ErrCode, pppoe.ErrSessionID, pppoe.ErrPADITooLarge, pppoe.ErrTagLength,
		pppoe.ErrDuplicateRelaySessionID, pppoe.ErrNotTR101, pppoe.ErrSubOption} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Round trip: whatever parses encodes to the parsed octets (without
// padding) and parses back to the same value.
func FuzzDiscovery(f *testing.F) {
	addGoldenSeeds(f)
	f.Add(mustHex(f, `02 eb 00 00 02 01 02 eb 00 00 02 02 88 63 11 65 12 34 00 13
		01 05 00 0a 00 00 0d e9 01 04 63 69 72 63 00 00 00 00 01`))
	f.Add(mustHex(f, "ff ff ff ff ff ff 02 eb 00 00 02 01 88 63 11 09 00 00 00 00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d pppoe.Discovery
		if err := d.UnmarshalBinary(b); err != nil {
			if !knownError(err) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		enc, err := d.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed but does not encode: %v\n%+v", err, d)
		}
		if n := pppoe.FrameHeaderLen + (int(b[18])<<8 | int(b[19])); len(enc) != n || !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoded differently:\n got % x\n  in % x", enc, b)
		}
		var d2 pppoe.Discovery
		if err := d2.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-encoded frame does not parse: %v", err)
		}
		if diff := cmp.Diff(d, d2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		// The lookups must not panic on anything that parsed.
		d.ServiceName()
		d.PPPMaxPayload()
		d.ErrorTag()
		d.CheckRequiredTags()
		if v, ok, err := d.TR101(); ok && err == nil {
			if _, err := v.MarshalBinary(); err != nil {
				t.Fatalf("parsed TR-101 does not encode: %v", err)
			}
		}
	})
}

// The view and the copying parser agree, and the round trip holds.
func FuzzSession(f *testing.F) {
	f.Add(mustHex(f, lcpFrame))
	f.Add(append(mustHex(f, lcpFrame), 0, 0, 0))
	f.Add(mustHex(f, "02 eb 00 00 02 02 02 eb 00 00 02 01 88 64 11 00 ff ff 00 00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		view, verr := pppoe.ParseSession(b)
		var s pppoe.Session
		err := s.UnmarshalBinary(b)
		if (verr == nil) != (err == nil) {
			t.Fatalf("ParseSession error %v, UnmarshalBinary error %v", verr, err)
		}
		if err != nil {
			if !knownError(err) || !knownError(verr) {
				t.Fatalf("undocumented error: %v / %v", err, verr)
			}
			return
		}
		if !bytes.Equal(view.Dst(), s.Dst) || !bytes.Equal(view.Src(), s.Src) ||
			view.SessionID() != s.SessionID || view.Len() != len(s.Payload) ||
			!bytes.Equal(view.Payload(), s.Payload) {
			t.Fatalf("view and Session disagree: % x vs %+v", []byte(view), s)
		}
		enc, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed but does not encode: %v", err)
		}
		if !bytes.Equal(enc, view) {
			t.Fatalf("re-encoded differently:\n got % x\nwant % x", enc, []byte(view))
		}
		var s2 pppoe.Session
		if err := s2.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, s2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

// A TR-101 tag value that parses encodes back to exactly its input.
func FuzzTR101(f *testing.F) {
	f.Add(mustHex(f, "00 00 0d e9 01 04 63 69 72 63 02 02 72 69 81 04 00 00 03 e8"))
	f.Add(mustHex(f, "00 00 0d e9"))
	f.Add(mustHex(f, "00 00 0d e9 01 00 02 00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v pppoe.TR101
		if err := v.UnmarshalBinary(b); err != nil {
			if !knownError(err) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		enc, err := v.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed but does not encode: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoded differently:\n got % x\nwant % x", enc, b)
		}
		var v2 pppoe.TR101
		if err := v2.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(v, v2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
		v.CircuitID()
		v.RemoteID()
	})
}
