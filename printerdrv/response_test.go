package printerdrv

import (
	"errors"
	"strings"
	"testing"
)

func TestParseResponse(t *testing.T) {
	tests := []struct {
		line  string
		kind  Kind
		n     int
		fatal error
		temps *Temps
	}{
		{line: "ok", kind: KindOK, n: -1},
		{line: "ok N12 P15 B3", kind: KindOK, n: 12},
		{line: "ok T:201.3 /210.0 B:59.9 /60.0 @:127 B@:0", kind: KindOK, n: -1,
			temps: &Temps{Hotend: 201.3, HotendTarget: 210, Bed: 59.9, BedTarget: 60, HasHotend: true, HasBed: true}},
		{line: "Resend: 42", kind: KindResend, n: 42},
		{line: "Resend:7", kind: KindResend, n: 7},
		{line: "rs 9", kind: KindResend, n: 9},
		{line: "echo:busy: processing", kind: KindBusy, n: -1},
		{line: "echo:busy: paused for user", kind: KindBusy, n: -1},
		{line: "wait", kind: KindWait, n: -1},
		{line: "start", kind: KindStart, n: -1},
		{line: " T:20.00 /0.00 B:19.80 /0.00 @:0 B@:0", kind: KindTemp, n: -1,
			temps: &Temps{Hotend: 20, Bed: 19.8, HasHotend: true, HasBed: true}},
		{line: "T:150.2/200.0 B:60.0/60.0", kind: KindTemp, n: -1,
			temps: &Temps{Hotend: 150.2, HotendTarget: 200, Bed: 60, BedTarget: 60, HasHotend: true, HasBed: true}},
		{line: "T0:21.0 /0.0 T1:22.0 /0.0", kind: KindTemp, n: -1,
			temps: &Temps{Hotend: 21, HasHotend: true}},
		{line: "Error:checksum mismatch, Last Line: 4", kind: KindError, n: -1},
		{line: "Error:Line Number is not Last Line Number+1, Last Line: 4", kind: KindError, n: -1},
		{line: "Error:Printer halted. kill() called!", kind: KindFatal, n: -1, fatal: ErrHalted},
		{line: "!! Printer halted", kind: KindFatal, n: -1, fatal: ErrHalted},
		{line: "Error:Thermal Runaway, system stopped! Heater_ID: 0", kind: KindFatal, n: -1, fatal: ErrThermalRunaway},
		{line: "Error:MINTEMP triggered, system stopped! Heater_ID: E0", kind: KindFatal, n: -1, fatal: ErrThermalRunaway},
		{line: "Error:MAXTEMP triggered, system stopped! Heater_ID: bed", kind: KindFatal, n: -1, fatal: ErrThermalRunaway},
		{line: "FIRMWARE_NAME:Marlin 2.1.2 SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin", kind: KindFirmware, n: -1},
		{line: "Cap:AUTOREPORT_TEMP:1", kind: KindCap, n: -1},
		{line: "echo:Unknown command: \"X1\"", kind: KindOther, n: -1},
		{line: "", kind: KindOther, n: -1},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			r := ParseResponse(tc.line)
			if r.Kind != tc.kind || r.Line != tc.n {
				t.Fatalf("kind %d line %d, want %d %d", r.Kind, r.Line, tc.kind, tc.n)
			}
			if tc.fatal != nil && !errors.Is(r.Fatal, tc.fatal) {
				t.Fatalf("fatal %v, want %v", r.Fatal, tc.fatal)
			}
			if tc.temps != nil && (!r.HasTemps || r.Temps != *tc.temps) {
				t.Fatalf("temps %+v (has %v), want %+v", r.Temps, r.HasTemps, *tc.temps)
			}
		})
	}
	if c := ParseResponse("Cap:EMERGENCY_PARSER:1"); c.Cap != "EMERGENCY_PARSER" || !c.CapOn {
		t.Fatalf("cap %+v", c)
	}
	if c := ParseResponse("Cap:ADVANCED_OK:0"); c.Cap != "ADVANCED_OK" || c.CapOn {
		t.Fatalf("cap %+v", c)
	}
}

