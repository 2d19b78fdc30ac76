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

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"ok", "ok N1 P2 B3", "ok T:1/2 B:3/4", "Resend: 5", "rs 1", "T:", "T:-",
		"B:1 /", "Error:kill() called", "Cap:X:1", "Cap:", "T0:1.5 /2.5", "echo:busy: processing", "T:1e999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := ParseResponse(s)
		if r.Kind == KindResend && r.Line < -1 {
			t.Fatalf("negative resend line %d", r.Line)
		}
		if r.Kind == KindFatal && r.Fatal == nil {
			t.Fatal("fatal without error")
		}
		if r.HasTemps != r.Temps.HasHotend {
			t.Fatal("temps flag mismatch")
		}
		if r.Text != strings.TrimSpace(s) {
			t.Fatal("text changed")
		}
	})
}
