package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/fabgrid/fabgrid/hours"
)

// benchSnapshot is a city-scale round: printers of three profiles carrying
// 4 materials × 6 colours and two nozzle sizes across 20 neighbourhoods,
// 70 % of them idle, a quarter with owner's hours or a length limit;
// jobs from 50 communities, a third with deadlines, a tenth with an
// earlier failure, a mix of part sizes (a few too big for most beds).
func benchSnapshot(nJobs, nPrinters int, seed uint64) *Snapshot {
	r := rand.New(rand.NewPCG(seed, 1))
	materials := []string{"PLA", "PETG", "ABS", "TPU"}
	colours := []string{"black", "white", "red", "blue", "grey", "green"}
	type prof struct {
		name  string
		bed   [3]float64
		speed float64
	}
	profs := []prof{{"ender3", [3]float64{220, 220, 250}, 1}, {"mk3s", [3]float64{250, 210, 210}, 1.4}, {"cr10s5", [3]float64{500, 500, 500}, 0.95}}
	s := &Snapshot{Now: day0 + 10*3600, Seed: int64(seed)}
	for i := range 50 {
		s.Communities = append(s.Communities, Community{Name: fmt.Sprintf("c%02d", i), Weight: float64(1 + i%3), UsedPrinterSeconds: float64(r.IntN(100000))})
	}
	for i := range nPrinters {
		pf := profs[[]int{0, 0, 0, 1, 1, 2}[r.IntN(6)]]
		p := Printer{
			WorkerID: fmt.Sprintf("printer-%06d", i), Profile: pf.name, BuildMM: pf.bed, SpeedFactor: pf.speed,
			NozzleMM: []float64{0.4, 0.4, 0.4, 0.6}[r.IntN(4)],
			Material: materials[[]int{0, 0, 0, 1, 1, 2, 3}[r.IntN(7)]], Colour: colours[r.IntN(len(colours))],
			State:     StateIdle,
			Successes: r.IntN(200), Failures: r.IntN(10),
			Neighbourhood: fmt.Sprintf("n%02d", r.IntN(20)),
		}
		switch x := r.IntN(10); {
		case x < 2:
			p.State = StateBusy
			p.BusyUntil = s.Now + int64(r.IntN(20000))
		case x == 2:
			p.State = StateAwaitingBedClear
		}
		if r.IntN(8) == 0 {
			p.Hours = &hours.Window{StartMin: 8 * 60, EndMin: 22 * 60}
		}
		if r.IntN(8) == 0 {
			p.MaxJobSeconds = 6 * 3600
		}
		s.Printers = append(s.Printers, p)
	}
	for i := range nJobs {
		side := 10 + r.Float64()*r.Float64()*260
		j := Job{
			ID: fmt.Sprintf("job-%07d", i), OrderID: fmt.Sprintf("order-%05d", i/20),
			Community: s.Communities[(i/20)%len(s.Communities)].Name,
			Material:  materials[[]int{0, 0, 0, 1, 1, 2, 3}[r.IntN(7)]],
			SizeMM:    [3]float64{side, side * (0.5 + r.Float64()/2), side * (0.3 + r.Float64())},
			Submitted: s.Now - int64(r.IntN(200000)),
			Attempts:  0,
		}
		if r.IntN(2) == 0 {
			j.Colour = colours[r.IntN(len(colours))]
		}
		if r.IntN(2) == 0 {
			j.EstSeconds = 600 + side*side*0.8
		} else {
			j.VolumeMM3 = j.SizeMM[0] * j.SizeMM[1] * j.SizeMM[2] * 0.25
			j.SurfaceMM2 = 2 * (j.SizeMM[0]*j.SizeMM[1] + j.SizeMM[1]*j.SizeMM[2] + j.SizeMM[0]*j.SizeMM[2])
		}
		if r.IntN(3) == 0 {
			j.Deadline = s.Now + int64(3600+r.IntN(300000))
		}
		if r.IntN(10) == 0 {
			j.Attempts = 1
			j.Excluded = []string{s.Printers[r.IntN(nPrinters)].WorkerID}
		}
		if r.IntN(3) == 0 {
			j.Neighbourhood = fmt.Sprintf("n%02d", r.IntN(20))
		}
		s.Jobs = append(s.Jobs, j)
	}
	return s
}

func BenchmarkPlan(b *testing.B) {
	for _, sz := range []struct{ jobs, printers int }{{1000, 100}, {10000, 1000}, {100000, 10000}} {
		b.Run(fmt.Sprintf("jobs=%d/printers=%d", sz.jobs, sz.printers), func(b *testing.B) {
			s := benchSnapshot(sz.jobs, sz.printers, 42)
			b.ReportAllocs()
			b.ResetTimer()
			var plan Plan
			cpu0 := cpuNanos()
			for b.Loop() {
				plan = Place(s)
			}
			cpu := cpuNanos() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(sz.jobs), "ns/job")
			// CPU seconds of the whole process (GC included) per round: on a
			// shared machine, wall time also counts the neighbours' work.
			b.ReportMetric(float64(cpu)/float64(b.N)/1e9, "cpu-s/op")
			b.ReportMetric(float64(len(plan.Placements)), "placed")
		})
	}
}
