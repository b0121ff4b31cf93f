package lab

import (
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// builds caches what Build made, for the life of the process: a test
// binary builds each daemon once however many tests start it. (Package
// state, against the style guide's habit, because the cache must outlive
// every single test; RemoveBuilds empties it.)
var builds struct {
	sync.Mutex
	dir   string
	built map[string]string // package -> binary path
}

const buildDirPrefix = "edgebill-lab-bin-"

// Build builds the main packages pkgs (module-relative, e.g.
// "./nas/cmd/nasd") with `go build -o DIR/`, once per process, and returns
// each binary's path by package. DIR is a folder under os.TempDir named
// after this process; RemoveBuilds (or the next process's first Build,
// once this process has ended) removes it.
func Build(t T, pkgs ...string) map[string]string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	if builds.dir == "" {
		removeStaleBuilds()
		d, err := os.MkdirTemp("", buildDirPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			t.Fatalf("lab: %v", err)
		}
		builds.dir = d
		builds.built = map[string]string{}
	}
	var missing []string
	for _, p := range pkgs {
		if _, ok := builds.built[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		args := append([]string{"build", "-o", builds.dir + "/"}, missing...)
		cmd := exec.CommandContext(ctx, goTool(), args...)
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("lab: go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		for _, p := range missing {
			builds.built[p] = filepath.Join(builds.dir, path.Base(p))
		}
	}
	out := make(map[string]string, len(pkgs))
	for _, p := range pkgs {
		out[p] = builds.built[p]
	}
	return out
}

// RemoveBuilds deletes what Build made in this process (call it from
// TestMain after m.Run, or at a program's exit).
func RemoveBuilds() {
	builds.Lock()
	defer builds.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.dir = ""
	builds.built = nil
}

// removeStaleBuilds removes build folders of processes that have ended.
func removeStaleBuilds() {
	ents, _ := os.ReadDir(os.TempDir())
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), buildDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pid, _, _ := strings.Cut(rest, "-")
		if n, err := strconv.Atoi(pid); err != nil || n == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // still running
		}
		os.RemoveAll(filepath.Join(os.TempDir(), e.Name()))
	}
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
