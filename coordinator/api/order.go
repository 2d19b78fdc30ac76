package api

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The rules of an order, in one place: the coordinator's intake (POST
// /v1/orders) and the CLI (before it uploads anything) both check an
// order with these, so they accept and refuse the same orders with the
// same words.
const (
	MinQuantity = 1
	MaxQuantity = 1000
	// Layer height in millimetres.
	MinLayerHeightMM     = 0.05
	MaxLayerHeightMM     = 1.0
	DefaultLayerHeightMM = 0.2
	// Infill in percent.
	DefaultInfillPercent = 20.0
	MaxColourBytes       = 32
	MaxPickupNoteBytes   = 1024
	MaxRequestIDBytes    = 64
	// MaxModelNameBytes: a longer model file name is cut (ModelName).
	MaxModelNameBytes = 128
)

// ErrOrder is the sentinel every OrderError matches.
var ErrOrder = errors.New("api: bad order")

// OrderError is one order field that breaks its rule. Error reads
// "layer_height must be between 0.05 and 1 mm, got 0.01": the field's
// name, then Problem. A client that names the field otherwise (a
// command-line flag) puts its own name before the same Problem.
type OrderError struct {
	Field   string // the form field, FieldQuantity, FieldMaterial, …
	Problem string
}

func (e *OrderError) Error() string { return e.Field + " " + e.Problem }

// Is makes every OrderError match ErrOrder.
func (e *OrderError) Is(target error) bool { return target == ErrOrder }

func orderErr(field, format string, a ...any) error {
	return &OrderError{Field: field, Problem: fmt.Sprintf(format, a...)}
}

// CheckQuantity: a whole number of copies from MinQuantity to MaxQuantity.
func CheckQuantity(q int) error {
	if q < MinQuantity || q > MaxQuantity {
		return orderErr(FieldQuantity, "must be %d..%d, got %d", MinQuantity, MaxQuantity, q)
	}
	return nil
}

// ParseQuantity reads the quantity field and checks it.
func ParseQuantity(v string) (int, error) {
	q, err := strconv.Atoi(v)
	if err != nil {
		return 0, orderErr(FieldQuantity, "must be a whole number %d..%d, got %q", MinQuantity, MaxQuantity, v)
	}
	return q, CheckQuantity(q)
}

// CheckMaterial returns the material's name as the grid writes it
// (upper case), or why it is not one of Materials.
func CheckMaterial(m string) (string, error) {
	if strings.TrimSpace(m) == "" {
		return "", orderErr(FieldMaterial, "is required (%s)", strings.Join(Materials, ", "))
	}
	up := strings.ToUpper(strings.TrimSpace(m))
	if !slices.Contains(Materials, up) {
		return "", orderErr(FieldMaterial, "%s is not one of %s", up, strings.Join(Materials, ", "))
	}
	return up, nil
}

// CheckColour: at most MaxColourBytes ("" wants any colour).
func CheckColour(c string) error {
	if len(c) > MaxColourBytes {
		return orderErr(FieldColour, "is over %d bytes", MaxColourBytes)
	}
	return nil
}

// CheckLayerHeight: from MinLayerHeightMM to MaxLayerHeightMM.
func CheckLayerHeight(mm float64) error {
	if !(mm >= MinLayerHeightMM && mm <= MaxLayerHeightMM) {
		return orderErr(FieldLayerHeight, "must be between %s and %s mm, got %s", num(MinLayerHeightMM), num(MaxLayerHeightMM), num(mm))
	}
	return nil
}

// ParseLayerHeight reads the layer_height field and checks it.
func ParseLayerHeight(v string) (float64, error) {
	mm, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, orderErr(FieldLayerHeight, "must be between %s and %s mm, got %q", num(MinLayerHeightMM), num(MaxLayerHeightMM), v)
	}
	return mm, CheckLayerHeight(mm)
}

// CheckInfill: a percentage from 0 to 100.
func CheckInfill(pct float64) error {
	if !(pct >= 0 && pct <= 100) {
		return orderErr(FieldInfill, "must be a percentage from 0 to 100, got %s", num(pct))
	}
	return nil
}

// ParseInfill reads the infill field and checks it.
func ParseInfill(v string) (float64, error) {
	pct, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, orderErr(FieldInfill, "must be a percentage from 0 to 100, got %q", v)
	}
	return pct, CheckInfill(pct)
}

// ParseDeadline reads a deadline, RFC 3339 or YYYY-MM-DD (midnight UTC),
// as unix seconds.
func ParseDeadline(v string) (int64, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t, err = time.Parse(time.DateOnly, v)
	}
	if err != nil {
		return 0, orderErr(FieldDeadline, "%q is neither YYYY-MM-DD nor RFC 3339", v)
	}
	return t.Unix(), nil
}

// CheckPickupNote: at most MaxPickupNoteBytes.
func CheckPickupNote(s string) error {
	if len(s) > MaxPickupNoteBytes {
		return orderErr(FieldPickupNote, "is over %d bytes", MaxPickupNoteBytes)
	}
	return nil
}

// CheckRequestID: 1 to MaxRequestIDBytes of A-Z, a-z, 0-9, '_' or '-'.
func CheckRequestID(v string) error {
	ok := v != "" && len(v) <= MaxRequestIDBytes
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			ok = false
		}
	}
	if !ok {
		return orderErr(FieldRequestID, "must be 1 to %d characters of A-Z, a-z, 0-9, '_' or '-'", MaxRequestIDBytes)
	}
	return nil
}

// ModelName is the name an order keeps for its model file: name cut to
// at most MaxModelNameBytes, never inside a UTF-8 sequence.
func ModelName(name string) string {
	if len(name) <= MaxModelNameBytes {
		return name
	}
	cut := MaxModelNameBytes
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut]
}

// num formats a number as a person wrote it (0.05, 1, 0.01, NaN).
func num(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
