package tariff

import (
	goparser "go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoFloat: pricing uses integers only. No file of the package,
// tests included, names a floating-point type.
func TestNoFloat(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, needle := range []string{"float" + "32", "float" + "64", "complex" + "64", "complex" + "128"} {
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), needle) {
				t.Errorf("%s mentions %s", f, needle)
			}
		}
	}
}

// TestImports: an rfc/ package is a codec: no sockets, no files, no
// clock reads beyond the zone database, no logging.
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"errors": true, "fmt": true, "math": true, "math/bits": true, "slices": true,
		"strconv": true, "strings": true, "time": true, "time/tzdata": true,
		"layeh.com/radius": true, "github.com/edgebill/edgebill/rfc/radiusx/ebattr": true,
	}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, name, nil, goparser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}

// TestNoClock: nothing in the package reads the clock.
func TestNoClock(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(name)
		if strings.Contains(string(b), "time.Now(") || strings.Contains(string(b), "time.Since(") {
			t.Errorf("%s reads the clock", name)
		}
	}
}
