package coordinator_test

import (
	"net/http"
	"testing"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/coordinatortest"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
)

// TestRegisterKeepsHoursZone: the zone a worker registers with its hours
// is kept with the worker; a registration without one keeps none (UTC).
func TestRegisterKeepsHoursZone(t *testing.T) {
	c := coordinatortest.Start(t, 1, coordinatortest.Options{})
	n := c.WaitLeader(5e9)
	u := n.URL()
	for id, zone := range map[string]string{"w-kolkata": "Asia/Kolkata", "w-old": ""} {
		mustDo(t, http.StatusOK, "POST", u+"/v1/workers/register", c.WorkerToken, api.RegisterRequest{
			ID: id, Name: id, Profile: "ender3", BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4, Material: "PLA",
			State: "idle", Hours: "08:00-22:00", Timezone: zone,
		}, nil)
		var got string
		n.FSM().View(func(s *fsm.State) { got = s.Workers[id].Timezone })
		if got != zone {
			t.Errorf("%s: stored zone %q, want %q", id, got, zone)
		}
	}
}
