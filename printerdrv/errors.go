package printerdrv

import (
	"errors"

	"github.com/fabgrid/fabgrid/gcode"
)

// Sentinel errors. Every error a job ends with wraps one of them.
var (
	// ErrHalted: the firmware stopped itself ("Printer halted", "kill()
	// called", emergency stop). Power-cycle or send M999 before printing.
	ErrHalted = errors.New("printerdrv: printer halted")
	// ErrThermalRunaway: the firmware reported thermal runaway, MINTEMP,
	// MAXTEMP or a heating failure and stopped.
	ErrThermalRunaway = errors.New("printerdrv: thermal runaway or temperature fault")
	// ErrReset: the firmware restarted (printed "start") in the middle of a job.
	ErrReset = errors.New("printerdrv: printer reset during the job")
	// ErrDisconnected: the link closed or failed (EOF or a read/write error).
	ErrDisconnected = errors.New("printerdrv: printer disconnected")
	// ErrCommStuck: the same line had to be resent too many times, or the
	// firmware asked for a line that was never sent.
	ErrCommStuck = errors.New("printerdrv: communication stuck")
	// ErrTimeout: the printer stopped answering.
	ErrTimeout = errors.New("printerdrv: printer not responding")
	// ErrOverLimit: a job commands a temperature above the profile's limit
	// (or one the host cannot read); it is refused before a byte is sent.
	// It is gcode.ErrOverLimit: the check is the lexer's.
	ErrOverLimit = gcode.ErrOverLimit
	// ErrCancelled: the job was cancelled (the safe sequence was sent).
	ErrCancelled = errors.New("printerdrv: job cancelled")
)
