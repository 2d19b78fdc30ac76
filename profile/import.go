package profile

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Importing profiles people already have. `fabgrid profile import` reads a
// PrusaSlicer config (a flat .ini, or a config or vendor bundle with
// [printer:…] and [filament:…] sections, inherits resolved) or a Cura
// machine definition (.def.json, inherits resolved from the files beside
// it) and writes a fabgrid profile file. What the slicer's format does not
// carry (temperature limits, baud) gets a stated default, and what fabgrid
// cannot fill (conditionals and expressions in start and end G-code) is
// left out; each is a warning the command prints.

// ErrImport is returned for a config that cannot be imported.
var ErrImport = errors.New("profile: cannot import")

// ImportOptions say what to take from a config with several presets.
type ImportOptions struct {
	// Printer and Filament are preset names in a PrusaSlicer bundle ("":
	// the one [presets] selects, or the only one).
	Printer, Filament string
	// ID is the imported printer's id ("": made from its name).
	ID string
	// Name names a preset that does not name itself (a flat PrusaSlicer
	// config): the file's base name, say.
	Name string
}

// Imported is the outcome of an import: a profile file and what to check.
type Imported struct {
	File     File
	Warnings []string
}

func (im *Imported) warn(format string, a ...any) {
	im.Warnings = append(im.Warnings, fmt.Sprintf(format, a...))
}

// Defaults for what slicer configs do not carry.
const (
	importBaud      = 115200
	importRXBuffer  = 128
	importMaxHotend = 260.0
	importMaxBed    = 100.0
)

var nonID = regexp.MustCompile(`[^a-z0-9.]+`)

// SlugID makes a profile id from a name: "Creality Ender-3 (0.4 mm
// nozzle)" → "creality-ender-3-0.4-mm-nozzle": letters, digits, dots and
// dashes.
func SlugID(name string) string {
	s := strings.ToLower(name)
	s = strings.Trim(nonID.ReplaceAllString(s, "-"), "-.")
	if len(s) > maxIDLen {
		s = strings.TrimRight(s[:maxIDLen], "-.")
	}
	if s == "" {
		s = "imported"
	}
	return s
}

// materialKind maps a slicer's filament type to the material id jobs ask
// for ("PLA", "PETG", …): communities order a kind of material, and the
// scheduler matches the worker's loaded material by it.
func materialKind(t string) string {
	u := strings.ToUpper(strings.TrimSpace(t))
	switch u {
	case "PET", "PETG", "PCTG":
		return "PETG"
	case "FLEX", "TPU", "TPE":
		return "TPU"
	case "NYLON", "PA", "PA6", "PA12", "PA-CF", "PA6-CF", "PAHT-CF":
		return "PA"
	case "":
		return ""
	}
	if ValidID(u) {
		return u
	}
	return SlugID(u)
}

// firstNumber reads the first value of a slicer's comma-separated list
// ("200,100" for normal and silent modes), with an optional "%".
func firstNumber(s string) (float64, bool) {
	s, _, _ = strings.Cut(s, ",")
	s = strings.TrimSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != v || v > 1e9 || v < -1e9 {
		return 0, false
	}
	return v, true
}

// templateFixer rewrites a slicer's start or end G-code for FillGCode:
// known placeholders become fabgrid's, literal config values are put in,
// and lines fabgrid cannot fill are dropped with a warning.
type templateFixer struct {
	// placeholder maps a slicer's placeholder (without braces or index)
	// to fabgrid's ("{bed_temp}") or to a literal value; ok false if it
	// is not known.
	placeholder func(name string) (string, bool)
	im          *Imported
	field       string
}

