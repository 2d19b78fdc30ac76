//go:build !slicer

package main

// buildName names this build in `fabgrid version` (see builds.go).
const buildName = "grid"
