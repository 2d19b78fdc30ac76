package profile

import (
	"strings"
	"testing"
)

func TestParseM115(t *testing.T) {
	tests := []struct {
		name, line, fw, machine, extra, extraKey string
	}{
		{"marlin", "FIRMWARE_NAME:Marlin 2.1.2 (fabgrid virtual printer) SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin PROTOCOL_VERSION:1.0 MACHINE_TYPE:Creality Ender-3 EXTRUDER_COUNT:1 UUID:0",
			FirmwareMarlin, "Creality Ender-3", "1", "EXTRUDER_COUNT"},
		{"prusa", "FIRMWARE_NAME:Prusa-Firmware 3.13.2 based on Marlin FIRMWARE_URL:https://github.com/prusa3d/Prusa-Firmware PROTOCOL_VERSION:1.0 MACHINE_TYPE:Prusa i3 MK3S EXTRUDER_COUNT:1 UUID:00000000-0000-0000-0000-000000000000",
			FirmwarePrusa, "Prusa i3 MK3S", "https://github.com/prusa3d/Prusa-Firmware", "FIRMWARE_URL"},
		{"buddy", "FIRMWARE_NAME:Prusa-Firmware-Buddy 5.1.2+13478 (Github) SOURCE_CODE_URL:https://github.com/prusa3d/Prusa-Firmware-Buddy PROTOCOL_VERSION:1.0 MACHINE_TYPE:Prusa-MK4 EXTRUDER_COUNT:1 UUID:3bd1",
			FirmwarePrusa, "Prusa-MK4", "1.0", "PROTOCOL_VERSION"},
		{"klipper", "FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0-85-gd785b396", FirmwareKlipper, "", "v0.12.0-85-gd785b396", "FIRMWARE_VERSION"},
		{"reprapfirmware", "FIRMWARE_NAME: RepRapFirmware for Duet 3 MB6HC FIRMWARE_VERSION: 3.4.5 ELECTRONICS: Duet 3 MB6HC v1.01 or later FIRMWARE_DATE: 2022-11-30 19:36:12",
			FirmwareRepRap, "", "Duet 3 MB6HC v1.01 or later", "ELECTRONICS"},
		{"unknown", "FIRMWARE_NAME:Sailfish v7.7", "", "", "", ""},
		{"garbage", "ok T:20", "", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := ParseM115(tc.line)
			if m.Firmware != tc.fw || m.MachineType() != tc.machine {
				t.Errorf("firmware %q machine %q; want %q %q (fields %q)", m.Firmware, m.MachineType(), tc.fw, tc.machine, m.Fields)
			}
			if tc.extraKey != "" && m.Fields[tc.extraKey] != tc.extra {
				t.Errorf("%s = %q, want %q", tc.extraKey, m.Fields[tc.extraKey], tc.extra)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	own := ownPrinter("garage-v2")
	own.MachineTypes = []string{"Ender-3 V2"}
	printers := append([]Printer{own}, Printers()...)
	ids := func(ps []Printer) (s []string) {
		for _, p := range ps {
			s = append(s, p.ID)
		}
		return s
	}
	tests := []struct {
		name, line string
		matches    []string
		same       []string
	}{
		{"bundled by machine type", "FIRMWARE_NAME:Marlin 2.0.8 MACHINE_TYPE:Ender-3 S1 EXTRUDER_COUNT:1", []string{"ender3s1"}, nil},
		{"own profile first", "FIRMWARE_NAME:Marlin MACHINE_TYPE:Ender-3 V2 EXTRUDER_COUNT:1", []string{"garage-v2", "ender3v2"}, nil},
		{"by name (the virtual printer)", "FIRMWARE_NAME:Marlin 2.1.2 (fabgrid virtual printer) MACHINE_TYPE:Prusa MK4 EXTRUDER_COUNT:1", []string{"mk4"}, nil},
		{"prusa buddy", "FIRMWARE_NAME:Prusa-Firmware-Buddy 5.1.2 MACHINE_TYPE:Prusa-MK4 EXTRUDER_COUNT:1", []string{"mk4"}, nil},
		{"klipper names no machine", "FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0", nil, []string{"k1", "voron24", "trident", "vcore3"}},
		{"reprapfirmware", "FIRMWARE_NAME: RepRapFirmware for Duet 2 WiFi/Ethernet FIRMWARE_VERSION: 3.4.5", nil, []string{"duet"}},
		{"unknown marlin machine", "FIRMWARE_NAME:Marlin 2.1 MACHINE_TYPE:Frankenprinter", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Detect(tc.line, printers)
			if got := ids(d.Matches); !equalStrings(got, tc.matches) {
				t.Errorf("matches %q, want %q", got, tc.matches)
			}
			if got := ids(d.SameFirmware); !equalStrings(got, tc.same) {
				t.Errorf("same firmware %q, want %q", got, tc.same)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzParseM115: any firmware answer parses without panicking into fields
// whose keys are upper case and whose values are trimmed.
func FuzzParseM115(f *testing.F) {
	f.Add("FIRMWARE_NAME:Marlin 2.1.2 MACHINE_TYPE:Ender-3 EXTRUDER_COUNT:1")
	f.Add("FIRMWARE_NAME: RepRapFirmware for Duet 3 FIRMWARE_VERSION: 3.4.5")
	f.Add("FIRMWARE_NAME:Klipper A: B:")
	f.Fuzz(func(t *testing.T, line string) {
		m := ParseM115(line)
		for k, v := range m.Fields {
			if k == "" || strings.ToUpper(k) != k || strings.TrimSpace(v) != v {
				t.Fatalf("field %q = %q", k, v)
			}
		}
		Detect(line, Printers())
	})
}
