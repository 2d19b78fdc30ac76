package coordinator

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

func (n *Node) handleSubmit(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	boundary, err := multipartBoundary(r)
	if err != nil {
		writeFormErr(w, err)
		return
	}
	if r.ContentLength > n.cfg.MaxModelSize+1<<20 {
		writeError(w, http.StatusRequestEntityTooLarge, api.CodeTooLarge, "upload of "+strconv.FormatInt(r.ContentLength, 10)+" bytes is over the model limit")
		return
	}
	body := http.MaxBytesReader(w, r.Body, n.cfg.MaxModelSize+1<<20)
	f, err := ParseOrderForm(body, boundary, n.cfg.MaxModelSize)
	if err != nil {
		writeFormErr(w, err)
		return
	}
	community := f.Community
	switch {
	case p.role == roleCommunity && community == "":
		community = p.community
	case p.role == roleCommunity && community != p.community:
		writeError(w, http.StatusForbidden, api.CodeForbidden, "this token belongs to community "+p.community+", not "+community)
		return
	case p.role == roleAdmin && community == "":
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "with the admin token, name the community in the community field")
		return
	}
	sum := sha256Hex(f.Model)
	var (
		known, communityOK bool
		mesh               MeshInfo
	)
	n.fsm.View(func(s *fsm.State) {
		if m := s.Models[sum]; m != nil {
			known, mesh.SizeMM, mesh.VolumeMM3, mesh.SurfaceMM2 = true, m.SizeMM, m.VolumeMM3, m.SurfaceMM2
		}
		communityOK = s.Communities[community] != nil
	})
	if !communityOK {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no community "+community)
		return
	}
	if !known {
		// A stored model passed this check when it was first uploaded.
		var err error
		if mesh, err = CheckModel(f.Model); err != nil {
			writeErr(w, err)
			return
		}
	}
	name := api.ModelName(f.ModelName)
	cmd := &fsm.OrderCmd{
		Order: fsm.Order{
			ID: newID("o-"), Community: community, ModelSHA256: sum, ModelName: name, Quantity: f.Quantity,
			Material: f.Material, Colour: f.Colour, LayerHeight: f.LayerHeight, Infill: f.Infill,
			Deadline: f.Deadline, DeadlineUnix: f.DeadlineUnix, PickupNote: f.PickupNote, RequestID: f.RequestID,
		},
		Model:    fsm.Model{SHA256: sum, Size: int64(len(f.Model)), Name: name, SizeMM: mesh.SizeMM, VolumeMM3: mesh.VolumeMM3, SurfaceMM2: mesh.SurfaceMM2},
		HasBytes: !known,
	}
	c := &fsm.Command{Type: fsm.CmdSubmitOrder, Order: cmd}
	if !known && len(f.Model) > n.cfg.ModelChunkSize {
		if err := n.uploadModel(cmd.Model, f.Model); err != nil {
			writeErr(w, err)
			return
		}
		cmd.HasBytes = false
	} else if !known {
		c.ModelBytes = f.Model
	}
	var res fsm.ApplyResult
	if c.ModelBytes == nil {
		res, err = n.proposeOrder(c) // small: group-committed with others waiting
	} else {
		res, err = n.propose(c)
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	id := cmd.Order.ID
	if res.OrderID != "" {
		id = res.OrderID // a retried request_id: the first order
	}
	n.Kick()
	var out api.Order
	n.fsm.View(func(s *fsm.State) { out = n.orderView(s, s.Orders[id], true, nil) })
	writeJSON(w, http.StatusCreated, out)
}

