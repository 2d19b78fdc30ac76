// Package profile holds the printer and material profiles that every part of
// fabgrid reads: the slicer (bed, nozzle, start/end G-code, motion limits),
// printerdrv (baud, RX buffer, temperature limits), the scheduler (build
// volume, nozzle) and the worker. The profiles are data, embedded from
// printers.json and materials.json in this directory. Profiles of one's own
// come in profile files of the same format (file.go, validated field by
// field in validate.go), made by hand or imported from a PrusaSlicer config
// (import_prusa.go) or a Cura machine definition (import_cura.go); an M115
// answer is matched to a profile in detect.go.
package profile

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// ErrUnknown is returned when a profile name is not known.
var ErrUnknown = errors.New("profile: unknown profile")

// Vec3 is a size or limit per axis, in millimetres (or mm/s, mm/s²).
type Vec3 struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	Z float64 `json:"z"`
}

// Axes is a limit per motion axis including the extruder.
type Axes struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	Z float64 `json:"z"`
	E float64 `json:"e"`
}

// Flow control modes for streaming G-code to a printer.
const (
	// FlowBuffered keeps several commands in flight, counting bytes against
	// the firmware's RX buffer.
	FlowBuffered = "buffered"
	// FlowPingPong sends one command and waits for its ok: slow but safe
	// for firmware that misbehaves with a full buffer.
	FlowPingPong = "ping-pong"
)

// Printer describes one printer model.
type Printer struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	BuildVolume   Vec3    `json:"build_volume_mm"`
	NozzleMM      float64 `json:"nozzle_mm"`
	FilamentMM    float64 `json:"filament_mm"`
	MaxHotendC    float64 `json:"max_hotend_c"`
	MaxBedC       float64 `json:"max_bed_c"`
	Firmware      string  `json:"firmware"`
	Baud          int     `json:"baud"`
	RXBufferBytes int     `json:"rx_buffer_bytes"`
	FlowControl   string  `json:"flow_control"`
	MaxFeedrate   Axes    `json:"max_feedrate_mm_s"`
	MaxAccel      Axes    `json:"max_accel_mm_s2"`
	PrintAccel    float64 `json:"print_accel_mm_s2"`
	TravelAccel   float64 `json:"travel_accel_mm_s2"`
	RelativeE     bool    `json:"relative_e"`
	StartGCode    string  `json:"start_gcode"`
	EndGCode      string  `json:"end_gcode"`
	// Cornering, as the firmware is configured: classic jerk per axis
	// (Marlin without junction deviation, Prusa-Firmware, RepRapFirmware's
	// M566), Marlin's junction deviation, or Klipper's square corner
	// velocity. Zero: not given.
	MaxJerk              Axes    `json:"max_jerk_mm_s,omitzero"`
	JunctionDeviationMM  float64 `json:"junction_deviation_mm,omitempty"`
	SquareCornerVelocity float64 `json:"square_corner_velocity_mm_s,omitempty"`
	// MachineTypes are the MACHINE_TYPE values (or, for firmware that
	// reports none, FIRMWARE_NAME fragments) of an M115 answer that
	// identify this model; `fabgrid worker --detect` matches them.
	MachineTypes []string `json:"m115_machine_types,omitempty"`
	// Seam is where the slicer starts wall loops on this printer when
	// no --seam is given: SeamNearest, SeamRear or SeamSharpest; ""
	// (the field left out) is SeamNearest.
	Seam string `json:"seam,omitempty"`
}

// Seam placements a printer profile may ask for (the slicer's
// Settings.Seam takes the same values; slicer/seam.go places them).
const (
	SeamNearest  = "nearest"
	SeamRear     = "rear"
	SeamSharpest = "sharpest"
)

// Seams lists the seam placements, the default first.
func Seams() []string { return []string{SeamNearest, SeamRear, SeamSharpest} }

// Material describes one filament material.
type Material struct {
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	HotendC           float64 `json:"hotend_c"`
	BedC              float64 `json:"bed_c"`
	FirstLayerHotendC float64 `json:"first_layer_hotend_c"`
	FirstLayerBedC    float64 `json:"first_layer_bed_c"`
	DensityGCm3       float64 `json:"density_g_cm3"`
	PricePerKg        float64 `json:"price_per_kg"`
	FanPercent        int     `json:"fan_percent"`
	RetractMM         float64 `json:"retract_mm"`
	RetractSpeedMMs   float64 `json:"retract_speed_mm_s"`
	MaxVolumetricMM3s float64 `json:"max_volumetric_mm3_s"`
}

