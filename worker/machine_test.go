package worker

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/client"
	"github.com/fabgrid/fabgrid/hours"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func testMachine(autoClear bool) *Machine {
	return NewMachine(MachineConfig{
		WorkerID: "w-1", AutoClear: autoClear, ProgressEvery: 3 * time.Second,
		Policy: Policy{Material: "PLA", Colour: "black", BuildMM: [3]float64{220, 220, 250}},
	})
}

func assignment(id string) api.Assignment {
	return api.Assignment{JobID: id, OrderID: "o-1", Epoch: 7, ModelSHA256: "ab", Material: "PLA", LayerHeight: 0.2, Infill: 20, LeaseMS: 60000}
}

// kinds lists the action types, for compact expectations.
func kinds(acts []Action) []string {
	var out []string
	for _, a := range acts {
		out = append(out, reflect.TypeOf(a).Name())
	}
	return out
}

func expect(t *testing.T, step string, acts []Action, want ...string) {
	t.Helper()
	if got := kinds(acts); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%s: actions %v, want %v", step, got, want)
	}
}

func find[T Action](t *testing.T, acts []Action) T {
	t.Helper()
	for _, a := range acts {
		if v, ok := a.(T); ok {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T in %v", zero, kinds(acts))
	return zero
}

var sliced = SliceInfo{SizeMM: [3]float64{20, 20, 10}, EstSeconds: 600, Layers: 50, FilamentMM: 1200}

// toPrinting drives a fresh machine to PhasePrinting with job j-1.
func toPrinting(t *testing.T, m *Machine) {
	t.Helper()
	expect(t, "assign", m.Assign(assignment("j-1"), t0), "ActPersist", "ActReportProgress", "ActFetch")
	expect(t, "fetched", m.Fetched("j-1", nil, t0), "ActSlice")
	acts := m.Sliced("j-1", sliced, nil, t0)
	// The progress report carrying the estimate waits for the first one.
	expect(t, "sliced", acts, "ActPersist", "ActPrint")
	if m.Phase() != PhasePrinting || m.State() != api.WorkerBusy {
		t.Fatalf("phase %s state %s", m.Phase(), m.State())
	}
	acts = m.ProgressAnswered("j-1", api.ProgressResponse{Action: api.ActionContinue}, false, nil, t0)
	r := find[ActReportProgress](t, acts)
	if r.Req.EstSeconds != 600 || r.Req.State != api.JobPrinting || r.Req.Epoch != 7 {
		t.Fatalf("estimate report %+v", r.Req)
	}
	m.ProgressAnswered("j-1", api.ProgressResponse{Action: api.ActionContinue}, false, nil, t0)
}

func TestMachineHappyPath(t *testing.T) {
	m := testMachine(false)
	if !m.WantsWork() {
		t.Fatal("a fresh machine wants work")
	}
	toPrinting(t, m)
	if m.WantsWork() {
		t.Fatal("a printing machine wants work")
	}
	if p := m.Persisted(); p.InFlight == nil || p.InFlight.JobID != "j-1" || !p.InFlight.Printing || p.InFlight.Epoch != 7 {
		t.Fatalf("persisted %+v", p.InFlight)
	}
	// Progress is reported only every ProgressEvery.
	expect(t, "progress at once", m.Progress("j-1", PrintProgress{Percent: 10, Layer: 5}, t0.Add(time.Second)))
	acts := m.Progress("j-1", PrintProgress{Percent: 20, Layer: 10, HotendC: 200, BedC: 60, ETAS: 480}, t0.Add(3*time.Second))
	r := find[ActReportProgress](t, acts)
	if r.Req.Percent != 20 || r.Req.Layer != 10 || r.Req.Layers != 50 || r.Req.HotendC != 200 || r.Req.ETAS != 480 {
		t.Fatalf("report %+v", r.Req)
	}
	expect(t, "no report while one is in flight", m.Tick(t0.Add(10*time.Second)))
	expect(t, "answer", m.ProgressAnswered("j-1", api.ProgressResponse{Action: api.ActionContinue}, false, nil, t0.Add(10*time.Second)))
	expect(t, "tick", m.Tick(t0.Add(10*time.Second)), "ActReportProgress")
	m.ProgressAnswered("j-1", api.ProgressResponse{Action: api.ActionContinue}, false, nil, t0.Add(10*time.Second))

	acts = m.PrintDone("j-1", nil, t0.Add(time.Minute))
	expect(t, "done", acts, "ActPersist", "ActReportResult")
	res := find[ActReportResult](t, acts)
	if res.Req.Outcome != api.OutcomeDone || res.Req.Epoch != 7 || res.Req.WorkerID != "w-1" {
		t.Fatalf("result %+v", res.Req)
	}
	if m.Phase() != PhaseAwaitingBedClear || m.State() != api.WorkerAwaitingBedClear || m.WantsWork() {
		t.Fatalf("after success: phase %s", m.Phase())
	}
	if p := m.Persisted(); p.InFlight == nil || p.InFlight.Outcome != api.OutcomeDone || !p.AwaitingBedClear {
		t.Fatalf("persisted before delivery %+v", p)
	}
	expect(t, "delivered", m.ResultDelivered("j-1"), "ActPersist")
	if p := m.Persisted(); p.InFlight != nil {
		t.Fatalf("persisted after delivery %+v", p)
	}
	if _, err := m.Owner(CmdPause, t0); err != nil {
		t.Fatal(err)
	}
	acts, err := m.Owner(CmdClear, t0)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "clear", acts, "ActPersist", "ActBedClear")
	if m.WantsWork() || m.State() != api.WorkerPaused {
		t.Fatalf("cleared but paused: state %s", m.State())
	}
	m.Owner(CmdResume, t0)
	if !m.WantsWork() || m.State() != api.WorkerIdle {
		t.Fatal("cleared and resumed: wants work")
	}
}

func TestMachineAutoClear(t *testing.T) {
	m := testMachine(true)
	toPrinting(t, m)
	acts := m.PrintDone("j-1", nil, t0)
	expect(t, "done", acts, "ActPersist", "ActReportResult", "ActBedClear")
	if m.Phase() != PhaseIdle || m.WantsWork() {
		t.Fatalf("phase %s, wants work %v (must wait for delivery)", m.Phase(), m.WantsWork())
	}
	m.ResultDelivered("j-1")
	if !m.WantsWork() {
		t.Fatal("after delivery the machine wants work")
	}
}

func TestMachineRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*api.Assignment)
		hours  hours.Window
		want   string
	}{
		{"material", func(a *api.Assignment) { a.Material = "PETG" }, hours.Window{}, "material mismatch: job needs PETG, printer has PLA loaded"},
		{"colour", func(a *api.Assignment) { a.Colour = "red" }, hours.Window{}, "colour mismatch: job needs red, printer has black loaded"},
		{"hours", func(a *api.Assignment) {}, hours.Window{StartMin: 8 * 60, EndMin: 11 * 60}, "outside the owner's printing hours 08:00-11:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testMachine(false)
			m.cfg.Policy.Hours = tc.hours
			a := assignment("j-1")
			tc.mutate(&a)
			acts := m.Assign(a, t0)
			expect(t, "assign", acts, "ActPersist", "ActReportResult")
			r := find[ActReportResult](t, acts)
			if r.Req.Outcome != api.OutcomeRefused || r.Req.Reason != tc.want {
				t.Fatalf("result %+v", r.Req)
			}
			if m.WantsWork() {
				t.Fatal("wants work before the refusal is delivered")
			}
			m.ResultDelivered("j-1")
			if !m.WantsWork() || m.Phase() != PhaseIdle {
				t.Fatal("a refusal leaves the printer idle")
			}
		})
	}
	// Checks after slicing.
	for _, tc := range []struct {
		name string
		info SliceInfo
		pol  func(*Policy)
		want string
	}{
		{"too big", SliceInfo{SizeMM: [3]float64{230, 10, 10}, EstSeconds: 60}, func(*Policy) {}, "model 230×10×10 mm does not fit the build volume 220×220×250 mm"},
		{"too tall", SliceInfo{SizeMM: [3]float64{10, 10, 251}, EstSeconds: 60}, func(*Policy) {}, "model 10×10×251 mm does not fit the build volume 220×220×250 mm"},
		{"too long", SliceInfo{SizeMM: [3]float64{10, 10, 10}, EstSeconds: 7 * 3600}, func(p *Policy) { p.MaxJobHours = 6 }, "estimated 7.0 h exceeds the owner's limit of 6 h per job"},
		{"past hours", SliceInfo{SizeMM: [3]float64{10, 10, 10}, EstSeconds: 3 * 3600}, func(p *Policy) { p.Hours = hours.Window{StartMin: 8 * 60, EndMin: 14 * 60} }, "estimated 3h0m0s would run past the end of the owner's printing hours 08:00-14:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testMachine(false)
			tc.pol(&m.cfg.Policy)
			m.Assign(assignment("j-1"), t0)
			m.Fetched("j-1", nil, t0)
			acts := m.Sliced("j-1", tc.info, nil, t0)
			r := find[ActReportResult](t, acts)
			if r.Req.Outcome != api.OutcomeRefused || r.Req.Reason != tc.want {
				t.Fatalf("result %+v, want reason %q", r.Req, tc.want)
			}
			if m.Phase() != PhaseIdle {
				t.Fatalf("phase %s: nothing was printed, the bed is clear", m.Phase())
			}
		})
	}
	// Turned 90° it fits.
	m := testMachine(false)
	m.cfg.Policy.BuildMM = [3]float64{250, 210, 210}
	m.Assign(assignment("j-1"), t0)
	m.Fetched("j-1", nil, t0)
	if acts := m.Sliced("j-1", SliceInfo{SizeMM: [3]float64{200, 240, 10}, EstSeconds: 60}, nil, t0); m.Phase() != PhasePrinting {
		t.Fatalf("rotated part refused: %v", kinds(acts))
	}
}

