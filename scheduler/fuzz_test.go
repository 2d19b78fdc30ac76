package scheduler

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/fabgrid/fabgrid/hours"
)

// byteSource turns fuzz input into snapshot fields, favouring the values
// that break arithmetic: NaN, infinities, zero, negatives, huge numbers.
type byteSource struct{ b []byte }

func (s *byteSource) byte() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[0]
	s.b = s.b[1:]
	return c
}

func (s *byteSource) float(scale float64) float64 {
	switch c := s.byte(); c {
	case 0:
		return math.NaN()
	case 1:
		return math.Inf(1)
	case 2:
		return math.Inf(-1)
	case 3:
		return -1
	case 4:
		return 0
	case 5:
		return 1e308
	default:
		return float64(c) / 255 * scale
	}
}

func (s *byteSource) pick(n int) int { return int(s.byte()) % n }

func (s *byteSource) int64() int64 {
	var buf [8]byte
	for i := range buf {
		buf[i] = s.byte()
	}
	return int64(binary.LittleEndian.Uint64(buf[:]))
}

func fuzzSnapshot(data []byte) *Snapshot {
	src := &byteSource{data}
	materials := []string{"PLA", "petg", "", " PLA "}
	colours := []string{"", "red", "RED"}
	states := []PrinterState{StateIdle, StateIdle, StateBusy, StateAwaitingBedClear, StatePaused, StateOffline, "?"}
	s := &Snapshot{Now: src.int64() % (1 << 40), Seed: src.int64()}
	for i := range src.pick(4) {
		s.Communities = append(s.Communities, Community{Name: fmt.Sprint("c", i), Weight: src.float(3), UsedPrinterSeconds: src.float(1e5), Neighbourhood: fmt.Sprint("n", src.pick(2))})
	}
	for i := range src.pick(9) {
		p := Printer{
			WorkerID:    fmt.Sprint("p", i%7),
			BuildMM:     [3]float64{src.float(400), src.float(400), src.float(400)},
			NozzleMM:    src.float(1),
			Material:    materials[src.pick(len(materials))],
			Colour:      colours[src.pick(len(colours))],
			State:       states[src.pick(len(states))],
			BusyUntil:   s.Now + int64(src.pick(100000)),
			SpeedFactor: src.float(3), MaxJobSeconds: src.float(1e5),
			Successes: src.pick(20) - 2, Failures: src.pick(20) - 2,
			Neighbourhood: fmt.Sprint("n", src.pick(2)),
		}
		if src.pick(2) == 0 {
			p.Hours = &hours.Window{StartMin: src.pick(256)*7 - 200, EndMin: src.pick(256) * 6}
		}
		s.Printers = append(s.Printers, p)
	}
	for i := range src.pick(13) {
		j := Job{
			ID: fmt.Sprint("j", i), Community: fmt.Sprint("c", src.pick(5)),
			Material: materials[src.pick(len(materials))], Colour: colours[src.pick(len(colours))],
			SizeMM:   [3]float64{src.float(500), src.float(500), src.float(500)},
			NozzleMM: src.float(1), EstSeconds: src.float(1e5),
			VolumeMM3: src.float(1e7), SurfaceMM2: src.float(1e6),
			Deadline: s.Now + int64(src.pick(100000)) - 5000, Submitted: int64(src.pick(100)),
		}
		if len(s.Printers) > 0 && src.pick(3) == 0 {
			j.Excluded = []string{s.Printers[src.pick(len(s.Printers))].WorkerID, "ghost"}
		}
		s.Jobs = append(s.Jobs, j)
	}
	return s
}

// FuzzPlace feeds Place snapshots full of hostile numbers (the coordinator
// builds snapshots from registrations and uploads) and checks the same
// invariants as the property test.
func FuzzPlace(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 3, 8, 200, 200, 200, 100, 0, 0, 1, 9, 9, 9, 9, 9, 200, 50, 50, 50, 0, 1, 2, 3, 4, 5})
	seed := make([]byte, 400)
	for i := range seed {
		seed[i] = byte(i*37 + 11)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzSnapshot(data)
		checkPlan(t, s, Place(s))
	})
}
