package profile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid is returned (wrapped in a *FieldError) for a profile with a
// missing or out-of-range field.
var ErrInvalid = errors.New("profile: invalid profile")

// FieldError names the profile and the JSON field that is wrong, and why.
type FieldError struct {
	Kind  string // "printer" or "material"
	ID    string // the profile's id ("" when the id itself is wrong)
	Field string // JSON field name, e.g. "build_volume_mm.z"
	// Problem says what is wrong and what is wanted.
	Problem string
}

func (e *FieldError) Error() string {
	who := e.Kind
	if e.ID != "" {
		who += fmt.Sprintf(" %q", e.ID)
	}
	return fmt.Sprintf("profile: %s: %s %s", who, e.Field, e.Problem)
}

func (e *FieldError) Unwrap() error { return ErrInvalid }

// Bounds on profile values: generous for any real printer, tight enough
// that a typo (a bed in micrometres, a temperature in kelvin) is caught.
const (
	maxIDLen       = 64
	maxNameLen     = 128
	maxGCodeBytes  = 64 << 10
	maxMachineType = 16
)

// ValidID reports whether s may be a profile id: 1–64 letters, digits,
// '.', '-' or '_', starting with a letter or digit.
func ValidID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && (r == '.' || r == '-' || r == '_')
		if !ok {
			return false
		}
	}
	return true
}

// checker collects the first problem found.
type checker struct {
	kind, id string
	err      *FieldError
}

func (c *checker) fail(field, format string, a ...any) {
	if c.err == nil {
		c.err = &FieldError{Kind: c.kind, ID: c.id, Field: field, Problem: fmt.Sprintf(format, a...)}
	}
}

// between checks lo < v <= hi (positive) or lo <= v <= hi (zero allowed).
func (c *checker) between(field string, v, lo, hi float64, unit string, zeroOK bool) {
	switch {
	case zeroOK && (v < lo || v > hi):
		c.fail(field, "is %g; want %g to %g %s", v, lo, hi, unit)
	case !zeroOK && (v <= lo || v > hi):
		c.fail(field, "is %g; want more than %g and at most %g %s", v, lo, hi, unit)
	}
}

func (c *checker) axes(field string, a Axes, hi float64, unit string, zeroOK bool) {
	c.between(field+".x", a.X, 0, hi, unit, zeroOK)
	c.between(field+".y", a.Y, 0, hi, unit, zeroOK)
	c.between(field+".z", a.Z, 0, hi, unit, zeroOK)
	c.between(field+".e", a.E, 0, hi, unit, zeroOK)
}

func (c *checker) checkID(id string) {
	if !ValidID(id) {
		c.id = ""
		c.fail("id", "is %q; want 1 to %d letters, digits, '.', '-' or '_', starting with a letter or digit", id, maxIDLen)
	}
}

