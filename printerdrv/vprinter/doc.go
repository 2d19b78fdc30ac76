// Package vprinter is a firmware emulator, the virtual printer used by
// printerdrv's tests, `fabgrid dev`, `fabgrid vprinter`, the simulation and
// the worker's end-to-end tests. It owns the printer's side of the wire:
// the emulated RX buffer of the profile's size, line number and checksum
// checks, the command queue and planner, heaters (thermal.go), seeded
// faults (faults.go) and the link's baud rate and latency (link.go).
//
// Virtual.Serve runs the firmware on one link (a pty from ServePTY, or one
// end of Pipe); the firmware core (firmware.go) is driven by one goroutine
// with the wall time and does no I/O itself. Commands are read through
// package gcode and timed through package motion, and every executed
// command is recorded, so a test can assert that each command of a file
// ran exactly once, in order.
//
// It answers as Marlin 2.1 unless VirtualConfig.Firmware names another
// flavour (flavour.go); each is written from that firmware's documented
// serial behaviour, and simplified where said:
//
//   - marlin: line number then checksum checked, "Error:…", "Resend: N",
//     "ok"; EMERGENCY_PARSER (M112, M108, M410 on arrival) and
//     AUTOREPORT_TEMP (M155); "echo:busy: processing" during long
//     commands. ADVANCED_OK, host action commands and SD printing are not
//     emulated.
//   - prusa: as Marlin 1.x, with Prusa-Firmware's banner, M115 and
//     temperature report (T0:, P:, A:), and the RX buffer always flushed
//     after a line error. No emergency parser: M112 waits its turn. A
//     thermal runaway prints "Error: THERMAL RUNAWAY" and then halts as
//     kill() does (the real firmware stops and asks for M999). Prusa's own
//     G-codes (M862.x, G80) run as no-ops; the MMU is not emulated.
//   - klipper: the host software behind its pseudo-terminal: "// Klipper
//     state: Ready" on start, line numbers and checksums skipped unchecked,
//     "ok" after every line, M115 on the ok, "B:… T0:…" reports, M112 acted
//     on as it arrives, no M155, temperatures each modelled second while
//     heating and nothing during other long commands. A shutdown (M112,
//     thermal runaway) prints "// Klipper state: Shutdown" and answers
//     every later command with "!! <reason>"; a reset prints "Disconnect",
//     refuses every line as not ready for a second of modelled time (at
//     least 200 ms of wall time), then prints "Ready". Klipper's queueing of moves (lookahead, the MCU link)
//     is the emulator's planner; macros and extended commands other than
//     STATUS are unknown commands. The Corrupt fault does not apply: a
//     pseudo-terminal does not garble bytes, and Klipper has no checksum
//     to notice if it did. Faults placed at a line number count the lines
//     received since the last M110.
//   - reprapfirmware: nothing printed on connect (native USB), M115 with
//     spaces after the colons, the checksum checked when present and line
//     numbers taken as they come, a bad line answered "rs N" with its own
//     number then "ok", M105 polled (no M155), nothing printed during long
//     commands, "Error: Heater 1 fault: …" for a thermal runaway (heaters
//     off, the firmware goes on), "Emergency Stop!" for M112 (then
//     silent, where a Duet resets), and a reset that closes the link
//     (the USB port goes away). The Corrupt fault garbles only bytes after
//     the line number: RepRapFirmware drops a bad line that has no number
//     and asks for a garbled number as it reads it, neither of which a
//     host can recover from (on CRC-checked USB neither happens). The
//     object model (M409), macros and SD printing are not emulated.
package vprinter
