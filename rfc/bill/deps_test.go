package bill

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the package a pure codec (STYLE.md): no I/O, no clock,
// no logging, and no rfc/tariff (a bill names its tariff, nothing more).
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"crypto/ed25519": true, "crypto/sha256": true,
		// Ed25519 verification by the cofactored equation (verify.go):
		// pure arithmetic, no I/O.
		"crypto/sha512": true, "filippo.io/edwards25519": true,
		"encoding/binary": true, "encoding/hex": true,
		"errors": true, "fmt": true, "io": true, "math": true,
		"net": true, "net/netip": true, "slices": true, "strconv": true, "time": true,
		"layeh.com/radius": true, "layeh.com/radius/rfc2865": true,
		"layeh.com/radius/rfc2866": true, "layeh.com/radius/rfc2869": true,
		// A sibling codec (checked itself by rfc/imports_test.go): the
		// Calling-Station-Id spelling every component shares.
		"github.com/edgebill/edgebill/rfc/radiusx": true,
	}
	// Functions of allowed packages that read the clock or the network.
	banned := map[string]bool{
		"time.Now": true, "time.Since": true, "time.Until": true, "time.Sleep": true,
		"time.After": true, "time.Tick": true, "time.NewTimer": true, "time.NewTicker": true,
		"net.Dial": true, "net.Listen": true, "net.ListenPacket": true,
		"net.LookupHost": true, "net.InterfaceByName": true, "net.Interfaces": true,
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
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[path] {
				t.Errorf("%s imports %q, which an rfc/ codec may not", name, path)
			}
		}
		f, err = parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && banned[id.Name+"."+sel.Sel.Name] {
				t.Errorf("%s: %s uses %s.%s", name, fset.Position(sel.Pos()), id.Name, sel.Sel.Name)
			}
			return true
		})
	}
}
