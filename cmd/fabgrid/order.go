//go:build !slicer

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
)

func init() {
	register(command{name: "order", summary: "submit, list, follow and cancel orders", run: runOrder})
}

func runOrder(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return dispatch(ctx, "order", map[string]subcommand{
		"submit": {"upload a model and order copies of it", runOrderSubmit},
		"list":   {"list your community's orders", runOrderList},
		"status": {"show an order and its jobs (state, printer, progress, why a job waits)", runOrderStatus},
		"cancel": {"cancel an order", runOrderCancel},
	}, args, stdout, stderr)
}

// orderSubmitOpts is the parsed command line of "order submit".
type orderSubmitOpts struct {
	model string
	req   client.OrderRequest
}

func parseOrderSubmit(args []string, stderr io.Writer) (*remoteFlags, orderSubmitOpts, error) {
	fs := newFlags("order submit", "order submit MODEL.stl|MODEL.3mf --material M [--qty N] [--community C] [flags]",
		"Uploads the model (binary or ASCII STL, or a 3MF package) and orders --qty copies of it. The answer\n"+
			"comes once the order and its model are stored on a majority of coordinators;\n"+
			"it gives the order id to follow with 'fabgrid order status ID'. Needs the\n"+
			"community's token (--token or FABGRID_TOKEN). A submission is safe to retry:\n"+
			"the coordinator recognises a repeated --request-id.", stderr)
	rf := addRemoteFlags(fs)
	var o orderSubmitOpts
	fs.StringVar(&o.req.Community, "community", "", "community ordering (must be the token's; default: the token's)")
	fs.IntVar(&o.req.Quantity, "qty", 1, "number of copies, 1..1000")
	fs.StringVar(&o.req.Material, "material", "", "material: "+strings.Join(api.Materials, ", ")+" (required)")
	fs.StringVar(&o.req.Colour, "colour", "", "colour, e.g. red (default: any)")
	fs.StringVar(&o.req.Deadline, "deadline", "", "wanted by, YYYY-MM-DD or RFC 3339 (optional)")
	fs.Float64Var(&o.req.LayerHeight, "layer-height", 0, "layer height in mm (default 0.2)")
	fs.Float64Var(&o.req.Infill, "infill", 0, "infill in percent (default 20)")
	fs.StringVar(&o.req.PickupNote, "pickup-note", "", "note for the printer owners about pickup (optional)")
	fs.StringVar(&o.req.RequestID, "request-id", "", "idempotency key; reuse it to resubmit the same order safely (default: random)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, o, err
	}
	if len(pos) != 1 {
		fs.Usage()
		return nil, o, usageError("submit: want exactly one MODEL.stl, got %d arguments", len(pos))
	}
	o.model = pos[0]
	if err := validateOrder(&o.req); err != nil {
		return nil, o, usageError("submit: %w", err)
	}
	return rf, o, nil
}

// validateOrder checks the order with the coordinator's own rules
// (package api), to fail before uploading a large model. Zero layer height
// and infill mean the coordinator's defaults and are not sent.
func validateOrder(r *client.OrderRequest) error {
	if err := api.CheckQuantity(r.Quantity); err != nil {
		return flagErr(err)
	}
	m, err := api.CheckMaterial(r.Material)
	if err != nil {
		return flagErr(err)
	}
	r.Material = m
	checks := []error{api.CheckColour(r.Colour), api.CheckPickupNote(r.PickupNote)}
	if r.Deadline != "" {
		_, err := api.ParseDeadline(r.Deadline)
		checks = append(checks, err)
	}
	if r.LayerHeight != 0 {
		checks = append(checks, api.CheckLayerHeight(r.LayerHeight))
	}
	if r.Infill != 0 {
		checks = append(checks, api.CheckInfill(r.Infill))
	}
	if r.RequestID != "" {
		checks = append(checks, api.CheckRequestID(r.RequestID))
	}
	for _, err := range checks {
		if err != nil {
			return flagErr(err)
		}
	}
	return nil
}