// TestFlavourParse covers the answers that differ between flavours, each
// read by the flavour that gives it.
func TestFlavourParse(t *testing.T) {
	both := func(h, ht, b, bt float64) *Temps {
		return &Temps{Hotend: h, HotendTarget: ht, Bed: b, BedTarget: bt, HasHotend: true, HasBed: true}
	}
	tests := []struct {
		flavour Flavour
		line    string
		kind    Kind
		n       int
		fatal   error
		temps   *Temps
	}{
		{flavour: FlavourPrusa, line: "ok T:210.0 /210.0 B:60.0 /60.0 T0:210.0 /210.0 @:0 B@:0 P:0.0 A:29.6", kind: KindOK, n: -1, temps: both(210, 210, 60, 60)},
		{flavour: FlavourPrusa, line: "T:150.2 /200.0 B:60.0 /60.0 T0:150.2 /200.0 @:127 B@:0 P:0.0 A:29.6", kind: KindTemp, n: -1, temps: both(150.2, 200, 60, 60)},
		{flavour: FlavourPrusa, line: "Error: THERMAL RUNAWAY ( PREHEAT HOTEND)", kind: KindFatal, n: -1, fatal: ErrThermalRunaway},
		{flavour: FlavourPrusa, line: "Error:Printer halted. kill() called!", kind: KindFatal, n: -1, fatal: ErrHalted},
		{flavour: FlavourKlipper, line: "ok", kind: KindOK, n: -1},
		{flavour: FlavourKlipper, line: "ok B:60.0 /60.0 T0:200.0 /200.0", kind: KindOK, n: -1, temps: both(200, 200, 60, 60)},
		{flavour: FlavourKlipper, line: "B:59.1 /60.0 T0:150.0 /200.0", kind: KindTemp, n: -1, temps: both(150, 200, 59.1, 60)},
		{flavour: FlavourKlipper, line: "ok T:0", kind: KindOK, n: -1, temps: &Temps{HasHotend: true}},
		{flavour: FlavourKlipper, line: "// Klipper state: Shutdown", kind: KindShutdown, n: -1},
		{flavour: FlavourKlipper, line: "// Klipper state: Ready", kind: KindStart, n: -1},
		{flavour: FlavourKlipper, line: "// Klipper state: Disconnect", kind: KindStart, n: -1},
		{flavour: FlavourKlipper, line: "// Klipper state: Not ready", kind: KindOther, n: -1},
		{flavour: FlavourKlipper, line: `// Unknown command:"T:1"`, kind: KindOther, n: -1},
		{flavour: FlavourKlipper, line: "// B:1.0 /0.0 T0:1.0 /0.0", kind: KindOther, n: -1},
		{flavour: FlavourKlipper, line: "!! Move out of range: 300.000 0.000 0.300 [0.000]", kind: KindError, n: -1},
		{flavour: FlavourKlipper, line: "!! Heater extruder not heating at expected rate", kind: KindFatal, n: -1, fatal: ErrThermalRunaway},
		{flavour: FlavourKlipper, line: "!! MCU 'mcu' shutdown: ADC out of range", kind: KindFatal, n: -1, fatal: ErrThermalRunaway},
		{flavour: FlavourKlipper, line: "!! Shutdown due to M112 command", kind: KindFatal, n: -1, fatal: ErrHalted},
		{flavour: FlavourKlipper, line: "!! Lost communication with MCU 'mcu'", kind: KindError, n: -1},
		{flavour: FlavourRepRap, line: "rs 12", kind: KindResend, n: 12},
		{flavour: FlavourRepRap, line: "rs:12", kind: KindResend, n: 12},
		{flavour: FlavourRepRap, line: "ok N5", kind: KindOK, n: 5},
		{flavour: FlavourRepRap, line: "ok T:25.0 /0.0 B:24.0 /0.0", kind: KindOK, n: -1, temps: both(25, 0, 24, 0)},
		{flavour: FlavourRepRap, line: "Error: Heater 1 fault: temperature rising much more slowly than the expected 1.8°C/sec", kind: KindFatal, n: -1, fatal: ErrThermalRunaway},
		{flavour: FlavourRepRap, line: "Emergency Stop! Reset the controller to continue.", kind: KindFatal, n: -1, fatal: ErrHalted},
		{flavour: FlavourRepRap, line: "Error: Unsupported command: M9999", kind: KindError, n: -1},
		{flavour: FlavourRepRap, line: "Warning: Z probe not configured", kind: KindOther, n: -1},
		{flavour: FlavourRepRap, line: "FIRMWARE_NAME: RepRapFirmware for Duet 3 MB6HC FIRMWARE_VERSION: 3.5.1", kind: KindFirmware, n: -1},
		// Marlin reads "// …" as ParseResponse always has.
		{flavour: FlavourMarlin, line: "// Klipper state: Shutdown", kind: KindOther, n: -1},
	}
	for _, tc := range tests {
		t.Run(tc.flavour.String()+"/"+tc.line, func(t *testing.T) {
			r := tc.flavour.Parse(tc.line)
			if r.Kind != tc.kind || r.Line != tc.n {
				t.Fatalf("kind %d line %d, want %d %d", r.Kind, r.Line, tc.kind, tc.n)
			}
			if tc.fatal != nil && !errors.Is(r.Fatal, tc.fatal) {
				t.Fatalf("fatal %v, want %v", r.Fatal, tc.fatal)
			}
			if tc.temps != nil && (!r.HasTemps || r.Temps != *tc.temps) {
				t.Fatalf("temps %+v (has %v), want %+v", r.Temps, r.HasTemps, *tc.temps)
			}
		})
	}
	if r := FlavourKlipper.Parse("ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0-85-gd785b396"); r.Kind != KindOK ||
		r.Firmware != "FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0-85-gd785b396" || r.HasTemps {
		t.Fatalf("Klipper's M115 ok: %+v", r)
	}
}

