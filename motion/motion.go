// Package motion models how long a Marlin-style printer takes to execute
// G-code: every linear move follows a trapezoidal speed profile (accelerate,
// cruise, decelerate) between junction speeds, G4 dwells for its time and
// G28 homes at the homing feedrate.
//
// The slicer's time estimate and the virtual printer's measured motion time
// both come from this one model, so the two can be compared; it is pure (no
// clock, no I/O) and cheap enough to run on every line of a stream.
//
// The model, per move of length d at requested speed v (capped by each axis'
// maximum feedrate):
//
//	a  = print acceleration for extruding moves, travel acceleration otherwise
//	vj = junction speed: min(v, JerkXY) — the speed a Marlin "classic jerk"
//	     planner may carry through a corner without slowing to zero
//	accelerate from vj to v over (v²−vj²)/2a, cruise, decelerate to vj;
//	if the move is too short to reach v, the peak is sqrt(a·d + vj²).
//
// Marlin's look-ahead planner joins collinear moves faster than this and
// sharp corners slower; on sliced parts the two errors largely cancel.
package motion

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/fabgrid/fabgrid/profile"
)

// ErrBadCommand is returned for a G-code word that cannot be parsed.
var ErrBadCommand = errors.New("motion: bad command")

// Defaults used when a profile does not say otherwise.
const (
	DefaultJerkXY    = 8.0    // mm/s, Marlin's classic-jerk default for X/Y
	DefaultFeedMMs   = 25.0   // mm/s, the feedrate before any F word
	HomingFeedMMs    = 50.0   // mm/s, G28 homing speed
	HomingSettleSecs = 1.0    // s, bump and settle per homing
	maxTravelMM      = 1000.0 // homing moves at most this far per axis
)

// Limits are the machine limits the model needs.
type Limits struct {
	MaxFeed     profile.Axes // mm/s per axis
	PrintAccel  float64      // mm/s², moves that extrude
	TravelAccel float64      // mm/s², moves that do not
	JerkXY      float64      // mm/s, junction speed
}

// LimitsFor returns the limits of a printer profile.
func LimitsFor(p profile.Printer) Limits {
	return Limits{MaxFeed: p.MaxFeedrate, PrintAccel: p.PrintAccel, TravelAccel: p.TravelAccel, JerkXY: DefaultJerkXY}
}

// Trapezoid returns the seconds to cover dist mm starting and ending at vj
// mm/s, cruising at most at v mm/s, accelerating at a mm/s².
func Trapezoid(dist, v, a, vj float64) float64 {
	if dist <= 0 || v <= 0 {
		return 0
	}
	if vj > v {
		vj = v
	}
	if a <= 0 {
		return dist / v
	}
	accelDist := (v*v - vj*vj) / (2 * a)
	if 2*accelDist >= dist {
		peak := math.Sqrt(a*dist + vj*vj)
		return 2 * (peak - vj) / a
	}
	return 2*(v-vj)/a + (dist-2*accelDist)/v
}

// Machine tracks the modal state of a printer (position, feedrate,
// absolute/relative modes) and times each command.
type Machine struct {
	lim          Limits
	x, y, z, e   float64
	feed         float64 // mm/s
	relXYZ, relE bool
}

// NewMachine returns a machine at the origin in absolute mode.
func NewMachine(l Limits) *Machine {
	if l.JerkXY <= 0 {
		l.JerkXY = DefaultJerkXY
	}
	return &Machine{lim: l, feed: DefaultFeedMMs}
}

// Pos returns the current position.
func (m *Machine) Pos() (x, y, z, e float64) { return m.x, m.y, m.z, m.e }