// Validate reports the first missing or out-of-range field of a printer
// profile as a *FieldError, including unknown placeholders in its start
// and end G-code.
func (p Printer) Validate() error {
	c := &checker{kind: "printer", id: p.ID}
	c.checkID(p.ID)
	if len(p.Name) > maxNameLen {
		c.fail("name", "is %d characters long; want at most %d", len(p.Name), maxNameLen)
	}
	c.between("build_volume_mm.x", p.BuildVolume.X, 0, 2000, "mm", false)
	c.between("build_volume_mm.y", p.BuildVolume.Y, 0, 2000, "mm", false)
	c.between("build_volume_mm.z", p.BuildVolume.Z, 0, 2000, "mm", false)
	c.between("nozzle_mm", p.NozzleMM, 0.05, 3, "mm", false)
	c.between("filament_mm", p.FilamentMM, 1, 3.5, "mm (1.75 or 2.85)", false)
	c.between("max_hotend_c", p.MaxHotendC, 0, 500, "°C", false)
	c.between("max_bed_c", p.MaxBedC, 0, 200, "°C", false)
	if !slices.Contains(Firmwares(), p.Firmware) {
		c.fail("firmware", "is %q; want one of %s", p.Firmware, strings.Join(Firmwares(), ", "))
	}
	c.between("baud", float64(p.Baud), 0, 4_000_000, "baud", false)
	c.between("rx_buffer_bytes", float64(p.RXBufferBytes), 31, 1<<16, "bytes", false)
	if p.FlowControl != FlowBuffered && p.FlowControl != FlowPingPong {
		c.fail("flow_control", "is %q; want %q or %q", p.FlowControl, FlowBuffered, FlowPingPong)
	}
	c.axes("max_feedrate_mm_s", p.MaxFeedrate, 10_000, "mm/s", false)
	c.axes("max_accel_mm_s2", p.MaxAccel, 200_000, "mm/s²", true)
	c.between("print_accel_mm_s2", p.PrintAccel, 0, 200_000, "mm/s²", false)
	c.between("travel_accel_mm_s2", p.TravelAccel, 0, 200_000, "mm/s²", false)
	c.axes("max_jerk_mm_s", p.MaxJerk, 1000, "mm/s", true)
	c.between("junction_deviation_mm", p.JunctionDeviationMM, 0, 1, "mm", true)
	c.between("square_corner_velocity_mm_s", p.SquareCornerVelocity, 0, 100, "mm/s", true)
	for _, f := range []struct{ field, g string }{{"start_gcode", p.StartGCode}, {"end_gcode", p.EndGCode}} {
		field, g := f.field, f.g
		if len(g) > maxGCodeBytes {
			c.fail(field, "is %d bytes long; want at most %d", len(g), maxGCodeBytes)
			continue
		}
		if _, err := FillGCode(g, p, probeMaterial, true); err != nil {
			c.fail(field, "%s; known placeholders: %s", strings.TrimPrefix(err.Error(), "profile: "+p.ID+": "), strings.Join(Placeholders(), ", "))
		}
	}
	if len(p.MachineTypes) > maxMachineType {
		c.fail("m115_machine_types", "has %d entries; want at most %d", len(p.MachineTypes), maxMachineType)
	}
	for i, mt := range p.MachineTypes {
		if strings.TrimSpace(mt) == "" || len(mt) > maxNameLen {
			c.fail(fmt.Sprintf("m115_machine_types[%d]", i), "is %q; want 1 to %d characters", mt, maxNameLen)
		}
	}
	if p.Seam != "" && !slices.Contains(Seams(), p.Seam) {
		c.fail("seam", "is %q; want one of %s (or leave it out for %s)", p.Seam, strings.Join(Seams(), ", "), SeamNearest)
	}
	if c.err != nil {
		return c.err
	}
	return nil
}

// probeMaterial fills templates while validating them.
var probeMaterial = Material{ID: "PLA", HotendC: 200, FirstLayerHotendC: 200, BedC: 60, FirstLayerBedC: 60, DensityGCm3: 1.24}

// Validate reports the first missing or out-of-range field of a material
// profile as a *FieldError.
func (m Material) Validate() error {
	c := &checker{kind: "material", id: m.ID}
	c.checkID(m.ID)
	if len(m.Name) > maxNameLen {
		c.fail("name", "is %d characters long; want at most %d", len(m.Name), maxNameLen)
	}
	c.between("hotend_c", m.HotendC, 0, 500, "°C", false)
	c.between("first_layer_hotend_c", m.FirstLayerHotendC, 0, 500, "°C", false)
	c.between("bed_c", m.BedC, 0, 200, "°C", true)
	c.between("first_layer_bed_c", m.FirstLayerBedC, 0, 200, "°C", true)
	c.between("density_g_cm3", m.DensityGCm3, 0, 25, "g/cm³", false)
	c.between("price_per_kg", m.PricePerKg, 0, 10_000, "per kg", true)
	c.between("fan_percent", float64(m.FanPercent), 0, 100, "%", true)
	c.between("retract_mm", m.RetractMM, 0, 20, "mm", true)
	c.between("retract_speed_mm_s", m.RetractSpeedMMs, 0, 300, "mm/s", true)
	c.between("max_volumetric_mm3_s", m.MaxVolumetricMM3s, 0, 500, "mm³/s (0: no limit)", true)
	if c.err != nil {
		return c.err
	}
	return nil
}

// Placeholders lists what FillGCode fills in start and end G-code.
func Placeholders() []string {
	return []string{"{hotend_temp}", "{bed_temp}", "{bed_x}", "{bed_y}", "{bed_z}", "{nozzle}", "{material}"}
}
