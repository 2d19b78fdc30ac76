package coordinator

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func binarySTL(tris [][3][3]float32) []byte {
	b := make([]byte, 84, 84+50*len(tris))
	binary.LittleEndian.PutUint32(b[80:], uint32(len(tris)))
	for _, t := range tris {
		rec := make([]byte, 50)
		for k := range 3 {
			for i := range 3 {
				binary.LittleEndian.PutUint32(rec[12+12*k+4*i:], math.Float32bits(t[k][i]))
			}
		}
		b = append(b, rec...)
	}
	return b
}

func TestCheckSTL(t *testing.T) {
	tri := [3][3]float32{{0, 0, 0}, {30, 0, 0}, {0, 20, 10}}
	good := binarySTL([][3][3]float32{tri})
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
		size [3]float64
	}{
		{"ascii", testModel, true, [3]float64{10, 10, 5}},
		{"binary", good, true, [3]float64{30, 20, 10}},
		{"empty", nil, false, [3]float64{}},
		{"short", []byte("hello"), false, [3]float64{}},
		{"binary count beyond length", good[:len(good)-1], false, [3]float64{}},
		{"binary zero triangles", binarySTL(nil), false, [3]float64{}},
		{"binary NaN", binarySTL([][3][3]float32{{{float32(math.NaN()), 0, 0}, {1, 0, 0}, {0, 1, 0}}}), false, [3]float64{}},
		{"ascii no endsolid", []byte("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\n"), false, [3]float64{}},
		{"ascii two vertices", []byte("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nendloop\nendfacet\nendsolid\n"), false, [3]float64{}},
		{"ascii bad number", []byte("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 zero\n"), false, [3]float64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := CheckSTL(tc.data)
			if tc.ok != (err == nil) {
				t.Fatalf("err %v", err)
			}
			if err != nil && !errors.Is(err, ErrInvalidSTL) {
				t.Fatalf("error %v does not wrap ErrInvalidSTL", err)
			}
			if tc.ok && m.SizeMM != tc.size {
				t.Fatalf("size %v, want %v", m.SizeMM, tc.size)
			}
		})
	}
}
