package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// ownPrinter is a valid printer of one's own, for file tests.
func ownPrinter(id string) Printer {
	p, _ := LookupPrinter("ender3")
	p.ID, p.Name = id, "My "+id
	return p
}

func encodeFile(t testing.TB, f File) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestParseFileRoundTrip(t *testing.T) {
	pla, _ := LookupMaterial("PLA")
	pla.ID = "PLA-silk"
	want := File{Printers: []Printer{ownPrinter("bench-ender")}, Materials: []Material{pla}}
	data := encodeFile(t, want)
	got, err := ParsePrinterFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip changed the file:\n got %+v\nwant %+v", got, want)
	}
	p, err := got.Printer("")
	if err != nil || p.ID != "bench-ender" {
		t.Fatalf("only printer: %q, %v", p.ID, err)
	}
	if m, err := got.Material("pla_silk"); err != nil || m.ID != "PLA-silk" {
		t.Fatalf("material by normalised id: %q, %v", m.ID, err)
	}
}

func TestParseFileBareArrays(t *testing.T) {
	ps, _ := json.Marshal([]Printer{ownPrinter("a"), ownPrinter("b")})
	f, err := ParsePrinterFile(ps)
	if err != nil || len(f.Printers) != 2 {
		t.Fatalf("bare printer array: %d printers, %v", len(f.Printers), err)
	}
	if _, err := f.Printer(""); err == nil || !strings.Contains(err.Error(), "say which with --profile") {
		t.Fatalf("two printers and no id: %v", err)
	}
	if _, err := f.Printer("c"); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("missing id: %v", err)
	}
	ms, _ := json.Marshal(Materials())
	if f, err := ParseMaterialFile(ms); err != nil || len(f.Materials) != len(Materials()) {
		t.Fatalf("bare material array: %v", err)
	}
}

