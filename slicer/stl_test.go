package slicer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

func binarySTL(tris int, extra int) []byte {
	b := make([]byte, 84+50*tris+extra)
	binary.LittleEndian.PutUint32(b[80:], uint32(tris))
	return b
}

const asciiTri = `solid t
facet normal 0 0 1
 outer loop
  vertex 0 0 0
  vertex 1 0 0
  vertex 0 1 0
 endloop
endfacet
endsolid t
`

func TestLoadSTLErrors(t *testing.T) {
	cube := testmesh.WriteSTL("cube", testmesh.Cube(10))
	nan := append([]byte(nil), cube...)
	binary.LittleEndian.PutUint32(nan[84+12:], math.Float32bits(float32(math.NaN())))
	inf := append([]byte(nil), cube...)
	binary.LittleEndian.PutUint32(inf[84+16:], math.Float32bits(float32(math.Inf(1))))
	tests := []struct {
		name string
		data []byte
		lim  Limits
		want error
	}{
		{"empty file", nil, DefaultLimits, ErrEmptyMesh},
		{"short header", []byte("abc"), DefaultLimits, ErrTruncated},
		{"truncated binary", cube[:len(cube)-10], DefaultLimits, ErrTruncated},
		{"header count too small", append(append([]byte(nil), cube...), make([]byte, 20)...), DefaultLimits, ErrBadHeader},
		{"zero triangles", binarySTL(0, 0), DefaultLimits, ErrEmptyMesh},
		{"all degenerate", binarySTL(3, 0), DefaultLimits, ErrEmptyMesh},
		{"nan", nan, DefaultLimits, ErrBadNumber},
		{"inf", inf, DefaultLimits, ErrBadNumber},
		{"too many triangles", cube, Limits{MaxTriangles: 5}, ErrTooLarge},
		{"too many bytes", cube, Limits{MaxBytes: 100}, ErrTooLarge},
		{"header only", binarySTL(0, 0), Limits{MaxTriangles: 10}, ErrEmptyMesh},
		{"ascii garbage", []byte("solid x\nfacet normal a b c\n"), DefaultLimits, ErrMalformed},
		{"ascii over the triangle limit", []byte("solid t\n" + strings.Repeat(asciiTri[8:len(asciiTri)-11], 3) + "endsolid t\n"), Limits{MaxTriangles: 2}, ErrTooLarge},
		{"far coordinates", testmesh.WriteSTL("far", testmesh.Box(0, 0, 0, 1e6, 1, 1)), DefaultLimits, ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadSTL(bytes.NewReader(tc.data), int64(len(tc.data)), tc.lim)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	huge := binarySTL(0, 0)
	binary.LittleEndian.PutUint32(huge[80:], 1<<30)
	if _, _, err := ParseSTL(huge, DefaultLimits); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("header claiming 2^30 triangles: %v", err)
	}
	if _, _, err := LoadSTL(bytes.NewReader(cube), int64(len(cube))+5, DefaultLimits); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short stream: %v", err)
	}
}

func TestLoadSTLReport(t *testing.T) {
	// A cube, its first triangle repeated (non-manifold edges) and a
	// degenerate one; stored normals flipped on one triangle.
	ts := testmesh.Cube(10)
	ts[3].Normal[2] = -ts[3].Normal[2]
	ts = append(ts, ts[0])
	deg := ts[1]
	deg.Vertices[2] = deg.Vertices[1]
	ts = append(ts, deg)
	m, rep, err := ParseSTL(testmesh.WriteSTL("x", ts), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Triangles != 14 || rep.Degenerate != 1 || rep.FlippedNormals != 1 || rep.NonManifoldEdges != 3 || rep.Watertight || rep.Vertices != 8 {
		t.Fatalf("report %+v", rep)
	}
	if len(m.Tris) != 13 {
		t.Fatalf("%d triangles kept", len(m.Tris))
	}
	// ASCII reads the same as binary.
	_, rep2, err := ParseSTL([]byte(asciiTri), DefaultLimits)
	if err != nil || rep2.Format != "ascii" || rep2.Triangles != 1 || rep2.OpenEdges != 3 {
		t.Fatalf("ascii: %+v %v", rep2, err)
	}
}

func TestMeshStatsAndPlacement(t *testing.T) {
	m, _, err := ParseSTL(testmesh.WriteSTL("c", testmesh.Box(-50, -50, 10, -30, -40, 15)), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	vol, area, box := MeshStats(m)
	if math.Abs(vol-1000) > 1e-6 || math.Abs(area-(2*200+2*100+2*50)) > 1e-6 || box.Size() != (Vec3{20, 10, 5}) {
		t.Fatalf("vol %v area %v box %+v", vol, area, box)
	}
	p, err := Placed(m, 220, 220, 250)
	if err != nil {
		t.Fatal(err)
	}
	if b := Bounds(p); b.Min != (Vec3{100, 105, 0}) || b.Max != (Vec3{120, 115, 5}) {
		t.Fatalf("placed at %+v", b)
	}
	_, err = Placed(m, 15, 220, 250)
	if !errors.Is(err, ErrNotFit) || !strings.Contains(err.Error(), "20.0 × 10.0 × 5.0") {
		t.Fatalf("not fit: %v", err)
	}
}

func FuzzLoadSTL(f *testing.F) {
	f.Add(testmesh.WriteSTL("cube", testmesh.Cube(10)))
	f.Add([]byte(asciiTri))
	f.Add(binarySTL(1, 0))
	f.Add([]byte("solid\nendsolid\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, rep, err := ParseSTL(data, Limits{MaxBytes: 1 << 20, MaxTriangles: 10000, MaxExtentMM: 1000})
		if err != nil {
			if m != nil {
				t.Fatal("mesh returned with an error")
			}
			return
		}
		if len(m.Tris) == 0 || rep.Triangles < len(m.Tris) {
			t.Fatalf("report %+v with %d triangles", rep, len(m.Tris))
		}
		for _, tr := range m.Tris {
			for _, v := range tr {
				if int(v) >= len(m.Verts) {
					t.Fatal("vertex index out of range")
				}
			}
		}
	})
}

// onlyReader hides Seek, so LoadSTL reads the stream into memory.
type onlyReader struct{ r *bytes.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestLoadSTLPaths(t *testing.T) {
	cube := testmesh.WriteSTL("cube", testmesh.Cube(10))
	for _, size := range []int64{int64(len(cube)), -1} {
		_, rep, err := LoadSTL(onlyReader{bytes.NewReader(cube)}, size, DefaultLimits)
		if err != nil || rep.Triangles != 12 {
			t.Fatalf("reader, size %d: %v %+v", size, err, rep)
		}
	}
	_, rep, err := LoadSTL(bytes.NewReader(cube), int64(len(cube)), DefaultLimits)
	if err != nil || rep.Triangles != 12 || !rep.Watertight {
		t.Fatalf("seeker: %v %+v", err, rep)
	}
	if _, _, err := LoadSTL(onlyReader{bytes.NewReader(cube)}, int64(len(cube))+5, DefaultLimits); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short stream: %v", err)
	}
}
