package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// A Cura machine definition (resources/definitions/NAME.def.json) has
// "overrides" of Cura's settings, each {"default_value": …} or {"value":
// …}, on top of the definition it "inherits" (up to fdmprinter, Cura's
// base). Parents are read through a function (the CLI reads NAME.def.json
// beside the file); fdmprinter's own defaults are built in here.

// curaDef is the part of a definition the import reads.
type curaDef struct {
	Name      string                     `json:"name"`
	Inherits  string                     `json:"inherits"`
	Overrides map[string]json.RawMessage `json:"overrides"`
	Metadata  struct {
		ExtruderTrains map[string]string `json:"machine_extruder_trains"`
	} `json:"metadata"`
}

// curaBase holds fdmprinter's defaults for the settings the import reads
// (Cura 5). Its feedrate limits (the speed of light) mean "none", so they
// are left out and get the import's defaults.
var curaBase = map[string]any{
	"machine_name": "Unknown", "machine_width": 100.0, "machine_depth": 100.0, "machine_height": 100.0,
	"machine_nozzle_size": 0.4, "material_diameter": 2.85, "machine_heated_bed": false,
	"machine_gcode_flavor":       "RepRap (Marlin/Sprinter)",
	"machine_max_acceleration_x": 9000.0, "machine_max_acceleration_y": 9000.0, "machine_max_acceleration_z": 100.0, "machine_max_acceleration_e": 10000.0,
	"machine_acceleration": 4000.0, "machine_max_jerk_xy": 20.0, "machine_max_jerk_z": 0.4, "machine_max_jerk_e": 5.0,
	"machine_start_gcode": "G28 ;Home\nG1 Z15.0 F6000 ;Move the platform down 15mm\n;Prime the extruder\nG92 E0\nG1 F200 E3\nG92 E0",
	"machine_end_gcode":   "M104 S0\nM140 S0\n;Retract the filament\nG92 E1\nG1 E-1 F300\nG28 X0 Y0\nM84",
	"relative_extrusion":  false,
}

// CuraParent reads the definition a "inherits" names; it returns an error
// satisfying errors.Is(err, fs.ErrNotExist) when there is none.
type CuraParent func(name string) ([]byte, error)

const maxCuraBytes = 4 << 20