// orderFlags names each order field by its flag.
var orderFlags = map[string]string{
	api.FieldQuantity: "--qty", api.FieldMaterial: "--material", api.FieldColour: "--colour",
	api.FieldLayerHeight: "--layer-height", api.FieldInfill: "--infill", api.FieldDeadline: "--deadline",
	api.FieldPickupNote: "--pickup-note", api.FieldRequestID: "--request-id",
}

// flagErr words an order rule's refusal with the flag that set the field:
// "--layer-height must be between 0.05 and 1 mm, got 0.01".
func flagErr(err error) error {
	var oe *api.OrderError
	if errors.As(err, &oe) {
		if f, ok := orderFlags[oe.Field]; ok {
			return &api.OrderError{Field: f, Problem: oe.Problem}
		}
	}
	return err
}

func runOrderSubmit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rf, o, err := parseOrderSubmit(args, stderr)
	if err != nil {
		return err
	}
	if _, err := os.Stat(o.model); err != nil {
		return usageError("submit: cannot read the model: %w", err)
	}
	m, err := client.FileModel(o.model)
	if err != nil {
		return usageError("submit: %w", err)
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	bar := newUploadBar(stderr, m.Name, m.Size)
	o.req.Progress = bar.set
	ord, err := c.SubmitOrder(ctx, m, o.req)
	bar.done(err == nil)
	if err != nil {
		return rf.explain(err)
	}
	if rf.json {
		return printJSON(stdout, ord)
	}
	colour := ord.Colour
	if colour == "" {
		colour = "any colour"
	}
	_, err = fmt.Fprintf(stdout, "order %s accepted for %s: %d × %s (%s, %s), model sha256 %s… (%s)\nfollow it with: fabgrid order status %s\n",
		ord.ID, ord.Community, ord.Quantity, ord.ModelName, ord.Material, colour, short(ord.ModelSHA256, 12), humanBytes(ord.ModelSize), ord.ID)
	return err
}

