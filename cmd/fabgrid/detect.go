//go:build !slicer

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/printerdrv"
	"github.com/fabgrid/fabgrid/profile"
)

// detectBauds are tried in turn when --detect is given no --baud: the
// speeds of the bundled profiles, most common first.
var detectBauds = []int{115200, 250000}

// detectResult is what `fabgrid worker --detect --json` prints.
type detectResult struct {
	Port         string            `json:"port"`
	Baud         int               `json:"baud"`
	FirmwareName string            `json:"firmware_name"`
	Firmware     string            `json:"firmware"`
	MachineType  string            `json:"machine_type"`
	M115         map[string]string `json:"m115"`
	Caps         map[string]bool   `json:"caps"`
	Matches      []string          `json:"matches"`
	SameFirmware []string          `json:"same_firmware,omitempty"`
	Suggestion   string            `json:"suggestion"`
}

// runDetect opens the port, asks the firmware M115 and matches the answer
// against one's own profiles (profileFile) and the bundled ones. Exit
// status 3 when no profile matches.
func runDetect(ctx context.Context, port string, baud int, profileFile string, asJSON bool, stdout io.Writer) error {
	var printers []profile.Printer
	source := map[string]string{}
	own := 0
	if profileFile != "" {
		f, err := profile.ReadPrinterFile(profileFile)
		if err != nil {
			return &exitError{2, err}
		}
		for _, p := range f.Printers {
			printers, source[p.ID] = append(printers, p), profileFile
		}
		own = len(f.Printers)
	}
	for _, p := range profile.Printers() {
		if _, own := source[p.ID]; !own {
			printers, source[p.ID] = append(printers, p), "bundled"
		}
	}
	bauds := detectBauds
	if baud > 0 {
		bauds = []int{baud}
	}
	var fw printerdrv.Firmware
	var errs []error
	used := 0
	for _, b := range bauds {
		got, err := probeM115(ctx, port, b)
		if err == nil {
			fw, used = got, b
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		errs = append(errs, fmt.Errorf("at %d baud: %w", b, err))
	}
	if used == 0 {
		return fmt.Errorf("detect: no M115 answer on %s (is it the printer's port, is the printer on, does another program hold the port?): %w", port, errors.Join(errs...))
	}
	d := profile.Detect(fw.Name, printers)
	res := detectResult{
		Port: port, Baud: used, FirmwareName: d.M115.Name(), Firmware: d.M115.Firmware, MachineType: d.M115.MachineType(),
		M115: d.M115.Fields, Caps: fw.Caps, Matches: []string{},
	}
	for _, p := range d.Matches {
		res.Matches = append(res.Matches, p.ID)
	}
	for _, p := range d.SameFirmware {
		res.SameFirmware = append(res.SameFirmware, p.ID)
	}
	workerCmd := func(p profile.Printer) string {
		flag := "--profile " + p.ID
		if src := source[p.ID]; src != "bundled" {
			flag = "--profile-file " + src
			if own > 1 {
				flag += " --profile " + p.ID
			}
		}
		if b := used; b != p.Baud {
			flag += fmt.Sprintf(" --baud %d", b)
		}
		return fmt.Sprintf("fabgrid worker --port %s %s --material PLA --name NAME --token TOKEN", port, flag)
	}
	if len(d.Matches) > 0 {
		res.Suggestion = workerCmd(d.Matches[0])
	} else {
		res.Suggestion = "fabgrid profile import YOUR-PRINTER.ini -o my-printer.json"
	}
	if asJSON {
		if err := profileJSON(stdout, res); err != nil {
			return err
		}
	} else {
		printDetect(stdout, res, d, source, workerCmd)
	}
	if len(d.Matches) == 0 {
		return &exitError{3, errors.New("no profile matches this printer")}
	}
	return nil
}

func printDetect(w io.Writer, res detectResult, d profile.Detection, source map[string]string, workerCmd func(profile.Printer) string) {
	fw := res.Firmware
	if fw == "" {
		fw = "a firmware fabgrid does not know"
	}
	fmt.Fprintf(w, "port      %s (%d baud)\n", res.Port, res.Baud)
	fmt.Fprintf(w, "firmware  %s (%s)\n", res.FirmwareName, fw)
	if res.MachineType != "" {
		fmt.Fprintf(w, "machine   %s\n", res.MachineType)
	}
	var caps []string
	for c, on := range res.Caps {
		if on {
			caps = append(caps, c)
		}
	}
	sort.Strings(caps)
	if len(caps) > 0 {
		fmt.Fprintf(w, "caps      %s\n", strings.Join(caps, " "))
	}
	for _, p := range d.Matches {
		fmt.Fprintf(w, "profile   %s — %s (%s)\n", p.ID, p.Name, source[p.ID])
		fmt.Fprintf(w, "run       %s\n", workerCmd(p))
	}
	if len(d.Matches) > 0 {
		return
	}
	switch {
	case len(d.SameFirmware) > 0:
		fmt.Fprintf(w, "\n%s does not say which machine it drives. Profiles for %s:\n", res.FirmwareName, res.Firmware)
		for _, p := range d.SameFirmware {
			fmt.Fprintf(w, "  %-12s %s (%g × %g × %g mm)\n", p.ID, p.Name, p.BuildVolume.X, p.BuildVolume.Y, p.BuildVolume.Z)
		}
		fmt.Fprintf(w, "pick yours with --profile ID, or import your slicer's profile:\n")
	case res.MachineType != "":
		fmt.Fprintf(w, "\nno profile matches %q. Import your slicer's profile of it:\n", res.MachineType)
	default:
		fmt.Fprintf(w, "\nthe firmware does not say which machine it drives. Import your slicer's profile of it:\n")
	}
	fmt.Fprintf(w, "  fabgrid profile import MY-PRINTER.ini -o my-printer.json        (PrusaSlicer: File > Export > Export Config)\n")
	fmt.Fprintf(w, "  fabgrid profile import my_printer.def.json -o my-printer.json   (Cura: its resources/definitions)\n")
	fmt.Fprintf(w, "then: fabgrid worker --port %s --profile-file my-printer.json --material PLA --name NAME --token TOKEN\n", res.Port)
}

// probeM115 connects at one speed and returns what M115 said. A generic
// profile drives the probe: one command at a time, nothing printed.
func probeM115(ctx context.Context, port string, baud int) (printerdrv.Firmware, error) {
	probe, _ := profile.LookupPrinter("ender3")
	probe.FlowControl = profile.FlowPingPong
	rw, err := printerdrv.Open(ctx, port, baud)
	if err != nil {
		return printerdrv.Firmware{}, err
	}
	conn, err := printerdrv.Connect(ctx, rw, printerdrv.Options{Printer: probe, HandshakeTimeout: 5 * time.Second})
	if err != nil {
		rw.Close()
		return printerdrv.Firmware{}, err
	}
	defer conn.Close()
	fw := conn.Firmware()
	if fw.Name == "" {
		return fw, errors.New("the printer answers but not to M115")
	}
	return fw, nil
}
