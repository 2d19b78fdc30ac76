package profile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
)

// A PrusaSlicer config is INI text. A flat config (File > Export > Export
// Config) is one preset of every kind; a config bundle or a vendor bundle
// (/usr/share/PrusaSlicer/profiles/Creality.ini) has [printer:NAME],
// [filament:NAME] and [print:NAME] sections, where "inherits = *a*; *b*"
// takes the keys of a, then b, then the section's own.

// prusaConfig is one parsed INI file.
type prusaConfig struct {
	flat     map[string]string            // keys before any section
	sections map[string]map[string]string // "printer:NAME" → keys
	order    []string                     // section names in file order
}

const (
	maxPrusaBytes   = 16 << 20 // the largest vendor bundle is about 3 MB
	maxInheritDepth = 16
)

func parsePrusaINI(r io.Reader) (*prusaConfig, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxPrusaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImport, err)
	}
	if len(data) > maxPrusaBytes {
		return nil, fmt.Errorf("%w: more than %d bytes; not a PrusaSlicer config", ErrImport, maxPrusaBytes)
	}
	c := &prusaConfig{flat: map[string]string{}, sections: map[string]map[string]string{}}
	cur := c.flat
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n, keys := 0, 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == ';' {
			continue
		}
		if l[0] == '[' && strings.HasSuffix(l, "]") {
			name := l[1 : len(l)-1]
			if _, dup := c.sections[name]; !dup {
				c.order = append(c.order, name)
				c.sections[name] = map[string]string{}
			}
			cur = c.sections[name]
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return nil, fmt.Errorf("%w: line %d: %q is neither [section] nor key = value; is this a PrusaSlicer .ini?", ErrImport, n, truncate(l, 40))
		}
		cur[strings.TrimSpace(k)] = prusaValue(strings.TrimSpace(v))
		keys++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %w", ErrImport, n+1, err)
	}
	if keys == 0 {
		return nil, fmt.Errorf("%w: no settings; is this a PrusaSlicer .ini?", ErrImport)
	}
	return c, nil
}

