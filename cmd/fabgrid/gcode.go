package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer"
)

func init() {
	register(command{name: "gcode", summary: "inspect G-code files (gcode info FILE)", run: runGCode})
}

func runGCode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "info" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintf(stderr, "Usage: fabgrid gcode info FILE [--profile ender3] [--json]\n")
			return nil
		}
		fmt.Fprintf(stderr, "Usage: fabgrid gcode info FILE [--profile ender3] [--json]\n")
		return &exitError{2, fmt.Errorf("unknown or missing subcommand (want: info)")}
	}
	fs := newFlags("gcode info", "gcode info FILE [flags]",
		"Analyses a G-code file (from any slicer): layers, bounds of the extrusions,\nfilament length and volume, travel and retractions, the print time on the\nprinter's motion model, and sanity flags (extrusion outside the bed or before\nheating, extrusion on G0, bad numbers, temperatures over the limits).\nExits with status 3 when there are flags.", stderr)
	prof := fs.String("profile", "ender3", "printer profile for the bed size and motion limits ("+strings.Join(profile.PrinterIDs(), ", ")+")")
	jsonOut := fs.Bool("json", false, "print the analysis as JSON")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return &exitError{2, fmt.Errorf("want exactly one G-code file, got %d", len(pos))}
	}
	p, err := profile.LookupPrinter(*prof)
	if err != nil {
		return &exitError{2, err}
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := slicer.Analyze(f, p)
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(a); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "%s (on %s)\n", pos[0], p.ID)
		fmt.Fprintf(stdout, "  layers:      %d (%d layer markers)\n", a.Layers, a.LayerComments)
		fmt.Fprintf(stdout, "  extrusions:  X %.2f–%.2f  Y %.2f–%.2f  Z %.2f–%.2f mm\n", a.Min.X, a.Max.X, a.Min.Y, a.Max.Y, a.Min.Z, a.Max.Z)
		fmt.Fprintf(stdout, "  filament:    %.1f mm, %.1f mm³ (model only: %.1f mm³)\n", a.FilamentMM, a.FilamentMM3, a.ModelFilamentMM3)
		fmt.Fprintf(stdout, "  paths:       %.1f m extruding, %.1f m travel, %d retractions\n", a.ExtrudeMM/1000, a.TravelMM/1000, a.Retractions)
		fmt.Fprintf(stdout, "  time:        %s\n", time.Duration(a.Seconds*float64(time.Second)).Round(time.Second))
		fmt.Fprintf(stdout, "  temperature: hotend up to %g °C, bed up to %g °C\n", a.MaxHotendC, a.MaxBedC)
		for _, fl := range a.Flags {
			fmt.Fprintf(stdout, "  FLAG: %s\n", fl)
		}
	}
	if len(a.Flags) > 0 {
		return &exitError{3, fmt.Errorf("%d sanity flags", len(a.Flags))}
	}
	return nil
}
