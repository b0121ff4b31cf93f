package ppp

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps this package a pure codec (STYLE.md): no logger,
// database driver or socket package may be imported by its non-test
// files, and nothing may read the clock.
func TestImports(t *testing.T) {
	banned := []string{
		"go.uber.org/zap", "log", "log/slog",
		"database/sql", "github.com/jackc/pgx", "go.etcd.io/bbolt",
		"net", "syscall", "golang.org/x/sys", "github.com/mdlayher/packet", "github.com/mdlayher/socket",
		"os", "os/exec", "net/http", "layeh.com/radius",
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, clock := range []string{"time.Now", "time.Since", "time.Until", "time.After", "time.NewTimer", "time.Sleep", "time.Tick"} {
			if strings.Contains(string(src), clock) {
				t.Errorf("%s uses %s: the automaton's time is injected", name, clock)
			}
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, b := range banned {
				if path == b || strings.HasPrefix(path, b+"/") && b != "net" && b != "os" && b != "log" {
					t.Errorf("%s imports %q, which a pure rfc/ codec must not", name, path)
				}
			}
		}
	}
}
