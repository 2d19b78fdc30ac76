package fsm

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
)

// fillAll sets every field of the struct v points to a distinct non-zero
// value, so a field the codec forgets shows in a round trip.
func fillAll(t *testing.T, v any, seed int) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f, n := rv.Field(i), seed*100+i+1
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + string(rune('a'+i)) + "é")
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(n))
		case reflect.Float64:
			f.SetFloat(float64(n) + 0.25)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Array:
			for j := range f.Len() {
				f.Index(j).SetFloat(float64(n) + float64(j)/8)
			}
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Uint8 {
				continue // model bytes travel outside the command
			}
			f.Set(reflect.ValueOf([]string{"j-1", "j-2"}))
		default:
			t.Fatalf("field %s of kind %s: teach fillAll and the order codec about it", rv.Type().Field(i).Name, f.Kind())
		}
	}
}

func fullOrder(t *testing.T, withBytes bool) *Command {
	c := &Command{V: CommandVersion, Type: CmdSubmitOrder, Time: 1234567890123, Order: &OrderCmd{HasBytes: withBytes}}
	fillAll(t, &c.Order.Order, 1)
	fillAll(t, &c.Order.Model, 2)
	if withBytes {
		c.ModelBytes = []byte("model bytes")
	}
	return c
}

func TestOrderCodecCarriesEveryField(t *testing.T) {
	if n := reflect.TypeFor[OrderCmd]().NumField(); n != 3 {
		t.Fatalf("OrderCmd has %d fields; the order codec carries 3", n)
	}
	for _, withBytes := range []bool{false, true} {
		c := fullOrder(t, withBytes)
		bin, err := EncodeCommand(c)
		if err != nil {
			t.Fatal(err)
		}
		if bin[0] != orderMagic {
			t.Fatal("an order was not encoded in the binary form")
		}
		got, err := DecodeCommand(bin)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip (bytes %v):\n got %+v\nwant %+v", withBytes, got.Order, c.Order)
		}
		// The JSON form, as older logs hold it, decodes to the same.
		js, err := encodeJSON(c)
		if err != nil {
			t.Fatal(err)
		}
		old, err := DecodeCommand(js)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(old, got) {
			t.Fatalf("JSON and binary forms differ (bytes %v):\n%+v\n%+v", withBytes, old.Order, got.Order)
		}
	}
}

func TestOrderCodecRefusesBadEntries(t *testing.T) {
	good, err := EncodeCommand(fullOrder(t, false))
	if err != nil {
		t.Fatal(err)
	}
	// Every truncation is refused, none panics.
	for n := 1; n < len(good); n++ {
		if _, err := DecodeCommand(good[:n]); !errors.Is(err, ErrBadCommand) {
			t.Fatalf("truncated at %d of %d: %v", n, len(good), err)
		}
	}
	withBytes, _ := EncodeCommand(fullOrder(t, true))
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"trailing data", append(bytes.Clone(good), 'x')},
		{"version 2", func() []byte { b := bytes.Clone(good); b[1] = 2; return b }()},
		{"bytes flag without bytes", func() []byte { b := bytes.Clone(good); b[len(b)-1] = 1; return b }()},
		{"bytes flag 2", func() []byte { b := bytes.Clone(good); b[len(b)-1] = 2; return b }()},
		{"bytes without flag", func() []byte {
			b := bytes.Clone(withBytes)
			b[len(b)-len("model bytes")-1] = 0
			return b
		}()},
		{"string not UTF-8", bytes.Replace(good, []byte("é"), []byte{0xff, 0xfe}, 1)},
		{"NaN", func() []byte {
			// Model.SurfaceMM2 is the last number before the bytes flag.
			b := bytes.Clone(good)
			nan := math.Float64bits(math.NaN())
			for i := range 8 {
				b[len(b)-9+i] = byte(nan >> (56 - 8*i))
			}
			return b
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeCommand(tc.data); !errors.Is(err, ErrBadCommand) {
				t.Fatalf("decoded: %v", err)
			}
		})
	}
	c := fullOrder(t, false)
	c.Order.Order.Infill = math.Inf(1)
	if _, err := EncodeCommand(c); err == nil {
		t.Fatal("encoded an infinite infill")
	}
}

// A name cut mid-rune (the API truncates names at 128 bytes) is stored
// as JSON would have stored it, and survives a snapshot unchanged.
func TestOrderCodecInvalidUTF8LikeJSON(t *testing.T) {
	f := base(t)
	c := orderCmd("o-utf", "makers", 1, false)
	c.Order.Order.ModelName = "chair\xe2\x82"
	c.Order.Order.PickupNote = "porch \xff"
	mustApply(t, f, c)
	f.View(func(s *State) {
		o := s.Orders["o-utf"]
		if o.ModelName != "chair\uFFFD\uFFFD" || o.PickupNote != "porch \uFFFD" {
			t.Fatalf("stored %q, %q", o.ModelName, o.PickupNote)
		}
	})
	restored := New(Options{})
	if err := restored.Restore(restoreBytes(f.Index(), f.SnapshotBytes())); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.SnapshotBytes(), restored.SnapshotBytes()) {
		t.Fatal("snapshot + restore changed the order")
	}
	js, _ := encodeJSON(c)
	old, err := DecodeCommand(js)
	if err != nil {
		t.Fatal(err)
	}
	if old.Order.Order.ModelName != "chair\uFFFD\uFFFD" {
		t.Fatalf("JSON stores %q", old.Order.Order.ModelName)
	}
}
