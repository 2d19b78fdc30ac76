package printerdrv

import (
	"math"
	"strconv"

	"github.com/fabgrid/fabgrid/gcode"
	"github.com/fabgrid/fabgrid/motion"
	"github.com/fabgrid/fabgrid/profile"
)

// Parking on pause. A job paused once it has homed and left the bed is
// parked: the filament retracts, the nozzle lifts off the part and moves
// to the back-left corner (Marlin's default nozzle park point), so the hot
// nozzle does not melt a blob into the print while it waits and the owner
// can see the part. Resume returns to where the job stopped, primes the
// filament back and restores the job's modes and feedrate before the next
// job command. Heaters stay as they are.
//
// Where the job stopped is its state after the last job command sent: the
// firmware executes every sent command before the park moves that follow
// them. The host knows it by replaying the sent commands through package
// motion, incrementally, so a job is replayed once however often it pauses.
const (
	ParkRetractMM   = 2.0  // filament pulled back while parked
	ParkLiftMM      = 10.0 // nozzle lift, less near the top of the volume
	ParkInsetMM     = 10.0 // park point: this far in from X min and Y max
	parkRetractMMs  = 35.0 // mm/s
	parkTravelMMs   = 100.0
	parkLiftMMs     = 10.0
	parkMinLiftedMM = 0.5 // a lift smaller than this is not worth a move
)

type parker struct {
	printer profile.Printer
	m       *motion.Machine
	done    int  // job commands replayed
	homed   bool // a G28 was among them
	parked  bool
	// Where the job stopped, in its modes.
	x, y, z      float64
	relXYZ, relE bool
	feed         float64 // mm/s
}

func newParker(p profile.Printer) *parker {
	return &parker{printer: p, m: motion.NewMachine(motion.LimitsFor(p))}
}

// park returns the commands that park the head after the first sent job
// commands, or nil when it stays where it is: before homing the position is
// unknown, and at z ≤ 0 nothing has been printed yet.
func (k *parker) park(cmds []string, sent int) []string {
	for ; k.done < sent && k.done < len(cmds); k.done++ {
		c := cmds[k.done]
		if gcode.Lex(c).Code == gcode.G(28) {
			k.homed = true
		}
		// A command the model cannot parse changes nothing there, and the
		// firmware refused it too.
		_, _ = k.m.Exec(c)
	}
	x, y, z, _ := k.m.Pos()
	if k.parked || !k.homed || z <= 0 {
		return nil
	}
	k.parked = true
	k.x, k.y, k.z = x, y, z
	k.relXYZ, k.relE, k.feed = k.m.Modes()
	bv := k.printer.BuildVolume
	seq := []string{
		"M83",
		"G1 E-" + mm(ParkRetractMM) + " F" + mm(60*parkRetractMMs),
	}
	if lift := math.Min(ParkLiftMM, bv.Z-z); lift >= parkMinLiftedMM {
		seq = append(seq, "G91", "G1 Z"+mm(lift)+" F"+mm(60*k.speed(parkLiftMMs, k.printer.MaxFeedrate.Z)), "G90")
	} else {
		seq = append(seq, "G90")
	}
	px, py := math.Min(ParkInsetMM, bv.X), math.Max(bv.Y-ParkInsetMM, 0)
	return append(seq, "G1 X"+mm(px)+" Y"+mm(py)+" F"+mm(60*k.travel()))
}

// unpark returns the commands that bring a parked head back, or nil if it
// was not parked.
func (k *parker) unpark() []string {
	if !k.parked {
		return nil
	}
	k.parked = false
	xyzMode, eMode := "G90", "M82"
	if k.relXYZ {
		xyzMode = "G91"
	}
	if k.relE {
		eMode = "M83"
	}
	return []string{
		"G90",
		"G1 X" + mm(k.x) + " Y" + mm(k.y) + " F" + mm(60*k.travel()),
		"G1 Z" + mm(k.z) + " F" + mm(60*k.speed(parkLiftMMs, k.printer.MaxFeedrate.Z)),
		"M83",
		"G1 E" + mm(ParkRetractMM) + " F" + mm(60*parkRetractMMs),
		// G90/G91 set E's mode too; M82/M83 after them sets it alone.
		xyzMode, eMode,
		"G1 F" + mm(60*k.feed),
	}
}

func (k *parker) travel() float64 {
	return k.speed(parkTravelMMs, math.Min(k.printer.MaxFeedrate.X, k.printer.MaxFeedrate.Y))
}

// speed is want, capped by the axis limit when the profile gives one.
func (k *parker) speed(want, limit float64) float64 {
	if limit > 0 && limit < want {
		return limit
	}
	return want
}

// mm formats a length or feedrate with at most three decimals.
func mm(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
