package ppp

import "fmt"

// State is a state of the option negotiation automaton (RFC 1661 §4.2).
//
// The values are the RFC's state numbers, so the zero value is Initial,
// a real state: a Machine starts there, and the RFC's table is indexed
// by these numbers. (This departs from STYLE.md's invalid-zero enums on
// purpose.)
type State uint8

// Automaton states, numbered as in RFC 1661 §4.1.
const (
	StateInitial  State = 0 // lower layer down, no Open
	StateStarting State = 1 // Open, lower layer down
	StateClosed   State = 2 // lower layer up, no Open
	StateStopped  State = 3 // Open, waiting for Down or a Configure-Request
	StateClosing  State = 4 // Terminate-Request sent after Close
	StateStopping State = 5 // Terminate-Request sent, Open
	StateReqSent  State = 6 // Configure-Request sent
	StateAckRcvd  State = 7 // Configure-Request sent and acknowledged
	StateAckSent  State = 8 // Configure-Request sent, peer's acknowledged
	StateOpened   State = 9 // both acknowledged: the layer is up
	numStates           = 10
)

// String returns the RFC 1661 name of the state.
func (s State) String() string {
	switch s {
	case StateInitial:
		return "Initial"
	case StateStarting:
		return "Starting"
	case StateClosed:
		return "Closed"
	case StateStopped:
		return "Stopped"
	case StateClosing:
		return "Closing"
	case StateStopping:
		return "Stopping"
	case StateReqSent:
		return "Req-Sent"
	case StateAckRcvd:
		return "Ack-Rcvd"
	case StateAckSent:
		return "Ack-Sent"
	case StateOpened:
		return "Opened"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// timed reports whether the Restart timer runs in s (RFC 1661 §4.2:
// Closing, Stopping, Req-Sent, Ack-Rcvd and Ack-Sent).
func (s State) timed() bool { return s >= StateClosing && s <= StateAckSent }

// negotiating reports whether a Configure-Request of ours is outstanding.
func (s State) negotiating() bool { return s >= StateReqSent && s <= StateAckSent }

// Event is an event of the option negotiation automaton (RFC 1661 §4.3).
type Event uint8

// Automaton events (RFC 1661 §4.1).
const (
	EventUp       Event = iota + 1 // lower layer is Up
	EventDown                      // lower layer is Down
	EventOpen                      // administrative Open
	EventClose                     // administrative Close
	EventTOPlus                    // Timeout with counter > 0
	EventTOMinus                   // Timeout with counter expired
	EventRCRPlus                   // Receive-Configure-Request (Good)
	EventRCRMinus                  // Receive-Configure-Request (Bad)
	EventRCA                       // Receive-Configure-Ack
	EventRCN                       // Receive-Configure-Nak/Rej
	EventRTR                       // Receive-Terminate-Request
	EventRTA                       // Receive-Terminate-Ack
	EventRUC                       // Receive-Unknown-Code
	EventRXJPlus                   // Receive-Code-Reject (permitted) or Receive-Protocol-Reject
	EventRXJMinus                  // Receive-Code-Reject (catastrophic) or Receive-Protocol-Reject
	EventRXR                       // Receive-Echo-Request, Receive-Echo-Reply or Receive-Discard-Request
	numEvents
)

var eventNames = [...]string{
	EventUp: "Up", EventDown: "Down", EventOpen: "Open", EventClose: "Close",
	EventTOPlus: "TO+", EventTOMinus: "TO-", EventRCRPlus: "RCR+", EventRCRMinus: "RCR-",
	EventRCA: "RCA", EventRCN: "RCN", EventRTR: "RTR", EventRTA: "RTA", EventRUC: "RUC",
	EventRXJPlus: "RXJ+", EventRXJMinus: "RXJ-", EventRXR: "RXR",
}

// String returns the RFC 1661 abbreviation of the event, e.g. "RCR+".
func (e Event) String() string {
	if e > 0 && e < numEvents {
		return eventNames[e]
	}
	return fmt.Sprintf("Event(%d)", uint8(e))
}

// ActionKind is an action of the option negotiation automaton (RFC 1661
// §4.4).
type ActionKind uint8

// Automaton actions (RFC 1661 §4.1).
const (
	ActionTLU ActionKind = iota + 1 // This-Layer-Up: the layer is ready for traffic
	ActionTLD                       // This-Layer-Down: the layer is leaving Opened
	ActionTLS                       // This-Layer-Started: the lower layer is needed
	ActionTLF                       // This-Layer-Finished: the lower layer is no longer needed
	ActionIRC                       // Initialize-Restart-Count
	ActionZRC                       // Zero-Restart-Count
	ActionSCR                       // Send-Configure-Request
	ActionSCA                       // Send-Configure-Ack
	ActionSCN                       // Send-Configure-Nak/Rej
	ActionSTR                       // Send-Terminate-Request
	ActionSTA                       // Send-Terminate-Ack
	ActionSCJ                       // Send-Code-Reject
	ActionSER                       // Send-Echo-Reply
	numActions
)

var actionNames = [...]string{
	ActionTLU: "tlu", ActionTLD: "tld", ActionTLS: "tls", ActionTLF: "tlf",
	ActionIRC: "irc", ActionZRC: "zrc", ActionSCR: "scr", ActionSCA: "sca",
	ActionSCN: "scn", ActionSTR: "str", ActionSTA: "sta", ActionSCJ: "scj",
	ActionSER: "ser",
}

// String returns the RFC 1661 abbreviation of the action, e.g. "scr".
func (a ActionKind) String() string {
	if a > 0 && a < numActions {
		return actionNames[a]
	}
	return fmt.Sprintf("ActionKind(%d)", uint8(a))
}

// Sends reports whether the action transmits a packet.
func (a ActionKind) Sends() bool {
	switch a {
	case ActionSCR, ActionSCA, ActionSCN, ActionSTR, ActionSTA, ActionSCJ, ActionSER:
		return true
	}
	return false
}

// cell is one entry of the state transition table.
type cell struct {
	legal bool
	next  State
	acts  []ActionKind
}

func to(next State, acts ...ActionKind) cell { return cell{legal: true, next: next, acts: acts} }

// illegal is the table's dash: the event cannot happen in that state.
var illegal = cell{}

// Shorthands for the table below.
const (
	tlu, tld, tls, tlf = ActionTLU, ActionTLD, ActionTLS, ActionTLF
	irc, zrc           = ActionIRC, ActionZRC
	scr, sca, scn      = ActionSCR, ActionSCA, ActionSCN
	str, sta           = ActionSTR, ActionSTA
	scj, ser           = ActionSCJ, ActionSER
)

// table is RFC 1661 §4.1, row by event, column by state 0-9. Footnotes:
// [p] (passive) and [r] (restart) are options applied by Machine; [x]
// (crossed connection) needs nothing beyond the table.
var table = [numEvents][numStates]cell{
	EventUp: {to(StateClosed), to(StateReqSent, irc, scr),
		illegal, illegal, illegal, illegal, illegal, illegal, illegal, illegal},
	EventDown: {illegal, illegal, to(StateInitial), to(StateStarting, tls),
		to(StateInitial), to(StateStarting),
		to(StateStarting), to(StateStarting), to(StateStarting), to(StateStarting, tld)},
	EventOpen: {to(StateStarting, tls), to(StateStarting), to(StateReqSent, irc, scr), to(StateStopped),
		to(StateStopping), to(StateStopping),
		to(StateReqSent), to(StateAckRcvd), to(StateAckSent), to(StateOpened)},
	EventClose: {to(StateInitial), to(StateInitial, tlf), to(StateClosed), to(StateClosed),
		to(StateClosing), to(StateClosing),
		to(StateClosing, irc, str), to(StateClosing, irc, str), to(StateClosing, irc, str),
		to(StateClosing, tld, irc, str)},
	EventTOPlus: {illegal, illegal, illegal, illegal,
		to(StateClosing, str), to(StateStopping, str),
		to(StateReqSent, scr), to(StateReqSent, scr), to(StateAckSent, scr), illegal},
	EventTOMinus: {illegal, illegal, illegal, illegal,
		to(StateClosed, tlf), to(StateStopped, tlf),
		to(StateStopped, tlf), to(StateStopped, tlf), to(StateStopped, tlf), illegal},
	EventRCRPlus: {illegal, illegal, to(StateClosed, sta), to(StateAckSent, irc, scr, sca),
		to(StateClosing), to(StateStopping),
		to(StateAckSent, sca), to(StateOpened, sca, tlu), to(StateAckSent, sca),
		to(StateAckSent, tld, scr, sca)},
	EventRCRMinus: {illegal, illegal, to(StateClosed, sta), to(StateReqSent, irc, scr, scn),
		to(StateClosing), to(StateStopping),
		to(StateReqSent, scn), to(StateAckRcvd, scn), to(StateReqSent, scn),
		to(StateReqSent, tld, scr, scn)},
	EventRCA: {illegal, illegal, to(StateClosed, sta), to(StateStopped, sta),
		to(StateClosing), to(StateStopping),
		to(StateAckRcvd, irc), to(StateReqSent, scr), to(StateOpened, irc, tlu),
		to(StateReqSent, tld, scr)},
	EventRCN: {illegal, illegal, to(StateClosed, sta), to(StateStopped, sta),
		to(StateClosing), to(StateStopping),
		to(StateReqSent, irc, scr), to(StateReqSent, scr), to(StateAckSent, irc, scr),
		to(StateReqSent, tld, scr)},
	EventRTR: {illegal, illegal, to(StateClosed, sta), to(StateStopped, sta),
		to(StateClosing, sta), to(StateStopping, sta),
		to(StateReqSent, sta), to(StateReqSent, sta), to(StateReqSent, sta),
		to(StateStopping, tld, zrc, sta)},
	EventRTA: {illegal, illegal, to(StateClosed), to(StateStopped),
		to(StateClosed, tlf), to(StateStopped, tlf),
		to(StateReqSent), to(StateReqSent), to(StateAckSent),
		to(StateReqSent, tld, scr)},
	EventRUC: {illegal, illegal, to(StateClosed, scj), to(StateStopped, scj),
		to(StateClosing, scj), to(StateStopping, scj),
		to(StateReqSent, scj), to(StateAckRcvd, scj), to(StateAckSent, scj), to(StateOpened, scj)},
	EventRXJPlus: {illegal, illegal, to(StateClosed), to(StateStopped),
		to(StateClosing), to(StateStopping),
		to(StateReqSent), to(StateReqSent), to(StateAckSent), to(StateOpened)},
	EventRXJMinus: {illegal, illegal, to(StateClosed, tlf), to(StateStopped, tlf),
		to(StateClosed, tlf), to(StateStopped, tlf),
		to(StateStopped, tlf), to(StateStopped, tlf), to(StateStopped, tlf),
		to(StateStopping, tld, irc, str)},
	EventRXR: {illegal, illegal, to(StateClosed), to(StateStopped),
		to(StateClosing), to(StateStopping),
		to(StateReqSent), to(StateAckRcvd), to(StateAckSent), to(StateOpened, ser)},
}

// Transition looks up RFC 1661's state transition table (§4.1): the next
// state and the actions for event e in state s, without the [p] and [r]
// options. legal is false for the table's dashes, events that cannot
// occur in s; a Machine ignores them.
func Transition(s State, e Event) (next State, acts []ActionKind, legal bool) {
	if s >= numStates || e == 0 || e >= numEvents {
		return s, nil, false
	}
	c := table[e][s]
	if !c.legal {
		return s, nil, false
	}
	return c.next, append([]ActionKind(nil), c.acts...), true
}

// Action is one action of the automaton, in the order the Machine took
// it. For the actions that send (scr, sca, scn, str, sta, scj, ser) Packet
// is the packet to transmit, without the Protocol field; for tlu, tld,
// tls and tlf the caller acts on the layer (RFC 1661 §4.4); irc and zrc
// are reported for completeness, the Machine has done them. Packet may
// share memory with the Machine's state: encode it, do not modify it.
type Action struct {
	Kind   ActionKind
	Packet Packet
}

// String renders the action as the RFC abbreviation, with the packet's
// code and identifier when it sends one.
func (a Action) String() string {
	if !a.Kind.Sends() {
		return a.Kind.String()
	}
	return fmt.Sprintf("%v(%v id=%d)", a.Kind, a.Packet.Code, a.Packet.Identifier)
}

// Kinds returns the kinds of acts, in order.
func Kinds(acts []Action) []ActionKind {
	k := make([]ActionKind, len(acts))
	for i, a := range acts {
		k[i] = a.Kind
	}
	return k
}
