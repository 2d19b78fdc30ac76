// Package vprinter is a Marlin-compatible firmware emulator, the virtual
// printer used by printerdrv's tests, `fabgrid dev`, `fabgrid vprinter`,
// the simulation and the worker's end-to-end tests. It owns the printer's
// side of the wire: the emulated RX buffer of the profile's size, line
// number and checksum checks, the command queue and planner, heaters
// (thermal.go), seeded faults (faults.go) and the link's baud rate and
// latency (link.go).
//
// Virtual.Serve runs the firmware on one link (a pty from ServePTY, or one
// end of Pipe); the firmware core (firmware.go) is driven by one goroutine
// with the wall time and does no I/O itself. Commands are read through
// package gcode and timed through package motion, and every executed
// command is recorded, so a test can assert that each command of a file
// ran exactly once, in order.
package vprinter
