package slicer

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
)

// TestSliceToStreamsTheSameGCode checks that streaming writes exactly what
// Slice returns, that a model that cannot be sliced writes nothing, and
// that a failing writer's error comes back wrapped.
func TestSliceToStreamsTheSameGCode(t *testing.T) {
	p, _ := profile.LookupPrinter("ender3")
	mat, _ := profile.LookupMaterial("PLA")
	for _, name := range []string{"cube20", "torus", "islands"} {
		t.Run(name, func(t *testing.T) {
			m, _ := loadModel(t, name)
			s := DefaultSettings(p, mat)
			want, err := Slice(context.Background(), m, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			r, err := SliceTo(context.Background(), &got, m, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.GCode != nil || !bytes.Equal(got.Bytes(), want.GCode) {
				t.Fatalf("SliceTo wrote %d bytes (Result.GCode %d), Slice returned %d", got.Len(), len(r.GCode), len(want.GCode))
			}
			if r.Estimate != want.Estimate || r.Layers != want.Layers {
				t.Fatalf("SliceTo result %+v, Slice %+v", r, want)
			}
		})
	}

	m, _ := loadModel(t, "cube20")
	small := DefaultSettings(p, mat)
	small.Printer.BuildVolume.Z = 10
	var w countingWriter
	if _, err := SliceTo(context.Background(), &w, m, small, nil); !errors.Is(err, ErrNotFit) || w.n != 0 {
		t.Fatalf("model too tall: err %v, %d bytes written", err, w.n)
	}
	w = countingWriter{fail: errors.New("disk full")}
	if _, err := SliceTo(context.Background(), &w, m, DefaultSettings(p, mat), nil); !errors.Is(err, w.fail) {
		t.Fatalf("failing writer: err %v", err)
	}
}

type countingWriter struct {
	n    int
	fail error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.fail != nil {
		return 0, c.fail
	}
	c.n += len(p)
	return len(p), nil
}
