package printerdrv

import (
	"strconv"
	"strings"
)

// Kind classifies one line received from the firmware.
type Kind int

// Response kinds.
const (
	KindOther    Kind = iota // anything else (echo:, debug output)
	KindOK                   // "ok", "ok T:…" (M105), "ok N.. P.. B.." (ADVANCED_OK)
	KindResend               // "Resend: N", "Resend:N", "rs N"
	KindBusy                 // "echo:busy: processing", "busy: …"
	KindWait                 // "wait"
	KindTemp                 // an auto-report or M109/M190 progress line "T:… /… B:… /…"
	KindError                // a recoverable or unknown "Error:" / "!!" line
	KindFatal                // a fatal error: see Response.Fatal
	KindStart                // "start": the firmware (re)booted
	KindFirmware             // M115's "FIRMWARE_NAME:…" line
	KindCap                  // M115's "Cap:NAME:0|1" line
	KindShutdown             // Klipper's "// Klipper state: Shutdown": the reason follows as "!! …" (Flavour.Parse only)
)

// Temps are the heater readings of one report. A NaN-free zero value means
// "not reported"; Has* tell which parts were present.
type Temps struct {
	Hotend, HotendTarget float64
	Bed, BedTarget       float64
	HasHotend, HasBed    bool
}

// Response is one parsed firmware line.
type Response struct {
	Kind     Kind
	Line     int // resend line, or ADVANCED_OK N; -1 if absent
	Planner  int // ADVANCED_OK P (free planner blocks); -1 if absent
	Buffer   int // ADVANCED_OK B (free command slots); -1 if absent
	Temps    Temps
	HasTemps bool
	Fatal    error  // for KindFatal: ErrHalted or ErrThermalRunaway
	Cap      string // for KindCap: capability name
	CapOn    bool   // for KindCap: enabled
	Firmware string // for KindOK: the FIRMWARE_NAME answer an ok carries (Klipper answers M115 on its ok)
	Text     string // the line, trimmed
}

// ParseResponse classifies one line from the firmware (without its line
// ending). It never fails: unknown lines are KindOther.
func ParseResponse(line string) Response {
	s := strings.TrimSpace(line)
	r := Response{Kind: KindOther, Line: -1, Planner: -1, Buffer: -1, Text: s}
	low := strings.ToLower(s)
	switch {
	case s == "":
		return r
	case low == "ok" || strings.HasPrefix(low, "ok ") || strings.HasPrefix(low, "ok:") || strings.HasPrefix(low, "ok\t"):
		r.Kind = KindOK
		rest := s[2:]
		if i := strings.Index(rest, "FIRMWARE_NAME:"); i >= 0 {
			r.Firmware = rest[i:]
			return r
		}
		parseAdvancedOK(rest, &r)
		r.Temps, r.HasTemps = parseTemps(rest)
		return r
	case strings.HasPrefix(low, "resend") || strings.HasPrefix(low, "rs ") || strings.HasPrefix(low, "rs:"):
		r.Kind = KindResend
		r.Line = firstInt(s[2:])
		return r
	case strings.HasPrefix(low, "echo:busy") || strings.HasPrefix(low, "busy:"):
		r.Kind = KindBusy
		return r
	case low == "wait":
		r.Kind = KindWait
		return r
	case low == "start":
		r.Kind = KindStart
		return r
	case strings.HasPrefix(low, "emergency stop"): // RepRapFirmware's M112: "Emergency Stop! Reset the controller to continue."
		r.Kind, r.Fatal = KindFatal, ErrHalted
		return r
	case strings.HasPrefix(low, "error:") || strings.HasPrefix(low, "!!"):
		r.Kind = KindError
		if f := fatalOf(low); f != nil {
			r.Kind, r.Fatal = KindFatal, f
		}
		return r
	case strings.HasPrefix(s, "FIRMWARE_NAME:"):
		r.Kind = KindFirmware
		return r
	case strings.HasPrefix(s, "Cap:"):
		r.Kind = KindCap
		rest := s[4:]
		if i := strings.LastIndexByte(rest, ':'); i >= 0 {
			r.Cap, r.CapOn = rest[:i], strings.TrimSpace(rest[i+1:]) == "1"
		} else {
			r.Cap = rest
		}
		return r
	}
	if t, ok := parseTemps(s); ok {
		r.Kind, r.Temps, r.HasTemps = KindTemp, t, true
	}
	return r
}

