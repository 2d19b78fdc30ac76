//go:build !slicer

package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/fabgrid/fabgrid/coordinator"
)

// Defaults of fabgrid coordinator's request limits: generous enough for
// a fleet of hundreds of printers sharing one worker token.
const (
	defaultRateLimit = "1000/s"
	defaultRateBurst = 2000
)

// coordinatorLimitFlags are the HTTP limits of fabgrid coordinator
// (docs/api.md "Limits").
type coordinatorLimitFlags struct {
	rate       string
	burst      int
	maxUploads int
	maxConns   int
}

func addCoordinatorLimitFlags(fs *flag.FlagSet) *coordinatorLimitFlags {
	lf := &coordinatorLimitFlags{}
	fs.StringVar(&lf.rate, "rate-limit", defaultRateLimit, "requests per second each token may make (N/s; 0 or off: no limit); beyond, the answer is 429 with Retry-After")
	fs.IntVar(&lf.burst, "rate-burst", defaultRateBurst, "requests a token may make at once above --rate-limit")
	fs.IntVar(&lf.maxUploads, "max-uploads", coordinator.DefaultMaxUploads, "order uploads over 1 MiB read at once; beyond, the answer is 429 with Retry-After")
	fs.IntVar(&lf.maxConns, "max-conns", coordinator.DefaultMaxConns, "open API connections; beyond, new ones wait until one closes")
	return lf
}

// apply checks the flags and sets them in cfg.
func (lf *coordinatorLimitFlags) apply(cfg *coordinator.Config) error {
	perSec, err := parseRate(lf.rate)
	if err != nil {
		return usageError("--rate-limit: %v", err)
	}
	if lf.burst < 1 {
		return usageError("--rate-burst %d: must be at least 1", lf.burst)
	}
	if lf.maxUploads < 1 || lf.maxConns < 1 {
		return usageError("--max-uploads and --max-conns must be at least 1")
	}
	cfg.RateLimit, cfg.RateBurst = perSec, lf.burst
	cfg.MaxUploads, cfg.MaxConns = lf.maxUploads, lf.maxConns
	return nil
}

// parseRate reads "N/s", "N" (per second), "0" or "off" (no limit).
func parseRate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "off" {
		return 0, nil
	}
	t = strings.TrimSuffix(t, "/s")
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v != v || v > 1e9 {
		return 0, fmt.Errorf("%q is not a rate: write N/s, e.g. 100/s, or off", s)
	}
	return v, nil
}
