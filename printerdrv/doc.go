// Package printerdrv is the host side of the serial line protocol of
// Marlin, Prusa-Firmware, Klipper (through its host's pseudo-terminal) and
// RepRapFirmware: it owns turning a G-code file into numbered, checksummed
// lines, the flow control, resends and timeouts, temperature reports,
// pause (with parking), cancel and emergency stop, and each flavour's
// differences from Marlin (flavour.go: bare lines for Klipper, one line in
// flight for RepRapFirmware, their reply, report and error forms), chosen
// from the M115 answer or else the profile's firmware field. What a line of G-code means is package gcode's;
// the firmware emulator that proves this package is printerdrv/vprinter,
// which printerdrv does not import.
//
// The pipeline:
//
//	G-code file ──ReadJob──▶ Job ──Prepare──▶ Prepared commands (comments
//	     stripped, layers found, temperatures checked against the profile)
//	     │
//	     ▼
//	Host (pure state machine: numbering, checksums, flow control,
//	      resends, timeouts, temperatures; no I/O, no clock)
//	     │ Next(now) bytes            ▲ Received(line, now) / Tick(now)
//	     ▼                            │
//	Conn (thin driver: one reader goroutine, one loop) ◀──▶ serial port / pty / pipe
//
// Conn.Print runs Prepare and the Host for one job; Connect does the
// handshake (M110, M115, M155) on an open link and picks the flavour.
//
// Errors are sentinels (ErrHalted, ErrThermalRunaway, ErrReset,
// ErrDisconnected, ErrCommStuck, ErrTimeout, ErrOverLimit, ErrCancelled)
// wrapped with context; check them with errors.Is.
package printerdrv