// Exec applies one command — without line number, checksum or comment — and
// returns the seconds it takes. Heating, fan and unknown commands take no
// motion time; a malformed number is an error and leaves the state unchanged.
func (m *Machine) Exec(cmd string) (float64, error) {
	fields := strings.Fields(cmd)
	if len(fields) == 0 {
		return 0, nil
	}
	code := strings.ToUpper(fields[0])
	switch code {
	case "G0", "G1", "G00", "G01":
		return m.move(fields[1:])
	case "G4", "G04":
		return dwell(fields[1:])
	case "G28":
		return m.home(fields[1:]), nil
	case "G90":
		m.relXYZ, m.relE = false, false
	case "G91":
		m.relXYZ, m.relE = true, true
	case "M82":
		m.relE = false
	case "M83":
		m.relE = true
	case "G92":
		w, err := words(fields[1:])
		if err != nil {
			return 0, err
		}
		if len(w) == 0 {
			m.x, m.y, m.z, m.e = 0, 0, 0, 0
		}
		for k, v := range w {
			switch k {
			case 'X':
				m.x = v
			case 'Y':
				m.y = v
			case 'Z':
				m.z = v
			case 'E':
				m.e = v
			}
		}
	}
	return 0, nil
}

func (m *Machine) move(args []string) (float64, error) {
	w, err := words(args)
	if err != nil {
		return 0, err
	}
	if f, ok := w['F']; ok {
		if f <= 0 {
			return 0, fmt.Errorf("%w: feedrate F%g", ErrBadCommand, f)
		}
		m.feed = f / 60
	}
	target := func(cur float64, key byte, rel bool) float64 {
		v, ok := w[key]
		switch {
		case !ok:
			return cur
		case rel:
			return cur + v
		default:
			return v
		}
	}
	nx, ny, nz := target(m.x, 'X', m.relXYZ), target(m.y, 'Y', m.relXYZ), target(m.z, 'Z', m.relXYZ)
	ne := target(m.e, 'E', m.relE)
	dx, dy, dz, de := nx-m.x, ny-m.y, nz-m.z, ne-m.e
	m.x, m.y, m.z, m.e = nx, ny, nz, ne

	dist := math.Sqrt(dx*dx + dy*dy + dz*dz)
	if dist == 0 {
		dist = math.Abs(de) // extruder-only move: retract or prime
	}
	if dist == 0 {
		return 0, nil
	}
	// Cap the speed so no axis exceeds its own limit.
	v := m.feed
	for _, ax := range []struct{ d, max float64 }{{dx, m.lim.MaxFeed.X}, {dy, m.lim.MaxFeed.Y}, {dz, m.lim.MaxFeed.Z}, {de, m.lim.MaxFeed.E}} {
		if ax.d != 0 && ax.max > 0 {
			if lim := ax.max * dist / math.Abs(ax.d); lim < v {
				v = lim
			}
		}
	}
	a := m.lim.TravelAccel
	if de > 0 && (dx != 0 || dy != 0) {
		a = m.lim.PrintAccel
	}
	return Trapezoid(dist, v, a, m.lim.JerkXY), nil
}

func (m *Machine) home(args []string) float64 {
	axes := map[byte]bool{}
	for _, a := range args {
		if a != "" {
			axes[strings.ToUpper(a)[0]] = true
		}
	}
	all := !axes['X'] && !axes['Y'] && !axes['Z']
	var secs float64
	home := func(pos *float64, feed float64) {
		d := math.Min(math.Abs(*pos), maxTravelMM)
		secs += d/feed + HomingSettleSecs
		*pos = 0
	}
	if all || axes['X'] {
		home(&m.x, HomingFeedMMs)
	}
	if all || axes['Y'] {
		home(&m.y, HomingFeedMMs)
	}
	if all || axes['Z'] {
		home(&m.z, math.Min(HomingFeedMMs, m.lim.MaxFeed.Z))
	}
	return secs
}

func dwell(args []string) (float64, error) {
	w, err := words(args)
	if err != nil {
		return 0, err
	}
	secs := w['S'] + w['P']/1000
	if secs < 0 {
		return 0, fmt.Errorf("%w: negative dwell", ErrBadCommand)
	}
	return secs, nil
}

// words parses "X10.5 Y-3 F1200" into a map from letter to value.
func words(args []string) (map[byte]float64, error) {
	w := make(map[byte]float64, len(args))
	for _, a := range args {
		if a == "" {
			continue
		}
		k := a[0]
		if k >= 'a' && k <= 'z' {
			k -= 'a' - 'A'
		}
		if len(a) == 1 {
			w[k] = 0
			continue
		}
		v, err := strconv.ParseFloat(a[1:], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: %q", ErrBadCommand, a)
		}
		w[k] = v
	}
	return w, nil
}
