package pppoe_test

// The rfc/ packages are pure codecs (STYLE.md): no logger, no database,
// no sockets or system calls. This test holds rfc/pppoe to that, the idea
// of tailscale's tstest/deptest. importViolations and codecDenyList are
// self-contained so they can move to internal/ and serve every rfc/
// package unchanged.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/edgebill/edgebill/internal/testenv"
)

// codecDenyList is what a codec may not reach. An entry matches the
// package itself and every package below it. `net` is allowed, for
// net.HardwareAddr and netip, though it makes system calls itself.
var codecDenyList = []string{
	// loggers
	"log", "log/slog", "log/syslog",
	"go.uber.org/zap", "github.com/sirupsen/logrus", "github.com/rs/zerolog",
	// database drivers and stores
	"database/sql", "github.com/jackc/pgx", "github.com/jackc/pgconn", "github.com/lib/pq",
	"go.etcd.io/bbolt",
	// sockets, system calls, processes
	"syscall", "golang.org/x/sys", "golang.org/x/net",
	"github.com/mdlayher/packet", "github.com/mdlayher/socket", "github.com/mdlayher/raw",
	"net/http", "net/rpc", "net/smtp", "os/exec", "os/signal",
}

func TestImports(t *testing.T) {
	bad, err := importViolations(t, ".", codecDenyList)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("forbidden import: %s", b)
	}
}

// The checker itself finds a forbidden import, through a chain.
func TestImportViolationsFindsOne(t *testing.T) {
	bad, err := importViolations(t, "net/http", []string{"log", "nosuch/pkg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) == 0 || !strings.Contains(bad[0], "net/http -> ") || !strings.HasSuffix(bad[0], " -> log") {
		t.Errorf("importViolations(net/http, [log]) = %q, want a chain ending in log", bad)
	}
}

// importViolations returns, for each package in deny that pkg (a go list
// pattern naming one package; "." is the package under test) reaches, the
// import chain that reaches it ("a -> b -> log"). Test files are not
// counted. Standard-library packages other than pkg are leaves: what they
// import (net imports syscall) is the Go team's business, so using net is
// allowed while importing syscall is not.
func importViolations(t *testing.T, pkg string, deny []string) ([]string, error) {
	t.Helper()
	goBin, err := exec.LookPath("go") // go test puts GOROOT/bin first on PATH
	if err != nil {
		testenv.Missing(t, "the go command on PATH")
	}
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-deps", "-json=ImportPath,Standard,Imports,DepOnly", pkg)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("go list %s: %v\n%s", pkg, err, ee.Stderr)
		}
		return nil, fmt.Errorf("go list %s: %v", pkg, err)
	}

	type listed struct {
		ImportPath string
		Standard   bool
		Imports    []string
		DepOnly    bool
	}
	all := map[string]listed{}
	var root string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list output: %v", err)
		}
		all[p.ImportPath] = p
		if !p.DepOnly {
			if root != "" {
				return nil, fmt.Errorf("pattern %q names more than one package", pkg)
			}
			root = p.ImportPath
		}
	}
	if root == "" {
		return nil, fmt.Errorf("pattern %q names no package", pkg)
	}

	denied := func(path string) bool {
		return slices.ContainsFunc(deny, func(d string) bool {
			return path == d || strings.HasPrefix(path, d+"/")
		})
	}
	parent := map[string]string{root: ""}
	chain := func(p string) string {
		var c []string
		for ; p != ""; p = parent[p] {
			c = append(c, p)
		}
		slices.Reverse(c)
		return strings.Join(c, " -> ")
	}
	var bad []string
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if denied(p) {
			bad = append(bad, chain(p))
			continue
		}
		if info := all[p]; p == root || !info.Standard {
			for _, imp := range info.Imports {
				if _, seen := parent[imp]; !seen {
					parent[imp] = p
					queue = append(queue, imp)
				}
			}
		}
	}
	return bad, nil
}