// uploadModel commits a large model in chunks (each committed before the
// next is sent). Uploads are serialised; a model stored meanwhile by
// another order is not sent again.
func (n *Node) uploadModel(m fsm.Model, b []byte) error {
	n.uploadMu.Lock()
	defer n.uploadMu.Unlock()
	stored := false
	n.fsm.View(func(s *fsm.State) { stored = s.Models[m.SHA256] != nil })
	if stored {
		return nil
	}
	// Up to uploadWindow chunks are in flight: they enter the log in
	// order, and raft replicates the next while the last commits.
	var (
		inflight []*proposal
		offs     []int
	)
	waitOne := func() error {
		p, off := inflight[0], offs[0]
		inflight, offs = inflight[1:], offs[1:]
		if _, err := p.wait(); err != nil {
			return fmt.Errorf("model upload at byte %d: %w", off, err)
		}
		return nil
	}
	for off := 0; off < len(b); off += n.cfg.ModelChunkSize {
		end := min(off+n.cfg.ModelChunkSize, len(b))
		c := &fsm.Command{Type: fsm.CmdModelChunk, Chunk: &fsm.ChunkCmd{Model: m, Offset: int64(off)}, ModelBytes: b[off:end]}
		p, err := n.proposeAsync(c)
		if err != nil {
			return err
		}
		inflight, offs = append(inflight, p), append(offs, off)
		if len(inflight) >= uploadWindow {
			if err := waitOne(); err != nil {
				for len(inflight) > 0 {
					_ = waitOne()
				}
				return err
			}
		}
	}
	for len(inflight) > 0 {
		if err := waitOne(); err != nil {
			for len(inflight) > 0 {
				_ = waitOne()
			}
			return err
		}
	}
	return nil
}

// uploadWindow is how many model chunks may await commit at once.
const uploadWindow = 4

func writeFormErr(w http.ResponseWriter, err error) {
	var fe *formError
	if errors.As(err, &fe) {
		writeError(w, http.StatusBadRequest, fe.code, fe.msg)
		return
	}
	writeErr(w, err)
}

// orderView renders an order; reasons explain unplaced pending jobs.
func (n *Node) orderView(s *fsm.State, o *fsm.Order, withJobs bool, reasons map[string]string) api.Order {
	v := api.Order{
		ID: o.ID, Community: o.Community, ModelSHA256: o.ModelSHA256, ModelName: o.ModelName,
		Quantity: o.Quantity, Material: o.Material, Colour: o.Colour, LayerHeight: o.LayerHeight, Infill: o.Infill,
		Deadline: o.Deadline, PickupNote: o.PickupNote, State: o.State, Created: fsm.CommandTime(o.Created), JobsDone: s.JobsDone(o),
	}
	if m := s.Models[o.ModelSHA256]; m != nil {
		v.ModelSize = m.Size
	}
	if !withJobs {
		return v
	}
	v.Jobs = []api.Job{}
	for _, j := range s.OrderJobs(o) {
		v.Jobs = append(v.Jobs, jobView(j, reasons))
	}
	return v
}

// jobView is the API's view of a job; reasons are the unplaced reasons
// of pending jobs, by job id (nil: none known).
func jobView(j *fsm.Job, reasons map[string]string) api.Job {
	jv := api.Job{
		ID: j.ID, OrderID: j.OrderID, Copy: j.Copy, State: j.State, Printer: j.WorkerID, Attempts: j.Attempts,
		Epoch: j.Epoch, Failures: j.Failures, EstSeconds: j.EstSeconds, Pickup: j.Pickup,
	}
	if j.Progress != nil {
		pp := *j.Progress
		jv.Progress = &pp
	}
	switch {
	case j.State == api.JobPending:
		jv.Reason = reasons[j.ID]
		if jv.Reason == "" {
			jv.Reason = "waiting for the next placement round"
		}
		if j.Waiting != "" {
			jv.Reason += "; waiting: " + j.Waiting
		}
	case j.State == api.JobFailed:
		var rs []string
		for _, f := range j.Failures {
			rs = append(rs, f.Printer+": "+f.Reason)
		}
		jv.Reason = "failed on every printer tried: " + strings.Join(rs, "; ")
	case j.CancelRequested:
		jv.Reason = "cancel requested; the worker stops at its next report"
	}
	return jv
}

// reasonCache keeps the last on-demand plan's reasons for a second, so
// order status reads do not each run the scheduler over every job.
type reasonCache struct {
	mu      sync.Mutex
	at      time.Time
	reasons map[string]string
}

