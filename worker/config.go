package worker

import (
	"errors"
	"fmt"
	"github.com/hashicorp/memberlist"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/hours"
	"github.com/fabgrid/fabgrid/profile"
)

// ErrConfig is returned for an unusable configuration.
var ErrConfig = errors.New("worker: bad configuration")

// Config is one worker daemon's configuration.
type Config struct {
	// Name is the printer's human name, shown to communities ("alice-ender").
	Name string
	// Printer and Material are this printer's profile and loaded filament;
	// Colour is the loaded colour ("" = unspecified).
	Printer  profile.Printer
	Material profile.Material
	Colour   string
	// Hours is the owner's printing window (hours.Parse("08:00-22:00",
	// zone); zero = always), read in its zone; a window without a zone is
	// read in Location. The window and its zone are registered with the
	// coordinators, which schedule by them.
	Hours hours.Window
	// MaxJobHours refuses jobs estimated longer than this (0 = no limit).
	MaxJobHours float64
	// StateDir holds the worker id and the in-flight job (required).
	StateDir string
	// AutoClear skips "awaiting bed clear" (printers that eject parts,
	// virtual printers).
	AutoClear bool
	// Control is the owner's loopback endpoint ("127.0.0.1:8750"); "" = none.
	Control string
	// GossipBind, GossipKey and Join configure the optional gossip
	// membership; Join empty = do not join.
	GossipBind string
	GossipKey  []byte
	Join       []string
	// GossipTransport, if set, carries gossip instead of UDP and TCP
	// sockets at GossipBind (an in-memory network in simulations).
	GossipTransport memberlist.NodeAwareTransport
	// GossipRejoinEvery is how often a joined worker that sees no
	// coordinator in the pool (after a long partition, say) joins again
	// through Join (default 15 s).
	GossipRejoinEvery time.Duration
	// Neighbourhood is passed to the coordinators at registration.
	Neighbourhood string

	// ProgressEvery is how often progress is reported (default 3 s).
	ProgressEvery time.Duration
	// StallAfter: while printing, a printer that has acknowledged no
	// command for this long (not paused) is reported stalled, which does
	// not renew the job's lease (default DefaultStallAfter; negative:
	// never).
	StallAfter time.Duration
	// PollWait is the long-poll wait for an assignment (default 25 s).
	PollWait time.Duration
	// HeartbeatEvery overrides the interval the coordinator asks for.
	HeartbeatEvery time.Duration
	// Location is the owner's time zone, for an Hours without one
	// (default time.Local, named by LocalZone).
	Location *time.Location
	// Now is the clock (default time.Now).
	Now func() time.Time
	// ShutdownGrace bounds how long Run waits, after its context ends, for
	// the safe cancel of a print and the delivery of results (default 15 s).
	ShutdownGrace time.Duration
	// Logger receives the daemon's logs (default: discard).
	Logger *slog.Logger
}

// DefaultStallAfter is Config.StallAfter's default: longer than any
// heat-up or single long move a printer acknowledges only at its end.
const DefaultStallAfter = 10 * time.Minute

func (c *Config) validate() error {
	var errs []string
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, "a printer name is required (--name)")
	}
	if c.Printer.ID == "" {
		errs = append(errs, "a printer profile is required (--profile)")
	}
	if c.Material.ID == "" {
		errs = append(errs, "the loaded material is required (--material)")
	}
	if c.StateDir == "" {
		errs = append(errs, "a state directory is required (--state-dir)")
	}
	if c.MaxJobHours < 0 {
		errs = append(errs, "--max-job-hours must not be negative")
	}
	if c.Control != "" {
		if err := CheckLoopback(c.Control); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(errs, "; "))
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 3 * time.Second
	}
	if c.PollWait <= 0 {
		c.PollWait = 25 * time.Second
	}
	switch {
	case c.StallAfter == 0:
		c.StallAfter = DefaultStallAfter
	case c.StallAfter < 0:
		c.StallAfter = 0
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 15 * time.Second
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.Hours.Zone == nil {
		c.Hours.Zone = c.Location
	}
	if !c.Hours.Always() {
		// The coordinators load the zone by its IANA name.
		loc, err := ZoneOf(c.Hours.Zone)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		c.Hours.Zone = loc
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// CheckLoopback accepts only host:port addresses on a loopback interface:
// the owner controls have no authentication, so they must never be
// reachable from the network.
func CheckLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: control address %q: %v", ErrConfig, addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%w: control address %q: bad port", ErrConfig, addr)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: control address %q is not loopback; the owner controls are unauthenticated, use 127.0.0.1:PORT", ErrConfig, addr)
	}
	return nil
}
