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

	"github.com/fabgrid/fabgrid/gcode"
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

// Modes returns the modal state: relative X/Y/Z (G91), relative E (M83 or
// G91) and the feedrate of the next move without an F word, in mm/s.
func (m *Machine) Modes() (relXYZ, relE bool, feedMMs float64) { return m.relXYZ, m.relE, m.feed }

// Exec applies one command — without line number, checksum or comment — and
// returns the seconds it takes. Heating, fan and unknown commands take no
// motion time; a malformed number is an error and leaves the state unchanged.
// The command is read by package gcode; Exec allocates nothing.
func (m *Machine) Exec(cmd string) (float64, error) {
	c := gcode.Lex(cmd)
	switch c.Code {
	case gcode.G(0), gcode.G(1):
		return m.move(c.Args)
	case gcode.G(4):
		return dwell(c.Args)
	case gcode.G(28):
		return m.home(c.Args), nil
	case gcode.G(90):
		m.relXYZ, m.relE = false, false
	case gcode.G(91):
		m.relXYZ, m.relE = true, true
	case gcode.M(82):
		m.relE = false
	case gcode.M(83):
		m.relE = true
	case gcode.G(92):
		w, err := parseWords(c.Args)
		if err != nil {
			return 0, err
		}
		if w.Len() == 0 {
			m.x, m.y, m.z, m.e = 0, 0, 0, 0
		}
		m.x = w.Or('X', m.x)
		m.y = w.Or('Y', m.y)
		m.z = w.Or('Z', m.z)
		m.e = w.Or('E', m.e)
	}
	return 0, nil
}

func (m *Machine) move(args string) (float64, error) {
	w, err := parseWords(args)
	if err != nil {
		return 0, err
	}
	if f, ok := w.Get('F'); ok {
		if f <= 0 {
			return 0, fmt.Errorf("%w: feedrate F%g", ErrBadCommand, f)
		}
		m.feed = f / 60
	}
	target := func(cur float64, key byte, rel bool) float64 {
		v, ok := w.Get(key)
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
	for _, ax := range [...]struct{ d, max float64 }{{dx, m.lim.MaxFeed.X}, {dy, m.lim.MaxFeed.Y}, {dz, m.lim.MaxFeed.Z}, {de, m.lim.MaxFeed.E}} {
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

func (m *Machine) home(args string) float64 {
	var x, y, z bool
	for a, rest := gcode.NextWord(args); a != ""; a, rest = gcode.NextWord(rest) {
		switch a[0] {
		case 'X', 'x':
			x = true
		case 'Y', 'y':
			y = true
		case 'Z', 'z':
			z = true
		}
	}
	all := !x && !y && !z
	var secs float64
	home := func(pos *float64, feed float64) {
		d := math.Min(math.Abs(*pos), maxTravelMM)
		secs += d/feed + HomingSettleSecs
		*pos = 0
	}
	if all || x {
		home(&m.x, HomingFeedMMs)
	}
	if all || y {
		home(&m.y, HomingFeedMMs)
	}
	if all || z {
		home(&m.z, math.Min(HomingFeedMMs, m.lim.MaxFeed.Z))
	}
	return secs
}

func dwell(args string) (float64, error) {
	w, err := parseWords(args)
	if err != nil {
		return 0, err
	}
	s, _ := w.Get('S')
	p, _ := w.Get('P')
	secs := s + p/1000
	if secs < 0 {
		return 0, fmt.Errorf("%w: negative dwell", ErrBadCommand)
	}
	return secs, nil
}

// parseWords is gcode.ParseWords with motion's error.
func parseWords(args string) (gcode.Words, error) {
	w, err := gcode.ParseWords(args)
	if err != nil {
		return w, fmt.Errorf("%w: %w", ErrBadCommand, err)
	}
	return w, nil
}
