package scheduler

import "testing"

func TestPlaceFirstFit(t *testing.T) {
	s := &Snapshot{
		Now: 1_700_000_000,
		Jobs: []Job{
			{ID: "j1", Community: "a", Material: "PLA", SizeMM: [3]float64{20, 20, 20}, EstSeconds: 600, Submitted: 1},
			{ID: "j2", Community: "a", Material: "PETG", SizeMM: [3]float64{20, 20, 20}, EstSeconds: 600, Submitted: 2},
		},
		Printers: []Printer{
			{ID: "p1", BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4, Material: "pla", State: StateIdle},
			{ID: "p2", BuildMM: [3]float64{220, 220, 250}, NozzleMM: 0.4, Material: "PLA", State: StateIdle},
		},
	}
	plan := Place(s)
	if len(plan.Placements) != 1 || plan.Placements[0].JobID != "j1" {
		t.Fatalf("placements = %+v, want j1 placed", plan.Placements)
	}
	if len(plan.Unplaced) != 1 || plan.Unplaced[0].JobID != "j2" {
		t.Fatalf("unplaced = %+v, want j2", plan.Unplaced)
	}
}
