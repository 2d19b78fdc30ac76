package coordinator

import (
	"testing"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/fabgrid/fabgrid/scheduler"
)

// TestSnapshotReadsHoursInWorkersZone: a window registered with a zone is
// scheduled on that zone's clock; one registered without (older workers)
// is read in UTC as before.
func TestSnapshotReadsHoursInWorkersZone(t *testing.T) {
	for _, tc := range []struct {
		zone string
		open time.Time // 08:00 local on 2026-01-15
	}{
		{"America/Bogota", time.Date(2026, 1, 15, 13, 0, 0, 0, time.UTC)},    // −05:00
		{"Asia/Kolkata", time.Date(2026, 1, 15, 2, 30, 0, 0, time.UTC)},      // +05:30
		{"Pacific/Tongatapu", time.Date(2026, 1, 14, 19, 0, 0, 0, time.UTC)}, // +13:00
		{"", time.Date(2026, 1, 15, 8, 0, 0, 0, time.UTC)},                   // no zone: UTC
	} {
		t.Run(tc.zone, func(t *testing.T) {
			s := fsm.NewState()
			s.Workers["w-a"] = &fsm.Worker{ID: "w-a", Material: "PLA", BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4,
				State: api.WorkerIdle, Hours: "08:00-22:00", Timezone: tc.zone}
			p := snapshotFor(s, tc.open).Printers[0]
			j := scheduler.Job{ID: "j", Material: "PLA", SizeMM: [3]float64{20, 20, 20}, EstSeconds: 3600}
			if code := scheduler.Feasible(&j, &p, tc.open.Add(-time.Minute).Unix()); code != scheduler.CodeOutsideHours {
				t.Errorf("07:59 local: %q, want %q", code, scheduler.CodeOutsideHours)
			}
			if code := scheduler.Feasible(&j, &p, tc.open.Unix()); code != "" {
				t.Errorf("08:00 local: %q", code)
			}
		})
	}
}
