package profile

import (
	"regexp"
	"strings"
)

// M115 is what a firmware's M115 answer says about the machine.
type M115 struct {
	// Fields are the KEY:value pairs of the FIRMWARE_NAME line
	// (FIRMWARE_NAME, MACHINE_TYPE, FIRMWARE_VERSION, ELECTRONICS, …).
	Fields map[string]string
	// Firmware is the flavour FIRMWARE_NAME names ("" if none known).
	Firmware string
}

// Name is FIRMWARE_NAME; MachineType is MACHINE_TYPE ("" when the firmware
// does not say, as Klipper and RepRapFirmware do not).
func (m M115) Name() string        { return m.Fields["FIRMWARE_NAME"] }
func (m M115) MachineType() string { return m.Fields["MACHINE_TYPE"] }

// m115Key finds the KEY: of each pair; values may hold spaces and colons
// (FIRMWARE_URL:https://…), keys are upper case.
var m115Key = regexp.MustCompile(`(?:^|\s)([A-Z][A-Z0-9_]*[A-Z0-9]):`)

// ParseM115 reads the FIRMWARE_NAME line of an M115 answer: Marlin's
// "FIRMWARE_NAME:Marlin 2.1.2 … MACHINE_TYPE:Ender-3 V2 EXTRUDER_COUNT:1",
// RepRapFirmware's "FIRMWARE_NAME: RepRapFirmware for Duet 3 MB6HC
// FIRMWARE_VERSION: 3.4.5 …", Klipper's "FIRMWARE_NAME:Klipper
// FIRMWARE_VERSION:v0.12.0".
func ParseM115(line string) M115 {
	m := M115{Fields: map[string]string{}}
	idx := m115Key.FindAllStringSubmatchIndex(line, -1)
	for i, loc := range idx {
		key := line[loc[2]:loc[3]]
		end := len(line)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		if _, dup := m.Fields[key]; !dup {
			m.Fields[key] = strings.TrimSpace(line[loc[1]:end])
		}
	}
	m.Firmware = FirmwareFromM115(m.Name())
	return m
}

// Detection is what `fabgrid worker --detect` found.
type Detection struct {
	M115 M115
	// Matches are the profiles whose m115_machine_types (or name) is the
	// answer's MACHINE_TYPE.
	Matches []Printer
	// SameFirmware are the profiles of the answer's firmware flavour, for
	// firmware that does not name the machine (Klipper, RepRapFirmware).
	SameFirmware []Printer
}

// Detect matches an M115 FIRMWARE_NAME line against printers (one's own
// first, then the bundled ones, say).
func Detect(line string, printers []Printer) Detection {
	d := Detection{M115: ParseM115(line)}
	mt := norm(d.M115.MachineType())
	seen := map[string]bool{}
	for _, p := range printers {
		if seen[norm(p.ID)] {
			continue
		}
		match := mt != "" && norm(p.Name) == mt
		for _, t := range p.MachineTypes {
			match = match || mt != "" && norm(t) == mt
		}
		if match {
			d.Matches = append(d.Matches, p)
			seen[norm(p.ID)] = true
		}
	}
	if len(d.Matches) == 0 && d.M115.Firmware != "" && d.M115.Firmware != FirmwareMarlin {
		for _, p := range printers {
			if p.Firmware == d.M115.Firmware && !seen[norm(p.ID)] {
				d.SameFirmware = append(d.SameFirmware, p)
				seen[norm(p.ID)] = true
			}
		}
	}
	return d
}
