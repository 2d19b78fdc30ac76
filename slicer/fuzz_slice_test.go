package slicer

import (
	"bytes"
	"context"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
	"github.com/hschendel/stl"
)

// FuzzSlice slices arbitrary triangle soups (open, self-intersecting,
// degenerate): the slicer may refuse them but must not crash, and what it
// writes must pass the analyser's sanity checks. The last byte picks the
// options: the defaults when it is a multiple of 4, otherwise support
// (plate-only or everywhere, lines or grid), seams, bridges off and copies.
func FuzzSlice(f *testing.F) {
	f.Add(testmesh.WriteSTL("cube", testmesh.Cube(3)))
	f.Add(testmesh.WriteSTL("wall", testmesh.ThinWall()))
	f.Add([]byte{0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 1, 1, 1, 6, 2, 2, 3, 9, 1})
	p, _ := profile.LookupPrinter("ender3")
	mat, _ := profile.LookupMaterial("PLA")
	f.Add(append(testmesh.WriteSTL("t", testmesh.TShape()), 1))
	f.Add(append(testmesh.WriteSTL("b", testmesh.Bridge()), 7))
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := 0
		if len(data) > 0 {
			opt = int(data[len(data)-1])
		}
		var ts []stl.Triangle
		m, _, err := ParseSTL(data, Limits{MaxTriangles: 200})
		if err != nil && len(data) > 0 { // an STL and the options byte
			m, _, err = ParseSTL(data[:len(data)-1], Limits{MaxTriangles: 200})
		}
		if err == nil && len(m.Tris) <= 200 {
			ts = nil
			for _, tr := range m.Tris {
				var st stl.Triangle
				for k, vi := range tr {
					v := m.Verts[vi]
					st.Vertices[k] = stl.Vec3{float32(v.X), float32(v.Y), float32(v.Z)}
				}
				ts = append(ts, st)
			}
		} else {
			// Bytes as a soup: 9 bytes a triangle, coordinates 0–25.5 mm.
			for len(data) >= 9 && len(ts) < 40 {
				var st stl.Triangle
				for k := range 9 {
					st.Vertices[k/3][k%3] = float32(data[k]) / 10
				}
				ts = append(ts, st)
				data = data[9:]
			}
		}
		if len(ts) == 0 {
			return
		}
		m, _, err = ParseSTL(testmesh.WriteSTL("soup", ts), DefaultLimits)
		if err != nil {
			return
		}
		s := DefaultSettings(p, mat)
		s.Workers = 1
		if opt%4 != 0 {
			s.Support = DefaultSupport
			s.Support.Everywhere = opt&4 != 0
			if opt&8 != 0 {
				s.Support.Pattern = PatternGrid
			}
			s.Seam = []string{SeamNearest, SeamRear, SeamSharpest}[opt%3]
			s.NoBridges = opt&16 != 0
			s.Copies = 1 + opt>>5&3
			s.CopyTurn = opt&128 != 0
		}
		r, err := Slice(context.Background(), m, s, nil)
		if err != nil {
			return
		}
		a, err := Analyze(bytes.NewReader(r.GCode), p)
		if err != nil || len(a.Flags) > 0 {
			t.Fatalf("analysis of the output: %v %q", err, a.Flags)
		}
	})
}
