package ppp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rfc1661Table is RFC 1661 §4.1 copied cell by cell as the RFC prints it
// ("action,action/state", footnote letters included, "-" for an illegal
// event), one row per event, columns Initial..Opened (0-9). It is written
// independently of the implementation's table.
var rfc1661Table = []struct {
	event Event
	cells [numStates]string
}{
	{EventUp, [...]string{"2", "irc,scr/6", "-", "-", "-", "-", "-", "-", "-", "-"}},
	{EventDown, [...]string{"-", "-", "0", "tls/1", "0", "1", "1", "1", "1", "tld/1"}},
	{EventOpen, [...]string{"tls/1", "1", "irc,scr/6", "3r", "5r", "5r", "6", "7", "8", "9r"}},
	{EventClose, [...]string{"0", "tlf/0", "2", "2", "4", "4", "irc,str/4", "irc,str/4", "irc,str/4", "tld,irc,str/4"}},
	{EventTOPlus, [...]string{"-", "-", "-", "-", "str/4", "str/5", "scr/6", "scr/6", "scr/8", "-"}},
	{EventTOMinus, [...]string{"-", "-", "-", "-", "tlf/2", "tlf/3", "tlf/3p", "tlf/3p", "tlf/3p", "-"}},
	{EventRCRPlus, [...]string{"-", "-", "sta/2", "irc,scr,sca/8", "4", "5", "sca/8", "sca,tlu/9", "sca/8", "tld,scr,sca/8"}},
	{EventRCRMinus, [...]string{"-", "-", "sta/2", "irc,scr,scn/6", "4", "5", "scn/6", "scn/7", "scn/6", "tld,scr,scn/6"}},
	{EventRCA, [...]string{"-", "-", "sta/2", "sta/3", "4", "5", "irc/7", "scr/6x", "irc,tlu/9", "tld,scr/6x"}},
	{EventRCN, [...]string{"-", "-", "sta/2", "sta/3", "4", "5", "irc,scr/6", "scr/6x", "irc,scr/8", "tld,scr/6x"}},
	{EventRTR, [...]string{"-", "-", "sta/2", "sta/3", "sta/4", "sta/5", "sta/6", "sta/6", "sta/6", "tld,zrc,sta/5"}},
	{EventRTA, [...]string{"-", "-", "2", "3", "tlf/2", "tlf/3", "6", "6", "8", "tld,scr/6"}},
	{EventRUC, [...]string{"-", "-", "scj/2", "scj/3", "scj/4", "scj/5", "scj/6", "scj/7", "scj/8", "scj/9"}},
	{EventRXJPlus, [...]string{"-", "-", "2", "3", "4", "5", "6", "6", "8", "9"}},
	{EventRXJMinus, [...]string{"-", "-", "tlf/2", "tlf/3", "tlf/2", "tlf/3", "tlf/3", "tlf/3", "tlf/3", "tld,irc,str/5"}},
	{EventRXR, [...]string{"-", "-", "2", "3", "4", "5", "6", "7", "8", "ser/9"}},
}

// formatKinds renders kinds as the RFC writes them, e.g. "irc,scr".
func formatKinds(kinds []ActionKind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = k.String()
	}
	return strings.Join(s, ",")
}

// parseCell reads an RFC table cell into its actions and next state.
func parseCell(t *testing.T, cell string) (acts []ActionKind, next State, legal bool) {
	t.Helper()
	if cell == "-" {
		return nil, 0, false
	}
	st := cell
	if i := strings.LastIndexByte(cell, '/'); i >= 0 {
		for _, name := range strings.Split(cell[:i], ",") {
			k := ActionKind(0)
			for c := ActionTLU; c < numActions; c++ {
				if c.String() == name {
					k = c
				}
			}
			if k == 0 {
				t.Fatalf("cell %q: unknown action %q", cell, name)
			}
			acts = append(acts, k)
		}
		st = cell[i+1:]
	}
	st = strings.TrimRight(st, "prx") // footnotes
	n, err := strconv.Atoi(st)
	if err != nil {
		t.Fatalf("cell %q: %v", cell, err)
	}
	return acts, State(n), true
}

func TestRFC1661TableIsComplete(t *testing.T) {
	seen := map[Event]bool{}
	for _, row := range rfc1661Table {
		seen[row.event] = true
	}
	for e := EventUp; e < numEvents; e++ {
		if !seen[e] {
			t.Errorf("event %v missing from the test table", e)
		}
	}
}