func TestMachineFailures(t *testing.T) {
	t.Run("download", func(t *testing.T) {
		m := testMachine(false)
		m.Assign(assignment("j-1"), t0)
		r := find[ActReportResult](t, m.Fetched("j-1", errors.New("client: model checksum mismatch"), t0))
		if r.Req.Outcome != api.OutcomeFailed || r.Req.Reason != "model download failed: client: model checksum mismatch" {
			t.Fatalf("%+v", r.Req)
		}
	})
	t.Run("slicing", func(t *testing.T) {
		m := testMachine(false)
		m.Assign(assignment("j-1"), t0)
		m.Fetched("j-1", nil, t0)
		r := find[ActReportResult](t, m.Sliced("j-1", SliceInfo{}, errors.New("slicer: not a solid"), t0))
		if r.Req.Outcome != api.OutcomeFailed || r.Req.Reason != "slicing failed: slicer: not a solid" || m.Phase() != PhaseIdle {
			t.Fatalf("%+v phase %s", r.Req, m.Phase())
		}
	})
	t.Run("thermal runaway", func(t *testing.T) {
		m := testMachine(false)
		toPrinting(t, m)
		r := find[ActReportResult](t, m.PrintDone("j-1", errors.New("printerdrv: thermal runaway"), t0))
		if r.Req.Outcome != api.OutcomeFailed || r.Req.Reason != "print failed: printerdrv: thermal runaway" {
			t.Fatalf("%+v", r.Req)
		}
		if m.Phase() != PhaseAwaitingBedClear {
			t.Fatalf("a failed print leaves a dirty bed: phase %s", m.Phase())
		}
	})
}

