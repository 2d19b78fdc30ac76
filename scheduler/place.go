package scheduler

import (
	"fmt"
	"sort"
)

// Place plans one round: it assigns pending jobs to idle printers, at most
// one job per printer, and explains every job it leaves unplaced.
func Place(s *Snapshot) Plan {
	ref := refProfileOrDefault()
	order := make([]int, len(s.Jobs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ja, jb := &s.Jobs[order[a]], &s.Jobs[order[b]]
		if ja.Submitted != jb.Submitted {
			return ja.Submitted < jb.Submitted
		}
		return ja.ID < jb.ID
	})
	used := make([]bool, len(s.Printers))
	var plan Plan
	for _, ji := range order {
		j := &s.Jobs[ji]
		if code := validJob(j); code != "" {
			plan.Unplaced = append(plan.Unplaced, Unplaced{JobID: j.ID, Code: code, Reason: "job has no material or a bad size"})
			continue
		}
		ref := jobRefSeconds(j, ref)
		placed := false
		for pi := range s.Printers {
			p := &s.Printers[pi]
			if used[pi] {
				continue
			}
			secs := ref / speed(p)
			if feasibleSecs(j, p, s.Now, secs) == "" {
				used[pi] = true
				plan.Placements = append(plan.Placements, Placement{JobID: j.ID, PrinterID: p.ID, EstSeconds: secs})
				placed = true
				break
			}
		}
		if !placed {
			plan.Unplaced = append(plan.Unplaced, Unplaced{JobID: j.ID, Code: CodeWaiting, Reason: fmt.Sprintf("no idle printer can print job %s now", j.ID)})
		}
	}
	return plan
}
