package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/fabgrid/fabgrid/profile"
)

func init() {
	register(command{name: "profile", summary: "list, show and import printer and material profiles", run: runProfile})
}

const profileUsage = "profile list [--profile-file F] [--material-file F] [--json]\n" +
	"       fabgrid profile show ID [--profile-file F] [--material-file F] [--json]\n" +
	"       fabgrid profile import FILE.ini|FILE.def.json [-o OUT.json] [--printer NAME] [--filament NAME] [--id ID]"

const profileHelp = `Printer profiles (bed, nozzle, firmware, limits, start and end G-code) and
material profiles (temperatures, fan, retraction, flow limit, density, price).
'list' and 'show' cover the bundled profiles and those of a profile file;
'import' makes a profile file from a PrusaSlicer config (.ini: an exported
config, a config bundle or a vendor bundle) or a Cura machine definition
(.def.json, with the definitions it inherits from beside it), for
--profile-file and --material-file on worker, slice and print.`

func runProfile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlags("profile", profileUsage, profileHelp, stderr)
		if err := fs.Parse(args); err != nil {
			return err
		}
		fs.Usage()
		return usageError("want a subcommand: list, show or import")
	}
	switch args[0] {
	case "list":
		return runProfileList(args[1:], stdout, stderr)
	case "show":
		return runProfileShow(args[1:], stdout, stderr)
	case "import":
		return runProfileImport(args[1:], stdout, stderr)
	}
	return usageError("unknown profile subcommand %q: want list, show or import", args[0])
}

// profileSet is the bundled profiles and those of the files given.
type profileSet struct {
	printers  []profile.Printer
	materials []profile.Material
	source    map[string]string // "p:"+id or "m:"+id → file, or "bundled"
}

func loadProfileSet(printerFile, materialFile string) (profileSet, error) {
	s := profileSet{source: map[string]string{}}
	add := func(f profile.File, src string) {
		for _, p := range f.Printers {
			if _, dup := s.source["p:"+p.ID]; !dup {
				s.printers, s.source["p:"+p.ID] = append(s.printers, p), src
			}
		}
		for _, m := range f.Materials {
			if _, dup := s.source["m:"+m.ID]; !dup {
				s.materials, s.source["m:"+m.ID] = append(s.materials, m), src
			}
		}
	}
	if printerFile != "" {
		f, err := profile.ReadPrinterFile(printerFile)
		if err != nil {
			return s, &exitError{2, err}
		}
		add(f, printerFile)
	}
	if materialFile != "" {
		f, err := profile.ReadMaterialFile(materialFile)
		if err != nil {
			return s, &exitError{2, err}
		}
		add(f, materialFile)
	}
	add(profile.File{Printers: profile.Printers(), Materials: profile.Materials()}, "bundled")
	return s, nil
}

func profileSetFlags(name, usageLine string, stderr io.Writer) (*flag.FlagSet, *string, *string, *bool) {
	fs := newFlags("profile "+name, usageLine, profileHelp, stderr)
	pf := fs.String("profile-file", "", "also the printers (and materials) of this profile file")
	mf := fs.String("material-file", "", "also the materials of this profile file")
	js := fs.Bool("json", false, "print JSON")
	return fs, pf, mf, js
}

