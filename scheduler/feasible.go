package scheduler

import (
	"math"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/hours"
	"github.com/fabgrid/fabgrid/profile"
)

// A check is one feasibility rule: it says whether job j may be printed on
// printer p at time now, taking secs seconds there. Each failing check maps
// to the reason code a person sees.
type check struct {
	code string
	ok   func(j *Job, p *Printer, now int64, secs float64) bool
}

// checks run in this order; the first failure names the reason.
var checks = [...]check{
	{CodeTooLarge, func(j *Job, p *Printer, _ int64, _ float64) bool { return fitsBuild(j.SizeMM, p.BuildMM) }},
	{CodeNoMaterial, func(j *Job, p *Printer, _ int64, _ float64) bool { return sameName(j.Material, p.Material) }},
	{CodeNoColour, func(j *Job, p *Printer, _ int64, _ float64) bool { return colourMatches(j.Colour, p.Colour) }},
	{CodeNoNozzle, func(j *Job, p *Printer, _ int64, _ float64) bool { return nozzleMatches(j.NozzleMM, p.NozzleMM) }},
	{CodeExcluded, func(j *Job, p *Printer, _ int64, _ float64) bool { return !excluded(j.Excluded, p.WorkerID) }},
	{CodeTooLong, func(_ *Job, p *Printer, _ int64, secs float64) bool { return withinMaxLength(p.MaxJobSeconds, secs) }},
	{CodeOutsideHours, func(_ *Job, p *Printer, now int64, secs float64) bool { return windowFits(p.Hours, now, secs) }},
	{CodeWaiting, func(_ *Job, p *Printer, _ int64, _ float64) bool { return p.State == StateIdle }},
}

// Feasible reports whether job j may be placed on printer p at time now:
// it returns "" when every check passes, or the code of the first check
// that fails (CodeTooLarge, CodeNoMaterial, CodeNoColour, CodeNoNozzle,
// CodeExcluded, CodeTooLong, CodeOutsideHours, CodeWaiting for a printer
// that is not idle; CodeInvalid for a malformed or nil job, CodeNoPrinter
// for a nil printer). The coordinator can use it to re-check a plan.
func Feasible(j *Job, p *Printer, now int64) string {
	if j == nil {
		return CodeInvalid
	}
	if p == nil {
		return CodeNoPrinter
	}
	if code := validJob(j); code != "" {
		return code
	}
	ref := j.EstSeconds
	if ref <= 0 {
		ref = jobRefSeconds(j, refProfileOrDefault(), materials{})
	}
	secs := ref / speed(p)
	return feasibleSecs(j, p, now, secs)
}

func feasibleSecs(j *Job, p *Printer, now int64, secs float64) string {
	for i := range checks {
		if !checks[i].ok(j, p, now, secs) {
			return checks[i].code
		}
	}
	return ""
}

// validJob returns CodeInvalid for a job that no printer could take.
func validJob(j *Job) string {
	if strings.TrimSpace(j.Material) == "" {
		return CodeInvalid
	}
	for _, d := range j.SizeMM {
		if !(d >= 0) || math.IsInf(d, 0) { // also rejects NaN
			return CodeInvalid
		}
	}
	if !(j.EstSeconds >= 0) || math.IsInf(j.EstSeconds, 0) || !(j.NozzleMM >= 0) {
		return CodeInvalid
	}
	return ""
}

// footprint orders a box's x and y so that a 90° turn about Z is a no-op:
// (long side, short side, height).
func footprint(s [3]float64) (long, short, height float64) {
	if s[0] >= s[1] {
		return s[0], s[1], s[2]
	}
	return s[1], s[0], s[2]
}

// fitsBuild is profile's bed-fit rule (Vec3.Fits: as it lies or turned
// 90° about Z) on a part's bounding box and a build volume.
func fitsBuild(part, build [3]float64) bool {
	ok, _ := profile.Box(build).Fits(profile.Box(part))
	return ok
}

// takes is the same rule on footprints (long side first), the shape the
// index keeps beds and parts in.
func (bed shape) takes(long, short, height float64) bool {
	ok, _ := profile.Vec3{X: bed.long, Y: bed.short, Z: bed.height}.Fits(profile.Vec3{X: long, Y: short, Z: height})
	return ok
}

// sameName compares material (or colour) names, ignoring case and spaces
// at the ends.
func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// colourMatches: "" wants any colour.
func colourMatches(want, have string) bool {
	return strings.TrimSpace(want) == "" || sameName(want, have)
}

// nozzleTolerance absorbs float noise in nozzle diameters (0.4 vs 0.40001).
const nozzleTolerance = 0.005

// nozzleMatches: 0 wants any nozzle.
func nozzleMatches(want, have float64) bool {
	return want == 0 || math.Abs(want-have) <= nozzleTolerance
}

func excluded(list []string, id string) bool {
	for _, x := range list {
		if x == id {
			return true
		}
	}
	return false
}

// withinMaxLength: 0 (or anything not positive, NaN included) means the
// owner sets no limit.
func withinMaxLength(limit, secs float64) bool {
	return !(limit > 0) || secs <= limit
}

const secondsPerDay = 24 * 60 * 60

// windowFits reports whether a job of secs seconds may start at now inside
// the owner's window w (nil = any time) and end before the window closes.
func windowFits(w *hours.Window, now int64, secs float64) bool {
	if w == nil {
		return true
	}
	left := windowLeft(w, now)
	return left > 0 && secs <= left
}

// windowLeft is how many seconds of window w remain from now (0 when now
// is outside it; +Inf for a window open all day), in the window's zone.
func windowLeft(w *hours.Window, now int64) float64 {
	return seconds(w.Left(time.Unix(now, 0)))
}

// seconds converts a window's duration, hours.Forever as +Inf.
func seconds(d time.Duration) float64 {
	if d == hours.Forever {
		return math.Inf(1)
	}
	return d.Seconds()
}

func secondOfDay(now int64) int64 {
	s := now % secondsPerDay
	if s < 0 {
		s += secondsPerDay
	}
	return s
}

// speed is the printer's speed factor, 1 when unset or nonsense.
func speed(p *Printer) float64 {
	if p.SpeedFactor > 0 && !math.IsInf(p.SpeedFactor, 0) {
		return p.SpeedFactor
	}
	return 1
}