// unplacedReasons explains why order o's pending jobs wait, asking the
// placer about the current state (it places nothing).
func (n *Node) unplacedReasons(s *fsm.State, o *fsm.Order) map[string]string {
	var pending []string
	for _, j := range s.OrderJobs(o) {
		if j.State == api.JobPending {
			pending = append(pending, j.ID)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	c := &n.reasons
	c.mu.Lock()
	defer c.mu.Unlock()
	fresh := time.Since(c.at) < time.Second
	for _, id := range pending {
		if _, ok := c.reasons[id]; !ok {
			fresh = false
		}
	}
	if fresh {
		return c.reasons
	}
	snap := snapshotFor(s, n.clock.Now())
	plan := n.cfg.Placer.Place(snap)
	out := make(map[string]string, len(plan.Unplaced)+len(plan.Placements))
	for _, u := range plan.Unplaced {
		out[u.JobID] = u.Reason
	}
	for _, p := range plan.Placements {
		out[p.JobID] = "being placed on " + p.WorkerID
	}
	c.at, c.reasons = time.Now(), out
	return out
}

// visible reports whether principal p may see order o.
func visible(p principal, o *fsm.Order) bool {
	return p.role == roleAdmin || p.role == roleCommunity && p.community == o.Community
}

// handleOrders serves a page of the orders the principal may see
// (pages.go).
func (n *Node) handleOrders(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	pg, err := parsePage(r, orderStates)
	if err != nil {
		writeErr(w, err)
		return
	}
	out := api.Orders{Orders: []api.Order{}}
	n.fsm.View(func(s *fsm.State) {
		var ids []string
		ids, out.NextCursor = pageIDs(pg, s.Orders, func(_ string, o *fsm.Order) bool {
			return visible(p, o) && pg.wants(o.State)
		})
		for _, id := range ids {
			out.Orders = append(out.Orders, n.orderView(s, s.Orders[id], false, nil))
		}
	})
	writeJSON(w, http.StatusOK, out)
}

// handleJobs serves a page of the jobs of the orders the principal may
// see (pages.go).
func (n *Node) handleJobs(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	pg, err := parsePage(r, jobStates)
	if err != nil {
		writeErr(w, err)
		return
	}
	out := api.Jobs{Jobs: []api.Job{}}
	n.fsm.View(func(s *fsm.State) {
		var ids []string
		ids, out.NextCursor = pageIDs(pg, s.Jobs, func(_ string, j *fsm.Job) bool {
			o := s.Orders[j.OrderID]
			return o != nil && visible(p, o) && pg.wants(j.State)
		})
		for _, id := range ids {
			out.Jobs = append(out.Jobs, jobView(s.Jobs[id], nil))
		}
	})
	writeJSON(w, http.StatusOK, out)
}

// findOrder finds an order the principal may see.
func findOrder(s *fsm.State, p principal, id string) (*fsm.Order, error) {
	o := s.Orders[id]
	if o == nil {
		return nil, fmt.Errorf("%w: no order %s", ErrNotFound, id)
	}
	if !visible(p, o) {
		return nil, fmt.Errorf("%w: order %s belongs to another community", ErrForbidden, id)
	}
	return o, nil
}

func (n *Node) handleOrder(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	var (
		out api.Order
		err error
	)
	n.fsm.View(func(s *fsm.State) {
		var o *fsm.Order
		if o, err = findOrder(s, p, r.PathValue("id")); err == nil {
			out = n.orderView(s, o, true, n.unplacedReasons(s, o))
		}
	})
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (n *Node) handleCancel(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	id := r.PathValue("id")
	var err error
	n.fsm.View(func(s *fsm.State) { _, err = findOrder(s, p, id) })
	if err != nil {
		writeErr(w, err)
		return
	}
	if _, err := n.propose(&fsm.Command{Type: fsm.CmdCancelOrder, Cancel: &fsm.CancelCmd{OrderID: id}}); err != nil {
		writeErr(w, err)
		return
	}
	var out api.Order
	n.fsm.View(func(s *fsm.State) { out = n.orderView(s, s.Orders[id], true, nil) })
	writeJSON(w, http.StatusOK, out)
}

// handleModel streams a model from the model store; Range requests
// get the part asked for (http.ServeContent), the ETag being the hash.
func (n *Node) handleModel(w http.ResponseWriter, r *http.Request) {
	sum := r.PathValue("sha256")
	f, _, err := n.fsm.OpenModel(sum)
	if err != nil {
		if errors.Is(err, fsm.ErrNoModel) && !n.IsLeader() && r.Header.Get(forwardedHeader) == "" {
			n.forward(w, r) // not applied here yet: the leader has it
			return
		}
		if errors.Is(err, fsm.ErrNoModel) {
			writeError(w, http.StatusNotFound, api.CodeNotFound, "no model "+sum)
			return
		}
		writeErr(w, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+sum+`"`)
	http.ServeContent(w, r, "", time.Time{}, f)
}