func TestMachineCancel(t *testing.T) {
	t.Run("coordinator cancel while printing", func(t *testing.T) {
		m := testMachine(false)
		toPrinting(t, m)
		m.Tick(t0.Add(5 * time.Second))
		acts := m.ProgressAnswered("j-1", api.ProgressResponse{Action: api.ActionCancel}, false, nil, t0.Add(5*time.Second))
		c := find[ActCancelPrint](t, acts)
		if c.Reason != ReasonCoordinatorCancel || m.Phase() != PhaseStopping {
			t.Fatalf("%+v phase %s", c, m.Phase())
		}
		r := find[ActReportResult](t, m.PrintDone("j-1", errors.New("printerdrv: cancelled"), t0))
		if r.Req.Outcome != api.OutcomeFailed || r.Req.Reason != ReasonCoordinatorCancel {
			t.Fatalf("%+v", r.Req)
		}
	})
	t.Run("cancel while fetching", func(t *testing.T) {
		m := testMachine(false)
		m.Assign(assignment("j-1"), t0)
		expect(t, "cancel", m.ProgressAnswered("j-1", api.ProgressResponse{Action: api.ActionCancel}, false, nil, t0), "ActCancelWork")
		r := find[ActReportResult](t, m.Fetched("j-1", errors.New("context canceled"), t0))
		if r.Req.Reason != ReasonCoordinatorCancel || m.Phase() != PhaseIdle {
			t.Fatalf("%+v", r.Req)
		}
	})
	t.Run("stale epoch before printing", func(t *testing.T) {
		m := testMachine(false)
		m.Assign(assignment("j-1"), t0)
		expect(t, "stale", m.ProgressAnswered("j-1", api.ProgressResponse{}, true, errors.New("409"), t0), "ActCancelWork")
	})
	t.Run("stale epoch while printing stops the print", func(t *testing.T) {
		// Before, the print went on to the end: a duplicate.
		m := testMachine(false)
		toPrinting(t, m)
		m.Tick(t0.Add(5 * time.Second))
		c := find[ActCancelPrint](t, m.ProgressAnswered("j-1", api.ProgressResponse{}, true, errors.New("409"), t0))
		if !strings.HasPrefix(c.Reason, ReasonSuperseded) || m.Phase() != PhaseStopping {
			t.Fatalf("%+v phase %s", c, m.Phase())
		}
		expect(t, "no more reports", m.Tick(t0.Add(time.Hour)))
		r := find[ActReportResult](t, m.PrintDone("j-1", errors.New("printerdrv: cancelled"), t0))
		if r.Req.Outcome != api.OutcomeSuperseded {
			t.Fatalf("%+v", r.Req)
		}
	})
	t.Run("superseded while printing: safe cancel at once, reported superseded", func(t *testing.T) {
		m := testMachine(false)
		toPrinting(t, m)
		m.Tick(t0.Add(5 * time.Second))
		ans := api.ProgressResponse{Action: api.ActionCancel, Superseded: true, Reason: "copy j-1 was done by w-2"}
		c := find[ActCancelPrint](t, m.ProgressAnswered("j-1", ans, false, nil, t0.Add(5*time.Second)))
		if c.Reason != ReasonSuperseded+ans.Reason {
			t.Fatalf("cancel %+v", c)
		}
		r := find[ActReportResult](t, m.PrintDone("j-1", errors.New("printerdrv: cancelled"), t0))
		if r.Req.Outcome != api.OutcomeSuperseded || r.Req.Reason != c.Reason || m.Phase() != PhaseAwaitingBedClear {
			t.Fatalf("%+v phase %s", r.Req, m.Phase())
		}
	})
	t.Run("superseded while slicing", func(t *testing.T) {
		m := testMachine(false)
		m.Assign(assignment("j-1"), t0)
		m.Fetched("j-1", nil, t0)
		expect(t, "cancel", m.ProgressAnswered("j-1", api.ProgressResponse{Action: api.ActionCancel, Superseded: true}, false, nil, t0), "ActCancelWork")
		r := find[ActReportResult](t, m.Sliced("j-1", SliceInfo{}, errors.New("context canceled"), t0))
		if r.Req.Outcome != api.OutcomeSuperseded || m.Phase() != PhaseIdle {
			t.Fatalf("%+v", r.Req)
		}
	})
	t.Run("unreachable coordinator: the print goes on", func(t *testing.T) {
		m := testMachine(false)
		toPrinting(t, m)
		m.Tick(t0.Add(5 * time.Second))
		expect(t, "error", m.ProgressAnswered("j-1", api.ProgressResponse{}, false, errors.New("no coordinator"), t0.Add(5*time.Second)))
		expect(t, "retry", m.Tick(t0.Add(8*time.Second)), "ActReportProgress")
	})
	t.Run("shutdown while printing", func(t *testing.T) {
		m := testMachine(false)
		toPrinting(t, m)
		find[ActCancelPrint](t, m.Shutdown(t0))
		r := find[ActReportResult](t, m.PrintDone("j-1", errors.New("printerdrv: cancelled"), t0))
		if r.Req.Reason != ReasonShutdown {
			t.Fatalf("%+v", r.Req)
		}
	})
	t.Run("owner abort", func(t *testing.T) {
		m := testMachine(false)
		if _, err := m.Owner(CmdAbort, t0); !errors.Is(err, ErrOwner) {
			t.Fatalf("abort with no job: %v", err)
		}
		toPrinting(t, m)
		acts, err := m.Owner(CmdAbort, t0)
		if err != nil {
			t.Fatal(err)
		}
		find[ActCancelPrint](t, acts)
	})
}

