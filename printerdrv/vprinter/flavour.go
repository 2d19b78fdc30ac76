package vprinter

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/gcode"
	"github.com/fabgrid/fabgrid/profile"
)

// flavour is the firmware family the emulator answers as. What differs
// between them lives here; firmware.go is the common core (RX buffer,
// queue, planner, heaters) and Marlin's behaviour.
type flavour int

const (
	flavourMarlin flavour = iota
	flavourPrusa
	flavourKlipper
	flavourRepRap
)

// parseFlavour reads VirtualConfig.Firmware ("" and unknown names: Marlin).
func parseFlavour(name string) (flavour, bool) {
	switch strings.ToLower(name) {
	case "", profile.FirmwareMarlin:
		return flavourMarlin, true
	case profile.FirmwarePrusa:
		return flavourPrusa, true
	case profile.FirmwareKlipper:
		return flavourKlipper, true
	case profile.FirmwareRepRap:
		return flavourRepRap, true
	}
	return flavourMarlin, false
}

// Klipper's shutdown reasons, as its verify_heater and M112 word them.
const (
	klipperRunaway = "Heater extruder not heating at expected rate"
	klipperM112    = "Shutdown due to M112 command"
	klipperStartup = "Printer is not ready"
	// klipperStartupWall is the least wall time a restart takes: long
	// enough for a host to read "Disconnect" before Klipper would run a
	// line again, even in instant mode.
	klipperStartupWall = 200 * time.Millisecond
)

// banner is what the firmware prints when it (re)starts.
func (f *firmware) banner() string {
	switch f.flavour {
	case flavourPrusa:
		return "start\necho: 3.14.1-8237 (fabgrid virtual printer)\necho: Last Updated: 2026-01-01 | Author: fabgrid\n"
	case flavourKlipper:
		// The host software's state; the pseudo-terminal stays open.
		return "// Klipper state: Ready\n"
	case flavourRepRap:
		return "" // native USB: nothing is printed when the port opens
	}
	return "start\necho:Marlin 2.1.2 (fabgrid virtual printer)\necho: Last Updated: 2026-01-01 | Author: fabgrid\n"
}

// m115 is the whole answer to M115, ok included.
func (f *firmware) m115() string {
	switch f.flavour {
	case flavourPrusa:
		return fmt.Sprintf("FIRMWARE_NAME:Prusa-Firmware 3.14.1 based on Marlin FIRMWARE_URL:https://github.com/prusa3d/Prusa-Firmware "+
			"PROTOCOL_VERSION:1.0 MACHINE_TYPE:%s EXTRUDER_COUNT:1 UUID:00000000-0000-0000-0000-000000000000\n"+
			"Cap:AUTOREPORT_TEMP:%d\nCap:AUTOREPORT_FANS:1\nCap:AUTOREPORT_POSITION:1\nCap:EXTENDED_M20:1\nok\n",
			f.cfg.Printer.Name, bit(!f.cfg.NoAutoReport))
	case flavourKlipper:
		return "ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0-fabgrid-virtual\n"
	case flavourRepRap:
		return "FIRMWARE_NAME: RepRapFirmware for Duet 3 MB6HC FIRMWARE_VERSION: 3.5.1 ELECTRONICS: Duet 3 MB6HC v1.01 or later " +
			"FIRMWARE_DATE: 2024-04-19 14:40:46\nok\n"
	}
	return f.caps() + "ok\n"
}

func bit(on bool) int {
	if on {
		return 1
	}
	return 0
}

// temps formats a temperature report the flavour's way: Marlin's
// "T:20.00 /0.00 B:20.00 /0.00 @:0 B@:0", Prusa's with T0:, P: (PINDA) and
// A: (ambient), Klipper's sorted by sensor id "B:20.0 /0.0 T0:20.0 /0.0",
// RepRapFirmware's "T:20.0 /0.0 B:20.0 /0.0".
func (f *firmware) temps(wall time.Time) string {
	t := f.sim(wall)
	h, ht, b, bt := f.hot.at(t), f.hot.target, f.bed.at(t), f.bed.target
	switch f.flavour {
	case flavourPrusa:
		return fmt.Sprintf("T:%.1f /%.1f B:%.1f /%.1f T0:%.1f /%.1f @:0 B@:0 P:0.0 A:%.1f", h, ht, b, bt, h, ht, f.cfg.Ambient)
	case flavourKlipper:
		return fmt.Sprintf("B:%.1f /%.1f T0:%.1f /%.1f", b, bt, h, ht)
	case flavourRepRap:
		return fmt.Sprintf("T:%.1f /%.1f B:%.1f /%.1f", h, ht, b, bt)
	}
	return f.tempLine(wall, "")
}

