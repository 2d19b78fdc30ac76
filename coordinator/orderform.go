package coordinator

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

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
	f := &OrderForm{LayerHeight: api.DefaultLayerHeightMM, Infill: api.DefaultInfillPercent}
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
			if hasControl(f.ModelName) {
				return nil, formErr(api.CodeBadRequest, "%s", controlNameMsg("the model's file name"))
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return nil, formErr(api.CodeBadRequest, "reading field %q: %v", name, err)
		}
		if len(b) > maxFieldBytes {
			return nil, formErr(api.CodeBadRequest, "field %q is over %d bytes", name, maxFieldBytes)
		}
		if name != api.FieldPickupNote && hasControl(strings.TrimSpace(string(b))) {
			return nil, formErr(api.CodeBadRequest, "%s", controlNameMsg("field "+strconv.Quote(name)))
		}
		if err := f.set(name, strings.TrimSpace(string(b))); err != nil {
			return nil, err
		}
	}
	if f.Model == nil {
		return nil, formErr(api.CodeBadRequest, "the order needs a %q file part with the model (STL or 3MF)", api.FieldModel)
	}
	if !seen[api.FieldQuantity] || !seen[api.FieldMaterial] {
		return nil, formErr(api.CodeBadRequest, "the order needs quantity and material")
	}
	return f, nil
}

// set reads one field with the order rules of package api.
func (f *OrderForm) set(name, v string) error {
	var err error
	switch name {
	case api.FieldQuantity:
		f.Quantity, err = api.ParseQuantity(v)
	case api.FieldMaterial:
		f.Material, err = api.CheckMaterial(v)
	case api.FieldColour:
		f.Colour, err = v, api.CheckColour(v)
	case api.FieldLayerHeight:
		f.LayerHeight, err = api.ParseLayerHeight(v)
	case api.FieldInfill:
		f.Infill, err = api.ParseInfill(v)
	case api.FieldDeadline:
		f.Deadline = v
		f.DeadlineUnix, err = api.ParseDeadline(v)
	case api.FieldPickupNote:
		f.PickupNote, err = v, api.CheckPickupNote(v)
	case api.FieldCommunity:
		f.Community = v
	case api.FieldRequestID:
		f.RequestID, err = v, api.CheckRequestID(v)
	default:
		return formErr(api.CodeUnknownField, "unknown field %q in the order", name)
	}
	if err != nil {
		return formErr(api.CodeBadRequest, "%s", err)
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
