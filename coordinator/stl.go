package coordinator

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MeshInfo is what the coordinator learns from a model: its bounding box
// size, volume and surface, for placement.
type MeshInfo struct {
	Triangles  int
	SizeMM     [3]float64
	VolumeMM3  float64
	SurfaceMM2 float64
}

// CheckSTL validates an STL file (binary: the triangle count matches the
// length; ASCII: "solid", facets of three vertices, "endsolid") and
// measures it. Errors wrap ErrInvalidSTL.
func CheckSTL(b []byte) (MeshInfo, error) {
	if len(b) == 0 {
		return MeshInfo{}, fmt.Errorf("%w: empty file", ErrInvalidSTL)
	}
	if len(b) >= 84 {
		n := binary.LittleEndian.Uint32(b[80:84])
		if uint64(len(b)) == 84+50*uint64(n) {
			return checkBinarySTL(b, int(n))
		}
	}
	if bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("solid")) {
		return checkASCIISTL(b)
	}
	if len(b) < 84 {
		return MeshInfo{}, fmt.Errorf("%w: %d bytes is too short for a binary STL and it does not start with \"solid\"", ErrInvalidSTL, len(b))
	}
	n := binary.LittleEndian.Uint32(b[80:84])
	return MeshInfo{}, fmt.Errorf("%w: binary header says %d triangles (%d bytes) but the file has %d bytes", ErrInvalidSTL, n, 84+50*uint64(n), len(b))
}

type meshAcc struct {
	min, max  [3]float64
	vol, surf float64
	n         int
}

func newMeshAcc() *meshAcc {
	a := &meshAcc{}
	for i := range 3 {
		a.min[i], a.max[i] = math.Inf(1), math.Inf(-1)
	}
	return a
}

func (a *meshAcc) add(v [3][3]float64) error {
	for _, p := range v {
		for i := range 3 {
			if math.IsNaN(p[i]) || math.IsInf(p[i], 0) || math.Abs(p[i]) > 1e6 {
				return fmt.Errorf("%w: vertex coordinate %v out of range", ErrInvalidSTL, p[i])
			}
			a.min[i] = math.Min(a.min[i], p[i])
			a.max[i] = math.Max(a.max[i], p[i])
		}
	}
	p0, p1, p2 := v[0], v[1], v[2]
	a.vol += (p0[0]*(p1[1]*p2[2]-p2[1]*p1[2]) - p1[0]*(p0[1]*p2[2]-p2[1]*p0[2]) + p2[0]*(p0[1]*p1[2]-p1[1]*p0[2])) / 6
	u := [3]float64{p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]}
	w := [3]float64{p2[0] - p0[0], p2[1] - p0[1], p2[2] - p0[2]}
	c := [3]float64{u[1]*w[2] - u[2]*w[1], u[2]*w[0] - u[0]*w[2], u[0]*w[1] - u[1]*w[0]}
	a.surf += math.Sqrt(c[0]*c[0]+c[1]*c[1]+c[2]*c[2]) / 2
	a.n++
	return nil
}

func (a *meshAcc) info() (MeshInfo, error) {
	if a.n == 0 {
		return MeshInfo{}, fmt.Errorf("%w: no triangles", ErrInvalidSTL)
	}
	m := MeshInfo{Triangles: a.n, VolumeMM3: math.Abs(a.vol), SurfaceMM2: a.surf}
	for i := range 3 {
		m.SizeMM[i] = a.max[i] - a.min[i]
	}
	return m, nil
}

func checkBinarySTL(b []byte, n int) (MeshInfo, error) {
	a := newMeshAcc()
	for t := range n {
		off := 84 + 50*t + 12
		var v [3][3]float64
		for k := range 3 {
			for i := range 3 {
				v[k][i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[off+12*k+4*i:])))
			}
		}
		if err := a.add(v); err != nil {
			return MeshInfo{}, fmt.Errorf("triangle %d: %w", t, err)
		}
	}
	return a.info()
}

func checkASCIISTL(b []byte) (MeshInfo, error) {
	a := newMeshAcc()
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var v [3][3]float64
	nv, line, ended := 0, 0, false
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if ended {
			return MeshInfo{}, fmt.Errorf("%w: line %d: data after endsolid", ErrInvalidSTL, line)
		}
		switch f[0] {
		case "solid", "facet", "outer":
		case "vertex":
			if len(f) != 4 || nv >= 3 {
				return MeshInfo{}, fmt.Errorf("%w: line %d: bad vertex", ErrInvalidSTL, line)
			}
			for i := range 3 {
				x, err := strconv.ParseFloat(f[i+1], 64)
				if err != nil {
					return MeshInfo{}, fmt.Errorf("%w: line %d: %q is not a number", ErrInvalidSTL, line, f[i+1])
				}
				v[nv][i] = x
			}
			nv++
		case "endloop":
			if nv != 3 {
				return MeshInfo{}, fmt.Errorf("%w: line %d: a facet needs 3 vertices, has %d", ErrInvalidSTL, line, nv)
			}
			if err := a.add(v); err != nil {
				return MeshInfo{}, fmt.Errorf("line %d: %w", line, err)
			}
			nv = 0
		case "endfacet":
		case "endsolid":
			ended = true
		default:
			return MeshInfo{}, fmt.Errorf("%w: line %d: unexpected %q", ErrInvalidSTL, line, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return MeshInfo{}, fmt.Errorf("%w: %v", ErrInvalidSTL, err)
	}
	if !ended {
		return MeshInfo{}, fmt.Errorf("%w: no endsolid", ErrInvalidSTL)
	}
	return a.info()
}