// ImportCura reads a Cura machine definition and makes a fabgrid profile
// file of its printer (Cura keeps materials elsewhere: none is imported).
func ImportCura(r io.Reader, parent CuraParent, opts ImportOptions) (Imported, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCuraBytes+1))
	if err != nil {
		return Imported{}, fmt.Errorf("%w: %w", ErrImport, err)
	}
	// Settings: the child's overrides first, each parent's below.
	var chain []curaDef
	seen := map[string]bool{}
	for depth := 0; ; depth++ {
		if len(data) > maxCuraBytes {
			return Imported{}, fmt.Errorf("%w: more than %d bytes; not a Cura machine definition", ErrImport, maxCuraBytes)
		}
		var d curaDef
		if err := json.Unmarshal(data, &d); err != nil {
			return Imported{}, fmt.Errorf("%w: not a Cura machine definition (.def.json): %w", ErrImport, err)
		}
		if depth == 0 && d.Overrides == nil && d.Inherits == "" {
			return Imported{}, fmt.Errorf("%w: no \"overrides\" and no \"inherits\"; not a Cura machine definition", ErrImport)
		}
		chain = append(chain, d)
		if d.Inherits == "" || d.Inherits == "fdmprinter" {
			break
		}
		if seen[d.Inherits] || depth >= maxInheritDepth {
			return Imported{}, fmt.Errorf("%w: inherits %q loops or nests deeper than %d", ErrImport, d.Inherits, maxInheritDepth)
		}
		seen[d.Inherits] = true
		if parent == nil {
			return Imported{}, fmt.Errorf("%w: it inherits %q, which cannot be read here", ErrImport, d.Inherits)
		}
		if data, err = parent(d.Inherits); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return Imported{}, fmt.Errorf("%w: it inherits %q: put %s.def.json (from Cura's resources/definitions) beside it", ErrImport, d.Inherits, d.Inherits)
			}
			return Imported{}, fmt.Errorf("%w: reading %q: %w", ErrImport, d.Inherits, err)
		}
	}
	im := Imported{}
	// The first extruder's definition (Cura's resources/extruders) holds
	// the nozzle and filament diameters: it comes before the machine's.
	for _, d := range chain {
		name := d.Metadata.ExtruderTrains["0"]
		if name == "" {
			continue
		}
		var ex curaDef
		if parent == nil {
			break
		}
		data, err := parent(name)
		if err == nil {
			err = json.Unmarshal(data, &ex)
		}
		if err != nil {
			im.warn("extruder %s.def.json (from Cura's resources/extruders) cannot be read (%v): the nozzle and filament diameters are the machine definition's", name, err)
			break
		}
		chain = append([]curaDef{{Overrides: ex.Overrides}}, chain...)
		break
	}
	s := curaSettings{chain: chain, im: &im}
	p := Printer{
		ID: opts.ID, Name: truncate(firstNonEmpty(s.str("machine_name"), chain[0].Name, opts.Name), maxNameLen-1),
		MaxHotendC: importMaxHotend, MaxBedC: importMaxBed,
		Baud: importBaud, RXBufferBytes: importRXBuffer, FlowControl: FlowBuffered,
	}
	if chain[0].Name != "" && p.Name == "Unknown" {
		p.Name = chain[0].Name
	}
	if p.ID == "" {
		p.ID = SlugID(p.Name)
	}
	p.BuildVolume = Vec3{X: s.num("machine_width", 0), Y: s.num("machine_depth", 0), Z: s.num("machine_height", 0)}
	p.NozzleMM = s.num("machine_nozzle_size", 0.4)
	p.FilamentMM = s.num("material_diameter", 1.75)
	if !s.boolean("machine_heated_bed") {
		im.warn("machine_heated_bed is false: max_bed_c %g °C is kept so materials validate; set bed temperatures of 0 in your materials", importMaxBed)
	}
	im.warn("baud, max_hotend_c, max_bed_c: Cura definitions do not carry them; %d baud, %g °C and %g °C assumed: set your printer's", importBaud, importMaxHotend, importMaxBed)

	if _, ok := s.lookup("machine_max_feedrate_x"); !ok {
		im.warn("no feedrate limits in the definition: 500/500/10/50 mm/s assumed")
	}
	p.MaxFeedrate = Axes{X: s.num("machine_max_feedrate_x", 500), Y: s.num("machine_max_feedrate_y", 500), Z: s.num("machine_max_feedrate_z", 10), E: s.num("machine_max_feedrate_e", 50)}
	p.MaxAccel = Axes{X: s.num("machine_max_acceleration_x", 9000), Y: s.num("machine_max_acceleration_y", 9000), Z: s.num("machine_max_acceleration_z", 100), E: s.num("machine_max_acceleration_e", 10000)}
	p.PrintAccel = s.num("acceleration_print", s.num("machine_acceleration", 4000))
	p.TravelAccel = s.num("acceleration_travel", p.PrintAccel)
	jxy := s.num("machine_max_jerk_xy", 20)
	p.MaxJerk = Axes{X: jxy, Y: jxy, Z: s.num("machine_max_jerk_z", 0.4), E: s.num("machine_max_jerk_e", 5)}
	p.RelativeE = s.boolean("relative_extrusion")

	start, end := s.str("machine_start_gcode"), s.str("machine_end_gcode")
	switch fl := s.str("machine_gcode_flavor"); {
	case callsMacro(start):
		im.warn("firmware: the start G-code calls a macro, so the printer is taken to run Klipper")
		p.Firmware = FirmwareKlipper
	case fl == "RepRap (RepRap)":
		p.Firmware = FirmwareRepRap
	case strings.Contains(start, "M862"):
		p.Firmware = FirmwarePrusa
	case fl == "RepRap (Marlin/Sprinter)" || fl == "Marlin (Volumetric)":
		p.Firmware = FirmwareMarlin
	default:
		im.warn("firmware: machine_gcode_flavor %q is none of fabgrid's (%s); marlin assumed: check that the printer answers like Marlin", fl, strings.Join(Firmwares(), ", "))
		p.Firmware = FirmwareMarlin
	}
	fx := func(field string) templateFixer {
		return templateFixer{im: &im, field: field, placeholder: s.placeholder}
	}
	p.StartGCode = fx("start_gcode").fix(start)
	p.EndGCode = fx("end_gcode").fix(end)
	im.warn("no material: Cura keeps materials apart from machines; use --material with a bundled one or a --material-file")
	if err := finishPrinter(&im, p); err != nil {
		return Imported{}, err
	}
	return im, nil
}

