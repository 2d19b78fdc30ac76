package coordinator

// Backups: GET /v1/cluster/snapshot streams a backup file of a fresh
// snapshot taken on the leader, every model's bytes in it; POST
// /v1/cluster/snapshot restores one into this cluster (raft's user
// restore: the leader installs it and sends it to every follower).
// The file's format is backup.go's.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// SaveSnapshot takes a snapshot now (or, when nothing was applied since
// the last, opens that one) and writes it to w as a backup file. Leader
// only, so that the backup holds everything committed.
func (n *Node) SaveSnapshot(w io.Writer) error {
	meta, rc, err := n.openSnapshot()
	if err != nil {
		return err
	}
	defer rc.Close()
	return writeBackup(w, meta, rc)
}

func (n *Node) openSnapshot() (*raft.SnapshotMeta, io.ReadCloser, error) {
	if n.raft.State() != raft.Leader {
		return nil, nil, fmt.Errorf("%w: snapshots are saved on the leader", ErrNoLeader)
	}
	f := n.raft.Snapshot()
	err := f.Error()
	if err == nil {
		return f.Open()
	}
	if !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return nil, nil, fmt.Errorf("%w: snapshot: %v", ErrNoLeader, err)
	}
	list, err := n.snaps.List()
	if err != nil || len(list) == 0 {
		return nil, nil, fmt.Errorf("coordinator: no snapshot to open: %v", err)
	}
	return n.snaps.Open(list[0].ID)
}

func (n *Node) handleSnapshotSave(w http.ResponseWriter, _ *http.Request) {
	meta, rc, err := n.openSnapshot()
	if err != nil {
		writeErr(w, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="fabgrid-%d-%d.snap"`, meta.Term, meta.Index))
	// Once the status is sent an error can only cut the stream short:
	// the file then lacks its checksum, which inspect and restore check.
	if err := writeBackup(w, meta, rc); err != nil {
		n.log.Warn("snapshot save cut short", "err", err)
	}
}

func (n *Node) handleSnapshotRestore(w http.ResponseWriter, r *http.Request) {
	info, err := n.RestoreSnapshot(r.Body)
	if err != nil {
		if errors.Is(err, ErrBadBackup) {
			writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error()+"; nothing was restored")
			return
		}
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// RestoreSnapshot replaces the cluster's state with a backup file's
// (leader only). The file is first copied to the data dir and checked
// whole, so a damaged one changes nothing. The cluster keeps its own
// membership: the coordinators' addresses on record are put back after
// the restore, and this node's configured tokens are added again (the
// backup's tokens stay valid too).
func (n *Node) RestoreSnapshot(r io.Reader) (BackupInfo, error) {
	if n.raft.State() != raft.Leader {
		return BackupInfo{}, fmt.Errorf("%w: snapshots are restored on the leader", ErrNoLeader)
	}
	tmp, err := os.CreateTemp(n.cfg.DataDir, "restore-*.snap")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("coordinator: restore: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	info, err := InspectBackup(io.TeeReader(r, tmp))
	if err != nil {
		return info, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return info, fmt.Errorf("coordinator: restore: %w", err)
	}
	br, err := readBackupHeader(tmp)
	if err != nil {
		return info, err
	}
	var nodes map[string]fsm.NodeInfo
	n.fsm.View(func(s *fsm.State) {
		nodes = make(map[string]fsm.NodeInfo, len(s.Nodes))
		for id, ni := range s.Nodes {
			nodes[id] = *ni
		}
	})
	// No timeout: a large snapshot takes long to install, and raft's
	// timer would also cut the wait for the entry after it.
	if err := n.raft.Restore(&br.meta, br.snapshot(), 0); err != nil {
		return info, fmt.Errorf("%w: restore: %v", ErrNoLeader, err)
	}
	n.log.Info("snapshot restored", "index", info.Index, "term", info.Term, "orders", info.Snapshot.Orders, "models", info.Snapshot.Models)
	n.keepMembership(nodes)
	return info, nil
}

// keepMembership puts back the coordinators' records of the running
// cluster after a restore brought another cluster's.
func (n *Node) keepMembership(before map[string]fsm.NodeInfo) {
	cf := n.raft.GetConfiguration()
	if cf.Error() != nil {
		return
	}
	member := map[string]bool{}
	for _, s := range cf.Configuration().Servers {
		member[string(s.ID)] = true
		if ni, ok := before[string(s.ID)]; ok {
			n.proposeLogged(&fsm.Command{Type: fsm.CmdSetNode, Node: &ni})
		}
	}
	var stale []string
	n.fsm.View(func(s *fsm.State) {
		for id := range s.Nodes {
			if !member[id] {
				stale = append(stale, id)
			}
		}
	})
	for _, id := range stale {
		n.proposeLogged(&fsm.Command{Type: fsm.CmdRemoveNode, Node: &fsm.NodeInfo{ID: id}})
	}
	n.ensureSetup()
}