func TestMachineRestore(t *testing.T) {
	for _, tc := range []struct {
		name      string
		autoClear bool
		in        Persisted
		outcome   string
		reason    string
		phase     Phase
	}{
		{"mid-print", false, Persisted{WorkerID: "w-1", InFlight: &InFlight{JobID: "j-1", Epoch: 7, Printing: true}},
			api.OutcomeFailed, ReasonRestarted, PhaseAwaitingBedClear},
		{"mid-print auto-clear", true, Persisted{WorkerID: "w-1", InFlight: &InFlight{JobID: "j-1", Epoch: 7, Printing: true}},
			api.OutcomeFailed, ReasonRestarted, PhaseIdle},
		{"while slicing", false, Persisted{WorkerID: "w-1", InFlight: &InFlight{JobID: "j-1", Epoch: 7}},
			api.OutcomeFailed, ReasonRestarted, PhaseIdle},
		{"done, not delivered", false, Persisted{WorkerID: "w-1", AwaitingBedClear: true,
			InFlight: &InFlight{JobID: "j-1", Epoch: 7, Printing: true, Outcome: api.OutcomeDone}},
			api.OutcomeDone, "", PhaseAwaitingBedClear},
		{"nothing", false, Persisted{WorkerID: "w-1"}, "", "", PhaseIdle},
		{"bed still dirty", false, Persisted{WorkerID: "w-1", AwaitingBedClear: true}, "", "", PhaseAwaitingBedClear},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testMachine(tc.autoClear)
			acts := m.Restore(tc.in)
			if m.Phase() != tc.phase {
				t.Fatalf("phase %s, want %s", m.Phase(), tc.phase)
			}
			if tc.outcome == "" {
				expect(t, "restore", acts)
				return
			}
			expect(t, "restore", acts, "ActPersist", "ActReportResult")
			r := find[ActReportResult](t, acts)
			if r.JobID != "j-1" || r.Req.Epoch != 7 || r.Req.Outcome != tc.outcome || r.Req.Reason != tc.reason {
				t.Fatalf("result %+v", r)
			}
			if m.WantsWork() {
				t.Fatal("wants work before the result is delivered")
			}
		})
	}
}

