package pppoe_test

// A tiny reader and writer for classic pcap files (not pcapng), enough for
// the golden captures and the tshark test: no new module needed.

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
)

const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
	linkEthernet   = 1
)

// readPcap returns the frames of a classic pcap file with Ethernet link
// type. It fails the test on anything else, or on a truncated record.
func readPcap(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	frames, err := parsePcap(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return frames
}

func parsePcap(data []byte) ([][]byte, error) {
	if len(data) < 24 {
		return nil, fmt.Errorf("pcap: %d-octet file has no global header: %w", len(data), io.ErrUnexpectedEOF)
	}
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(data) == pcapMagicMicro, binary.LittleEndian.Uint32(data) == pcapMagicNano:
		order = binary.LittleEndian
	case binary.BigEndian.Uint32(data) == pcapMagicMicro, binary.BigEndian.Uint32(data) == pcapMagicNano:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("pcap: magic %#08x is not classic pcap", binary.LittleEndian.Uint32(data))
	}
	if lt := order.Uint32(data[20:]); lt != linkEthernet {
		return nil, fmt.Errorf("pcap: link type %d, want Ethernet (1)", lt)
	}
	var frames [][]byte
	for p := data[24:]; len(p) > 0; {
		if len(p) < 16 {
			return nil, fmt.Errorf("pcap: record header truncated: %w", io.ErrUnexpectedEOF)
		}
		incl, orig := order.Uint32(p[8:]), order.Uint32(p[12:])
		if incl != orig {
			return nil, fmt.Errorf("pcap: frame %d cut to %d of %d octets", len(frames)+1, incl, orig)
		}
		if uint64(incl) > uint64(len(p)-16) {
			return nil, fmt.Errorf("pcap: frame %d truncated: %w", len(frames)+1, io.ErrUnexpectedEOF)
		}
		frames = append(frames, p[16:16+incl])
		p = p[16+incl:]
	}
	return frames, nil
}

// writePcap writes frames to a new classic pcap file (little endian,
// microseconds, Ethernet), one second apart.
func writePcap(t *testing.T, path string, frames [][]byte) {
	t.Helper()
	b := make([]byte, 24, 1024)
	binary.LittleEndian.PutUint32(b[0:], pcapMagicMicro)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 65535)
	binary.LittleEndian.PutUint32(b[20:], linkEthernet)
	for i, f := range frames {
		var h [16]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(1_700_000_000+i))
		binary.LittleEndian.PutUint32(h[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(h[12:], uint32(len(f)))
		b = append(b, h[:]...)
		b = append(b, f...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPcapReader checks the reader against a file the writer made, so the
// golden tests stand on a tested reader.
func TestPcapReader(t *testing.T) {
	path := t.TempDir() + "/x.pcap"
	want := [][]byte{{1, 2, 3}, {}, {4, 5}}
	writePcap(t, path, want)
	got := readPcap(t, path)
	if len(got) != len(want) {
		t.Fatalf("read %d frames, want %d", len(got), len(want))
	}
	for i := range want {
		if string(got[i]) != string(want[i]) {
			t.Errorf("frame %d = % x, want % x", i, got[i], want[i])
		}
	}
	data, _ := os.ReadFile(path)
	if _, err := parsePcap(data[:len(data)-1]); err == nil {
		t.Error("truncated file parsed without error")
	}
}

// mustHex decodes "% x" style hex, spaces and newlines ignored.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mac parses a MAC address or fails the test.
func mac(t testing.TB, s string) net.HardwareAddr {
	t.Helper()
	a, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
