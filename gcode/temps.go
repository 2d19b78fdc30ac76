package gcode

import (
	"errors"
	"fmt"
)

// ErrOverLimit is returned for a command that asks for a temperature above
// the printer's limit, or for a heater command whose temperature cannot be
// read (the firmware may read one in it that the host did not check).
var ErrOverLimit = errors.New("gcode: temperature above the printer's limit")

// Limits are the temperature limits of one printer, in °C; zero is "no
// limit known". A small struct rather than profile.Printer, so that the
// lexer depends on nothing and every caller says which limits it means.
type Limits struct {
	Printer string // named in errors
	HotendC float64
	BedC    float64
}

// Heater is the heater a command sets.
type Heater int

const (
	NoHeater Heater = iota
	Hotend
	Bed
)

// Heater returns the heater a command sets: the hotend for M104, M109 and
// M303 (PID autotune), the bed for M140 and M190.
func (c Command) Heater() Heater {
	switch c.Code {
	case M(104), M(109), M(303):
		return Hotend
	case M(140), M(190):
		return Bed
	}
	return NoHeater
}

// CheckTemps returns an error wrapping ErrOverLimit when c asks for a
// temperature (S or R) above lim, and nil for every other command.
func (c Command) CheckTemps(lim Limits) error {
	var limit float64
	var what string
	switch c.Heater() {
	case Hotend:
		limit, what = lim.HotendC, "hotend"
		if c.Code == M(303) {
			what = "autotune"
		}
	case Bed:
		limit, what = lim.BedC, "bed"
	default:
		return nil
	}
	if limit <= 0 {
		return nil // no limit known
	}
	w, err := ParseWords(c.Args)
	if err != nil {
		return fmt.Errorf("%w: cannot read the temperature in %q (%w); write each word apart, e.g. \"M104 S200 T0\"", ErrOverLimit, c.Text, err)
	}
	for _, l := range []byte{'S', 'R'} {
		if v, ok := w.Get(l); ok && v > limit {
			return fmt.Errorf("%w: %q asks for %g°C, %s limit of %s is %g°C", ErrOverLimit, c.Text, v, what, lim.Printer, limit)
		}
	}
	return nil
}

// Target returns the temperature a heater command sets, from its words: R
// when given (M109 R waits for the target from either side), else S.
func Target(w *Words) (float64, bool) {
	if r, ok := w.Get('R'); ok {
		return r, true
	}
	return w.Get('S')
}
