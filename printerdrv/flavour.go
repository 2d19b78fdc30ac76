package printerdrv

import (
	"fmt"
	"strings"

	"github.com/fabgrid/fabgrid/profile"
)

// Flavour is a firmware family's dialect of the line protocol. The zero
// value is Marlin, whose answers the rest of this package was written for;
// the others differ from it in the ways the methods below name.
//
//	                 line numbers  resend asks for        flow        temperatures       long commands
//	marlin           checked       next expected line     buffered    M155 auto-report   "busy: processing"
//	prusa            checked       next expected line     buffered    M155 auto-report   "busy: processing"
//	klipper          not sent      (never asks)           buffered    polled (M105)      silent; heating prints temps
//	reprapfirmware   checksum only the bad line ("rs N")  ping-pong   polled (M105)      silent
//
// Errors that stop the job: Marlin and Prusa print "Error:…" (kill(),
// thermal runaway, MINTEMP/MAXTEMP); Klipper prints "// Klipper state:
// Shutdown" and gives the reason as "!! …" to the next command (the host
// sends STATUS to hear it); RepRapFirmware prints "Error: Heater N fault…"
// or "Emergency Stop!".
type Flavour int

// Firmware flavours, named as profile.Printer.Firmware names them.
const (
	FlavourMarlin  Flavour = iota // profile.FirmwareMarlin
	FlavourPrusa                  // profile.FirmwarePrusa
	FlavourKlipper                // profile.FirmwareKlipper
	FlavourRepRap                 // profile.FirmwareRepRap
)

// Flavours lists every flavour, for tests and documentation.
func Flavours() []Flavour {
	return []Flavour{FlavourMarlin, FlavourPrusa, FlavourKlipper, FlavourRepRap}
}

// String is the profile's name for the flavour ("marlin", "klipper"…).
func (f Flavour) String() string {
	switch f {
	case FlavourPrusa:
		return profile.FirmwarePrusa
	case FlavourKlipper:
		return profile.FirmwareKlipper
	case FlavourRepRap:
		return profile.FirmwareRepRap
	}
	return profile.FirmwareMarlin
}

// ParseFlavour reads a profile's firmware field; "" is Marlin.
func ParseFlavour(name string) (Flavour, error) {
	for _, f := range Flavours() {
		if strings.EqualFold(name, f.String()) {
			return f, nil
		}
	}
	if name == "" {
		return FlavourMarlin, nil
	}
	return FlavourMarlin, fmt.Errorf("printerdrv: unknown firmware flavour %q (known: marlin, prusa, klipper, reprapfirmware)", name)
}

// FlavourFromM115 names the flavour of an M115 FIRMWARE_NAME answer; false
// when it is none of the known ones.
func FlavourFromM115(line string) (Flavour, bool) {
	name := profile.FirmwareFromM115(line)
	if name == "" {
		return FlavourMarlin, false
	}
	f, err := ParseFlavour(name)
	return f, err == nil
}

// Numbered reports whether the host sends line numbers and checksums.
// Klipper ignores both (its pseudo-terminal cannot garble a byte, and it
// never asks for a line again), so its lines go bare.
func (f Flavour) Numbered() bool { return f != FlavourKlipper }

// PingPong reports whether the flavour needs one line in flight at a time.
// RepRapFirmware does not check that line numbers follow each other: it
// runs the lines behind a bad one and asks for the bad one alone, so with
// more than one line in flight a resend would run out of order.
func (f Flavour) PingPong() bool { return f == FlavourRepRap }

// heatReportsAreProgress: Klipper does not auto-report, and prints the
// temperatures once a second while M109/M190 wait instead of "busy".
func (f Flavour) heatReportsAreProgress() bool { return f == FlavourKlipper }

// Parse classifies one line from firmware of this flavour. Marlin, Prusa
// and RepRapFirmware share ParseResponse; Klipper's "// …" lines are its
// informational output, and two of them report a state change.
func (f Flavour) Parse(line string) Response {
	if f == FlavourKlipper {
		s := strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(s, "//"); ok {
			r := Response{Kind: KindOther, Line: -1, Planner: -1, Buffer: -1, Text: s}
			state, isState := strings.CutPrefix(strings.TrimSpace(rest), "Klipper state: ")
			switch {
			case !isState:
			case strings.HasPrefix(state, "Shutdown"):
				r.Kind = KindShutdown
			case strings.HasPrefix(state, "Ready"), strings.HasPrefix(state, "Disconnect"):
				// The host software restarted (RESTART, FIRMWARE_RESTART,
				// a lost MCU): what it was printing is gone.
				r.Kind = KindStart
			}
			return r
		}
	}
	return ParseResponse(line)
}