// TestParseFileErrorsNameTheField: every rejected file says which field
// (or where in the file) is wrong.
func TestParseFileErrorsNameTheField(t *testing.T) {
	mut := func(fn func(p *Printer)) string {
		p := ownPrinter("mine")
		fn(&p)
		b, _ := json.Marshal(File{Printers: []Printer{p}})
		return string(b)
	}
	tests := []struct{ name, data, want string }{
		{"empty", ``, "empty"},
		{"syntax", "{\n  \"printers\": [\n    {\"id\": \"x\",}\n  ]\n}", "line 3 column"},
		{"truncated", `{"printers": [{"id": "x"`, "ends in the middle"},
		{"type", `{"printers": [{"id": 3}]}`, "field printers.id is a JSON number; want a string"},
		{"unknown field", `{"printers": [{"id": "x", "colour": "red"}]}`, `unknown field "colour"`},
		{"unknown top-level", `{"printer": []}`, `unknown field "printer"`},
		{"two values", `{} {}`, "more than one JSON value"},
		{"id", mut(func(p *Printer) { p.ID = "my printer!" }), "printer: id is \"my printer!\""},
		{"volume", mut(func(p *Printer) { p.BuildVolume.Z = 0 }), `printer "mine": build_volume_mm.z is 0`},
		{"volume in µm", mut(func(p *Printer) { p.BuildVolume.X = 220000 }), "build_volume_mm.x is 220000"},
		{"nozzle", mut(func(p *Printer) { p.NozzleMM = 0 }), "nozzle_mm"},
		{"filament", mut(func(p *Printer) { p.FilamentMM = 0.4 }), "filament_mm"},
		{"hotend", mut(func(p *Printer) { p.MaxHotendC = 533 }), "max_hotend_c is 533"},
		{"firmware", mut(func(p *Printer) { p.Firmware = "sailfish" }), `firmware is "sailfish"; want one of marlin, prusa, klipper, reprapfirmware`},
		{"baud", mut(func(p *Printer) { p.Baud = 0 }), "baud is 0"},
		{"rx buffer", mut(func(p *Printer) { p.RXBufferBytes = 8 }), "rx_buffer_bytes is 8"},
		{"flow", mut(func(p *Printer) { p.FlowControl = "xon" }), `flow_control is "xon"`},
		{"feedrate", mut(func(p *Printer) { p.MaxFeedrate.E = 0 }), "max_feedrate_mm_s.e is 0"},
		{"accel", mut(func(p *Printer) { p.PrintAccel = -1 }), "print_accel_mm_s2 is -1"},
		{"jerk", mut(func(p *Printer) { p.MaxJerk.X = -8 }), "max_jerk_mm_s.x is -8"},
		{"junction deviation", mut(func(p *Printer) { p.JunctionDeviationMM = 5 }), "junction_deviation_mm is 5"},
		{"seam", mut(func(p *Printer) { p.Seam = "back" }), `seam is "back"; want one of nearest, rear, sharpest`},
		{"placeholder", mut(func(p *Printer) { p.StartGCode = "M104 S{first_layer_temperature}" }), "start_gcode unknown placeholder {first_layer_temperature}"},
		{"machine type", mut(func(p *Printer) { p.MachineTypes = []string{" "} }), "m115_machine_types[0]"},
		{"material", `{"materials": [{"id": "PLA", "hotend_c": 200, "first_layer_hotend_c": 200, "density_g_cm3": 0}]}`, `material "PLA": density_g_cm3 is 0`},
		{"material fan", `{"materials": [{"id": "PLA", "hotend_c": 200, "first_layer_hotend_c": 200, "density_g_cm3": 1.2, "fan_percent": 255}]}`, "fan_percent is 255"},
		{"too big", `{"printers": [` + strings.Repeat(" ", MaxFileBytes) + `]}`, "at most 1048576"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePrinterFile([]byte(tc.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrFile) && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is neither ErrFile nor ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestParseFileRejectsDuplicateIDs(t *testing.T) {
	data := encodeFile(t, File{Printers: []Printer{ownPrinter("twin"), ownPrinter("Twin")}})
	if _, err := ParsePrinterFile(data); !errors.Is(err, ErrFile) || !strings.Contains(err.Error(), `id "Twin" is used twice`) {
		t.Fatalf("duplicate ids: %v", err)
	}
}

func TestResolve(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.json")
	if err := os.WriteFile(path, encodeFile(t, File{Printers: []Printer{ownPrinter("garage")}}), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := ResolvePrinter("", path); err != nil || p.ID != "garage" {
		t.Fatalf("from file: %q, %v", p.ID, err)
	}
	if p, err := ResolvePrinter("mk3s", ""); err != nil || p.ID != "mk3s" {
		t.Fatalf("bundled: %q, %v", p.ID, err)
	}
	if _, err := ResolvePrinter("", filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, ErrFile) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := ResolveMaterial("", path); err == nil || !strings.Contains(err.Error(), "holds no material") {
		t.Fatalf("file without materials: %v", err)
	}
}

// FuzzParseFile: any input is either refused with an error or gives a file
// whose every profile validates and that survives a round trip unchanged.
func FuzzParseFile(f *testing.F) {
	f.Add(printersJSON)
	f.Add(materialsJSON)
	f.Add([]byte(`{"printers": [], "materials": []}`))
	f.Add([]byte(`{"printers": [{"id": "x", "start_gcode": "{bed_x"}]}`))
	rear := ownPrinter("rear")
	rear.Seam = SeamRear
	f.Add(encodeFile(f, File{Printers: []Printer{rear}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func([]byte) (File, error){ParsePrinterFile, ParseMaterialFile} {
			got, err := parse(data)
			if err != nil {
				continue
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("parsed file does not validate: %v", err)
			}
			var b bytes.Buffer
			if err := got.Encode(&b); err != nil {
				t.Fatal(err)
			}
			again, err := ParsePrinterFile(b.Bytes())
			if err != nil {
				t.Fatalf("re-encoded file refused: %v\n%s", err, b.Bytes())
			}
			if !reflect.DeepEqual(normalised(again), normalised(got)) {
				t.Fatalf("round trip changed the file")
			}
		}
	})
}

// normalised treats a nil and an empty list alike.
func normalised(f File) File {
	if len(f.Printers) == 0 {
		f.Printers = nil
	}
	if len(f.Materials) == 0 {
		f.Materials = nil
	}
	for i := range f.Printers {
		if len(f.Printers[i].MachineTypes) == 0 {
			f.Printers[i].MachineTypes = nil
		}
	}
	return f
}

// TestParseFileSeam: a printer's seam is optional, kept through a round
// trip, and one of the slicer's placements.
func TestParseFileSeam(t *testing.T) {
	for _, seam := range append([]string{""}, Seams()...) {
		p := ownPrinter("mine")
		p.Seam = seam
		got, err := ParsePrinterFile(encodeFile(t, File{Printers: []Printer{p}}))
		if err != nil {
			t.Fatalf("seam %q: %v", seam, err)
		}
		if got.Printers[0].Seam != seam {
			t.Fatalf("seam %q read back as %q", seam, got.Printers[0].Seam)
		}
	}
	if b := encodeFile(t, File{Printers: []Printer{ownPrinter("mine")}}); bytes.Contains(b, []byte(`"seam"`)) {
		t.Fatal("a printer without a seam writes the field")
	}
}
