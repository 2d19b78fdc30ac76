package slicer

import (
	"fmt"
	"math"
)

// DefaultCopySpacing is the gap between copies on one bed, mm.
const DefaultCopySpacing = 6.0

// maxCopies bounds Settings.Copies.
const maxCopies = 1000

// layout is n copies in a grid of cols × rows cells, each copy turned 90°
// about Z or not.
type layout struct {
	n, cols, rows int
	turn          bool
	w, h          float64 // one copy's footprint, mm
	spacing       float64
}

func (l layout) size() (float64, float64) {
	return float64(l.cols)*l.w + float64(l.cols-1)*l.spacing, float64(l.rows)*l.h + float64(l.rows-1)*l.spacing
}

// bestLayout is the most compact grid of n copies of a w × h footprint
// that fits a bedX × bedY bed, trying every column count and, with turn,
// the footprint turned 90°: the smallest longer side, then the smallest
// area, then unturned. ok is false when none fits.
func bestLayout(n int, w, h, bedX, bedY, spacing float64, turn bool) (layout, bool) {
	var best layout
	found := false
	bestSide, bestArea := math.Inf(1), math.Inf(1)
	for _, t := range []bool{false, true} {
		if t && !turn {
			continue
		}
		cw, ch := w, h
		if t {
			cw, ch = h, w
		}
		for cols := 1; cols <= n; cols++ {
			l := layout{n: n, cols: cols, rows: (n + cols - 1) / cols, turn: t, w: cw, h: ch, spacing: spacing}
			x, y := l.size()
			if x > bedX+1e-9 || y > bedY+1e-9 {
				continue
			}
			side, area := max(x, y), x*y
			if side < bestSide-1e-9 || (math.Abs(side-bestSide) <= 1e-9 && area < bestArea-1e-9) {
				best, bestSide, bestArea, found = l, side, area, true
			}
		}
	}
	return best, found
}

// Arrange returns a mesh of n copies of m laid out on a bedX × bedY bed
// in the most compact grid (Settings.Copies), spacing mm apart, turned 90°
// when turn allows and that packs tighter, with each copy's box; Slice
// then centres the whole plate. A grid of bounding boxes is the least it
// achieves. ErrNotFit says how many copies the bed holds.
func Arrange(m *Mesh, n int, bedX, bedY, spacing float64, turn bool) (*Mesh, []Box, error) {
	if n < 1 || n > maxCopies {
		return nil, nil, fmt.Errorf("%w: %d copies (want 1–%d)", ErrBadSettings, n, maxCopies)
	}
	if int64(n)*int64(len(m.Tris)) > int64(DefaultLimits.MaxTriangles) {
		return nil, nil, fmt.Errorf("%w: %d copies of %d triangles are more than %d", ErrTooLarge, n, len(m.Tris), DefaultLimits.MaxTriangles)
	}
	box := Bounds(m)
	sz := box.Size()
	l, ok := bestLayout(n, sz.X, sz.Y, bedX, bedY, spacing, turn)
	if !ok {
		fit := 0
		for k := n - 1; k >= 1; k-- {
			if _, ok := bestLayout(k, sz.X, sz.Y, bedX, bedY, spacing, turn); ok {
				fit = k
				break
			}
		}
		return nil, nil, fmt.Errorf("%w: %d copies of a %.1f × %.1f mm model %.0f mm apart need more than the %.0f × %.0f mm bed; it holds %d",
			ErrNotFit, n, sz.X, sz.Y, spacing, bedX, bedY, fit)
	}
	out := &Mesh{Verts: make([]Vec3, 0, n*len(m.Verts)), Tris: make([][3]int32, 0, n*len(m.Tris)), Report: m.Report}
	boxes := make([]Box, 0, n)
	for c := 0; c < n; c++ {
		col, row := c%l.cols, c/l.cols
		ox, oy := float64(col)*(l.w+l.spacing), float64(row)*(l.h+l.spacing)
		base := int32(len(out.Verts))
		for _, v := range m.Verts {
			x, y := v.X-box.Min.X, v.Y-box.Min.Y
			if l.turn { // 90° counter-clockwise, back into the cell
				x, y = sz.Y-y, x
			}
			out.Verts = append(out.Verts, Vec3{ox + x, oy + y, v.Z})
		}
		for _, t := range m.Tris {
			out.Tris = append(out.Tris, [3]int32{t[0] + base, t[1] + base, t[2] + base})
		}
		boxes = append(boxes, Box{Vec3{ox, oy, box.Min.Z}, Vec3{ox + l.w, oy + l.h, box.Max.Z}})
	}
	return out, boxes, nil
}
