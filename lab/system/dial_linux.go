//go:build linux

package system

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgebill/edgebill/lab"
	"github.com/edgebill/edgebill/nas/client"
)

// The fixture's subscribers (testdata/sql/subscribers.sql): alice, bob
// and carol on the time, volume and peak/off-peak plans; dave in arrears
// and erin not activated, both refused.
var (
	Alice = client.Credential{User: "alice", Password: "alice-pw"}
	Bob   = client.Credential{User: "bob", Password: "bob-pw"}
	Carol = client.Credential{User: "carol", Password: "carol-pw"}
	Dave  = client.Credential{User: "dave", Password: "dave-pw"}
	Erin  = client.Credential{User: "erin", Password: "erin-pw"}
)

// Refused reports whether the fixture refuses user.
func Refused(user string) bool { return user == Dave.User || user == Erin.User }

// Plans are the fixture's plans, which AddSubscribers deals out in turn.
var Plans = []string{"plan-time", "plan-volume", "plan-peak"}

// AddSubscribers makes n more accounts in FreeRADIUS's tables, named
// prefix0001 ... with password NAME-pw, on Plans in turn, and returns
// them.
func (s *System) AddSubscribers(ctx context.Context, prefix string, n int) ([]client.Credential, error) {
	if n <= 0 {
		return nil, nil
	}
	creds := make([]client.Credential, n)
	var check, group strings.Builder
	for i := range creds {
		u := fmt.Sprintf("%s%04d", prefix, i+1)
		creds[i] = client.Credential{User: u, Password: u + "-pw"}
		if i > 0 {
			check.WriteString(",")
			group.WriteString(",")
		}
		fmt.Fprintf(&check, "('%s', 'Cleartext-Password', ':=', '%s')", u, u+"-pw")
		fmt.Fprintf(&group, "('%s', '%s', 1)", u, Plans[i%len(Plans)])
	}
	sql := "INSERT INTO radcheck (username, attribute, op, value) VALUES " + check.String() +
		"; INSERT INTO radusergroup (username, groupname, priority) VALUES " + group.String()
	if err := s.Top.PG.Exec(ctx, sql); err != nil {
		return nil, fmt.Errorf("system: subscribers: %w", err)
	}
	return creds, nil
}

// Mix returns users with a refused account (dave, then erin, in turn)
// put in place of every every'th one (every ≤ 0: none), so a run of
// dials has refusals spread through it.
func Mix(users []client.Credential, every int) []client.Credential {
	out := append([]client.Credential(nil), users...)
	if every <= 0 {
		return out
	}
	k := 0
	for i := every - 1; i < len(out); i += every {
		out[i] = []client.Credential{Dave, Erin}[k%2]
		k++
	}
	return out
}

// Dial is one pppoe-dial run on a gateway's LAN.
type Dial struct {
	// Gateway is the 1-based gateway whose LAN the subscribers are on.
	Gateway int
	// Users log in, session i as Users[i % len] (required).
	Users []client.Credential
	// Sessions (default len(Users)).
	Sessions int
	// Rate is dials per second (0: as fast as they go); Concurrency
	// bounds dials in progress (default pppoe-dial's).
	Rate        float64
	Concurrency int
	// Hold is how long each session stays up; with Duration instead,
	// pppoe-dial spreads dials over its first third and holds each a
	// third plus a random part of the next.
	Hold, Duration time.Duration
	// PPS datagrams of Size octets a second per session (to nasd's echo
	// port; it echoes them back).
	PPS  float64
	Size int
	// DropEvery drops every k-th session abruptly (no LCP Terminate, no
	// PADT) instead of hanging up.
	DropEvery int
	// MACBase is the first subscriber's MAC (default 02:eb:0G:00:00:01,
	// G the gateway).
	MACBase string
	// Timeout is each dial's setup timeout (default 30s).
	Timeout time.Duration
}

