package coordinator

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/fabgrid/fabgrid/slicer/testmesh"
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

func TestCheckModel(t *testing.T) {
	tri := [3][3]float32{{0, 0, 0}, {30, 0, 0}, {0, 20, 10}}
	good := binarySTL([][3][3]float32{tri})
	box := testmesh.Write3MF(testmesh.Box(0, 0, 0, 30, 20, 10))
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
		size [3]float64
		want error // for a refusal; nil: ErrInvalidSTL
	}{
		{"ascii", testModel, true, [3]float64{10, 10, 5}, nil},
		{"binary", good, true, [3]float64{30, 20, 10}, nil},
		{"empty", nil, false, [3]float64{}, nil},
		{"short", []byte("hello"), false, [3]float64{}, nil},
		{"binary count beyond length", good[:len(good)-1], false, [3]float64{}, nil},
		{"binary zero triangles", binarySTL(nil), false, [3]float64{}, nil},
		{"binary NaN", binarySTL([][3][3]float32{{{float32(math.NaN()), 0, 0}, {1, 0, 0}, {0, 1, 0}}}), false, [3]float64{}, nil},
		{"ascii no endsolid", []byte("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\n"), false, [3]float64{}, nil},
		{"ascii two vertices", []byte("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nendloop\nendfacet\nendsolid\n"), false, [3]float64{}, nil},
		{"ascii bad number", []byte("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 zero\n"), false, [3]float64{}, nil},
		{"3mf", box, true, [3]float64{30, 20, 10}, nil},
		{"3mf cut off", box[:len(box)-10], false, [3]float64{}, ErrInvalid3MF},
		{"3mf bad XML", testmesh.Package3MF(map[string]string{"3D/3dmodel.model": "<model><resources><object"}), false, [3]float64{}, ErrInvalid3MF},
		{"3mf no build", testmesh.Package3MF(map[string]string{"3D/3dmodel.model": `<model xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources/><build/></model>`}), false, [3]float64{}, ErrInvalid3MF},
		{"3mf zip bomb", testmesh.ZipBomb3MF(4 << 20), false, [3]float64{}, ErrInvalid3MF},
		{"zip magic only", []byte("PK\x03\x04"), false, [3]float64{}, ErrInvalid3MF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := CheckModel(tc.data)
			if tc.ok != (err == nil) {
				t.Fatalf("err %v", err)
			}
			want := tc.want
			if want == nil {
				want = ErrInvalidSTL
			}
			if err != nil && !errors.Is(err, want) {
				t.Fatalf("error %v does not wrap %v", err, want)
			}
			if tc.ok && m.SizeMM != tc.size {
				t.Fatalf("size %v, want %v", m.SizeMM, tc.size)
			}
		})
	}
}
