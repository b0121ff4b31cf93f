//go:build linux

package lab

import (
	"os/exec"
	"testing"
)

// startProcess may itself fork through startOnSpawnThread (the fix
// proposed for proc_linux.go): startPinnedProcess must not deadlock then.
func TestSpawnThreadNested(t *testing.T) {
	var err error
	onSpawnThread(func() {
		err = startOnSpawnThread(exec.Command("/bin/true"))
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := startPinnedProcess("true", exec.Command("/bin/true"), &logBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	<-p.done
	if p.err != nil {
		t.Fatal(p.err)
	}
}
