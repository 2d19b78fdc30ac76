package sim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrFaultSpec is returned for a --faults value that does not parse.
var ErrFaultSpec = errors.New("sim: bad fault spec")

// MinFaultPeriod is the shortest real period between two faults of one
// kind: raft needs about a second to elect and settle.
const MinFaultPeriod = time.Second

// ParseFaults reads a fault spec such as
//
//	leader-crash=every:10m,partition=every:30m,worker-churn=5%,printer-faults=2%,owner-pauses=1%
//
// Periods are simulated time and become real time divided by speedUp (at
// least MinFaultPeriod); fractions are of the printers. An empty spec
// means no faults.
func ParseFaults(spec string, speedUp float64) (Faults, error) {
	var f Faults
	if speedUp <= 0 {
		speedUp = 1
	}
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return f, nil
	}
	for _, item := range strings.Split(spec, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return Faults{}, fmt.Errorf("%w: %q: want name=value (e.g. leader-crash=every:10m)", ErrFaultSpec, item)
		}
		switch key {
		case "leader-crash", "partition":
			d, err := parseEvery(val)
			if err != nil {
				return Faults{}, fmt.Errorf("%w: %s: %v", ErrFaultSpec, key, err)
			}
			real := max(time.Duration(float64(d)/speedUp), MinFaultPeriod)
			if key == "leader-crash" {
				f.LeaderCrashEvery = real
			} else {
				f.PartitionEvery = real
			}
		case "worker-churn", "printer-faults", "owner-pauses":
			p, err := parsePercent(val)
			if err != nil {
				return Faults{}, fmt.Errorf("%w: %s: %v", ErrFaultSpec, key, err)
			}
			switch key {
			case "worker-churn":
				f.WorkerChurn = p
			case "printer-faults":
				f.PrinterFaults = p
			default:
				f.OwnerPauses = p
			}
		default:
			return Faults{}, fmt.Errorf("%w: unknown fault %q (leader-crash, partition, worker-churn, printer-faults, owner-pauses)", ErrFaultSpec, key)
		}
	}
	return f, nil
}

func parseEvery(v string) (time.Duration, error) {
	s, ok := strings.CutPrefix(v, "every:")
	if !ok {
		return 0, fmt.Errorf("%q: want every:DURATION (e.g. every:10m)", v)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration such as 10m", s)
	}
	return d, nil
}

func parsePercent(v string) (float64, error) {
	s, pct := strings.CutSuffix(v, "%")
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x < 0 || x != x {
		return 0, fmt.Errorf("%q: want a percentage such as 5%%", v)
	}
	if pct {
		x /= 100
	}
	if x > 1 {
		return 0, fmt.Errorf("%q: more than all printers", v)
	}
	return x, nil
}
