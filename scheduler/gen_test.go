package scheduler

import (
	"fmt"
	"math/rand/v2"

	"github.com/fabgrid/fabgrid/hours"
)

// randomSnapshot builds a varied snapshot: several materials, colours,
// nozzles, bed sizes, states, windows, limits, exclusions and deadlines.
func randomSnapshot(r *rand.Rand, nJobs, nPrinters int) *Snapshot {
	materials := []string{"PLA", "PETG", "ABS", "TPU"}
	colours := []string{"black", "white", "red", ""}
	beds := [][3]float64{{220, 220, 250}, {250, 210, 210}, {500, 500, 500}, {180, 180, 180}}
	states := []PrinterState{StateIdle, StateIdle, StateIdle, StateBusy, StateAwaitingBedClear, StatePaused, StateOffline}
	comms := []Community{{Name: "a", Weight: 1}, {Name: "b", Weight: 2}, {Name: "c", UsedPrinterSeconds: 36000}}
	s := &Snapshot{Now: day0 + int64(r.IntN(secondsPerDay)), Seed: r.Int64(), Communities: comms}
	for i := range nPrinters {
		p := Printer{
			WorkerID:    fmt.Sprintf("p%05d", i),
			BuildMM:     beds[r.IntN(len(beds))],
			NozzleMM:    []float64{0.4, 0.4, 0.6}[r.IntN(3)],
			Material:    materials[r.IntN(len(materials))],
			Colour:      colours[r.IntN(3)],
			State:       states[r.IntN(len(states))],
			SpeedFactor: []float64{1, 1.3, 0.8}[r.IntN(3)],
			Successes:   r.IntN(50),
			Failures:    r.IntN(5),
		}
		if p.State == StateBusy {
			p.BusyUntil = s.Now + int64(r.IntN(36000))
		}
		if r.IntN(4) == 0 {
			p.Hours = &hours.Window{StartMin: r.IntN(1440), EndMin: r.IntN(1440)}
		}
		if r.IntN(4) == 0 {
			p.MaxJobSeconds = float64(3600 * (1 + r.IntN(10)))
		}
		if r.IntN(3) == 0 {
			p.Neighbourhood = []string{"north", "south"}[r.IntN(2)]
		}
		s.Printers = append(s.Printers, p)
	}
	for i := range nJobs {
		j := Job{
			ID:        fmt.Sprintf("j%06d", i),
			Community: []string{"a", "b", "c", "d"}[r.IntN(4)],
			Material:  materials[r.IntN(len(materials))],
			Colour:    colours[r.IntN(len(colours))],
			SizeMM:    [3]float64{5 + r.Float64()*300, 5 + r.Float64()*250, 5 + r.Float64()*260},
			Submitted: s.Now - int64(r.IntN(100000)),
		}
		if r.IntN(2) == 0 {
			j.EstSeconds = 600 + r.Float64()*40000
		} else {
			j.VolumeMM3 = j.SizeMM[0] * j.SizeMM[1] * j.SizeMM[2] * 0.3
			j.SurfaceMM2 = 2 * (j.SizeMM[0]*j.SizeMM[1] + j.SizeMM[1]*j.SizeMM[2] + j.SizeMM[0]*j.SizeMM[2])
		}
		if r.IntN(5) == 0 {
			j.NozzleMM = 0.4
		}
		if r.IntN(3) == 0 {
			j.Deadline = s.Now + int64(r.IntN(200000))
		}
		if r.IntN(6) == 0 && nPrinters > 0 {
			j.Excluded = []string{s.Printers[r.IntN(nPrinters)].WorkerID}
		}
		if r.IntN(4) == 0 {
			j.Neighbourhood = "north"
		}
		s.Jobs = append(s.Jobs, j)
	}
	return s
}
