package worker

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/hours"
	"github.com/fabgrid/fabgrid/profile"
)

// Policy is the owner's rules for what this printer accepts. Its checks are
// pure; a non-empty answer is the refusal reason reported to the
// coordinator.
type Policy struct {
	Material    string
	Colour      string
	BuildMM     [3]float64
	Hours       hours.Window // read in its own zone
	MaxJobHours float64
}

// refusal is why the printer will not take a job, and of which kind
// (api.RefusalTemporary: not now; api.RefusalPermanent: never); a zero
// refusal takes the job.
type refusal struct{ reason, kind string }

func temporary(format string, a ...any) refusal {
	return refusal{fmt.Sprintf(format, a...), api.RefusalTemporary}
}

func permanent(format string, a ...any) refusal {
	return refusal{fmt.Sprintf(format, a...), api.RefusalPermanent}
}

// CheckAssignment runs the checks possible before the model is fetched:
// material, colour and the owner's hours at now.
func (p Policy) CheckAssignment(a api.Assignment, now time.Time) string {
	return p.checkAssignment(a, now).reason
}

func (p Policy) checkAssignment(a api.Assignment, now time.Time) refusal {
	if !strings.EqualFold(a.Material, p.Material) {
		return permanent("material mismatch: job needs %s, printer has %s loaded", a.Material, p.Material)
	}
	if a.Colour != "" && !strings.EqualFold(a.Colour, p.Colour) {
		have := p.Colour
		if have == "" {
			have = "an unspecified colour"
		}
		return permanent("colour mismatch: job needs %s, printer has %s loaded", a.Colour, have)
	}
	if !p.Hours.Open(now) {
		return temporary("outside the owner's printing hours %s", p.hours())
	}
	return refusal{}
}

// CheckSliced runs the checks that need the sliced model: it must fit the
// build volume (turning it 90° about Z is allowed), its estimate must not
// exceed the owner's maximum job length, and it must end inside the
// owner's hours.
func (p Policy) CheckSliced(sizeMM [3]float64, est time.Duration, now time.Time) string {
	return p.checkSliced(sizeMM, est, now).reason
}

func (p Policy) checkSliced(sizeMM [3]float64, est time.Duration, now time.Time) refusal {
	if ok, _ := profile.Box(p.BuildMM).Fits(profile.Box(sizeMM)); !ok {
		return permanent("model %.0f×%.0f×%.0f mm does not fit the build volume %.0f×%.0f×%.0f mm",
			sizeMM[0], sizeMM[1], sizeMM[2], p.BuildMM[0], p.BuildMM[1], p.BuildMM[2])
	}
	if p.MaxJobHours > 0 && est.Hours() > p.MaxJobHours {
		return permanent("estimated %.1f h exceeds the owner's limit of %g h per job", est.Hours(), p.MaxJobHours)
	}
	if left := p.Hours.Left(now); left <= 0 {
		return temporary("outside the owner's printing hours %s", p.hours())
	} else if est > left {
		return temporary("estimated %s would run past the end of the owner's printing hours %s",
			est.Round(time.Minute), p.hours())
	}
	return refusal{}
}

// hours names the window for a person: "08:00-22:00", with its zone when
// that is not UTC ("08:00-22:00 Europe/Madrid").
func (p Policy) hours() string {
	if z := p.Hours.ZoneName(); z != "UTC" {
		return p.Hours.String() + " " + z
	}
	return p.Hours.String()
}

// seconds turns an estimate in seconds into a Duration, saturating.
func seconds(s float64) time.Duration {
	if s <= 0 || math.IsNaN(s) {
		return 0
	}
	if s > 1e9 {
		s = 1e9
	}
	return time.Duration(s * float64(time.Second))
}