// fatalOf maps an error line to the fatal sentinel it means, or nil for a
// recoverable or unknown error. Marlin and Prusa: "Thermal Runaway",
// MINTEMP, MAXTEMP, "Heating failed", "kill() called"; Klipper: "Heater
// extruder not heating at expected rate", "ADC out of range" (its MINTEMP
// and MAXTEMP), "Shutdown due to M112 command", "MCU 'mcu' shutdown";
// RepRapFirmware: "Heater 1 fault: …", "Emergency Stop!".
func fatalOf(low string) error {
	switch {
	case strings.Contains(low, "thermal runaway"), strings.Contains(low, "mintemp"),
		strings.Contains(low, "maxtemp"), strings.Contains(low, "heating failed"),
		strings.Contains(low, "not heating at expected rate"), strings.Contains(low, "adc out of range"),
		strings.Contains(low, "heater") && strings.Contains(low, "fault"):
		return ErrThermalRunaway
	case strings.Contains(low, "printer halted"), strings.Contains(low, "kill() called"),
		strings.Contains(low, "emergency stop"), strings.Contains(low, "killed"),
		strings.Contains(low, "shutdown due to"), strings.Contains(low, "mcu") && strings.Contains(low, "shutdown"):
		return ErrHalted
	}
	return nil
}

// firstInt returns the first non-negative integer in s, or -1.
func firstInt(s string) int {
	i := 0
	for i < len(s) && (s[i] < '0' || s[i] > '9') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' && j-i < 10 {
		j++
	}
	if j == i {
		return -1
	}
	n, err := strconv.Atoi(s[i:j])
	if err != nil {
		return -1
	}
	return n
}

func parseAdvancedOK(rest string, r *Response) {
	for _, w := range strings.Fields(rest) {
		if len(w) < 2 {
			continue
		}
		n, err := strconv.Atoi(w[1:])
		if err != nil || n < 0 {
			continue
		}
		switch w[0] {
		case 'N':
			r.Line = n
		case 'P':
			r.Planner = n
		case 'B':
			r.Buffer = n
		}
	}
}

// parseTemps reads "T:20.0 /0.0 B:20.0 /0.0 @:0 B@:0" and its variants
// ("T:20.0/0.0", "T0:…", missing targets). It needs at least a T: reading.
func parseTemps(s string) (Temps, bool) {
	var t Temps
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != 'T' && c != 'B' {
			continue
		}
		if i > 0 && s[i-1] != ' ' && s[i-1] != '\t' && s[i-1] != ':' {
			continue
		}
		j := i + 1
		if c == 'T' && j < len(s) && s[j] == '0' { // T0: is the first hotend
			j++
		}
		if j >= len(s) || s[j] != ':' {
			continue
		}
		cur, k, ok := readFloat(s, j+1)
		if !ok {
			continue
		}
		target := 0.0
		m := k
		for m < len(s) && s[m] == ' ' {
			m++
		}
		if m < len(s) && s[m] == '/' {
			if v, k2, ok := readFloat(s, m+1); ok {
				target, k = v, k2
			}
		}
		if c == 'T' && !t.HasHotend {
			t.Hotend, t.HotendTarget, t.HasHotend = cur, target, true
		} else if c == 'B' && !t.HasBed {
			t.Bed, t.BedTarget, t.HasBed = cur, target, true
		}
		i = k - 1
	}
	return t, t.HasHotend
}

func readFloat(s string, i int) (float64, int, bool) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == '-' && j == i) {
		j++
	}
	if j == i {
		return 0, i, false
	}
	v, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil {
		return 0, i, false
	}
	return v, j, true
}
