package sim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"github.com/fabgrid/fabgrid/hours"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
)

// Community is an ordering community of the workload: its fair-share
// weight (given to the coordinators) and its activity (its share of the
// orders).
type Community struct {
	Name     string  `json:"name"`
	Weight   float64 `json:"weight"`
	Activity float64 `json:"activity"`
}

// Model is one model of the mix, drawn with probability ∝ Weight.
type Model struct {
	Name   string
	STL    []byte
	Weight float64
}

// WorkloadConfig shapes the orders.
type WorkloadConfig struct {
	Orders      int
	Communities []Community
	Models      []Model
	// Window: orders arrive over this much real time (Poisson, plus
	// bursts). Default: 2 s + 10 ms per order.
	Window time.Duration
	// BurstFraction of the orders arrive in bursts of 5–20 at once.
	BurstFraction float64
	// MaxQuantity: copies per order are 1..MaxQuantity (default 2).
	MaxQuantity int
	// PETGFraction of the orders want PETG, the rest PLA.
	PETGFraction float64
	// DeadlineFraction of the orders carry a deadline 1–72 h away.
	DeadlineFraction float64
	// CancelFraction of the orders are cancelled by their community soon
	// after submission.
	CancelFraction float64
}

// PlannedOrder is one order of the workload.
type PlannedOrder struct {
	Seq       int           `json:"seq"`
	At        time.Duration `json:"at"`
	Community string        `json:"community"`
	Model     int           `json:"model"`
	Quantity  int           `json:"quantity"`
	Material  string        `json:"material"`
	Deadline  time.Duration `json:"deadline,omitempty"`
	// CancelAfter > 0: the community cancels the order this long after
	// it was acknowledged.
	CancelAfter time.Duration `json:"cancel_after,omitempty"`
}

// DefaultCommunities are four communities of unequal weight and activity.
func DefaultCommunities() []Community {
	return []Community{
		{Name: "makers", Weight: 2, Activity: 0.4},
		{Name: "school", Weight: 1, Activity: 0.3},
		{Name: "repair-cafe", Weight: 1, Activity: 0.2},
		{Name: "artists", Weight: 0.5, Activity: 0.1},
	}
}

// DefaultModels is a mix of small boxes and cylinders, made in code, that
// fit every built-in printer profile: about 8 to 90 simulated minutes each.
func DefaultModels() []Model {
	return []Model{
		{Name: "spacer-20x20x10", STL: coordinatortest.CubeSTL(20, 20, 10), Weight: 4},
		{Name: "bracket-40x30x20", STL: coordinatortest.CubeSTL(40, 30, 20), Weight: 3},
		{Name: "knob-d30x15", STL: CylinderSTL(15, 15, 32), Weight: 2},
		{Name: "box-60x60x30", STL: coordinatortest.CubeSTL(60, 60, 30), Weight: 1},
		{Name: "vase-d50x60", STL: CylinderSTL(25, 60, 48), Weight: 0.5},
	}
}

// LoadModels reads every *.stl in dir as a model of weight 1 (for
// example testdata/models).
func LoadModels(dir string) ([]Model, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.stl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []Model
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, Model{Name: strings.TrimSuffix(filepath.Base(p), ".stl"), STL: b, Weight: 1})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("sim: no .stl models in %s", dir)
	}
	return out, nil
}

// CylinderSTL returns a closed binary STL cylinder (radius r, height h,
// n sides).
func CylinderSTL(r, h float64, n int) []byte {
	type v3 [3]float32
	var tris [][3]v3
	pt := func(i int, z float64) v3 {
		a := 2 * math.Pi * float64(i%n) / float64(n)
		return v3{float32(r + r*math.Cos(a)), float32(r + r*math.Sin(a)), float32(z)}
	}
	cb, ct := v3{float32(r), float32(r), 0}, v3{float32(r), float32(r), float32(h)}
	for i := range n {
		b0, b1, t0, t1 := pt(i, 0), pt(i+1, 0), pt(i, h), pt(i+1, h)
		tris = append(tris, [3]v3{cb, b1, b0}, [3]v3{ct, t0, t1}, [3]v3{b0, b1, t1}, [3]v3{b0, t1, t0})
	}
	var buf bytes.Buffer
	buf.Write(make([]byte, 80))
	_ = binary.Write(&buf, binary.LittleEndian, uint32(len(tris)))
	for _, t := range tris {
		_ = binary.Write(&buf, binary.LittleEndian, [3]float32{})
		_ = binary.Write(&buf, binary.LittleEndian, t)
		_ = binary.Write(&buf, binary.LittleEndian, uint16(0))
	}
	return buf.Bytes()
}

