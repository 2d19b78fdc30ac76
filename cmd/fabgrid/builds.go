package main

// fabgrid builds in two ways from the same source:
//
//   - the grid build (the default): every command;
//   - the slicer build (go build -tags slicer): only the commands that work
//     on one machine without a grid — slice, gcode, print, profile,
//     vprinter and version. It leaves out Raft, bolt, memberlist, HTTP and TLS, so it
//     starts in about a third of the memory: for machines that only
//     prepare and print files.
//
// The files of the grid commands carry //go:build !slicer.

// gridCommands are the commands only the grid build has.
var gridCommands = []string{"cluster", "community", "coordinator", "dev", "order", "sim", "tls", "worker", "workers"}