// autoReports: only Marlin and Prusa have M155.
func (f *firmware) autoReports() bool {
	return (f.flavour == flavourMarlin || f.flavour == flavourPrusa) && !f.cfg.NoAutoReport
}

// emergencyParser says which commands the firmware acts on as they arrive:
// Marlin's EMERGENCY_PARSER takes M112, M108 and M410; Klipper looks for
// M112 in what it reads; Prusa-Firmware and RepRapFirmware (as emulated)
// queue them like any command.
func (f *firmware) emergencyParser(cmd string) bool {
	switch f.flavour {
	case flavourMarlin:
		return !f.cfg.NoEmergencyParser
	case flavourKlipper:
		return cmd == "M112"
	}
	return false
}

// busyReport is what the firmware prints while a long command runs, each
// BusyInterval (Klipper: each modelled second, and only while heating).
func (f *firmware) busyReport(wall time.Time, heat bool) (string, time.Duration) {
	every := f.cfg.BusyInterval.Seconds()
	switch f.flavour {
	case flavourKlipper:
		if !heat {
			return "", 0
		}
		return f.temps(wall) + "\n", f.wallFor(1)
	case flavourRepRap:
		return "", 0
	}
	s := "echo:busy: processing\n"
	if heat {
		s = f.tempLine(wall, "") + " W:?\n" + s
	}
	return s, f.wallFor(every)
}

// halt stops the firmware the flavour's way for a fatal fault or M112.
func (f *firmware) halt(wall time.Time, runaway bool) {
	switch f.flavour {
	case flavourPrusa:
		if runaway {
			f.emit(wall, "Error: THERMAL RUNAWAY\n")
		}
		f.kill(wall, "Printer halted. kill() called!")
	case flavourKlipper:
		reason := klipperM112
		if runaway {
			reason = klipperRunaway
		}
		f.klipperShutdown(wall, reason)
	case flavourRepRap:
		if runaway {
			// RepRapFirmware turns the heaters off and goes on answering.
			f.emit(wall, "Error: Heater 1 fault: temperature rising much more slowly than the expected 1.8°C/sec\n")
			f.hot.set(f.sim(wall), 0)
			f.bed.set(f.sim(wall), 0)
			f.rec.count(func(r *Record) { r.Halted = true })
			return
		}
		f.emit(wall, "Emergency Stop! Reset the controller to continue.\n")
		f.kill(wall, "")
	default:
		if runaway {
			f.emit(wall, "Error:Thermal Runaway, system stopped! Heater_ID: 0\n")
		}
		f.kill(wall, "Printer halted. kill() called!")
	}
}

// klipperShutdown: the host software says only that it shut down; the
// reason comes as "!! reason" in answer to each later command.
func (f *firmware) klipperShutdown(wall time.Time, reason string) {
	if f.shutdown != "" {
		return
	}
	f.shutdown = reason
	f.emit(wall, "// Klipper state: Shutdown\n")
	f.cmdq, f.planner, f.blocked = nil, nil, nil
	f.hot.set(f.sim(wall), 0)
	f.bed.set(f.sim(wall), 0)
	f.rec.count(func(r *Record) { r.Halted = true })
}

// shutdownAnswer answers a command after a Klipper shutdown, as its
// GCodeDispatch does with only the base handlers left. Nothing runs, so
// nothing is recorded.
func (f *firmware) shutdownAnswer(wall time.Time, c fwCmd) {
	switch code := gcode.Lex(c.cmd).Code; {
	case code == gcode.M(105):
		f.emit(wall, "ok T:0\n")
	case code == gcode.M(110), code == gcode.M(112):
		f.emit(wall, "ok\n")
	case code == gcode.M(115):
		f.emit(wall, f.m115())
	case strings.EqualFold(strings.TrimSpace(c.cmd), "STATUS"):
		f.emit(wall, "// "+f.shutdown+"\n// Klipper state: Not ready\n!! "+f.shutdown+"\nok\n")
	default:
		f.emit(wall, "// "+f.shutdown+"\n// Once the underlying issue is corrected, use the \"FIRMWARE_RESTART\" command\n!! "+f.shutdown+"\nok\n")
	}
}