func TestMachineBusyRefusesOtherJobs(t *testing.T) {
	m := testMachine(false)
	toPrinting(t, m)
	expect(t, "same job again", m.Assign(assignment("j-1"), t0))
	acts := m.Assign(assignment("j-2"), t0)
	expect(t, "other job", acts, "ActReportResult")
	if r := find[ActReportResult](t, acts); r.JobID != "j-2" || r.Req.Outcome != api.OutcomeRefused {
		t.Fatalf("%+v", r)
	}
	if m.JobID() != "j-1" || m.Phase() != PhasePrinting {
		t.Fatal("the job in progress was disturbed")
	}
}

func TestOwnerPauseWhilePrinting(t *testing.T) {
	m := testMachine(false)
	toPrinting(t, m)
	acts, err := m.Owner(CmdPause, t0)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "pause", acts, "ActPausePrint")
	if m.State() != api.WorkerBusy {
		t.Fatalf("paused print: state %s", m.State())
	}
	if _, err := m.Owner(CmdPause, t0); !errors.Is(err, ErrOwner) {
		t.Fatal("double pause accepted")
	}
	acts, _ = m.Owner(CmdResume, t0)
	expect(t, "resume", acts, "ActResumePrint")
	if _, err := m.Owner(CmdClear, t0); !errors.Is(err, ErrOwner) {
		t.Fatal("clear while printing accepted")
	}
	if _, err := m.Owner("explode", t0); !errors.Is(err, ErrOwner) {
		t.Fatal("unknown command accepted")
	}
}

