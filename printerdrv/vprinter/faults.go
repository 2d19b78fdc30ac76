package vprinter

import (
	"fmt"
	"strconv"
	"strings"
)

// Faults are the seeded faults the virtual printer injects.
type Faults struct {
	Corrupt          float64 // probability that a received numbered line is corrupted (checksum error → resend); not on Klipper (see the package doc)
	DropOK           float64 // probability that the ok of an executed command is not sent
	ResetAt          int     // firmware reset ("start") on receiving this line number (0: never)
	DisconnectAt     int     // the link closes on receiving this line number (0: never)
	ThermalRunawayAt int     // thermal runaway on receiving this line number (0: never)
}

// ParseFaults reads "corrupt=0.01,drop-ok=0.001,reset-at=500,disconnect-at=N,runaway-at=N".
func ParseFaults(s string) (Faults, error) {
	var f Faults
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return f, fmt.Errorf("vprinter: fault %q: want name=value", kv)
		}
		var err error
		switch k {
		case "corrupt":
			f.Corrupt, err = prob(v)
		case "drop-ok":
			f.DropOK, err = prob(v)
		case "reset-at":
			f.ResetAt, err = lineNumber(v)
		case "disconnect-at":
			f.DisconnectAt, err = lineNumber(v)
		case "runaway-at", "thermal-runaway-at":
			f.ThermalRunawayAt, err = lineNumber(v)
		default:
			return f, fmt.Errorf("vprinter: unknown fault %q (known: corrupt, drop-ok, reset-at, disconnect-at, runaway-at)", k)
		}
		if err != nil {
			return f, fmt.Errorf("vprinter: fault %s: %w", k, err)
		}
	}
	return f, nil
}

func prob(v string) (float64, error) {
	p, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, err
	}
	if !(p >= 0 && p <= 1) { // NaN too
		return 0, fmt.Errorf("probability %g outside [0,1]", p)
	}
	return p, nil
}

// lineNumber parses the line number a fault happens at (≥ 1).
func lineNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, fmt.Errorf("line number %d: want 1 or more", n)
	}
	return n, nil
}
