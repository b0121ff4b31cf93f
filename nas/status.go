package nas

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"
)

// SessionInfo describes one live session, for the status listing.
type SessionInfo struct {
	SessionID     uint16    `json:"session_id"`
	MAC           string    `json:"mac"`
	User          string    `json:"user,omitempty"`
	Phase         string    `json:"phase"`
	Address       string    `json:"address,omitempty"`
	AcctSessionID string    `json:"acct_session_id"`
	Service       string    `json:"service_name"`
	CircuitID     string    `json:"agent_circuit_id,omitempty"`
	RemoteID      string    `json:"agent_remote_id,omitempty"`
	Up            time.Time `json:"up,omitzero"`
	InOctets      uint64    `json:"in_octets"`
	OutOctets     uint64    `json:"out_octets"`
	InPackets     uint64    `json:"in_packets"`
	OutPackets    uint64    `json:"out_packets"`
}

// Sessions lists the live sessions, by session id.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	all := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		all = append(all, ss)
	}
	s.mu.Unlock()
	out := make([]SessionInfo, 0, len(all))
	for _, ss := range all {
		ss.mu.Lock()
		si := SessionInfo{
			SessionID: ss.id, MAC: ss.peerMAC().String(), User: ss.user, Phase: ss.phase.String(),
			AcctSessionID: ss.acctID, Service: ss.service, CircuitID: ss.circuitID, RemoteID: ss.remoteID,
			Up: ss.upAt, InOctets: ss.inOctets, OutOctets: ss.outOctets, InPackets: ss.inPkts, OutPackets: ss.outPkts,
		}
		if ss.addr.IsValid() {
			si.Address = ss.addr.String()
		}
		ss.mu.Unlock()
		out = append(out, si)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SessionID < out[j].SessionID })
	return out
}

// statusHandler serves GET /sessions and GET /stats as JSON.
func (s *Server) statusHandler() http.Handler {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	mux.HandleFunc("GET /sessions", func(w http.ResponseWriter, r *http.Request) { reply(w, s.Sessions()) })
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) { reply(w, s.Stats()) })
	return mux
}