//go:embed printers.json
var printersJSON []byte

//go:embed materials.json
var materialsJSON []byte

var (
	builtinPrinters  []Printer
	builtinMaterials []Material
)

func init() {
	var err error
	if builtinPrinters, err = LoadPrinters(strings.NewReader(string(printersJSON))); err != nil {
		panic(err)
	}
	if builtinMaterials, err = LoadMaterials(strings.NewReader(string(materialsJSON))); err != nil {
		panic(err)
	}
}

// LoadPrinters decodes and validates a JSON array of printer profiles.
func LoadPrinters(r io.Reader) ([]Printer, error) {
	var ps []Printer
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ps); err != nil {
		return nil, fmt.Errorf("profile: printers: %w", err)
	}
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// LoadMaterials decodes and validates a JSON array of material profiles.
func LoadMaterials(r io.Reader) ([]Material, error) {
	var ms []Material
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ms); err != nil {
		return nil, fmt.Errorf("profile: materials: %w", err)
	}
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

func norm(s string) string {
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(s))
}

// LookupPrinter finds a built-in printer by id, ignoring case, dashes and
// spaces ("Ender-3" finds "ender3").
func LookupPrinter(name string) (Printer, error) {
	for _, p := range builtinPrinters {
		if norm(p.ID) == norm(name) {
			return p, nil
		}
	}
	return Printer{}, fmt.Errorf("%w: printer %q (known: %s)", ErrUnknown, name, strings.Join(PrinterIDs(), ", "))
}

// LookupMaterial finds a built-in material by id, ignoring case.
func LookupMaterial(name string) (Material, error) {
	for _, m := range builtinMaterials {
		if norm(m.ID) == norm(name) {
			return m, nil
		}
	}
	return Material{}, fmt.Errorf("%w: material %q (known: %s)", ErrUnknown, name, strings.Join(MaterialIDs(), ", "))
}

// Printers returns a copy of the built-in printer profiles.
func Printers() []Printer { return append([]Printer(nil), builtinPrinters...) }

// Materials returns a copy of the built-in material profiles.
func Materials() []Material { return append([]Material(nil), builtinMaterials...) }

// PrinterIDs lists the built-in printer ids, sorted.
func PrinterIDs() []string {
	ids := make([]string, 0, len(builtinPrinters))
	for _, p := range builtinPrinters {
		ids = append(ids, p.ID)
	}
	sort.Strings(ids)
	return ids
}

// MaterialIDs lists the built-in material ids, sorted.
func MaterialIDs() []string {
	ids := make([]string, 0, len(builtinMaterials))
	for _, m := range builtinMaterials {
		ids = append(ids, m.ID)
	}
	sort.Strings(ids)
	return ids
}

// FillGCode replaces {placeholders} in a start/end G-code template. Known
// placeholders: {hotend_temp}, {bed_temp}, {bed_x}, {bed_y}, {bed_z},
// {nozzle}, {material}. Unknown placeholders are an error so that a typo in
// a profile never reaches a printer.
func FillGCode(tmpl string, p Printer, m Material, firstLayer bool) (string, error) {
	hot, bed := m.HotendC, m.BedC
	if firstLayer {
		hot, bed = m.FirstLayerHotendC, m.FirstLayerBedC
	}
	vals := map[string]string{
		"hotend_temp": trim(hot),
		"bed_temp":    trim(bed),
		"bed_x":       trim(p.BuildVolume.X),
		"bed_y":       trim(p.BuildVolume.Y),
		"bed_z":       trim(p.BuildVolume.Z),
		"nozzle":      trim(p.NozzleMM),
		"material":    m.ID,
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("profile: %s: unclosed placeholder in G-code template", p.ID)
		}
		key := tmpl[i+1 : i+j]
		v, ok := vals[key]
		if !ok {
			return "", fmt.Errorf("profile: %s: unknown placeholder {%s} in G-code template", p.ID, key)
		}
		b.WriteString(tmpl[:i])
		b.WriteString(v)
		tmpl = tmpl[i+j+1:]
	}
}

func trim(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
}