// reboot restarts the firmware for an injected reset. RepRapFirmware's
// board is on native USB: the port goes away while it restarts, so the
// host sees a disconnect. Klipper's host software restarts behind its
// pseudo-terminal, which stays open.
func (f *firmware) reboot(wall time.Time) {
	switch f.flavour {
	case flavourRepRap:
		f.rec.count(func(r *Record) { r.Resets++ })
		f.disconnect = true
		return
	case flavourKlipper:
		// Until it is ready again (a second of modelled time, and at least
		// klipperStartupWall), every command is refused as not ready.
		f.emit(wall, "// Klipper state: Disconnect\n")
		f.resetState(wall)
		f.shutdown = klipperStartup
		f.readyAt = wall.Add(max(f.wallFor(1), klipperStartupWall))
		return
	}
	f.reset(wall)
}

// acceptKlipper reads a line as Klipper does: a leading line number and a
// trailing checksum are skipped, never checked. The emulator still counts
// lines (following M110 N), so faults can be placed at a line number.
func (f *firmware) acceptKlipper(line string) (n int, cmd string) {
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if len(line) > 1 && (line[0] == 'N' || line[0] == 'n') && line[1] >= '0' && line[1] <= '9' {
		j := 1
		for j < len(line) && line[j] >= '0' && line[j] <= '9' {
			j++
		}
		line = strings.TrimSpace(line[j:])
	}
	if star := strings.LastIndexByte(line, '*'); star >= 0 {
		if _, err := strconv.Atoi(line[star+1:]); err == nil {
			line = strings.TrimSpace(line[:star])
		}
	}
	f.lastN++
	if c := gcode.Lex(line); c.Code == gcode.M(110) {
		if w, err := gcode.ParseWords(c.Args); err == nil {
			if v, ok := w.Get('N'); ok {
				f.lastN = int(v)
			}
		}
	}
	return f.lastN, line
}

// checkRepRap validates a line as RepRapFirmware's StringParser does: a
// checksum, when present, must match; line numbers are taken as they come,
// never required to follow each other. A bad line with a number becomes a
// request for that very line ("rs N"); one without is dropped.
func (f *firmware) checkRepRap(line string) (n int, cmd string, resend int) {
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	n, resend = -1, -1
	body := line
	star := strings.LastIndexByte(line, '*')
	if star >= 0 {
		body = line[:star]
	}
	rest := body
	hasN := len(body) > 1 && (body[0] == 'N' || body[0] == 'n')
	num := -1
	if hasN {
		j := 1
		for j < len(body) && body[j] >= '0' && body[j] <= '9' {
			j++
		}
		if v, err := strconv.Atoi(body[1:j]); err == nil {
			num = v
		}
		rest = body[j:]
	}
	// The line noise the emulation injects falls after the line number
	// (see Faults.Corrupt), so a bad line is always one RRF asks for again.
	if f.cfg.Faults.Corrupt > 0 && hasN && num >= 0 && len(rest) > 1 && f.rng.Float64() < f.cfg.Faults.Corrupt && !strings.Contains(rest, "M110") {
		f.rec.count(func(r *Record) { r.Corrupted++ })
		b := []byte(rest)
		i := 1 + f.rng.Intn(len(b)-1)
		b[i] ^= byte(1 + f.rng.Intn(0x3f))
		if b[i] == '\n' || b[i] == '\r' || b[i] == 0 || b[i] == '*' || b[i] == ';' {
			b[i] = '#'
		}
		rest = string(b)
		body = body[:len(body)-len(b)] + rest
	}
	if star >= 0 {
		want, err := strconv.Atoi(strings.TrimSpace(line[star+1:]))
		if err != nil || want != int(gcode.Checksum(body)) {
			if num >= 0 {
				return -1, "", num
			}
			return -1, "", -1
		}
	}
	cmd = strings.TrimSpace(rest)
	if num >= 0 {
		f.lastN = num
		n = num
	}
	return n, cmd, -1
}
