package fsm

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Order submissions are most of the log and every node decodes each one,
// so they have a binary form instead of JSON (JSON decoding was a tenth
// of the CPU an order cost across a three-node cluster):
//
//	orderMagic, uvarint version, varint Time,
//	Order: ID, Community, ModelSHA256, ModelName, varint Quantity,
//	       Material, Colour, f64 LayerHeight, f64 Infill, Deadline,
//	       varint DeadlineUnix, PickupNote, RequestID, State,
//	       varint Created, uvarint len(JobIDs), JobIDs...
//	Model: SHA256, varint Size, Name, f64 SizeMM[0..2], f64 VolumeMM3,
//	       f64 SurfaceMM2
//	byte HasBytes, then the model's bytes (the rest of the entry) if 1
//
// Strings are uvarint length + UTF-8 bytes, f64 is IEEE 754 big-endian.
// DecodeCommand still reads the JSON form of every command, so logs
// written before keep applying. TestOrderCodecCarriesEveryField fails
// when Order or Model gains a field the codec does not carry.
const orderMagic = 0x03

// encodeOrder writes a submit_order command in the binary form. Strings
// are made valid UTF-8 as encoding/json would (each invalid byte becomes
// U+FFFD), so the state holds what a snapshot of it restores.
func encodeOrder(c *Command) ([]byte, error) {
	o, m := &c.Order.Order, &c.Order.Model
	for _, f := range []float64{o.LayerHeight, o.Infill, m.SizeMM[0], m.SizeMM[1], m.SizeMM[2], m.VolumeMM3, m.SurfaceMM2} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("encode command: order %s: non-finite number", o.ID)
		}
	}
	w := make([]byte, 0, 256+len(o.ModelName)+len(o.PickupNote)+len(c.ModelBytes))
	w = append(w, orderMagic)
	w = binary.AppendUvarint(w, uint64(c.V))
	w = binary.AppendVarint(w, c.Time)
	w = appendStr(w, o.ID)
	w = appendStr(w, o.Community)
	w = appendStr(w, o.ModelSHA256)
	w = appendStr(w, o.ModelName)
	w = binary.AppendVarint(w, int64(o.Quantity))
	w = appendStr(w, o.Material)
	w = appendStr(w, o.Colour)
	w = appendF64(w, o.LayerHeight)
	w = appendF64(w, o.Infill)
	w = appendStr(w, o.Deadline)
	w = binary.AppendVarint(w, o.DeadlineUnix)
	w = appendStr(w, o.PickupNote)
	w = appendStr(w, o.RequestID)
	w = appendStr(w, o.State)
	w = binary.AppendVarint(w, o.Created)
	w = binary.AppendUvarint(w, uint64(len(o.JobIDs)))
	for _, id := range o.JobIDs {
		w = appendStr(w, id)
	}
	w = appendStr(w, m.SHA256)
	w = binary.AppendVarint(w, m.Size)
	w = appendStr(w, m.Name)
	for _, f := range m.SizeMM {
		w = appendF64(w, f)
	}
	w = appendF64(w, m.VolumeMM3)
	w = appendF64(w, m.SurfaceMM2)
	if c.Order.HasBytes {
		w = append(w, 1)
		return append(w, c.ModelBytes...), nil
	}
	return append(w, 0), nil
}

// decodeOrder reads the binary form. Truncation, trailing data, another
// version, strings that are not UTF-8, non-finite numbers and a bytes
// flag that does not match the entry are ErrBadCommand.
func decodeOrder(data []byte) (*Command, error) {
	r := orderReader{b: data[1:]}
	c := &Command{Type: CmdSubmitOrder, Order: &OrderCmd{}}
	v := r.uvarint()
	if r.err == nil && v != CommandVersion {
		return nil, fmt.Errorf("%w: version %d", ErrBadCommand, v)
	}
	c.V = int(v)
	c.Time = r.varint()
	o, m := &c.Order.Order, &c.Order.Model
	o.ID = r.str()
	o.Community = r.str()
	o.ModelSHA256 = r.str()
	o.ModelName = r.str()
	o.Quantity = r.int()
	o.Material = r.str()
	o.Colour = r.str()
	o.LayerHeight = r.f64()
	o.Infill = r.f64()
	o.Deadline = r.str()
	o.DeadlineUnix = r.varint()
	o.PickupNote = r.str()
	o.RequestID = r.str()
	o.State = r.str()
	o.Created = r.varint()
	if n := r.uvarint(); n > 0 && r.err == nil {
		if n > uint64(len(r.b)) { // each ID takes at least a byte
			return nil, fmt.Errorf("%w: order: job count", ErrBadCommand)
		}
		o.JobIDs = make([]string, n)
		for i := range o.JobIDs {
			o.JobIDs[i] = r.str()
		}
	}
	m.SHA256 = r.str()
	m.Size = r.varint()
	m.Name = r.str()
	for i := range m.SizeMM {
		m.SizeMM[i] = r.f64()
	}
	m.VolumeMM3 = r.f64()
	m.SurfaceMM2 = r.f64()
	flag := r.byte()
	if r.err != nil {
		return nil, r.err
	}
	switch {
	case flag == 0 && len(r.b) == 0:
	case flag == 1 && len(r.b) > 0:
		c.Order.HasBytes, c.ModelBytes = true, r.b
	case flag > 1:
		return nil, fmt.Errorf("%w: order: bytes flag %d", ErrBadCommand, flag)
	case flag == 0:
		return nil, fmt.Errorf("%w: trailing data", ErrBadCommand)
	default:
		return nil, fmt.Errorf("%w: model bytes framing mismatch", ErrBadCommand)
	}
	return c, nil
}

func appendStr(b []byte, s string) []byte {
	s = validUTF8(s)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendF64(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
}

// validUTF8 replaces each byte of s that is not part of valid UTF-8 with
// U+FFFD, as encoding/json does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			sb.WriteString("\uFFFD")
		} else {
			sb.WriteString(s[i : i+n])
		}
		i += n
	}
	return sb.String()
}

// orderReader reads the binary order form; the first fault sticks.
type orderReader struct {
	b   []byte
	err error
}

func (r *orderReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: order: %s", ErrBadCommand, what)
	}
	r.b = nil
}

func (r *orderReader) uvarint() uint64 {
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail("truncated number")
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *orderReader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail("truncated number")
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *orderReader) int() int {
	v := r.varint()
	if v < math.MinInt32 || v > math.MaxInt32 {
		r.fail("number out of range")
		return 0
	}
	return int(v)
}

func (r *orderReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("truncated string")
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	if !utf8.ValidString(s) {
		r.fail("string not UTF-8")
		return ""
	}
	return s
}

func (r *orderReader) f64() float64 {
	if len(r.b) < 8 {
		r.fail("truncated number")
		return 0
	}
	f := math.Float64frombits(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	if math.IsNaN(f) || math.IsInf(f, 0) {
		r.fail("non-finite number")
		return 0
	}
	return f
}

func (r *orderReader) byte() byte {
	if len(r.b) < 1 {
		r.fail("truncated")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}