// curaSettings looks settings up along an inheritance chain.
type curaSettings struct {
	chain []curaDef
	im    *Imported
}

// lookup returns a setting's value: the nearest definition's literal
// "value" or "default_value" (an expression "value" is skipped), else
// fdmprinter's.
func (s curaSettings) lookup(key string) (any, bool) {
	for _, d := range s.chain {
		raw, ok := d.Overrides[key]
		if !ok {
			continue
		}
		var o struct {
			Value   json.RawMessage `json:"value"`
			Default json.RawMessage `json:"default_value"`
		}
		if json.Unmarshal(raw, &o) != nil {
			continue
		}
		if v, ok := curaLiteral(o.Value, true); ok {
			return v, true
		}
		if v, ok := curaLiteral(o.Default, false); ok {
			return v, true
		}
	}
	v, ok := curaBase[key]
	return v, ok
}

// curaLiteral decodes a number, a bool or a string. A "value" is a Python
// expression: only a number or a quoted string in it ("500", "'Marlin'")
// is taken, anything else is skipped.
func curaLiteral(r json.RawMessage, expr bool) (any, bool) {
	if len(r) == 0 {
		return nil, false
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil, false
	}
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case bool:
		return x, true
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, true
		}
		if !expr {
			return x, true
		}
		if t := strings.TrimSpace(x); len(t) >= 2 && (t[0] == '\'' || t[0] == '"') && t[len(t)-1] == t[0] && !strings.ContainsRune(t[1:len(t)-1], rune(t[0])) {
			return t[1 : len(t)-1], true
		}
		if t := strings.TrimSpace(x); t == "True" || t == "False" {
			return t == "True", true
		}
		return nil, false
	}
	return nil, false
}

func (s curaSettings) num(key string, def float64) float64 {
	v, ok := s.lookup(key)
	if f, isNum := v.(float64); ok && isNum && !math.IsNaN(f) && !math.IsInf(f, 0) && f < 1e9 {
		return f
	}
	return def
}

func (s curaSettings) str(key string) string {
	v, _ := s.lookup(key)
	if x, ok := v.(string); ok {
		return x
	}
	return ""
}

func (s curaSettings) boolean(key string) bool {
	v, _ := s.lookup(key)
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// placeholder maps Cura's placeholders to fabgrid's, and puts in literal
// setting values.
func (s curaSettings) placeholder(name string) (string, bool) {
	switch name {
	case "material_print_temperature", "material_print_temperature_layer_0", "material_initial_print_temperature", "print_temperature":
		return "{hotend_temp}", true
	case "material_bed_temperature", "material_bed_temperature_layer_0", "print_bed_temperature":
		return "{bed_temp}", true
	case "machine_width":
		return "{bed_x}", true
	case "machine_depth":
		return "{bed_y}", true
	case "machine_height":
		return "{bed_z}", true
	case "machine_nozzle_size":
		return "{nozzle}", true
	case "material_type":
		return "{material}", true
	case "initial_extruder_nr", "extruder_nr":
		return "0", true
	}
	switch v, _ := s.lookup(name); x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case string:
		if x != "" && !strings.ContainsAny(x, "\n{};") && len(x) <= 64 {
			return x, true
		}
	}
	return "", false
}
