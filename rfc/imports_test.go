package rfc

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// forbidden are imports an rfc/ codec must not have, directly or not: no
// logger, no database driver, no socket or system-call package. net is
// allowed for net.HardwareAddr and netip.
var forbidden = []string{
	"go.uber.org/zap",
	"github.com/jackc/pgx",
	"database/sql",
	"github.com/mdlayher/packet",
	"github.com/mdlayher/socket",
	"syscall",
	"golang.org/x/sys",
	"net/http",
	"os/exec",
	"go.etcd.io/bbolt",
}

func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		n++
		for _, imp := range p.Imports {
			for _, bad := range forbidden {
				if imp == bad || strings.HasPrefix(imp, bad+"/") {
					t.Errorf("%s imports %s: rfc/ packages are pure codecs", p.ImportPath, imp)
				}
			}
		}
	}
	if n < 2 {
		t.Fatalf("go list found %d packages under rfc/", n)
	}
}
