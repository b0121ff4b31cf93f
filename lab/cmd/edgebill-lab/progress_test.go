package main

import (
	"bytes"
	"testing"
	"time"
)

func TestBar(t *testing.T) {
	for _, tc := range []struct {
		done, total time.Duration
		want        string
	}{
		{0, 10, "[..........]"},
		{3, 10, "[###.......]"},
		{10, 10, "[##########]"},
		{15, 10, "[##########]"},
		{5, 0, "[##########]"},
		{-1, 10, "[..........]"},
	} {
		if got := bar(tc.done, tc.total, 10); got != tc.want {
			t.Errorf("bar(%d, %d) = %s, want %s", tc.done, tc.total, got, tc.want)
		}
	}
}

func TestHumanBytesAndDuration(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 1_234_567: "1.2 MB", 5_000_000_000: "5.0 GB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{7 * time.Second: "7s", 125 * time.Second: "2m05s", time.Hour + 2*time.Minute + 3*time.Second: "1h02m03s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestProgressOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, quietEvery: time.Hour}
	p.setStatus("first")
	p.setStatus("second") // within quietEvery: not printed
	p.printf("a line\n")
	p.endStatus("done")
	p.setStatus("third") // endStatus resets the quiet period
	if got, want := buf.String(), "first\na line\ndone\nthird\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

func TestProgressOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true}
	p.setStatus("working")
	p.printf("log line\n")
	p.endStatus("✓ done")
	want := "\rworking" + "\r\033[K" + "log line\n" + "\rworking" + "\r\033[K" + "✓ done\n"
	if got := buf.String(); got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}
