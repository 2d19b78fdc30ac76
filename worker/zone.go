package worker

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/hours"
)

// ErrZoneName is returned when the machine's local time zone has no IANA
// name the coordinators could load.
var ErrZoneName = errors.New("worker: cannot name the local time zone")

// ZoneOf returns a zone the coordinators can load by name: loc itself
// when its name is an IANA zone, and for time.Local (whose name is
// "Local") the zone LocalZone finds.
func ZoneOf(loc *time.Location) (*time.Location, error) {
	if loc == nil {
		return time.UTC, nil
	}
	if name := loc.String(); name != "Local" {
		return hours.LoadZone(name)
	}
	return LocalZone()
}

// LocalZone names the machine's local time zone: TZ when it holds an IANA
// name, else the zone /etc/localtime links to, else /etc/timezone (Go
// names time.Local "UTC" on a machine without a zone). When none names
// one, it says to pass --timezone.
func LocalZone() (*time.Location, error) {
	if name := time.Local.String(); name != "Local" {
		return hours.LoadZone(name)
	}
	if tz, ok := os.LookupEnv("TZ"); ok {
		if loc, err := hours.LoadZone(strings.TrimPrefix(tz, ":")); err == nil {
			return loc, nil
		}
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok {
			if loc, err := hours.LoadZone(name); err == nil {
				return loc, nil
			}
		}
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil {
		if loc, err := hours.LoadZone(strings.TrimSpace(string(b))); err == nil {
			return loc, nil
		}
	}
	return nil, fmt.Errorf("%w: give the printing hours' zone with --timezone, e.g. --timezone Europe/Madrid", ErrZoneName)
}
