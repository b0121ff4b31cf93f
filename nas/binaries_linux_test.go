//go:build linux

package nas_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgebill/edgebill/internal/testenv"
	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/nas/client"
)

// buildBinaries builds nasd and pppoe-dial into a temporary folder.
func buildBinaries(t *testing.T) (nasd, dial string) {
	t.Helper()
	goBin := testenv.Binary(t, "go")
	dir := t.TempDir()
	for _, pkg := range []string{"nasd", "pppoe-dial"} {
		cmd := exec.Command(goBin, "build", "-o", filepath.Join(dir, pkg), "./cmd/"+pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return filepath.Join(dir, "nasd"), filepath.Join(dir, "pppoe-dial")
}

// The real binaries: nasd from a configuration file in namespace isp,
// pppoe-dial in namespace sub, FreeRADIUS beside nasd.
func TestBinariesEndToEnd(t *testing.T) {
	t.Parallel()
	l := newISPLab(t)
	nasdBin, dialBin := buildBinaries(t)
	lab.Veth(t, l.sub, "eth0", "", l.isp, "eth0", "")

	conf := filepath.Join(t.TempDir(), "nasd.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprint(`# written by TestBinariesEndToEnd
interface = eth0
ac_name = binary-nasd
auth = pap
restart_timer = 1s
radius_irt = 500ms
radius_mrt = 1s
coa_listen = 127.0.0.1:3799
coa_secret = coa-secret
status_listen = 127.0.0.1:8079
tick = 20ms
`)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := run(t, l.isp, 10*time.Second, "", nasdBin, "check", "-config", conf); !strings.Contains(out, "ok (interface \"eth0\", auth pap)") {
		t.Fatalf("nasd check: %s", out)
	}
	var nasdLog testenv.Buffer
	// RADIUS and the interim from flags, the rest from the file.
	cmd := exec.Command("ip", "netns", "exec", l.isp.Name, nasdBin, "-config", conf, "-log-level", "info",
		"-radius-auth", l.fr.AuthAddr, "-radius-acct", l.fr.AcctAddr, "-radius-secret", l.fr.NASSecret, "-set", "interim_override=1s")
	cmd.Stdout, cmd.Stderr = &nasdLog, &nasdLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		if t.Failed() {
			t.Logf("nasd log:\n%s", nasdLog.String())
		}
	})
	waitFor(t, 10*time.Second, "nasd ready", func() bool { return strings.Contains(nasdLog.String(), "nasd ready") })
	waitFor(t, 10*time.Second, "nasd status listing", func() bool {
		return strings.HasPrefix(strings.TrimSpace(run(t, l.isp, 5*time.Second, "", nasdBin, "status", "-addr", "127.0.0.1:8079")), "[")
	})

	// Three subscribers at once: two come up, one is refused.
	out := run(t, l.sub, 60*time.Second, "", dialBin, "-i", "eth0", "-users", "alice:alice-pw,bob:bob-pw,dave:dave-pw",
		"-n", "3", "-mac", "02:70:00:00:00:01", "-hold", "2500ms", "-pps", "20", "-size", "300", "-restart", "1s", "-json")
	var rep client.Report
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &rep); err != nil {
		t.Fatalf("pppoe-dial output: %v\n%s", err, out)
	}
	if rep.Up != 2 || rep.Failed != 1 || rep.SetupRate <= 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, s := range rep.PerSess {
		if s.User == "dave" {
			if s.Error != "refused" || s.Message != "Account in arrears: please pay your bill" {
				t.Errorf("dave: %+v", s)
			}
			continue
		}
		mac, _ := net.ParseMAC(s.MAC)
		row := l.stoppedRow(s.User, mac, 15*time.Second)
		if row.In != int64(s.TxOctets) || row.Out != int64(s.RxOctets) || s.TxOctets < 40*300 || !row.Interim {
			t.Errorf("%s: radacct %+v, pppoe-dial %+v", s.User, row, s)
		}
	}

	// One subscriber interactively: the refusal is printed with its
	// Reply-Message; and one comes up and reports its address.
	out = run(t, l.sub, 30*time.Second, "", dialBin, "-i", "eth0", "-user", "erin", "-password", "erin-pw", "-restart", "1s")
	if !strings.Contains(out, "refused: Account not yet activated") {
		t.Fatalf("pppoe-dial erin:\n%s", out)
	}
	out = run(t, l.sub, 30*time.Second, "", dialBin, "-i", "eth0", "-user", "carol", "-password", "carol-pw", "-restart", "1s", "-hold", "200ms")
	if !strings.Contains(out, "carol: session") || !strings.Contains(out, "address 100.64.") {
		t.Fatalf("pppoe-dial carol:\n%s", out)
	}
	t.Logf("pppoe-dial carol:\n%s", out)

	stats := run(t, l.isp, 5*time.Second, "", nasdBin, "status", "-addr", "127.0.0.1:8079", "-stats")
	var st struct {
		SessionsUp uint64 `json:"sessions_up"`
		AuthReject uint64 `json:"auth_reject"`
	}
	if err := json.Unmarshal([]byte(stats), &st); err != nil || st.SessionsUp != 3 || st.AuthReject != 2 {
		t.Fatalf("nasd status -stats: %v\n%s", err, stats)
	}

	// SIGTERM: a clean shutdown.
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("nasd exited with %v\n%s", err, nasdLog.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nasd did not exit on SIGTERM")
	}
	if !strings.Contains(nasdLog.String(), "nasd stopped") {
		t.Fatalf("nasd log:\n%s", nasdLog.String())
	}
}
