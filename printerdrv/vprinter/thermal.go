package vprinter

import "math"

// heater is a first-order thermal model: with power on, the temperature
// approaches max exponentially with time constant tau and the controller
// holds it at the target once reached; with power off it decays towards
// ambient. Times are modelled seconds.
type heater struct {
	temp, target float64 // temp at t0
	t0           float64
	ambient, max float64
	tau          float64
}

func newHeater(ambient, max, tau float64) heater {
	return heater{temp: ambient, ambient: ambient, max: max, tau: tau}
}

// at returns the temperature at modelled time t ≥ t0.
func (h *heater) at(t float64) float64 {
	dt := t - h.t0
	if dt <= 0 {
		return h.temp
	}
	if h.target > h.temp { // heating towards target, power full on
		v := h.max - (h.max-h.temp)*math.Exp(-dt/h.tau)
		return math.Min(v, h.target)
	}
	floor := math.Max(h.ambient, h.target)
	if h.temp <= floor {
		return h.temp
	}
	v := h.ambient + (h.temp-h.ambient)*math.Exp(-dt/h.tau)
	return math.Max(v, floor)
}

// set changes the target at modelled time t.
func (h *heater) set(t, target float64) {
	h.temp = h.at(t)
	h.t0 = t
	h.target = math.Min(target, h.max-1)
}

// timeTo returns the modelled seconds from t until the temperature is within
// a degree of the target (0 if it already is or never will be).
func (h *heater) timeTo(t float64, bothWays bool) float64 {
	cur := h.at(t)
	goal := h.target
	switch {
	case cur >= goal-1 && (!bothWays || cur <= goal+1):
		return 0
	case cur < goal-1:
		// max - (max-cur)e^{-x/tau} = goal-1
		return h.tau * math.Log((h.max-cur)/(h.max-goal+1))
	default: // cooling, only for bothWays (M109 R)
		if goal+1 <= h.ambient {
			return 0
		}
		return h.tau * math.Log((cur-h.ambient)/(goal+1-h.ambient))
	}
}
