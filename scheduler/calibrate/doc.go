// Package calibrate holds, in its tests only, the calibration of the
// scheduler's pre-slicing estimate against the slicer's own estimate on the
// test models. It lives apart from package scheduler so that the scheduler
// itself stays free of the slicer (the scheduler must estimate before any
// slicing) and its tests build even while the slicer changes.
package calibrate
