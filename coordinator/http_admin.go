package coordinator

import (
	"fmt"
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
	if !validName(req.Name) || req.Name == fsm.GridTokenName {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest,
			"a worker token needs a name of 1–64 letters, digits, '-' or '_', other than "+fsm.GridTokenName+" (the grid's own)")
		return
	}
	if req.MaxWorkers < 0 || req.MaxWorkers > maxWorkersPerToken {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, fmt.Sprintf("max_workers must be between 1 and %d (0: the default, %d)", maxWorkersPerToken, fsm.DefaultMaxWorkersPerToken))
		return
	}
	tok := NewToken(api.WorkerTokenPrefix)
	cmd := &fsm.TokenCmd{Hash: HashToken(tok), Name: req.Name, MaxWorkers: req.MaxWorkers}
	if _, err := n.propose(&fsm.Command{Type: fsm.CmdAddWorkerToken, Token: cmd}); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.WorkerTokenCreated{Token: tok})
}

// maxWorkersPerToken bounds what an admin may allow one worker token.
const maxWorkersPerToken = 10000

// handleWorkerTokenLimit sets how many workers a worker token may
// register (admin): one owner's token binds at most that many printers.
func (n *Node) handleWorkerTokenLimit(w http.ResponseWriter, r *http.Request) {
	var req api.WorkerTokenLimitRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if err := api.CheckToken(req.Token, api.WorkerTokenPrefix); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "token: "+err.Error())
		return
	}
	if req.MaxWorkers < 1 || req.MaxWorkers > maxWorkersPerToken {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, fmt.Sprintf("max_workers must be between 1 and %d", maxWorkersPerToken))
		return
	}
	cmd := &fsm.TokenCmd{Hash: HashToken(req.Token), MaxWorkers: req.MaxWorkers}
	if _, err := n.propose(&fsm.Command{Type: fsm.CmdWorkerTokenLimit, Token: cmd}); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, api.OK{OK: true})
}