func runProfileList(args []string, stdout, stderr io.Writer) error {
	fs, pf, mf, asJSON := profileSetFlags("list", "profile list [--profile-file F] [--material-file F] [--json]", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments %q", fs.Args())
	}
	s, err := loadProfileSet(*pf, *mf)
	if err != nil {
		return err
	}
	if *asJSON {
		return profileJSON(stdout, profile.File{Printers: s.printers, Materials: s.materials})
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRINTER\tNAME\tBUILD VOLUME mm\tNOZZLE\tFIRMWARE\tBAUD\tFROM")
	for _, p := range s.printers {
		fmt.Fprintf(tw, "%s\t%s\t%g × %g × %g\t%g\t%s\t%d\t%s\n", p.ID, p.Name, p.BuildVolume.X, p.BuildVolume.Y, p.BuildVolume.Z,
			p.NozzleMM, p.Firmware, p.Baud, s.source["p:"+p.ID])
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "MATERIAL\tNAME\tHOTEND °C\tBED °C\tFAN %\tDENSITY g/cm³\tPRICE /kg\tFROM")
	for _, m := range s.materials {
		fmt.Fprintf(tw, "%s\t%s\t%g (first layer %g)\t%g (%g)\t%d\t%g\t%.2f\t%s\n", m.ID, m.Name, m.HotendC, m.FirstLayerHotendC,
			m.BedC, m.FirstLayerBedC, m.FanPercent, m.DensityGCm3, m.PricePerKg, s.source["m:"+m.ID])
	}
	return tw.Flush()
}

func runProfileShow(args []string, stdout, stderr io.Writer) error {
	fs, pf, mf, asJSON := profileSetFlags("show", "profile show ID [--profile-file F] [--material-file F] [--json]", stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("want one profile id (see fabgrid profile list)")
	}
	s, err := loadProfileSet(*pf, *mf)
	if err != nil {
		return err
	}
	id := pos[0]
	for _, p := range s.printers {
		if sameProfileID(p.ID, id) {
			if *asJSON {
				return profileJSON(stdout, p)
			}
			showPrinter(stdout, p, s.source["p:"+p.ID])
			return nil
		}
	}
	for _, m := range s.materials {
		if sameProfileID(m.ID, id) {
			if *asJSON {
				return profileJSON(stdout, m)
			}
			showMaterial(stdout, m, s.source["m:"+m.ID])
			return nil
		}
	}
	var ids []string
	for _, p := range s.printers {
		ids = append(ids, p.ID)
	}
	for _, m := range s.materials {
		ids = append(ids, m.ID)
	}
	return &exitError{2, fmt.Errorf("%w: no printer or material %q (known: %s)", profile.ErrUnknown, id, strings.Join(ids, ", "))}
}

func showPrinter(w io.Writer, p profile.Printer, src string) {
	fmt.Fprintf(w, "printer      %s — %s (%s)\n", p.ID, p.Name, src)
	fmt.Fprintf(w, "build volume %g × %g × %g mm, nozzle %g mm, filament %g mm\n", p.BuildVolume.X, p.BuildVolume.Y, p.BuildVolume.Z, p.NozzleMM, p.FilamentMM)
	fmt.Fprintf(w, "limits       hotend %g °C, bed %g °C\n", p.MaxHotendC, p.MaxBedC)
	fmt.Fprintf(w, "firmware     %s, %d baud, RX buffer %d bytes, %s\n", p.Firmware, p.Baud, p.RXBufferBytes, p.FlowControl)
	fmt.Fprintf(w, "feedrate     X %g  Y %g  Z %g  E %g mm/s\n", p.MaxFeedrate.X, p.MaxFeedrate.Y, p.MaxFeedrate.Z, p.MaxFeedrate.E)
	fmt.Fprintf(w, "acceleration X %g  Y %g  Z %g  E %g mm/s²; printing %g, travel %g\n", p.MaxAccel.X, p.MaxAccel.Y, p.MaxAccel.Z, p.MaxAccel.E, p.PrintAccel, p.TravelAccel)
	switch {
	case p.JunctionDeviationMM > 0:
		fmt.Fprintf(w, "cornering    junction deviation %g mm\n", p.JunctionDeviationMM)
	case p.SquareCornerVelocity > 0:
		fmt.Fprintf(w, "cornering    square corner velocity %g mm/s\n", p.SquareCornerVelocity)
	case p.MaxJerk != (profile.Axes{}):
		fmt.Fprintf(w, "cornering    jerk X %g  Y %g  Z %g  E %g mm/s\n", p.MaxJerk.X, p.MaxJerk.Y, p.MaxJerk.Z, p.MaxJerk.E)
	}
	e := "absolute"
	if p.RelativeE {
		e = "relative"
	}
	fmt.Fprintf(w, "extrusion    %s E\n", e)
	if len(p.MachineTypes) > 0 {
		fmt.Fprintf(w, "M115 names   %s\n", strings.Join(p.MachineTypes, ", "))
	}
	fmt.Fprintf(w, "start G-code\n%s\nend G-code\n%s\n", gcodeIndent(p.StartGCode), gcodeIndent(p.EndGCode))
}

func showMaterial(w io.Writer, m profile.Material, src string) {
	fmt.Fprintf(w, "material     %s — %s (%s)\n", m.ID, m.Name, src)
	fmt.Fprintf(w, "hotend       %g °C (first layer %g °C)\n", m.HotendC, m.FirstLayerHotendC)
	fmt.Fprintf(w, "bed          %g °C (first layer %g °C)\n", m.BedC, m.FirstLayerBedC)
	fmt.Fprintf(w, "fan          %d %%\n", m.FanPercent)
	fmt.Fprintf(w, "retraction   %g mm at %g mm/s\n", m.RetractMM, m.RetractSpeedMMs)
	flow := "none"
	if m.MaxVolumetricMM3s > 0 {
		flow = fmt.Sprintf("%g mm³/s", m.MaxVolumetricMM3s)
	}
	fmt.Fprintf(w, "flow limit   %s\n", flow)
	fmt.Fprintf(w, "density      %g g/cm³, price %.2f per kg\n", m.DensityGCm3, m.PricePerKg)
}

func gcodeIndent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func profileJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runProfileImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("profile import", "profile import FILE.ini|FILE.def.json [-o OUT.json] [--printer NAME] [--filament NAME] [--id ID]",
		"Makes a fabgrid profile file from a PrusaSlicer config or bundle (.ini) or a Cura machine\n"+
			"definition (.def.json). What the slicer's format does not carry (temperature limits,\n"+
			"baud) gets a default, and start/end G-code lines fabgrid cannot fill are left out: each\n"+
			"is printed as a warning to check. Use the file with --profile-file (and --material-file).", stderr)
	out := fs.String("o", "-", "the profile file to write (- for stdout)")
	printer := fs.String("printer", "", "the printer preset of a PrusaSlicer bundle (default: the selected or only one)")
	filament := fs.String("filament", "", "the filament preset of a PrusaSlicer bundle (default: the printer's default)")
	id := fs.String("id", "", "id of the imported printer (default: made from its name)")
	curaDir := fs.String("cura-resources", "", "Cura's resources directory, for the definitions a .def.json inherits (default: beside the file, and /usr/share/cura/resources)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return usageError("want one file: a PrusaSlicer .ini or a Cura .def.json")
	}
	if *id != "" && !profile.ValidID(*id) {
		return usageError("--id %q: want letters, digits, '.', '-' or '_'", *id)
	}
	src := pos[0]
	base := filepath.Base(src)
	lower := strings.ToLower(base)
	if !strings.HasSuffix(lower, ".ini") && !strings.HasSuffix(lower, ".json") {
		return usageError("%s: want a PrusaSlicer .ini or a Cura .def.json", src)
	}
	f, err := os.Open(src)
	if err != nil {
		return &exitError{2, err}
	}
	defer f.Close()
	opts := profile.ImportOptions{Printer: *printer, Filament: *filament, ID: *id}
	var im profile.Imported
	switch {
	case strings.HasSuffix(lower, ".ini"):
		opts.Name = strings.TrimSuffix(base, filepath.Ext(base))
		im, err = profile.ImportPrusa(f, opts)
	case strings.HasSuffix(lower, ".json"):
		if *printer != "" || *filament != "" {
			return usageError("--printer and --filament choose presets of a PrusaSlicer bundle; a Cura definition is one printer")
		}
		opts.Name = strings.TrimSuffix(strings.TrimSuffix(base, ".json"), ".def")
		im, err = profile.ImportCura(f, curaParents(filepath.Dir(src), *curaDir), opts)
	}
	if err != nil {
		return &exitError{2, fmt.Errorf("%s: %w", src, err)}
	}
	for _, w := range im.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if *out == "-" {
		return im.File.Encode(stdout)
	}
	if err := writeFileAtomic(*out, im.File); err != nil {
		return err
	}
	p := im.File.Printers[0]
	fmt.Fprintf(stdout, "wrote %s: printer %s (%s, %g × %g × %g mm, %s)", *out, p.ID, p.Name, p.BuildVolume.X, p.BuildVolume.Y, p.BuildVolume.Z, p.Firmware)
	matFlag := "--material PLA"
	if len(im.File.Materials) > 0 {
		fmt.Fprintf(stdout, ", material %s (%s)", im.File.Materials[0].ID, im.File.Materials[0].Name)
		matFlag = "--material-file " + *out
	}
	fmt.Fprintf(stdout, "\nuse it: fabgrid worker --profile-file %s %s --port PORT --name NAME …\n", *out, matFlag)
	return nil
}

