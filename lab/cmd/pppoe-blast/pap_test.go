//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/bpf"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/lab/pppoeblast"
)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
)

// RFC 1334 §2.2.1: an Authenticate-Request in a PPPoE session frame
// (RFC 2516 §4), appended onto a prefix, parses back.
func TestPAPFrameRoundTrip(t *testing.T) {
	data := []byte{5, 'a', 'l', 'i', 'c', 'e', 2, 'p', 'w'}
	prefix := []byte{0xee}
	b := appendPAP(prefix, macA, macB, 0x1234, papRequest, 7, data)
	if !bytes.Equal(b[:1], prefix) {
		t.Fatal("prefix overwritten")
	}
	// Ethernet, PPPoE (LENGTH 15 = protocol 2 + PAP 13), PPP 0xc023,
	// PAP code 1 id 7 length 13, Peer-ID "alice", Passwd "pw".
	want := "02 00 00 00 00 0a 02 00 00 00 00 0b 88 64 11 00 12 34 00 0f c0 23 01 07 00 0d 05 61 6c 69 63 65 02 70 77"
	if got := fmt.Sprintf("% x", b[1:]); got != want {
		t.Errorf("frame\n got %s\nwant %s", got, want)
	}
	p, ok := parsePAP(b[1:])
	if !ok {
		t.Fatal("does not parse")
	}
	got := []any{p.dst.String(), p.src.String(), p.session, p.code, p.id, p.data}
	if diff := cmp.Diff([]any{macA.String(), macB.String(), uint16(0x1234), byte(papRequest), byte(7), data}, got); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	for n := 0; n < len(b)-1; n++ {
		if _, ok := parsePAP(b[1 : 1+n]); ok {
			t.Errorf("truncated to %d octets: parses", n)
		}
	}
	bad := bytes.Clone(b[1:])
	bad[24], bad[25] = 0xff, 0xff // PAP length past PPPoE LENGTH
	if _, ok := parsePAP(bad); ok {
		t.Error("PAP length past the frame: parses")
	}
}

// The socket filter admits PAP session frames only: not the blasted IP
// frames, not discovery.
func TestPAPFilter(t *testing.T) {
	raw, err := papFilter()
	if err != nil {
		t.Fatal(err)
	}
	ins := make([]bpf.Instruction, len(raw))
	for i, r := range raw {
		ins[i] = r.Disassemble()
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		frame []byte
		pass  bool
	}{
		{"PAP", appendPAP(nil, macA, macB, 1, papAck, 1, []byte{0}), true},
		{"IP", pppoeblast.AppendSessionFrame(nil, macA, macB, 1, 64, 0), false},
		{"PADI", pppoeblast.AppendDiscovery(nil, pppoeblast.Broadcast, macB, pppoeblast.CodePADI, 0, nil), false},
	} {
		n, err := vm.Run(c.frame)
		if err != nil {
			t.Fatal(err)
		}
		if (n > 0) != c.pass {
			t.Errorf("%s: filter returned %d", c.name, n)
		}
	}
}

// A PAP login over a veth pair, both ends in namespaces: the acker
// answers, papLogin returns; a wrong session's answer is ignored.
func TestPAPLoginOverVeth(t *testing.T) {
	testenv.Short(t, "makes network namespaces")
	testenv.Root(t)
	a, b := lab.NewNetns(t, "ebpapa"), lab.NewNetns(t, "ebpapb")
	lab.Veth(t, a, "eth0", "", b, "eth0", "")
	macAC, err := b.HardwareAddr("eth0")
	if err != nil {
		t.Fatal(err)
	}
	macHost, err := a.HardwareAddr("eth0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	acker := &papAcker{mac: macAC}
	if err := b.Do(func() (err error) {
		acker.c, err = openPAP("eth0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer acker.c.Close()
	done := make(chan error, 1)
	actx, acancel := context.WithCancel(ctx)
	go func() { done <- acker.run(actx) }()

	s := pppoeblast.Session{ID: 0x4242, Local: macHost, Peer: macAC}
	if err := a.Do(func() error { return papLogin(ctx, "eth0", s, "alice", "alice-pw") }); err != nil {
		t.Fatalf("papLogin: %v", err)
	}
	acancel()
	if err := <-done; err != nil {
		t.Fatalf("acker: %v", err)
	}
	if n := acker.requests.Load(); n < 1 {
		t.Errorf("acker saw %d requests", n)
	}
	// No acker: no answer, an error after the tries (shortened by ctx).
	short, scancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer scancel()
	err = a.Do(func() error { return papLogin(short, "eth0", s, "alice", "alice-pw") })
	if err == nil || errors.Is(err, errRefused) {
		t.Errorf("papLogin with nobody answering: %v", err)
	}
}