// Item 2: every refusal says its kind: temporary for what passes (busy,
// paused, bed not clear, outside hours), permanent for what this printer
// can never do (material, colour, size, its profile cannot slice it).
func TestRefusalKinds(t *testing.T) {
	open, err := hours.Parse("08:00-22:00", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	night := t0.Add(-11 * time.Hour) // 01:00
	for _, tc := range []struct {
		name string
		run  func(m *Machine) []Action
		kind string
	}{
		{"busy", func(m *Machine) []Action {
			m.Assign(assignment("j-1"), t0)
			return m.Assign(assignment("j-2"), t0)
		}, api.RefusalTemporary},
		{"paused", func(m *Machine) []Action {
			m.Owner(CmdPause, t0)
			return m.Assign(assignment("j-1"), t0)
		}, api.RefusalTemporary},
		{"outside hours", func(m *Machine) []Action { return m.Assign(assignment("j-1"), night) }, api.RefusalTemporary},
		{"material", func(m *Machine) []Action {
			a := assignment("j-1")
			a.Material = "PETG"
			return m.Assign(a, t0)
		}, api.RefusalPermanent},
		{"does not fit", func(m *Machine) []Action {
			m.Assign(assignment("j-1"), t0)
			m.Fetched("j-1", nil, t0)
			return m.Sliced("j-1", SliceInfo{SizeMM: [3]float64{500, 20, 10}, EstSeconds: 60}, nil, t0)
		}, api.RefusalPermanent},
		{"model checksum mismatch", func(m *Machine) []Action {
			m.Assign(assignment("j-1"), t0)
			return m.Fetched("j-1", fmt.Errorf("%w: got other bytes", client.ErrChecksum), t0)
		}, api.RefusalPermanent},
		{"slicer refuses on this profile", func(m *Machine) []Action {
			m.Assign(assignment("j-1"), t0)
			m.Fetched("j-1", nil, t0)
			return m.Sliced("j-1", SliceInfo{}, errors.Join(ErrRefused), t0)
		}, api.RefusalPermanent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testMachine(false)
			m.cfg.Policy.Hours = open
			var r ActReportResult
			for _, a := range tc.run(m) {
				if v, ok := a.(ActReportResult); ok && v.Req.Outcome == api.OutcomeRefused {
					r = v
				}
			}
			if r.Req.Refusal != tc.kind || r.Req.Reason == "" {
				t.Fatalf("refusal %+v, want kind %s", r.Req, tc.kind)
			}
		})
	}
}

// Item 6: a print whose printer acknowledges nothing for StallAfter is
// reported stalled (not while paused); acknowledgements clear it.
func TestStalledPrintIsReported(t *testing.T) {
	m := testMachine(false)
	m.cfg.StallAfter = time.Minute
	toPrinting(t, m)
	progressAt := func(at time.Duration, acked int) ActReportProgress {
		m.ProgressAnswered("j-1", api.ProgressResponse{Action: api.ActionContinue}, false, nil, t0.Add(at))
		return find[ActReportProgress](t, m.Progress("j-1", PrintProgress{Acked: acked}, t0.Add(at)))
	}
	if r := progressAt(10*time.Second, 5); r.Req.Stalled {
		t.Fatal("stalled while acknowledging")
	}
	if r := progressAt(69*time.Second, 5); r.Req.Stalled {
		t.Fatal("stalled before StallAfter")
	}
	if r := progressAt(75*time.Second, 5); !r.Req.Stalled {
		t.Fatal("not stalled after a minute without an acknowledgement")
	}
	if r := progressAt(80*time.Second, 6); r.Req.Stalled {
		t.Fatal("still stalled after an acknowledgement")
	}
	m.Owner(CmdPause, t0.Add(80*time.Second))
	if r := progressAt(200*time.Second, 6); r.Req.Stalled {
		t.Fatal("a paused print reported stalled")
	}
}

// Only progress reports renew a lease, so one report must not outlast a
// third of it (retries included): a stuck report then gives way to the
// next, which may reach the new leader.
func TestProgressReportBoundedByTheLease(t *testing.T) {
	m := testMachine(false)
	a := assignment("j-1")
	a.LeaseMS = 3000
	r := find[ActReportProgress](t, m.Assign(a, t0))
	if r.Within != time.Second {
		t.Fatalf("report bound %v, want a third of the 3 s lease", r.Within)
	}
	m = testMachine(false)
	a.LeaseMS = 0
	if r := find[ActReportProgress](t, m.Assign(a, t0)); r.Within != 30*time.Second {
		t.Fatalf("report bound without a lease %v", r.Within)
	}
}
