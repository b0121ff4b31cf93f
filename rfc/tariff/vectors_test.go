package tariff

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const vectorFile = "../../testdata/tariff/vectors.txt"

type vector struct {
	name   string
	line   int // in the file, for messages
	tariff string
	usage  Usage
	lines  []string
	total  int64
	err    error
}

var vectorErrors = map[string]error{
	"ErrStopBeforeStart": ErrStopBeforeStart,
	"ErrOverflow":        ErrOverflow,
	"ErrTooLong":         ErrTooLong,
}

// readVectors reads the hand-written table (format in its header).
func readVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []vector
		cur  *vector
		seen = map[string]bool{}
		keys = map[string]bool{}
	)
	finish := func() {
		if cur == nil {
			return
		}
		for _, k := range []string{"case", "tariff", "start", "stop"} {
			if !keys[k] {
				t.Fatalf("%s:%d: case %q has no %s", vectorFile, cur.line, cur.name, k)
			}
		}
		if keys["total"] == keys["error"] {
			t.Fatalf("%s:%d: case %q needs exactly one of total and error", vectorFile, cur.line, cur.name)
		}
		out = append(out, *cur)
		cur, keys = nil, map[string]bool{}
	}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") {
			continue
		}
		if text == "" {
			finish()
			continue
		}
		key, val, ok := strings.Cut(text, ":")
		if !ok {
			t.Fatalf("%s:%d: want key: value", vectorFile, n)
		}
		val = strings.TrimSpace(val)
		if cur == nil {
			if key != "case" {
				t.Fatalf("%s:%d: a case begins with case:", vectorFile, n)
			}
			cur = &vector{line: n}
		}
		if key != "line" && keys[key] {
			t.Fatalf("%s:%d: %s given twice", vectorFile, n, key)
		}
		keys[key] = true
		bad := func(err error) {
			if err != nil {
				t.Fatalf("%s:%d: %s: %v", vectorFile, n, key, err)
			}
		}
		switch key {
		case "case":
			if seen[val] {
				t.Fatalf("%s:%d: case %q given twice", vectorFile, n, val)
			}
			seen[val] = true
			cur.name = val
		case "tariff":
			cur.tariff = val
		case "start":
			cur.usage.Start, err = time.Parse(time.RFC3339Nano, val)
			bad(err)
		case "stop":
			cur.usage.Stop, err = time.Parse(time.RFC3339Nano, val)
			bad(err)
		case "in":
			cur.usage.In, err = strconv.ParseUint(val, 10, 64)
			bad(err)
		case "out":
			cur.usage.Out, err = strconv.ParseUint(val, 10, 64)
			bad(err)
		case "line":
			cur.lines = append(cur.lines, val)
		case "total":
			cur.total, err = strconv.ParseInt(val, 10, 64)
			bad(err)
		case "error":
			e, ok := vectorErrors[val]
			if !ok {
				t.Fatalf("%s:%d: unknown error %q", vectorFile, n, val)
			}
			cur.err = e
		default:
			t.Fatalf("%s:%d: unknown key %q", vectorFile, n, key)
		}
	}
	bad := sc.Err()
	if bad != nil {
		t.Fatal(bad)
	}
	finish()
	return out
}

func TestVectors(t *testing.T) {
	vs := readVectors(t)
	if len(vs) < 40 {
		t.Fatalf("%d vectors, want at least 40", len(vs))
	}
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			tf, err := Parse(v.tariff)
			if err != nil {
				t.Fatalf("%s:%d: %v", vectorFile, v.line, err)
			}
			c, err := tf.Price(v.usage)
			if v.err != nil {
				if !errors.Is(err, v.err) {
					t.Fatalf("Price: got error %v, want %v", err, v.err)
				}
				m := tf.NewMeter(v.usage.Start)
				if _, err := m.Update(v.usage.Stop, v.usage.In, v.usage.Out); v.err != ErrStopBeforeStart && !errors.Is(err, v.err) {
					t.Errorf("Meter: got error %v, want %v", err, v.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Price: %v", err)
			}
			var got []string
			var sum int64
			for _, l := range c.Lines {
				got = append(got, l.String())
				sum += l.Amount
			}
			if diff := cmp.Diff(v.lines, got); diff != "" {
				t.Errorf("%s:%d: lines (-want +got):\n%s", vectorFile, v.line, diff)
			}
			if c.Total != v.total {
				t.Errorf("%s:%d: total %d, want %d", vectorFile, v.line, c.Total, v.total)
			}
			if sum != c.Total {
				t.Errorf("lines sum to %d, total is %d", sum, c.Total)
			}
			if total, err := tf.Total(v.usage); err != nil || total != v.total {
				t.Errorf("Total = %d, %v; want %d", total, err, v.total)
			}
			// The meter, fed the whole session at once and in steps,
			// ends at the same charge.
			m := tf.NewMeter(v.usage.Start)
			if got, err := m.Update(v.usage.Stop, v.usage.In, v.usage.Out); err != nil || got != v.total {
				t.Errorf("Meter in one update = %d, %v; want %d", got, err, v.total)
			}
			// The canonical text prices the same.
			tf2, err := Parse(tf.String())
			if err != nil {
				t.Fatalf("Parse(String()): %v", err)
			}
			if !tf2.Equal(tf) {
				t.Errorf("Parse(String()) differs: %s", tf2)
			}
		})
	}
}