// Test_RFC1661_4_1_Transition checks the implementation's table, cell by
// cell, against the RFC's.
func Test_RFC1661_4_1_Transition(t *testing.T) {
	for _, row := range rfc1661Table {
		for s := State(0); s < numStates; s++ {
			wantActs, wantNext, wantLegal := parseCell(t, row.cells[s])
			next, acts, legal := Transition(s, row.event)
			if legal != wantLegal || (legal && (next != wantNext || !cmp.Equal(acts, wantActs))) {
				t.Errorf("%v in %v: got %s/%d legal=%v, want %s", row.event, s, formatKinds(acts), next, legal, row.cells[s])
			}
		}
	}
	if _, _, legal := Transition(numStates, EventUp); legal {
		t.Error("Transition accepted an invalid state")
	}
	if _, _, legal := Transition(StateClosed, 0); legal {
		t.Error("Transition accepted event 0")
	}
}

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// stubPolicy accepts any request without option type 99, which it
// rejects; it requests MRU 1492.
type stubPolicy struct {
	resets, naks, rejects int
	err                   error
}

func (p *stubPolicy) Reset()            { p.resets++ }
func (p *stubPolicy) Request() []Option { return []Option{MRUOption(1492)} }
func (p *stubPolicy) CheckRequest(req []Option) (nak, rej []Option) {
	for _, o := range req {
		if o.Type == 99 {
			rej = append(rej, o)
		}
	}
	return nil, rej
}
func (p *stubPolicy) Nak([]Option) error    { p.naks++; return p.err }
func (p *stubPolicy) Reject([]Option) error { p.rejects++; return p.err }

// machineIn returns an LCP Machine put directly into state s, as if it had
// got there by a negotiation: our Configure-Request id 7 is outstanding,
// the Restart timer runs in the states that time, and the restart counter
// is restart.
func machineIn(s State, restart int) (*Machine, *stubPolicy) {
	pol := &stubPolicy{}
	m := NewMachine(Config{Protocol: ProtoLCP, Policy: pol})
	m.state = s
	m.req = Packet{Code: CodeConfigureRequest, Identifier: 7, Options: pol.Request()}
	m.sentReq = true
	m.lastID = 7
	m.restart = restart
	m.local = []Option{MagicNumberOption(0x11111111)}
	if s.timed() {
		m.timing = true
		m.deadline = t0.Add(time.Second)
	}
	return m, pol
}