func (s *System) dialArgs(d Dial) ([]string, error) {
	if d.Gateway < 1 || d.Gateway > len(s.Gateways) {
		return nil, fmt.Errorf("system: dial on gateway %d of %d", d.Gateway, len(s.Gateways))
	}
	if len(d.Users) == 0 {
		return nil, errors.New("system: dial with no users")
	}
	if d.Sessions == 0 {
		d.Sessions = len(d.Users)
	}
	if d.MACBase == "" {
		d.MACBase = fmt.Sprintf("02:eb:%02x:00:00:01", d.Gateway)
	}
	if d.Timeout == 0 {
		d.Timeout = 30 * time.Second
	}
	var users strings.Builder
	for _, c := range d.Users {
		fmt.Fprintf(&users, "%s:%s\n", c.User, c.Password)
	}
	file := filepath.Join(s.dir, fmt.Sprintf("users-%d-%d.txt", d.Gateway, s.dials.Add(1)))
	if err := os.WriteFile(file, []byte(users.String()), 0o600); err != nil {
		return nil, err
	}
	args := []string{"-i", s.Gateway(d.Gateway).SubIf, "-users", "@" + file, "-n", strconv.Itoa(d.Sessions),
		"-mac", d.MACBase, "-restart", "1s", "-timeout", d.Timeout.String(), "-json"}
	if d.Rate > 0 {
		args = append(args, "-rate", strconv.FormatFloat(d.Rate, 'f', -1, 64))
	}
	if d.Concurrency > 0 {
		args = append(args, "-concurrency", strconv.Itoa(d.Concurrency))
	}
	if d.Duration > 0 {
		args = append(args, "-duration", d.Duration.String())
	} else {
		args = append(args, "-hold", d.Hold.String())
	}
	if d.PPS > 0 {
		args = append(args, "-pps", strconv.FormatFloat(d.PPS, 'f', -1, 64))
	}
	if d.Size > 0 {
		args = append(args, "-size", strconv.Itoa(d.Size))
	}
	if d.DropEvery > 0 {
		args = append(args, "-drop-every", strconv.Itoa(d.DropEvery))
	}
	return args, nil
}

// Dial runs pppoe-dial to the end and returns its report.
func (s *System) Dial(ctx context.Context, d Dial) (*client.Report, error) {
	args, err := s.dialArgs(d)
	if err != nil {
		return nil, err
	}
	cmd := Command(ctx, s.Top.Sub, nil, s.Bins[PkgDial], args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	rep, perr := ParseReport(out.String())
	if perr != nil {
		return nil, fmt.Errorf("system: pppoe-dial: %v (%v)\n%s", perr, err, errb.String())
	}
	return rep, nil
}

// Dialer is a pppoe-dial run in the background.
type Dialer struct {
	D *lab.Daemon
}

// StartDial starts pppoe-dial and returns at once; Wait gives its
// report. It is stopped when t ends.
func (s *System) StartDial(d Dial) *Dialer {
	s.T.Helper()
	args, err := s.dialArgs(d)
	if err != nil {
		s.T.Fatalf("%v", err)
	}
	dd := lab.StartDaemon(s.T, lab.DaemonSpec{
		Name:   fmt.Sprintf("pppoe-dial%d-%d", d.Gateway, s.dials.Load()),
		Path:   s.Bins[PkgDial],
		Netns:  s.Top.Sub,
		Args:   args,
		LogMax: 64 << 20, // the JSON report is kept whole
	})
	return &Dialer{D: dd}
}

// Wait waits for the run to end and returns its report.
func (d *Dialer) Wait(ctx context.Context) (*client.Report, error) {
	err := d.D.Wait(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	rep, perr := ParseReport(d.D.RunLog())
	if perr != nil {
		return nil, fmt.Errorf("system: pppoe-dial: %v (exit %v)\n%s", perr, err, d.D.RunLog())
	}
	return rep, nil
}

// ParseReport reads pppoe-dial's -json report out of its output.
func ParseReport(out string) (*client.Report, error) {
	i := strings.Index(out, "{")
	j := strings.LastIndex(out, "}")
	if i < 0 || j < i {
		return nil, errors.New("no JSON report in the output")
	}
	var rep client.Report
	if err := json.Unmarshal([]byte(out[i:j+1]), &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}
