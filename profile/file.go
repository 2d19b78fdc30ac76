package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// A profile file holds printers and materials of one's own, each in the
// format of the bundled printers.json and materials.json:
//
//	{"printers": [{"id": "my-ender", ...}], "materials": [{"id": "PLA-silk", ...}]}
//
// A bare JSON array of printers (for --profile-file) or of materials (for
// --material-file) is read too. `fabgrid profile import` writes the object
// form.
type File struct {
	Printers  []Printer  `json:"printers,omitempty"`
	Materials []Material `json:"materials,omitempty"`
}

// MaxFileBytes bounds a profile file.
const MaxFileBytes = 1 << 20

// ErrFile is returned for a profile file that cannot be used as it is.
var ErrFile = errors.New("profile: bad profile file")

// ParsePrinterFile reads a profile file for its printers: the object form,
// or a bare array of printers. Every profile is validated.
func ParsePrinterFile(data []byte) (File, error) {
	return parseFile(data, "printers")
}

// ParseMaterialFile reads a profile file for its materials: the object
// form, or a bare array of materials.
func ParseMaterialFile(data []byte) (File, error) {
	return parseFile(data, "materials")
}

func parseFile(data []byte, bare string) (File, error) {
	var f File
	if len(data) > MaxFileBytes {
		return f, fmt.Errorf("%w: %d bytes; a profile file may have at most %d", ErrFile, len(data), MaxFileBytes)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	var target any = &f
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if bare == "printers" {
			target = &f.Printers
		} else {
			target = &f.Materials
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return File{}, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return File{}, fmt.Errorf("%w: more than one JSON value; a profile file is one object {\"printers\": [...], \"materials\": [...]}", ErrFile)
	}
	if err := f.Validate(); err != nil {
		return File{}, err
	}
	return f, nil
}

// Validate checks every profile in the file and that no id is used twice.
func (f File) Validate() error {
	seen := map[string]bool{}
	for i, p := range f.Printers {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("printers[%d]: %w", i, err)
		}
		if seen["p"+norm(p.ID)] {
			return fmt.Errorf("%w: printers[%d]: id %q is used twice", ErrFile, i, p.ID)
		}
		seen["p"+norm(p.ID)] = true
	}
	for i, m := range f.Materials {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("materials[%d]: %w", i, err)
		}
		if seen["m"+norm(m.ID)] {
			return fmt.Errorf("%w: materials[%d]: id %q is used twice", ErrFile, i, m.ID)
		}
		seen["m"+norm(m.ID)] = true
	}
	return nil
}

// jsonError says where in the file a decoding error is, by line and column.
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("%w: %s: %v", ErrFile, position(data, syn.Offset), err)
	case errors.As(err, &typ):
		return fmt.Errorf("%w: %s: field %s is a JSON %s; want a %s", ErrFile, position(data, typ.Offset), typ.Field, typ.Value, typ.Type)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: empty; want {\"printers\": [...]}", ErrFile)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: ends in the middle of a JSON value", ErrFile)
	}
	// Unknown fields: encoding/json says `json: unknown field "x"`.
	return fmt.Errorf("%w: %s (see `fabgrid profile show ender3 --json` for the fields)", ErrFile, strings.TrimPrefix(err.Error(), "json: "))
}

func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(data[:off], '\n'))
	return fmt.Sprintf("line %d column %d", line, col)
}

// ReadPrinterFile reads and parses a profile file for its printers.
func ReadPrinterFile(path string) (File, error) {
	data, err := readLimited(path)
	if err != nil {
		return File{}, err
	}
	f, err := ParsePrinterFile(data)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ReadMaterialFile reads and parses a profile file for its materials.
func ReadMaterialFile(path string) (File, error) {
	data, err := readLimited(path)
	if err != nil {
		return File{}, err
	}
	f, err := ParseMaterialFile(data)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func readLimited(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFile, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFile, path, err)
	}
	return data, nil
}

// Printer picks a printer from the file: the one with id (ignoring case,
// dashes and spaces), or, with id "", the only one.
func (f File) Printer(id string) (Printer, error) {
	ids := make([]string, len(f.Printers))
	for i, p := range f.Printers {
		ids[i] = p.ID
		if id != "" && norm(p.ID) == norm(id) {
			return p, nil
		}
	}
	switch {
	case len(f.Printers) == 0:
		return Printer{}, fmt.Errorf("%w: it holds no printer", ErrFile)
	case id == "" && len(f.Printers) == 1:
		return f.Printers[0], nil
	case id == "":
		return Printer{}, fmt.Errorf("%w: it holds %d printers (%s); say which with --profile", ErrFile, len(ids), strings.Join(ids, ", "))
	}
	return Printer{}, fmt.Errorf("%w: printer %q is not in the file (it holds %s)", ErrUnknown, id, strings.Join(ids, ", "))
}

// Material picks a material from the file like Printer.
func (f File) Material(id string) (Material, error) {
	ids := make([]string, len(f.Materials))
	for i, m := range f.Materials {
		ids[i] = m.ID
		if id != "" && norm(m.ID) == norm(id) {
			return m, nil
		}
	}
	switch {
	case len(f.Materials) == 0:
		return Material{}, fmt.Errorf("%w: it holds no material", ErrFile)
	case id == "" && len(f.Materials) == 1:
		return f.Materials[0], nil
	case id == "":
		return Material{}, fmt.Errorf("%w: it holds %d materials (%s); say which with --material", ErrFile, len(ids), strings.Join(ids, ", "))
	}
	return Material{}, fmt.Errorf("%w: material %q is not in the file (it holds %s)", ErrUnknown, id, strings.Join(ids, ", "))
}

// ResolvePrinter is what a --profile/--profile-file pair names: the
// printer id in the file when a file is given, else the bundled printer.
func ResolvePrinter(id, file string) (Printer, error) {
	if file == "" {
		return LookupPrinter(id)
	}
	f, err := ReadPrinterFile(file)
	if err != nil {
		return Printer{}, err
	}
	p, err := f.Printer(id)
	if err != nil {
		return Printer{}, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

// ResolveMaterial is ResolvePrinter for --material/--material-file.
func ResolveMaterial(id, file string) (Material, error) {
	if file == "" {
		return LookupMaterial(id)
	}
	f, err := ReadMaterialFile(file)
	if err != nil {
		return Material{}, err
	}
	m, err := f.Material(id)
	if err != nil {
		return Material{}, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}

// Encode writes the file in its object form, indented, as import writes it.
func (f File) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(f)
}
