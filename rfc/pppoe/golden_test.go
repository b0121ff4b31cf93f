package pppoe_test

// Golden captures from real peers (rp-pppoe 3.15), made by
// testdata/pcap/make-pcaps.sh in network namespaces: every frame must parse
// and re-encode byte for byte, and what the peers did must read as they
// did it.

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/rfc/pppoe"
)

const pcapDir = "../../testdata/pcap"

// readDiscoveryIn reads a capture and parses every frame, checking that
// each re-encodes to exactly the captured bytes.
func readDiscoveryIn(t *testing.T, dir, name string) []pppoe.Discovery {
	t.Helper()
	frames := readPcap(t, filepath.Join(dir, name))
	out := make([]pppoe.Discovery, len(frames))
	for i, f := range frames {
		if err := out[i].UnmarshalBinary(f); err != nil {
			t.Fatalf("%s frame %d: %v\n% x", name, i+1, err, f)
		}
		enc, err := out[i].MarshalBinary()
		if err != nil {
			t.Fatalf("%s frame %d: MarshalBinary: %v", name, i+1, err)
		}
		if !bytes.Equal(enc, f) {
			t.Errorf("%s frame %d re-encoded differently:\n got % x\nwant % x", name, i+1, enc, f)
		}
	}
	return out
}

func codes(ds []pppoe.Discovery) []pppoe.Code {
	var c []pppoe.Code
	for _, d := range ds {
		c = append(c, d.Code)
	}
	return c
}

func TestGoldenPcaps(t *testing.T) { checkCaptures(t, pcapDir) }

// TestLiveCaptures runs testdata/pcap/make-pcaps.sh into a temporary
// folder, so the committed goldens' recipe is proved to still work against
// the rp-pppoe installed here, and checks what it captured like the
// goldens. It needs root (namespaces) and takes about 15 s.
func TestLiveCaptures(t *testing.T) {
	testenv.Short(t, "starts rp-pppoe in network namespaces for about 15 s")
	testenv.Root(t)
	for _, prog := range []string{"ip", "pppoe", "pppoe-server", "pppoe-relay", "dumpcap"} {
		testenv.Binary(t, prog)
	}
	script, err := filepath.Abs(filepath.Join(pcapDir, "make-pcaps.sh"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, out)
	// On timeout, SIGTERM lets the script's trap remove its namespaces and
	// processes; WaitDelay bounds how long that may take.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	logs, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make-pcaps.sh: %v\n%s", err, logs)
	}
	t.Logf("make-pcaps.sh:\n%s", logs)
	checkCaptures(t, out)
	t.Run("pppoe -A", func(t *testing.T) { checkPPPoEA(t, out) })
	t.Run("full discovery", func(t *testing.T) { checkFullDiscovery(t, out) })
	t.Run("pppoe-relay", func(t *testing.T) { checkPPPoERelay(t, out) })
}

func checkCaptures(t *testing.T, dir string) {
	tests := []struct {
		file  string
		codes []pppoe.Code
	}{
		{"rp-pppoe-discovery.pcap", []pppoe.Code{pppoe.CodePADI, pppoe.CodePADO}},
		{"rp-pppoe-relay-wan.pcap", []pppoe.Code{pppoe.CodePADI, pppoe.CodePADO}},
		{"rp-pppoe-relay-lan.pcap", []pppoe.Code{pppoe.CodePADI, pppoe.CodePADO}},
		{"rp-pppoe-full-discovery.pcap", []pppoe.Code{pppoe.CodePADI, pppoe.CodePADO,
			pppoe.CodePADR, pppoe.CodePADS, pppoe.CodePADT, pppoe.CodePADT}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ds := readDiscoveryIn(t, dir, tt.file)
			if got := codes(ds); !slices.Equal(got, tt.codes) {
				t.Fatalf("codes %v, want %v", got, tt.codes)
			}
			for i, d := range ds {
				if err := d.CheckRequiredTags(); err != nil {
					t.Errorf("frame %d (%v): %v", i+1, d.Code, err)
				}
			}
		})
	}
}

// pppoe -A and pppoe-server: the PADI is broadcast with an empty
// Service-Name, the PADO names the AC and carries a cookie.
func TestGolden_PPPoE_A_PADO(t *testing.T) { checkPPPoEA(t, pcapDir) }

func checkPPPoEA(t *testing.T, dir string) {
	ds := readDiscoveryIn(t, dir, "rp-pppoe-discovery.pcap")
	padi, pado := ds[0], ds[1]
	if !bytes.Equal(padi.Dst, broadcast) {
		t.Errorf("PADI to %v, want broadcast", padi.Dst)
	}
	if s, ok := padi.ServiceName(); !ok || s != "" {
		t.Errorf("PADI Service-Name %q, %v; want empty", s, ok)
	}
	if !bytes.Equal(pado.Dst, padi.Src) {
		t.Errorf("PADO to %v, want the host %v", pado.Dst, padi.Src)
	}
	if s, ok := pado.ACName(); !ok || s != "edgebill-ac" {
		t.Errorf("PADO AC-Name %q, %v", s, ok)
	}
	if c, ok := pado.ACCookie(); !ok || len(c) == 0 {
		t.Errorf("PADO AC-Cookie % x, %v", c, ok)
	}
}

