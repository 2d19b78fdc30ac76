package coordinator

import (
	"net/http"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// Admin calls about who may use the grid: communities and their tokens,
// worker tokens.

func (n *Node) handleCreateCommunity(w http.ResponseWriter, r *http.Request) {
	var req api.CommunityRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if !validName(req.Name) || req.Weight < 0 || req.Weight > 1000 {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "a community needs a name of 1–64 letters, digits, '-' or '_' and a weight between 0 and 1000")
		return
	}
	tok := NewToken(api.CommunityTokenPrefix)
	c := &fsm.CommunityCmd{Name: req.Name, Weight: req.Weight, TokenHash: HashToken(tok)}
	if _, err := n.propose(&fsm.Command{Type: fsm.CmdCreateCommunity, Community: c}); err != nil {
		writeErr(w, err)
		return
	}
	weight := req.Weight
	if weight == 0 {
		weight = 1
	}
	writeJSON(w, http.StatusCreated, api.CommunityCreated{Name: req.Name, Weight: weight, Token: tok})
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (n *Node) handleCommunities(w http.ResponseWriter, _ *http.Request) {
	out := api.Communities{Communities: []api.Community{}}
	n.fsm.View(func(s *fsm.State) {
		count := map[string]int{}
		for _, o := range s.Orders {
			count[o.Community]++
		}
		for _, name := range fsm.SortedKeys(s.Communities) {
			c := s.Communities[name]
			out.Communities = append(out.Communities, api.Community{Name: c.Name, Weight: c.Weight, Orders: count[name]})
		}
	})
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) handleWorkerToken(w http.ResponseWriter, r *http.Request) {
	var req api.WorkerTokenRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if !validName(req.Name) {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "a worker token needs a name of 1–64 letters, digits, '-' or '_'")
		return
	}
	tok := NewToken(api.WorkerTokenPrefix)
	if _, err := n.propose(&fsm.Command{Type: fsm.CmdAddWorkerToken, Token: &fsm.TokenCmd{Hash: HashToken(tok), Name: req.Name}}); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.WorkerTokenCreated{Token: tok})
}
