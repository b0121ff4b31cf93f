// Package testenv decides what a test does when something it needs from
// the machine (root, a binary, Postgres, FreeRADIUS) is missing: skip
// with a clear reason on a developer's laptop, fail loudly when
// EDGEBILL_REQUIRE_ALL=1 (as .ci/run sets it); and it holds the small
// helpers every product's tests share (Buffer). It lives in internal/
// because every product's tests use it and it is no wire contract.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// RequireAllEnv is the variable that turns every skip for a missing
// prerequisite into a failure.
const RequireAllEnv = "EDGEBILL_REQUIRE_ALL"

// RequireAll reports whether missing prerequisites must fail tests.
func RequireAll() bool { return os.Getenv(RequireAllEnv) == "1" }

// Missing stops the test because what is missing: it fails the test when
// RequireAll, skips it otherwise. It names what is missing either way.
func Missing(t testing.TB, what string) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("prerequisite missing (%s=1 makes this fatal): %s", RequireAllEnv, what)
	}
	t.Skipf("prerequisite missing: %s", what)
}

// Root stops the test unless it runs as root (namespaces, AF_PACKET).
func Root(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "root (network namespaces and raw sockets need it)")
	}
}

// Binary returns the path of the named program, or stops the test when it
// is not on PATH (extra directories may be given, e.g. /usr/sbin).
func Binary(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/lib/postgresql/15/bin"} {
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	Missing(t, "program "+name+" (run `make deps`)")
	return ""
}

// Short stops a long test under -short; unlike Missing it never fails,
// since -short is the developer's own choice.
func Short(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipped under -short: %s", why)
	}
}