// curaParents finds the definitions a Cura .def.json inherits and its
// extruders: beside it, in ../definitions and ../extruders (a copy of
// Cura's resources), and in --cura-resources (default: where Debian's cura
// puts them).
func curaParents(dir, resources string) profile.CuraParent {
	if resources == "" {
		resources = "/usr/share/cura/resources"
	}
	var dirs []string
	for _, r := range []string{filepath.Dir(dir), resources} {
		if r != "" {
			dirs = append(dirs, filepath.Join(r, "definitions"), filepath.Join(r, "extruders"))
		}
	}
	dirs = append([]string{dir}, dirs...)
	return func(name string) ([]byte, error) {
		if !profile.ValidID(name) {
			return nil, fmt.Errorf("definition name %q: %w", name, fs.ErrNotExist)
		}
		for _, d := range dirs {
			data, err := os.ReadFile(filepath.Join(d, name+".def.json"))
			if err == nil || !errors.Is(err, fs.ErrNotExist) {
				return data, err
			}
		}
		return nil, fs.ErrNotExist
	}
}

// writeFileAtomic writes the profile file beside its destination and
// renames it over it once complete.
func writeFileAtomic(path string, f profile.File) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fabgrid-profile-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	err = f.Encode(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

// printerFlags are --profile and --profile-file of one command, and
// materialFlags --material and --material-file.
type printerFlags struct {
	fs       *flag.FlagSet
	id, file *string
}

func addPrinterFlags(fs *flag.FlagSet, def, help string) printerFlags {
	return printerFlags{
		fs:   fs,
		id:   fs.String("profile", def, help),
		file: fs.String("profile-file", "", "a profile file of your own (fabgrid profile import writes one); --profile picks a printer in it when it has several"),
	}
}

// given reports whether --profile or --profile-file was given.
func (f printerFlags) given() bool { return *f.id != "" || *f.file != "" }

// resolve is the printer the flags name: with --profile-file, the one in
// the file (--profile, when given, says which); else the bundled one.
func (f printerFlags) resolve() (profile.Printer, error) {
	id := *f.id
	if *f.file != "" && !flagGiven(f.fs, "profile") {
		id = ""
	}
	p, err := profile.ResolvePrinter(id, *f.file)
	if err != nil {
		return p, &exitError{2, err}
	}
	return p, nil
}

type materialFlags struct {
	fs       *flag.FlagSet
	id, file *string
}

func addMaterialFlags(fs *flag.FlagSet, def, help string) materialFlags {
	return materialFlags{
		fs:   fs,
		id:   fs.String("material", def, help),
		file: fs.String("material-file", "", "a profile file with materials of your own; --material picks one in it when it has several"),
	}
}

func (f materialFlags) given() bool { return *f.id != "" || *f.file != "" }

func (f materialFlags) resolve() (profile.Material, error) {
	id := *f.id
	if *f.file != "" && !flagGiven(f.fs, "material") {
		id = ""
	}
	m, err := profile.ResolveMaterial(id, *f.file)
	if err != nil {
		return m, &exitError{2, err}
	}
	return m, nil
}

// flagGiven reports whether the command line set the named flag.
func flagGiven(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// sameProfileID compares ids as the profile lookups do: ignoring case,
// dashes, underscores and spaces.
func sameProfileID(a, b string) bool {
	strip := strings.NewReplacer("-", "", "_", "", " ", "")
	return strings.EqualFold(strip.Replace(a), strip.Replace(b))
}
