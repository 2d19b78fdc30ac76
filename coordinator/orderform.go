package coordinator

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fabgrid/fabgrid/coordinator/api"
)

// OrderForm is a parsed POST /v1/orders body.
type OrderForm struct {
	Quantity     int
	Material     string
	Colour       string
	LayerHeight  float64
	Infill       float64
	Deadline     string
	DeadlineUnix int64
	PickupNote   string
	Community    string
	RequestID    string
	ModelName    string
	Model        []byte
}

// formError is a client error in the order form, with its api code.
type formError struct {
	code string
	msg  string
}

func (e *formError) Error() string { return e.msg }

func formErr(code, format string, a ...any) error {
	return &formError{code: code, msg: fmt.Sprintf(format, a...)}
}

// maxFieldBytes bounds one non-file form field.
const maxFieldBytes = 4 << 10

// ParseOrderForm reads a multipart order (the model part plus fields)
// from body with the given boundary. The model may have at most maxModel
// bytes (ErrTooLarge beyond). Unknown, repeated or invalid fields are
// *formError with code unknown_field or bad_request.
func ParseOrderForm(body io.Reader, boundary string, maxModel int64) (*OrderForm, error) {
	mr := multipart.NewReader(body, boundary)
	f := &OrderForm{LayerHeight: 0.2, Infill: 20}
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, fmt.Errorf("%w: upload over the limit", ErrTooLarge)
			}
			return nil, formErr(api.CodeBadRequest, "malformed multipart body: %v", err)
		}
		name := part.FormName()
		if seen[name] {
			return nil, formErr(api.CodeBadRequest, "field %q given twice", name)
		}
		seen[name] = true
		if name == api.FieldModel {
			b, err := io.ReadAll(io.LimitReader(part, maxModel+1))
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return nil, fmt.Errorf("%w: upload over the limit", ErrTooLarge)
				}
				return nil, formErr(api.CodeBadRequest, "reading the model: %v", err)
			}
			if int64(len(b)) > maxModel {
				return nil, fmt.Errorf("%w: the model is over the %d-byte limit", ErrTooLarge, maxModel)
			}
			f.Model, f.ModelName = b, part.FileName()
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return nil, formErr(api.CodeBadRequest, "reading field %q: %v", name, err)
		}
		if len(b) > maxFieldBytes {
			return nil, formErr(api.CodeBadRequest, "field %q is over %d bytes", name, maxFieldBytes)
		}
		if err := f.set(name, strings.TrimSpace(string(b))); err != nil {
			return nil, err
		}
	}
	if f.Model == nil {
		return nil, formErr(api.CodeBadRequest, "the order needs a %q file part with the STL", api.FieldModel)
	}
	if !seen[api.FieldQuantity] || !seen[api.FieldMaterial] {
		return nil, formErr(api.CodeBadRequest, "the order needs quantity and material")
	}
	return f, nil
}

func (f *OrderForm) set(name, v string) error {
	var err error
	switch name {
	case api.FieldQuantity:
		f.Quantity, err = strconv.Atoi(v)
		if err != nil || f.Quantity < 1 || f.Quantity > 1000 {
			return formErr(api.CodeBadRequest, "quantity must be a whole number from 1 to 1000, not %q", v)
		}
	case api.FieldMaterial:
		f.Material = strings.ToUpper(v)
		if !slices.Contains(api.Materials, f.Material) {
			return formErr(api.CodeBadRequest, "material must be one of %s, not %q", strings.Join(api.Materials, ", "), v)
		}
	case api.FieldColour:
		if len(v) > 32 {
			return formErr(api.CodeBadRequest, "colour is too long")
		}
		f.Colour = v
	case api.FieldLayerHeight:
		f.LayerHeight, err = strconv.ParseFloat(v, 64)
		if err != nil || !(f.LayerHeight >= 0.05 && f.LayerHeight <= 1) {
			return formErr(api.CodeBadRequest, "layer_height must be between 0.05 and 1 mm, not %q", v)
		}
	case api.FieldInfill:
		f.Infill, err = strconv.ParseFloat(v, 64)
		if err != nil || !(f.Infill >= 0 && f.Infill <= 100) {
			return formErr(api.CodeBadRequest, "infill must be a percentage from 0 to 100, not %q", v)
		}
	case api.FieldDeadline:
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			t, err = time.Parse(time.DateOnly, v)
		}
		if err != nil {
			return formErr(api.CodeBadRequest, "deadline must be RFC3339 or YYYY-MM-DD, not %q", v)
		}
		f.Deadline, f.DeadlineUnix = v, t.Unix()
	case api.FieldPickupNote:
		if len(v) > 1024 {
			return formErr(api.CodeBadRequest, "pickup_note is over 1024 bytes")
		}
		f.PickupNote = v
	case api.FieldCommunity:
		f.Community = v
	case api.FieldRequestID:
		if !validRequestID(v) {
			return formErr(api.CodeBadRequest, "request_id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' or '-'")
		}
		f.RequestID = v
	default:
		return formErr(api.CodeUnknownField, "unknown field %q in the order", name)
	}
	return nil
}

// multipartBoundary returns the boundary of a multipart/form-data request.
func multipartBoundary(r *http.Request) (string, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", formErr(api.CodeBadRequest, "an order is sent as multipart/form-data with a %q file part", api.FieldModel)
	}
	return params["boundary"], nil
}

func validRequestID(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