func encode(t testing.TB, p Packet) []byte {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// feed raises event ev on m through its public methods, with a packet
// from the peer (identifier 0x42) where the event is a reception.
func feed(t *testing.T, m *Machine, ev Event) (Event, []Action) {
	t.Helper()
	now := t0.Add(2 * time.Second) // past the deadline
	recv := func(p Packet) (Event, []Action) {
		t.Helper()
		got, acts, err := m.Receive(now, encode(t, p))
		if err != nil {
			t.Fatalf("Receive(%v): %v", p.Code, err)
		}
		return got, acts
	}
	switch ev {
	case EventUp:
		return ev, m.Up(now)
	case EventDown:
		return ev, m.Down(now)
	case EventOpen:
		return ev, m.Open(now)
	case EventClose:
		return ev, m.Close(now, "")
	case EventTOPlus, EventTOMinus:
		return ev, m.Timeout(now)
	case EventRCRPlus:
		return recv(Packet{Code: CodeConfigureRequest, Identifier: 0x42, Options: []Option{MRUOption(1500)}})
	case EventRCRMinus:
		return recv(Packet{Code: CodeConfigureRequest, Identifier: 0x42, Options: []Option{{Type: 99}}})
	case EventRCA:
		return recv(Packet{Code: CodeConfigureAck, Identifier: 7, Options: []Option{MRUOption(1492)}})
	case EventRCN:
		return recv(Packet{Code: CodeConfigureNak, Identifier: 7, Options: []Option{MRUOption(1400)}})
	case EventRTR:
		return recv(Packet{Code: CodeTerminateRequest, Identifier: 0x42})
	case EventRTA:
		return recv(Packet{Code: CodeTerminateAck, Identifier: 0x42})
	case EventRUC:
		return recv(Packet{Code: 0x42, Identifier: 0x42, Data: []byte{1, 2}})
	case EventRXJPlus:
		return recv(Packet{Code: CodeCodeReject, Identifier: 0x42, Data: encode(t, DiscardRequest(3, 0, nil))})
	case EventRXJMinus:
		return recv(Packet{Code: CodeCodeReject, Identifier: 0x42, Data: encode(t, Packet{Code: CodeTerminateAck, Identifier: 3})})
	case EventRXR:
		return recv(EchoRequest(0x42, 0x22222222, []byte("ping")))
	}
	t.Fatalf("no input for %v", ev)
	return 0, nil
}

// wantSent is the packet code each sending action must carry.
var wantSent = map[ActionKind]Code{
	ActionSCR: CodeConfigureRequest,
	ActionSCA: CodeConfigureAck,
	ActionSCN: CodeConfigureReject, // stubPolicy rejects
	ActionSTR: CodeTerminateRequest,
	ActionSTA: CodeTerminateAck,
	ActionSCJ: CodeCodeReject,
	ActionSER: CodeEchoReply,
}

// Test_RFC1661_4_1_Machine drives a Machine through every cell of the
// RFC's state transition table: each event in each state, raised through
// the public API (a packet for the receive events, a timeout for TO+ and
// TO-), and checks the next state, the actions in order, the packets
// they carry and the Restart timer.
func Test_RFC1661_4_1_Machine(t *testing.T) {
	for _, row := range rfc1661Table {
		for s := State(0); s < numStates; s++ {
			t.Run(fmt.Sprintf("%v/%v", row.event, s), func(t *testing.T) {
				wantActs, wantNext, legal := parseCell(t, row.cells[s])
				restart := 1
				if row.event == EventTOMinus {
					restart = 0
				}
				m, _ := machineIn(s, restart)
				ev, acts := feed(t, m, row.event)
				if ev != row.event {
					t.Fatalf("input raised %v, want %v", ev, row.event)
				}
				if !legal {
					if len(acts) != 0 || m.State() != s {
						t.Fatalf("illegal event: got %v -> %v, want no change", acts, m.State())
					}
					return
				}
				if got := Kinds(acts); !cmp.Equal(got, wantActs, cmp.Comparer(func(a, b []ActionKind) bool {
					return formatKinds(a) == formatKinds(b)
				})) {
					t.Fatalf("actions %s, want %s", formatKinds(got), row.cells[s])
				}
				if m.State() != wantNext {
					t.Fatalf("state %v, want %v (%s)", m.State(), wantNext, row.cells[s])
				}
				for _, a := range acts {
					if code, ok := wantSent[a.Kind]; ok && a.Packet.Code != code {
						t.Errorf("%v sends %v, want %v", a.Kind, a.Packet.Code, code)
					}
					switch a.Kind {
					case ActionSCA, ActionSCN, ActionSTA, ActionSER:
						want := uint8(0x42) // the received packet's
						if row.event == EventRCA || row.event == EventRCN {
							want = 7
						}
						if a.Packet.Identifier != want {
							t.Errorf("%v id %d, want the received %d", a.Kind, a.Packet.Identifier, want)
						}
					case ActionSCR:
						if row.event == EventTOPlus && a.Packet.Identifier != 7 {
							t.Errorf("retransmitted scr id %d, want 7", a.Packet.Identifier)
						}
					}
					if !a.Kind.Sends() && a.Packet.Code != 0 {
						t.Errorf("%v carries a packet", a.Kind)
					}
				}
				if _, timing := m.Deadline(); timing != m.State().timed() {
					t.Fatalf("Restart timer running = %v in %v", timing, m.State())
				}
			})
		}
	}
}

// Test_RFC1661_4_4_RestartCount checks irc and zrc: Max-Configure before
// Configure-Requests, Max-Terminate before Terminate-Requests, zero on
// zrc; each transmission decrements the counter.
func Test_RFC1661_4_4_RestartCount(t *testing.T) {
	now := t0
	m := NewMachine(Config{Protocol: ProtoLCP, Policy: &stubPolicy{}, MaxConfigure: 4, MaxTerminate: 3})
	m.Open(now)
	m.Up(now)
	if m.restart != 3 {
		t.Fatalf("after irc,scr: counter %d, want 4-1", m.restart)
	}
	m.Close(now, "bye")
	if m.restart != 2 {
		t.Fatalf("after irc,str: counter %d, want 3-1", m.restart)
	}
	m, _ = machineIn(StateOpened, 5)
	m.Receive(now, encode(t, Packet{Code: CodeTerminateRequest, Identifier: 1}))
	if d, ok := m.Deadline(); m.restart != 0 || !ok || !d.Equal(now.Add(DefaultRestartTimer)) {
		t.Fatalf("after zrc: counter %d, deadline %v %v", m.restart, d, ok)
	}
	if acts := m.Timeout(now.Add(DefaultRestartTimer)); formatKinds(Kinds(acts)) != "tlf" || m.State() != StateStopped {
		t.Fatalf("TO- in Stopping: %v -> %v", acts, m.State())
	}
}

// Test_RFC1661_4_6_MaxConfigure: an unanswered peer gets Max-Configure
// Configure-Requests, the retransmissions keeping the Identifier, each
// one Restart-timer period apart; then TO- gives tlf in Stopped.
func Test_RFC1661_4_6_MaxConfigure(t *testing.T) {
	for _, passive := range []bool{false, true} {
		t.Run(fmt.Sprintf("passive=%v", passive), func(t *testing.T) {
			m := NewMachine(Config{Protocol: ProtoLCP, Policy: &stubPolicy{}, RestartTimer: time.Second, Passive: passive})
			now := t0
			var sent []Action
			sent = append(sent, m.Open(now)...)
			sent = append(sent, m.Up(now)...)
			var last []Action
			for i := 0; i < 20 && m.State() == StateReqSent; i++ {
				d, ok := m.Deadline()
				if !ok || !d.Equal(now.Add(time.Second)) {
					t.Fatalf("deadline %v %v, want now+1s", d, ok)
				}
				if acts := m.Timeout(d.Add(-time.Nanosecond)); acts != nil {
					t.Fatalf("early Timeout acted: %v", acts)
				}
				now = d
				last = m.Timeout(now)
				sent = append(sent, last...)
			}
			n := 0
			for _, a := range sent {
				if a.Kind == ActionSCR {
					n++
					if a.Packet.Identifier != 1 {
						t.Errorf("scr id %d, want 1 for every retransmission", a.Packet.Identifier)
					}
				}
			}
			if n != DefaultMaxConfigure {
				t.Errorf("%d Configure-Requests, want %d", n, DefaultMaxConfigure)
			}
			want := "tlf"
			if passive {
				want = ""
			}
			if got := formatKinds(Kinds(last)); got != want || m.State() != StateStopped {
				t.Fatalf("last timeout: %q -> %v, want %q -> Stopped", got, m.State(), want)
			}
			if _, ok := m.Deadline(); ok {
				t.Fatal("timer still running in Stopped")
			}
		})
	}
}

// Test_RFC1661_4_6_MaxTerminate: Close sends Max-Terminate
// Terminate-Requests then gives up with tlf in Closed.
func Test_RFC1661_4_6_MaxTerminate(t *testing.T) {
	m, _ := machineIn(StateOpened, 0)
	now := t0
	acts := m.Close(now, "admin")
	if got := formatKinds(Kinds(acts)); got != "tld,irc,str" {
		t.Fatalf("Close in Opened: %s", got)
	}
	if string(acts[2].Packet.Data) != "admin" {
		t.Fatalf("Terminate-Request data %q", acts[2].Packet.Data)
	}
	strs := 1
	for i := 0; i < 10 && m.State() == StateClosing; i++ {
		d, _ := m.Deadline()
		now = d
		acts = m.Timeout(now)
		for _, a := range acts {
			if a.Kind == ActionSTR {
				strs++
				if string(a.Packet.Data) != "admin" {
					t.Errorf("retransmitted Terminate-Request data %q", a.Packet.Data)
				}
			}
		}
	}
	if strs != DefaultMaxTerminate || m.State() != StateClosed || formatKinds(Kinds(acts)) != "tlf" {
		t.Fatalf("%d Terminate-Requests, state %v, last %v", strs, m.State(), acts)
	}
}

// Test_RFC1661_4_6_MaxFailure: after Max-Failure Configure-Naks without an
// Ack, what would be Naked is Configure-Rejected instead; Nak hints for
// options the peer did not send are dropped and the request acked.
func Test_RFC1661_4_6_MaxFailure(t *testing.T) {
	pol := &LCPPolicy{MaxPeerMRU: 1492}
	m := NewMachine(Config{Protocol: ProtoLCP, Policy: pol, MaxFailure: 2})
	m.Open(t0)
	m.Up(t0)
	var codes []Code
	for i := range 4 {
		req := Packet{Code: CodeConfigureRequest, Identifier: uint8(i), Options: []Option{MRUOption(1500)}}
		_, acts, err := m.Receive(t0, encode(t, req))
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, acts[0].Packet.Code)
		if acts[0].Packet.Code == CodeConfigureReject && !sameOptions(acts[0].Packet.Options, req.Options) {
			t.Fatalf("Reject carries %v, want the request's own options", acts[0].Packet.Options)
		}
	}
	want := []Code{CodeConfigureNak, CodeConfigureNak, CodeConfigureReject, CodeConfigureReject}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Fatalf("replies (-want +got):\n%s", diff)
	}

	// IPCP: a peer that never sends IP-Address is Naked with a hint
	// MaxFailure times, then acknowledged.
	ip := &IPCPPolicy{Peer: mustAddr("10.0.0.2")}
	m = NewMachine(Config{Protocol: ProtoIPCP, Policy: ip, MaxFailure: 1})
	m.Open(t0)
	m.Up(t0)
	codes = nil
	for i := range 2 {
		_, acts, err := m.Receive(t0, encode(t, Packet{Code: CodeConfigureRequest, Identifier: uint8(i)}))
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, acts[0].Packet.Code)
	}
	if diff := cmp.Diff([]Code{CodeConfigureNak, CodeConfigureAck}, codes); diff != "" {
		t.Fatalf("IPCP replies (-want +got):\n%s", diff)
	}
}