// placeholderRE matches {name}, {name[0]}, [name] and [name_0] style
// placeholders that are one plain name (PrusaSlicer, Cura).
var placeholderRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?:\[[A-Za-z0-9_]*\])?(?:,\s*[0-9]+)?\}|\[([A-Za-z_][A-Za-z0-9_]*)(?:\[[A-Za-z0-9_]*\]|_[0-9]+)?\]`)

func (f templateFixer) fix(src string) string {
	var out []string
	dropped, depth := 0, 0
	first := ""
	drop := func(i int, l string) {
		dropped++
		if first == "" {
			first = fmt.Sprintf("line %d %q", i+1, l)
		}
	}
	for i, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		l := strings.TrimSpace(line)
		// A conditional block is left out whole: fabgrid knows nothing of
		// max_layer_z and the like when it fills a template.
		if opens := strings.Count(l, "{if "); opens > 0 || depth > 0 {
			depth = max(0, depth+opens-strings.Count(l, "{endif}"))
			drop(i, l)
			continue
		}
		cmd, comment, hasComment := strings.Cut(line, ";")
		cmd, ok := f.fill(cmd)
		if !ok {
			drop(i, l)
			continue
		}
		if hasComment {
			if c, ok := f.fill(comment); ok {
				cmd += ";" + c
			}
		}
		out = append(out, cmd)
	}
	if dropped > 0 {
		f.im.warn("%s: %d line(s) with conditionals, expressions or placeholders fabgrid cannot fill were left out (the first: %s); check the %s", f.field, dropped, first, f.field)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n")
}

// fill replaces the placeholders of one piece of a line; ok is false when
// one is unknown or an expression remains.
func (f templateFixer) fill(s string) (string, bool) {
	ok := true
	s = placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholderRE.FindStringSubmatch(m)
		if v, known := f.placeholder(sub[1] + sub[2]); known {
			return v
		}
		if sub[2] != "" {
			return m // [x] that names nothing known: plain text
		}
		ok = false
		return m
	})
	return s, ok && onlyFabgridPlaceholders(s)
}

// onlyFabgridPlaceholders reports whether every brace in s belongs to one
// of FillGCode's placeholders.
func onlyFabgridPlaceholders(s string) bool {
	for _, ph := range Placeholders() {
		s = strings.ReplaceAll(s, ph, "")
	}
	return !strings.ContainsAny(s, "{}")
}

// gcodeHas reports whether some line of g starts with one of the commands.
func gcodeHas(g string, cmds ...string) bool {
	for _, l := range strings.Split(g, "\n") {
		l = strings.TrimSpace(l)
		if i := strings.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		f := strings.Fields(strings.ToUpper(l))
		if len(f) == 0 {
			continue
		}
		for _, c := range cmds {
			if f[0] == c {
				return true
			}
		}
	}
	return false
}

// liftsZ reports whether the G-code moves Z (G0/G1 with a Z word), or
// calls a macro that may.
func liftsZ(g string) bool {
	if callsMacro(g) {
		return true
	}
	for _, l := range strings.Split(g, "\n") {
		if i := strings.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		f := strings.Fields(strings.ToUpper(l))
		if len(f) == 0 || f[0] != "G0" && f[0] != "G1" {
			continue
		}
		for _, w := range f[1:] {
			if strings.HasPrefix(w, "Z") {
				return true
			}
		}
	}
	return false
}

// callsMacro reports whether the G-code calls a Klipper macro (a command
// word like PRINT_START that is no G, M or T code).
var macroRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+(\s|$)`)

func callsMacro(g string) bool {
	for _, l := range strings.Split(g, "\n") {
		if macroRE.MatchString(strings.TrimSpace(l)) {
			return true
		}
	}
	return false
}

// finishPrinter adds what a slicer emits around the start G-code on its
// own (heating when the template does not heat, the positioning and
// extrusion modes), checks the result and appends it.
func finishPrinter(im *Imported, p Printer) error {
	var pre []string
	if !gcodeHas(p.StartGCode, "M140", "M190") {
		pre = append(pre, "M190 S{bed_temp} ; heat the bed (the slicer adds this when its start G-code does not)")
	}
	if !gcodeHas(p.StartGCode, "M104", "M109") {
		pre = append(pre, "M109 S{hotend_temp} ; heat the hotend (likewise)")
	}
	if !gcodeHas(p.StartGCode, "G28") && !callsMacro(p.StartGCode) {
		im.warn("start_gcode: it does not home (G28); fabgrid adds G28 before it")
		pre = append(pre, "G28 ; home all")
	}
	mode := "M82 ; absolute extrusion"
	if p.RelativeE {
		mode = "M83 ; relative extrusion"
	}
	parts := append(pre, p.StartGCode, "G90 ; absolute positioning", mode)
	var keep []string
	for _, s := range parts {
		if strings.TrimSpace(s) != "" {
			keep = append(keep, s)
		}
	}
	p.StartGCode = strings.Join(keep, "\n")
	if !liftsZ(p.EndGCode) {
		if p.Firmware == FirmwareKlipper {
			im.warn("end_gcode: it does not lift the nozzle off the part; add a lift within your printer's Z range")
		} else {
			// Marlin and its kin clamp a move past the top to the Z limit.
			im.warn("end_gcode: it does not lift the nozzle off the part; fabgrid adds a 10 mm lift at its start")
			p.EndGCode = strings.TrimSpace("G91 ; relative\nG1 Z10 F600 ; lift the nozzle off the part\nG90\n" + p.EndGCode)
		}
	}
	if !gcodeHas(p.EndGCode, "M104", "M109") {
		im.warn("end_gcode: it does not turn the hotend off; fabgrid adds M104 S0, M140 S0 and M84")
		p.EndGCode = strings.TrimSpace(p.EndGCode + "\nM104 S0 ; hotend off\nM140 S0 ; bed off\nM84 ; motors off")
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: the imported printer is not usable: %w", ErrImport, err)
	}
	im.File.Printers = append(im.File.Printers, p)
	return nil
}

// finishMaterial fills what a filament preset leaves out from the bundled
// material of the same kind, checks it and appends it.
func finishMaterial(im *Imported, m Material) error {
	if base, err := LookupMaterial(m.ID); err == nil {
		if m.DensityGCm3 <= 0 {
			m.DensityGCm3 = base.DensityGCm3
			im.warn("material %s: no density; %g g/cm³ of the bundled %s used", m.ID, base.DensityGCm3, base.ID)
		}
		if m.PricePerKg <= 0 {
			m.PricePerKg = base.PricePerKg
			im.warn("material %s: no price; %g per kg of the bundled %s used", m.ID, base.PricePerKg, base.ID)
		}
	}
	if m.FirstLayerHotendC <= 0 {
		m.FirstLayerHotendC = m.HotendC
	}
	if m.FirstLayerBedC <= 0 {
		m.FirstLayerBedC = m.BedC
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("%w: the imported material is not usable: %w", ErrImport, err)
	}
	im.File.Materials = append(im.File.Materials, m)
	return nil
}