func TestParseFlavour(t *testing.T) {
	for _, f := range Flavours() {
		if g, err := ParseFlavour(f.String()); err != nil || g != f {
			t.Errorf("%s: %s %v", f, g, err)
		}
	}
	if f, err := ParseFlavour(""); err != nil || f != FlavourMarlin {
		t.Errorf("empty: %s %v", f, err)
	}
	if _, err := ParseFlavour("smoothieware"); err == nil || !strings.Contains(err.Error(), "known: marlin, prusa, klipper, reprapfirmware") {
		t.Errorf("unknown: %v", err)
	}
	for line, want := range map[string]Flavour{
		"FIRMWARE_NAME:Prusa-Firmware 3.14.1 based on Marlin": FlavourPrusa,
		"FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0":      FlavourKlipper,
		"FIRMWARE_NAME: RepRapFirmware for Duet 3 MB6HC":      FlavourRepRap,
		"FIRMWARE_NAME:Marlin 2.1.2":                          FlavourMarlin,
	} {
		if f, ok := FlavourFromM115(line); !ok || f != want {
			t.Errorf("%q: %s %v", line, f, ok)
		}
	}
	if _, ok := FlavourFromM115("FIRMWARE_NAME:Smoothieware"); ok {
		t.Error("Smoothieware named a flavour")
	}
}

// FuzzParseResponse reads every input as each flavour would.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"ok", "ok N1 P2 B3", "ok T:1/2 B:3/4", "Resend: 5", "rs 1", "T:", "T:-",
		"B:1 /", "Error:kill() called", "Cap:X:1", "Cap:", "T0:1.5 /2.5", "echo:busy: processing", "T:1e999",
		"// Klipper state: Shutdown", "// Klipper state: Ready", "!! Heater extruder not heating at expected rate",
		"ok FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0", "ok B:60.0 /60.0 T0:200.0 /200.0", "rs:7",
		"Error: Heater 1 fault: temperature excursion", "Emergency Stop! Reset the controller to continue.", "//", "// Klipper state: "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fl := range Flavours() {
			r := fl.Parse(s)
			if fl == FlavourMarlin {
				if r != ParseResponse(s) {
					t.Fatal("Marlin's flavour reads differently from ParseResponse")
				}
			}
			if r.Kind == KindResend && r.Line < -1 {
				t.Fatalf("%s: negative resend line %d", fl, r.Line)
			}
			if r.Kind == KindFatal && r.Fatal == nil {
				t.Fatalf("%s: fatal without error", fl)
			}
			if r.Kind == KindShutdown && fl != FlavourKlipper {
				t.Fatalf("%s: shutdown state outside Klipper", fl)
			}
			if r.HasTemps != r.Temps.HasHotend {
				t.Fatalf("%s: temps flag mismatch", fl)
			}
			if r.Firmware != "" && (r.Kind != KindOK || !strings.HasPrefix(r.Firmware, "FIRMWARE_NAME:")) {
				t.Fatalf("%s: firmware name %q on a %d", fl, r.Firmware, r.Kind)
			}
			if r.Text != strings.TrimSpace(s) {
				t.Fatalf("%s: text changed", fl)
			}
		}
	})
}