// The whole discovery stage: Host-Uniq echoed everywhere, the cookie
// echoed in PADR, a session id in PADS and both PADTs, Generic-Error in
// the PADTs.
func TestGolden_FullDiscovery(t *testing.T) { checkFullDiscovery(t, pcapDir) }

func checkFullDiscovery(t *testing.T, dir string) {
	ds := readDiscoveryIn(t, dir, "rp-pppoe-full-discovery.pcap")
	hu, ok := ds[0].HostUniq()
	if !ok {
		t.Fatal("PADI of pppoe -U has no Host-Uniq")
	}
	for _, d := range ds[1:4] {
		if v, _ := d.HostUniq(); !bytes.Equal(v, hu) {
			t.Errorf("%v Host-Uniq % x, want % x", d.Code, v, hu)
		}
	}
	cookie, _ := ds[1].ACCookie()
	if v, ok := ds[2].ACCookie(); !ok || !bytes.Equal(v, cookie) {
		t.Errorf("PADR AC-Cookie % x, want % x", v, cookie)
	}
	sid := ds[3].SessionID
	if sid == 0 {
		t.Fatal("PADS with session 0")
	}
	for _, d := range ds[4:] {
		if d.SessionID != sid {
			t.Errorf("PADT for session %d, want %d", d.SessionID, sid)
		}
		if e, ok := d.ErrorTag(); !ok || e.Type != pppoe.TagGenericError || len(e.Value) == 0 {
			t.Errorf("PADT error tag %v, %v", e, ok)
		}
	}
	// Our PADT builder makes exactly what rp-pppoe sent.
	for i, d := range ds[4:] {
		e, _ := d.ErrorTag()
		b, err := pppoe.NewPADT(d.Dst, d.Src, d.SessionID, string(e.Value)).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := d.MarshalBinary()
		if !bytes.Equal(b, want) {
			t.Errorf("NewPADT for frame %d:\n got % x\nwant % x", i+5, b, want)
		}
	}
}

// pppoe-relay put a Relay-Session-Id first in the PADI it forwarded; the AC
// echoed it; on its client side the relay gave the host a PADO carrying its
// own Relay-Session-Id in place of the AC-side one. Our helpers rebuild
// each forwarded frame byte for byte from the one the relay received.
func TestGolden_PPPoERelay(t *testing.T) { checkPPPoERelay(t, pcapDir) }

func checkPPPoERelay(t *testing.T, dir string) {
	wan := readDiscoveryIn(t, dir, "rp-pppoe-relay-wan.pcap")
	lan := readDiscoveryIn(t, dir, "rp-pppoe-relay-lan.pcap")
	lanPADI, wanPADI, wanPADO, lanPADO := lan[0], wan[0], wan[1], lan[1]

	if _, ok := lanPADI.RelaySessionID(); ok {
		t.Error("the host's PADI already has a Relay-Session-Id")
	}
	wanID, ok := wanPADI.RelaySessionID()
	if !ok || len(wanID) == 0 || len(wanID) > pppoe.MaxRelaySessionIDLen {
		t.Fatalf("relayed PADI Relay-Session-Id % x, %v", wanID, ok)
	}
	if id, _ := wanPADO.RelaySessionID(); !bytes.Equal(id, wanID) {
		t.Errorf("the AC's PADO echoes % x, want % x", id, wanID)
	}

	// Upstream: the relay's source MAC and its tag, first.
	up := lanPADI
	up.Tags = slices.Clone(up.Tags)
	up.Src = wanPADI.Src
	if err := up.AddRelaySessionID(wanID); err != nil {
		t.Fatal(err)
	}
	// AddRelaySessionID appends, rp-pppoe puts the tag first; RFC 2516
	// allows either. Move ours first to compare bytes.
	last := len(up.Tags) - 1
	up.Tags = slices.Concat(up.Tags[last:], up.Tags[:last])
	assertSameFrame(t, "relayed PADI", &up, &wanPADI)

	// Downstream: strip the AC-side tag, put the relay's client-side one
	// back in the same place, readdress.
	lanID, ok := lanPADO.RelaySessionID()
	if !ok {
		t.Fatal("rp-pppoe's client-side PADO has no Relay-Session-Id")
	}
	down := wanPADO
	down.Tags = slices.Clone(down.Tags)
	if id, ok := down.StripRelaySessionID(); !ok || !bytes.Equal(id, wanID) {
		t.Fatalf("StripRelaySessionID() = % x, %v", id, ok)
	}
	if err := down.AddRelaySessionID(lanID); err != nil {
		t.Fatal(err)
	}
	down.Dst, down.Src = lanPADO.Dst, lanPADO.Src
	assertSameFrame(t, "relayed PADO", &down, &lanPADO)
}

func assertSameFrame(t *testing.T, what string, got, want *pppoe.Discovery) {
	t.Helper()
	g, err := got.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	w, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Errorf("%s:\n got % x\nwant % x", what, g, w)
	}
}