// PlanWorkload draws the orders from rng: Poisson arrivals over the
// window, some in bursts, communities by activity, models by weight.
func PlanWorkload(rng *rand.Rand, cfg WorkloadConfig) []PlannedOrder {
	if len(cfg.Communities) == 0 {
		cfg.Communities = DefaultCommunities()
	}
	if len(cfg.Models) == 0 {
		cfg.Models = DefaultModels()
	}
	if cfg.MaxQuantity <= 0 {
		cfg.MaxQuantity = 2
	}
	if cfg.Window <= 0 {
		cfg.Window = 2*time.Second + time.Duration(cfg.Orders)*10*time.Millisecond
	}
	bursty := int(float64(cfg.Orders) * cfg.BurstFraction)
	steady := cfg.Orders - bursty
	var times []time.Duration
	// Poisson: exponential gaps at rate steady/window, folded into the window.
	rate := float64(max(steady, 1)) / cfg.Window.Seconds()
	t := 0.0
	for range steady {
		t += rng.ExpFloat64() / rate
		times = append(times, time.Duration(math.Mod(t, cfg.Window.Seconds())*float64(time.Second)))
	}
	for bursty > 0 {
		k := min(bursty, 5+rng.IntN(16))
		at := time.Duration(rng.Float64() * float64(cfg.Window))
		for range k {
			times = append(times, at)
		}
		bursty -= k
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	comm := weights(len(cfg.Communities), func(i int) float64 { return cfg.Communities[i].Activity })
	mods := weights(len(cfg.Models), func(i int) float64 { return cfg.Models[i].Weight })
	out := make([]PlannedOrder, len(times))
	for i, at := range times {
		o := PlannedOrder{
			Seq: i, At: at, Community: cfg.Communities[pick(rng, comm)].Name, Model: pick(rng, mods),
			Quantity: 1 + rng.IntN(cfg.MaxQuantity), Material: "PLA",
		}
		if rng.Float64() < cfg.PETGFraction {
			o.Material = "PETG"
		}
		if rng.Float64() < cfg.DeadlineFraction {
			o.Deadline = time.Duration(1+rng.IntN(72)) * time.Hour
		}
		if rng.Float64() < cfg.CancelFraction {
			o.CancelAfter = time.Duration(50+rng.IntN(500)) * time.Millisecond
		}
		out[i] = o
	}
	return out
}

// weights returns the cumulative weights of n items.
func weights(n int, w func(int) float64) []float64 {
	cum := make([]float64, n)
	s := 0.0
	for i := range n {
		s += max(w(i), 0)
		cum[i] = s
	}
	return cum
}

// pick draws an index by cumulative weights.
func pick(rng *rand.Rand, cum []float64) int {
	x := rng.Float64() * cum[len(cum)-1]
	i := sort.SearchFloat64s(cum, x)
	return min(i, len(cum)-1)
}

// PlanPrinters draws the fleet: profiles ender3 (60 %), mk3s (30 %),
// cr10s5 (10 %); PETG loaded on petgFraction of them (at least one when
// any order may want it); manualClear of the owners clear beds by hand.
func PlanPrinters(rng *rand.Rand, n int, petgFraction, manualClear float64) []PrinterSpec {
	profiles := []string{"ender3", "mk3s", "cr10s5"}
	cum := []float64{0.6, 0.9, 1.0}
	out := make([]PrinterSpec, n)
	petg := 0
	for i := range n {
		s := PrinterSpec{ID: NodeID(fmt.Sprintf("p%03d", i+1)), Profile: profiles[pick(rng, cum)], Material: "PLA", AutoClear: true}
		if rng.Float64() < petgFraction {
			s.Material = "PETG"
			petg++
		}
		if rng.Float64() < manualClear {
			s.AutoClear = false
		}
		out[i] = s
	}
	if petgFraction > 0 && petg == 0 && n > 1 {
		out[n-1].Material = "PETG"
	}
	return out
}

// OwnerZones are the zones PlanOwnerHours spreads owners over: UTC's
// neighbours and the awkward ones (a half-hour offset, +13:00 across the
// date line, a zone with DST).
var OwnerZones = []string{"UTC", "America/Bogota", "Asia/Kolkata", "Pacific/Tongatapu", "Europe/Madrid", "America/New_York"}

// PlanOwnerHours gives every owner a zone from OwnerZones and, to all but
// a quarter of them (who print at any time), a daily window in that zone
// around now (the simulation runs on real time): open from one to six
// hours before now until six to ten hours after. closedFraction of the
// PLA printers get a window that opens two hours from now instead, so
// that placement must hold work back for them and use the others; a
// PETG printer always gets an open window, so every material stays
// printable.
func PlanOwnerHours(rng *rand.Rand, specs []PrinterSpec, now time.Time, closedFraction float64) {
	for i := range specs {
		zone := OwnerZones[rng.IntN(len(OwnerZones))]
		specs[i].Zone = zone
		loc, err := hours.LoadZone(zone)
		if err != nil {
			continue // no zone database: the owner prints in UTC at any time
		}
		local := now.In(loc)
		mins := local.Hour()*60 + local.Minute()
		clock := func(m int) string { m = ((m % 1440) + 1440) % 1440; return fmt.Sprintf("%02d:%02d", m/60, m%60) }
		switch r := rng.Float64(); {
		case r < 0.25:
			specs[i].Hours = ""
		case r < 0.25+closedFraction && specs[i].Material == "PLA":
			specs[i].Hours = clock(mins+120) + "-" + clock(mins+240)
		default:
			specs[i].Hours = clock(mins-60*(1+rng.IntN(6))) + "-" + clock(mins+60*(6+rng.IntN(5)))
		}
	}
}
