package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
)

// T is what the lab's builders need from their caller: a test
// (*testing.T and *testing.B satisfy it) or a program that is not a test,
// such as the demo (*Harness satisfies it). Fatalf must not return: a test
// ends its goroutine, a Harness does the same inside Harness.Do.
//
// testing.TB itself cannot be implemented outside package testing (it has
// a private method), hence this smaller interface.
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	Logf(format string, args ...any)
	Failed() bool
	TempDir() string
}

var (
	_ T = (testing.TB)(nil)
	_ T = (*Harness)(nil)
)

// asTB gives the helpers that still take a testing.TB (StartPostgres,
// StartFreeRADIUS, NewNetns, Veth) something to take when the caller is
// not a test. A testing.TB passes through unchanged.
//
// The shim embeds a nil testing.TB only to carry the interface's private
// method; every exported method is defined here in terms of T, so the nil
// is never reached. Once those helpers take a T, this goes away.
func asTB(t T) testing.TB {
	if tb, ok := t.(testing.TB); ok {
		return tb
	}
	return tbShim{t: t}
}

type tbShim struct {
	testing.TB // nil: never called, see asTB
	t          T
}

func (s tbShim) Helper()                           {}
func (s tbShim) Cleanup(f func())                  { s.t.Cleanup(f) }
func (s tbShim) Failed() bool                      { return s.t.Failed() }
func (s tbShim) TempDir() string                   { return s.t.TempDir() }
func (s tbShim) Logf(format string, args ...any)   { s.t.Logf(format, args...) }
func (s tbShim) Log(args ...any)                   { s.t.Logf("%s", fmt.Sprint(args...)) }
func (s tbShim) Fatalf(format string, args ...any) { s.t.Fatalf(format, args...) }
func (s tbShim) Fatal(args ...any)                 { s.t.Fatalf("%s", fmt.Sprint(args...)) }
func (s tbShim) Error(args ...any)                 { s.t.Fatalf("%s", fmt.Sprint(args...)) }
func (s tbShim) Errorf(format string, args ...any) {
	s.t.Fatalf(format, args...)
}
func (s tbShim) Fail()    { s.t.Fatalf("lab: failed") }
func (s tbShim) FailNow() { s.t.Fatalf("lab: failed") }

// A program has no "skip": what a test would skip for (no root, no
// freeradius) is fatal to the demo, unless t can skip.
func (s tbShim) Skipf(format string, args ...any) {
	if sk, ok := s.t.(interface{ Skipf(string, ...any) }); ok {
		sk.Skipf(format, args...)
	}
	s.t.Fatalf(format, args...)
}
func (s tbShim) Skip(args ...any)         { s.Skipf("%s", fmt.Sprint(args...)) }
func (s tbShim) SkipNow()                 { s.Skipf("lab: skipped") }
func (s tbShim) Skipped() bool            { return false }
func (s tbShim) Name() string             { return "edgebill-lab" }
func (s tbShim) Setenv(key, value string) { _ = os.Setenv(key, value) }
func (s tbShim) Chdir(dir string)         { _ = os.Chdir(dir) }
func (s tbShim) Attr(key, value string)   {}
func (s tbShim) ArtifactDir() string      { return s.t.TempDir() }
func (s tbShim) Context() context.Context { return context.Background() }
func (s tbShim) Output() io.Writer        { return logfWriter{s.t} }

type logfWriter struct{ t T }

func (w logfWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}