func runOrderList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("order list", "order list [flags]",
		"Lists the orders the token may see: its community's (the admin token sees all).", stderr)
	rf := addRemoteFlags(fs)
	consistent := fs.Bool("consistent", false, "read through the leader (never stale; fails without a majority)")
	pf := addPageFlags(fs, "orders", []string{api.OrderOpen, api.OrderDone, api.OrderCancelled, api.OrderFailed})
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError("list: unexpected argument %q", pos[0])
	}
	opts, err := pf.options(*consistent)
	if err != nil {
		return err
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	var page api.Orders
	if *pf.all {
		page.Orders, err = c.AllOrders(ctx, opts)
	} else {
		var p *api.Orders
		if p, err = c.OrdersPage(ctx, opts); err == nil {
			page = *p
		}
	}
	if err != nil {
		return rf.explain(err)
	}
	list := page.Orders
	if rf.json {
		if page.Orders == nil {
			page.Orders = []api.Order{}
		}
		return printJSON(stdout, page)
	}
	if len(list) == 0 && (*pf.state != "" || *pf.cursor != "") {
		_, err := fmt.Fprintln(stdout, "no orders on this page (--state, --cursor)")
		return err
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(stdout, "no orders yet: submit one with 'fabgrid order submit MODEL.stl --material PLA'")
		return err
	}
	t := newTable(stdout, "ID", "COMMUNITY", "MODEL", "DONE", "MATERIAL", "COLOUR", "STATE", "DEADLINE", "CREATED")
	for _, o := range list {
		t.row(o.ID, o.Community, o.ModelName, fmt.Sprintf("%d/%d", o.JobsDone, o.Quantity), o.Material, o.Colour,
			o.State, o.Deadline, formatTime(o.Created))
	}
	if err := t.flush(); err != nil {
		return err
	}
	return pf.more(stdout, "order list", page.NextCursor)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// oneOrderArg parses the flags of a verb taking one order ID.
func oneOrderArg(verb, help string, args []string, stderr io.Writer) (rf *remoteFlags, id string, consistent bool, err error) {
	fs := newFlags("order "+verb, "order "+verb+" ID [flags]", help, stderr)
	rf = addRemoteFlags(fs)
	if verb == "status" {
		fs.BoolVar(&consistent, "consistent", false, "read through the leader (never stale; fails without a majority)")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, "", false, err
	}
	if len(pos) != 1 || pos[0] == "" {
		fs.Usage()
		return nil, "", false, usageError("%s: want exactly one order ID, got %d arguments", verb, len(pos))
	}
	return rf, pos[0], consistent, nil
}

func runOrderStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rf, id, consistent, err := oneOrderArg("status",
		"Shows an order and each of its jobs: state, printer, progress, attempts, and for\n"+
			"a job not placed yet, why it waits (no printer with the material, all busy, …).",
		args, stderr)
	if err != nil {
		return err
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	o, err := c.GetOrder(ctx, id, consistent)
	if err != nil {
		return rf.explain(err)
	}
	if rf.json {
		return printJSON(stdout, o)
	}
	return printOrder(stdout, o)
}

func printOrder(w io.Writer, o *api.Order) error {
	colour := o.Colour
	if colour == "" {
		colour = "any colour"
	}
	fmt.Fprintf(w, "order %s (%s): %s\n", printable(o.ID), printable(o.Community), o.State)
	fmt.Fprintf(w, "  model     %s, %s, sha256 %s\n", printable(o.ModelName), humanBytes(o.ModelSize), o.ModelSHA256)
	fmt.Fprintf(w, "  copies    %d × %s %s, layer %g mm, infill %g %%; %d done\n", o.Quantity, printable(o.Material), printable(colour), o.LayerHeight, o.Infill, o.JobsDone)
	if o.Deadline != "" {
		fmt.Fprintf(w, "  deadline  %s\n", printable(o.Deadline))
	}
	if o.PickupNote != "" {
		fmt.Fprintf(w, "  pickup    %s\n", printable(o.PickupNote))
	}
	fmt.Fprintf(w, "  created   %s\n\n", formatTime(o.Created))
	t := newTable(w, "JOB", "STATE", "PRINTER", "PROGRESS", "ATTEMPTS", "NOTE")
	for _, j := range o.Jobs {
		t.row(j.ID, j.State, j.Printer, jobProgress(j), strconv.Itoa(j.Attempts), jobNote(j))
	}
	return t.flush()
}

func jobProgress(j api.Job) string {
	if j.Progress == nil || j.State == api.JobPending {
		return ""
	}
	p := j.Progress
	s := fmt.Sprintf("%.1f%%", p.Percent)
	if p.Layers > 0 {
		s += fmt.Sprintf(" layer %d/%d", p.Layer, p.Layers)
	}
	if p.ETAS > 0 && j.State != api.JobDone {
		s += " eta " + (time.Duration(p.ETAS) * time.Second).String()
	}
	return s
}

// jobNote says what a person wants to know about a job in its state.
func jobNote(j api.Job) string {
	switch j.State {
	case api.JobPending:
		if j.Reason != "" {
			return "waiting: " + j.Reason
		}
		return "waiting for a printer"
	case api.JobDone:
		if j.Pickup != "" {
			return "pick up: " + j.Pickup
		}
	case api.JobFailed, api.JobCancelled:
		if j.Reason != "" {
			return j.Reason
		}
	}
	if n := len(j.Failures); n > 0 {
		f := j.Failures[n-1]
		return fmt.Sprintf("last failure on %s: %s", f.Printer, f.Reason)
	}
	return j.Reason
}

func runOrderCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	rf, id, _, err := oneOrderArg("cancel",
		"Cancels an order: its pending jobs are cancelled at once, printing jobs stop at\n"+
			"their printer's next report. Finished copies stay done.", args, stderr)
	if err != nil {
		return err
	}
	c, err := rf.client()
	if err != nil {
		return err
	}
	o, err := c.CancelOrder(ctx, id)
	if err != nil {
		return rf.explain(err)
	}
	if rf.json {
		return printJSON(stdout, o)
	}
	counts := map[string]int{}
	for _, j := range o.Jobs {
		counts[j.State]++
	}
	stopping := counts[api.JobAssigned] + counts[api.JobSlicing] + counts[api.JobPrinting]
	_, err = fmt.Fprintf(stdout, "order %s: %s (%d jobs cancelled, %d stopping at their next report, %d done)\n",
		o.ID, o.State, counts[api.JobCancelled], stopping, o.JobsDone)
	return err
}