// Test_RFC1661_4_3_RestartOption: with [r], Open in Stopped, Stopping,
// Closing or Opened renegotiates by Down then Up.
func Test_RFC1661_4_3_RestartOption(t *testing.T) {
	tests := []struct {
		from State
		want string
	}{
		{StateStopped, "tls,irc,scr"},
		{StateStopping, "irc,scr"},
		{StateClosing, "irc,scr"},
		{StateOpened, "tld,irc,scr"},
		{StateReqSent, ""}, // no [r] there
	}
	for _, tt := range tests {
		m, _ := machineIn(tt.from, 1)
		m.cfg.RestartOnOpen = true
		acts := m.Open(t0)
		if got := formatKinds(Kinds(acts)); got != tt.want {
			t.Errorf("Open in %v with [r]: %q, want %q", tt.from, got, tt.want)
		}
		if tt.want != "" && m.State() != StateReqSent {
			t.Errorf("Open in %v with [r]: state %v", tt.from, m.State())
		}
	}
}

func TestMachineDiscardsUnmatchedReplies(t *testing.T) {
	tests := []struct {
		name string
		pkt  Packet
	}{
		{"Ack wrong id", Packet{Code: CodeConfigureAck, Identifier: 8, Options: []Option{MRUOption(1492)}}},
		{"Ack other options", Packet{Code: CodeConfigureAck, Identifier: 7, Options: []Option{MRUOption(1500)}}},
		{"Ack missing option", Packet{Code: CodeConfigureAck, Identifier: 7}},
		{"Nak wrong id", Packet{Code: CodeConfigureNak, Identifier: 6, Options: []Option{MRUOption(1400)}}},
		{"Reject of an option not sent", Packet{Code: CodeConfigureReject, Identifier: 7, Options: []Option{PFCOption()}}},
		{"Reject modifying an option", Packet{Code: CodeConfigureReject, Identifier: 7, Options: []Option{MRUOption(1400)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := machineIn(StateReqSent, 5)
			ev, acts, err := m.Receive(t0, encode(t, tt.pkt))
			if !errors.Is(err, ErrUnmatchedReply) || ev != 0 || acts != nil || m.State() != StateReqSent {
				t.Fatalf("Receive = %v, %v, %v; state %v", ev, acts, err, m.State())
			}
		})
	}
	m, _ := machineIn(StateReqSent, 5)
	if _, _, err := m.Receive(t0, []byte{1, 2, 0}); err == nil {
		t.Fatal("truncated packet accepted")
	}
	if _, _, err := m.Receive(t0, encode(t, Packet{Code: CodeEchoRequest, Data: []byte{1}})); err == nil {
		t.Fatal("echo without magic accepted")
	}
	if _, _, err := m.Receive(t0, encode(t, Packet{Code: CodeProtocolReject, Data: []byte{1}})); err == nil {
		t.Fatal("Protocol-Reject without protocol accepted")
	}
}

// TestMachineNCPCodes: IPCP knows codes 1-7 only (RFC 1332 §2): an Echo or
// a Protocol-Reject is an unknown code there, answered by Code-Reject
// carrying the packet as received.
func TestMachineNCPCodes(t *testing.T) {
	for _, code := range []Code{CodeProtocolReject, CodeEchoRequest, CodeEchoReply, CodeDiscardRequest, 0, 200} {
		m := NewMachine(Config{Protocol: ProtoIPCP, Policy: &stubPolicy{}})
		m.state = StateOpened
		in := encode(t, Packet{Code: code, Identifier: 9, Data: []byte{0, 0, 0, 0}})
		ev, acts, err := m.Receive(t0, append(in, 0xee)) // with a padding octet
		if err != nil || ev != EventRUC || len(acts) != 1 || acts[0].Kind != ActionSCJ {
			t.Fatalf("code %d: %v %v %v", code, ev, acts, err)
		}
		if diff := cmp.Diff(in, acts[0].Packet.Data); diff != "" {
			t.Fatalf("Code-Reject data (-want +got):\n%s", diff)
		}
	}
}

// TestMachineProtocolReject: a Protocol-Reject of an NCP is RXJ+ for LCP
// (the caller then calls Rejected on the NCP's Machine); one of LCP is
// RXJ-.
func TestMachineProtocolReject(t *testing.T) {
	m, _ := machineIn(StateOpened, 1)
	ev, acts, err := m.Receive(t0, encode(t, ProtocolReject(1, ProtoIPCP, []byte{1, 1, 0, 4}, 1500)))
	if err != nil || ev != EventRXJPlus || len(acts) != 0 || m.State() != StateOpened {
		t.Fatalf("IPCP rejected: %v %v %v %v", ev, acts, err, m.State())
	}
	ev, acts, _ = m.Receive(t0, encode(t, ProtocolReject(2, ProtoLCP, nil, 1500)))
	if ev != EventRXJMinus || formatKinds(Kinds(acts)) != "tld,irc,str" {
		t.Fatalf("LCP rejected: %v %v", ev, acts)
	}
	ipcp := NewMachine(Config{Protocol: ProtoIPCP, Policy: &stubPolicy{}})
	ipcp.state = StateOpened
	if acts := ipcp.Rejected(t0); formatKinds(Kinds(acts)) != "tld,irc,str" || ipcp.State() != StateStopping {
		t.Fatalf("IPCP Rejected: %v %v", acts, ipcp.State())
	}
}

// TestMachineEcho: in Opened an Echo-Request is answered with our
// negotiated Magic-Number (RFC 1661 §5.8); an Echo-Reply or a
// Discard-Request raises RXR and sends nothing.
func TestMachineEcho(t *testing.T) {
	m, _ := machineIn(StateOpened, 1)
	req := EchoRequest(5, 0x22222222, []byte("ping"))
	ev, acts, err := m.Receive(t0, encode(t, req))
	if err != nil || ev != EventRXR || len(acts) != 1 {
		t.Fatalf("Echo-Request: %v %v %v", ev, acts, err)
	}
	if diff := cmp.Diff(EchoReply(&req, 0x11111111), acts[0].Packet); diff != "" {
		t.Fatalf("Echo-Reply (-want +got):\n%s", diff)
	}
	for _, p := range []Packet{EchoReply(&req, 0x22222222), DiscardRequest(6, 0x22222222, nil)} {
		ev, acts, err := m.Receive(t0, encode(t, p))
		if err != nil || ev != EventRXR || len(acts) != 0 {
			t.Fatalf("%v: %v %v %v", p.Code, ev, acts, err)
		}
	}
}

// TestMachinePolicyGivesUp: a Policy error on a Nak closes the layer
// (irc,str) and Receive reports the error.
func TestMachinePolicyGivesUp(t *testing.T) {
	m, pol := machineIn(StateReqSent, 5)
	pol.err = ErrAuthRefused
	ev, acts, err := m.Receive(t0, encode(t, Packet{Code: CodeConfigureReject, Identifier: 7, Options: []Option{MRUOption(1492)}}))
	if !errors.Is(err, ErrAuthRefused) || ev != EventRCN {
		t.Fatalf("Receive = %v, %v", ev, err)
	}
	if got := formatKinds(Kinds(acts)); got != "irc,str" || m.State() != StateClosing {
		t.Fatalf("actions %s, state %v", got, m.State())
	}
	if string(acts[1].Packet.Data) != ErrAuthRefused.Error() {
		t.Fatalf("Terminate-Request data %q", acts[1].Packet.Data)
	}
}

func TestMachineStaleTimeout(t *testing.T) {
	m, _ := machineIn(StateClosed, 1)
	if acts := m.Timeout(t0.Add(time.Hour)); acts != nil {
		t.Fatalf("Timeout without timer: %v", acts)
	}
	m, _ = machineIn(StateReqSent, 1)
	if acts := m.Timeout(t0); acts != nil {
		t.Fatalf("Timeout before deadline: %v", acts)
	}
}