// prusaValue unquotes "…" strings and undoes PrusaSlicer's escapes (\n in
// G-code templates).
func prusaValue(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && !strings.Contains(v[1:len(v)-1], `"; "`) {
		v = v[1 : len(v)-1]
	}
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			case 'r':
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case '\\', '"':
				b.WriteByte(v[i+1])
				i++
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// resolve returns the keys of section kind:name with its inherits applied.
func (c *prusaConfig) resolve(kind, name string, depth int) (map[string]string, error) {
	sec, ok := c.sections[kind+":"+name]
	if !ok {
		return nil, fmt.Errorf("%w: no [%s:%s] in the bundle", ErrImport, kind, name)
	}
	if depth > maxInheritDepth {
		return nil, fmt.Errorf("%w: [%s:%s]: inherits nests deeper than %d (a loop?)", ErrImport, kind, name, maxInheritDepth)
	}
	out := map[string]string{}
	for _, parent := range strings.Split(sec["inherits"], ";") {
		if parent = strings.Trim(strings.TrimSpace(parent), `"`); parent == "" {
			continue
		}
		keys, err := c.resolve(kind, parent, depth+1)
		if err != nil {
			return nil, err
		}
		for k, v := range keys {
			out[k] = v
		}
	}
	for k, v := range sec {
		out[k] = v
	}
	delete(out, "inherits")
	return out, nil
}

// presets lists the concrete (not *abstract*) presets of a kind.
func (c *prusaConfig) presets(kind string) []string {
	var names []string
	for _, s := range c.order {
		k, name, _ := strings.Cut(s, ":")
		if k == kind && !(strings.HasPrefix(name, "*") && strings.HasSuffix(name, "*")) {
			names = append(names, name)
		}
	}
	return names
}

// pick chooses a preset: the one asked for, the one [presets] selects, the
// default given, or the only one.
func (c *prusaConfig) pick(kind, want, def string) (string, error) {
	names := c.presets(kind)
	if want != "" {
		for _, n := range names {
			if n == want {
				return n, nil
			}
		}
		for _, n := range names { // forgive case and spacing
			if norm(n) == norm(want) {
				return n, nil
			}
		}
		return "", fmt.Errorf("%w: no %s preset %q in the bundle (it has %s)", ErrImport, kind, want, sample(names))
	}
	if sel := c.sections["presets"][kind]; sel != "" {
		if _, ok := c.sections[kind+":"+sel]; ok {
			return sel, nil
		}
	}
	if def != "" {
		if _, ok := c.sections[kind+":"+def]; ok {
			return def, nil
		}
	}
	switch len(names) {
	case 0:
		return "", nil
	case 1:
		return names[0], nil
	}
	flag := "--printer"
	if kind == "filament" {
		flag = "--filament"
	}
	return "", fmt.Errorf("%w: the bundle has %d %s presets; say which with %s NAME (%s)", ErrImport, len(names), kind, flag, sample(names))
}

func sample(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	if len(s) > 8 {
		return fmt.Sprintf("%q … and %d more", s[:8], len(s)-8)
	}
	return fmt.Sprintf("%q", s)
}

// ImportPrusa reads a PrusaSlicer config or bundle and makes a fabgrid
// profile file of its printer and, when it has one, its filament.
func ImportPrusa(r io.Reader, opts ImportOptions) (Imported, error) {
	c, err := parsePrusaINI(r)
	if err != nil {
		return Imported{}, err
	}
	var printer, filament map[string]string
	var pname, fname, skipped string
	if len(c.presets("printer")) == 0 {
		if _, ok := c.flat["bed_shape"]; !ok {
			return Imported{}, fmt.Errorf("%w: no bed_shape and no [printer:…] section; export the printer settings from PrusaSlicer (File > Export > Export Config)", ErrImport)
		}
		printer, filament = c.flat, c.flat
		pname = firstNonEmpty(opts.Printer, c.flat["printer_settings_id"], opts.Name, "imported printer")
		fname = firstNonEmpty(c.flat["filament_settings_id"], c.flat["filament_type"])
	} else {
		if pname, err = c.pick("printer", opts.Printer, ""); err != nil {
			return Imported{}, err
		}
		if printer, err = c.resolve("printer", pname, 0); err != nil {
			return Imported{}, err
		}
		if strings.EqualFold(printer["printer_technology"], "SLA") {
			return Imported{}, fmt.Errorf("%w: %q is a resin (SLA) printer; fabgrid drives filament printers", ErrImport, pname)
		}
		if fname, err = c.pick("filament", opts.Filament, printer["default_filament_profile"]); err != nil {
			if opts.Filament != "" {
				return Imported{}, err
			}
			// A vendor bundle's many filaments: the printer alone, unless
			// one is named.
			fname, skipped = "", err.Error()
		}
		if fname != "" {
			if filament, err = c.resolve("filament", fname, 0); err != nil {
				return Imported{}, err
			}
		}
	}
	im := Imported{}
	if skipped != "" {
		im.warn("filament: %s", strings.TrimPrefix(skipped, ErrImport.Error()+": "))
	}
	p, err := prusaPrinter(&im, pname, printer, filament, opts)
	if err != nil {
		return Imported{}, err
	}
	if filament != nil && (filament["filament_type"] != "" || filament["temperature"] != "") {
		m := prusaMaterial(&im, fname, filament, printer)
		if err := finishMaterial(&im, m); err != nil {
			return Imported{}, err
		}
		p.MaxHotendC = max(p.MaxHotendC, m.HotendC, m.FirstLayerHotendC)
		p.MaxBedC = max(p.MaxBedC, m.BedC, m.FirstLayerBedC)
	} else {
		im.warn("no filament preset: only the printer is imported (use --material with a bundled material)")
	}
	if err := finishPrinter(&im, p); err != nil {
		return Imported{}, err
	}
	return im, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func prusaPrinter(im *Imported, name string, k, fil map[string]string, opts ImportOptions) (Printer, error) {
	p := Printer{
		ID: opts.ID, Name: truncate(name, maxNameLen-1), NozzleMM: 0.4, FilamentMM: 1.75,
		MaxHotendC: importMaxHotend, MaxBedC: importMaxBed, Firmware: FirmwareMarlin,
		Baud: importBaud, RXBufferBytes: importRXBuffer, FlowControl: FlowBuffered,
	}
	if p.ID == "" {
		p.ID = SlugID(name)
	}
	num := func(key string, def float64) float64 {
		if v, ok := firstNumber(k[key]); ok {
			return v
		}
		return def
	}
	// Bed: the outline's bounding box; fabgrid's bed starts at 0,0.
	minX, minY, maxX, maxY, pts := 1e9, 1e9, -1e9, -1e9, 0
	shape, ok := k["bed_shape"]
	if !ok {
		shape = "0x0,200x0,200x200,0x200" // PrusaSlicer's default
		im.warn("bed_shape: not in the config; PrusaSlicer's default, 200 × 200 mm, used: check it")
	}
	for _, pt := range strings.Split(shape, ",") {
		xs, ys, ok := strings.Cut(strings.TrimSpace(pt), "x")
		x, okx := firstNumber(xs)
		y, oky := firstNumber(ys)
		if !ok || !okx || !oky {
			continue
		}
		minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x), max(maxY, y)
		pts++
	}
	if pts < 3 {
		return Printer{}, fmt.Errorf("%w: bed_shape %q: want at least three points XxY", ErrImport, truncate(shape, 60))
	}
	p.BuildVolume = Vec3{X: maxX - minX, Y: maxY - minY, Z: num("max_print_height", 200)}
	if minX != 0 || minY != 0 {
		im.warn("bed_shape starts at %g,%g; fabgrid's bed starts at 0,0, so the build volume is %g × %g mm from there", minX, minY, p.BuildVolume.X, p.BuildVolume.Y)
	}
	p.NozzleMM = num("nozzle_diameter", 0.4)
	if v, ok := firstNumber(fil["filament_diameter"]); ok {
		p.FilamentMM = v
	}
	if v, ok := firstNumber(k["serial_speed"]); ok && v > 0 {
		p.Baud = int(v)
	} else {
		im.warn("baud: PrusaSlicer configs do not carry it; %d assumed (--baud overrides it)", importBaud)
	}
	im.warn("max_hotend_c, max_bed_c: PrusaSlicer configs carry no temperature limits; %g °C and %g °C assumed (or the filament's, if higher): set your printer's", importMaxHotend, importMaxBed)

	p.Firmware = prusaFirmware(im, k)
	if _, ok := k["machine_max_feedrate_x"]; !ok {
		im.warn("no machine limits in the config: PrusaSlicer's defaults used (500/500/12/120 mm/s, 1500 mm/s² printing)")
	}
	p.MaxFeedrate = Axes{X: num("machine_max_feedrate_x", 500), Y: num("machine_max_feedrate_y", 500), Z: num("machine_max_feedrate_z", 12), E: num("machine_max_feedrate_e", 120)}
	p.MaxAccel = Axes{X: num("machine_max_acceleration_x", 9000), Y: num("machine_max_acceleration_y", 9000), Z: num("machine_max_acceleration_z", 500), E: num("machine_max_acceleration_e", 10000)}
	p.PrintAccel = num("machine_max_acceleration_extruding", 1500)
	p.TravelAccel = num("machine_max_acceleration_travel", p.PrintAccel)
	if p.TravelAccel <= 0 {
		p.TravelAccel = p.PrintAccel
	}
	p.MaxJerk = Axes{X: num("machine_max_jerk_x", 10), Y: num("machine_max_jerk_y", 10), Z: num("machine_max_jerk_z", 0.2), E: num("machine_max_jerk_e", 2.5)}
	p.RelativeE = num("use_relative_e_distances", 0) == 1

	all := map[string]string{}
	for key, v := range k {
		all[key] = v
	}
	for key, v := range fil {
		if _, ok := all[key]; !ok {
			all[key] = v
		}
	}
	fx := func(field string) templateFixer {
		return templateFixer{im: im, field: field, placeholder: func(n string) (string, bool) { return prusaPlaceholder(n, all) }}
	}
	start, ok := k["start_gcode"]
	if !ok {
		start = "G28 ; home all axes\nG1 Z5 F5000 ; lift nozzle" // PrusaSlicer's default
	}
	p.StartGCode = fx("start_gcode").fix(start)
	end, ok := k["end_gcode"]
	if !ok {
		end = "M104 S0 ; turn off temperature\nG28 X0 ; home X axis\nM84 ; disable motors" // PrusaSlicer's default
	}
	p.EndGCode = fx("end_gcode").fix(end)
	return p, nil
}

// prusaFirmware reads gcode_flavor, and tells Prusa's and Klipper printers
// (which PrusaSlicer profiles as "marlin" with a macro) apart.
func prusaFirmware(im *Imported, k map[string]string) string {
	start := k["start_gcode"]
	switch f := strings.ToLower(k["gcode_flavor"]); f {
	case "klipper":
		return FirmwareKlipper
	case "reprap", "reprapfirmware":
		return FirmwareRepRap
	case "", "marlin", "marlin2", "marlinlegacy":
		switch {
		case strings.Contains(start, "M862.3") || strings.HasPrefix(strings.ToUpper(k["printer_model"]), "MK") || strings.HasPrefix(strings.ToUpper(k["printer_model"]), "MINI"):
			return FirmwarePrusa
		case callsMacro(start):
			im.warn("firmware: the start G-code calls a macro, so the printer is taken to run Klipper")
			return FirmwareKlipper
		}
		return FirmwareMarlin
	default:
		im.warn("firmware: gcode_flavor %q is none of fabgrid's (%s); marlin assumed: check that the printer answers like Marlin", f, strings.Join(Firmwares(), ", "))
		return FirmwareMarlin
	}
}

// prusaPlaceholder maps PrusaSlicer's placeholders to fabgrid's, and puts
// in literal config values (printer_model, travel_speed).
func prusaPlaceholder(name string, k map[string]string) (string, bool) {
	switch name {
	case "first_layer_temperature", "temperature":
		return "{hotend_temp}", true
	case "first_layer_bed_temperature", "bed_temperature":
		return "{bed_temp}", true
	case "nozzle_diameter":
		return "{nozzle}", true
	case "max_print_height":
		return "{bed_z}", true
	case "filament_type":
		return "{material}", true
	case "initial_extruder", "initial_tool", "current_extruder":
		return "0", true
	}
	// A plain value of the config (not a list, not G-code): put it in.
	if v, ok := k[name]; ok && v != "" && !strings.ContainsAny(v, "\n{};,") && len(v) <= 64 {
		return v, true
	}
	return "", false
}

func prusaMaterial(im *Imported, name string, f, printer map[string]string) Material {
	num := func(key string, def float64) float64 {
		if v, ok := firstNumber(f[key]); ok {
			return v
		}
		return def
	}
	kind := materialKind(f["filament_type"])
	if kind == "" {
		kind = "PLA"
		im.warn("material: no filament_type; PLA assumed")
	}
	m := Material{
		ID: kind, Name: truncate(firstNonEmpty(name, kind), maxNameLen-1),
		HotendC: num("temperature", 0), FirstLayerHotendC: num("first_layer_temperature", 0),
		BedC: num("bed_temperature", 0), FirstLayerBedC: num("first_layer_bed_temperature", 0),
		DensityGCm3: num("filament_density", 0), PricePerKg: num("filament_cost", 0),
		MaxVolumetricMM3s: num("filament_max_volumetric_speed", 0),
	}
	if num("cooling", 1) == 1 {
		m.FanPercent = int(num("max_fan_speed", 100))
	}
	m.RetractMM, m.RetractSpeedMMs = 5, 40
	if v, ok := firstNumber(printer["retract_length"]); ok {
		m.RetractMM = v
	}
	if v, ok := firstNumber(printer["retract_speed"]); ok {
		m.RetractSpeedMMs = v
	}
	if v, ok := firstNumber(f["filament_retract_length"]); ok {
		m.RetractMM = v
	}
	if v, ok := firstNumber(f["filament_retract_speed"]); ok {
		m.RetractSpeedMMs = v
	}
	if m.HotendC == 0 {
		m.HotendC = m.FirstLayerHotendC
	}
	return m
}
