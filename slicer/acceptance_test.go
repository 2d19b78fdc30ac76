package slicer

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/fabgrid/fabgrid/profile"
	"github.com/fabgrid/fabgrid/slicer/poly"
	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

// move is one extruding or travelling G0/G1 move seen by walkGCode.
type move struct {
	code         string
	from, to     Vec3
	de           float64
	typ          string
	layer        int
	hasE, travel bool
	retracted    bool // filament was retracted before this move
}

// walkGCode calls f for every G0/G1 that moves in XY.
func walkGCode(t testing.TB, g []byte, f func(mv move)) {
	t.Helper()
	var x, y, z, e float64
	relE := false
	typ := ""
	layer := -1
	retracted := false
	sc := bufio.NewScanner(bytes.NewReader(g))
	for sc.Scan() {
		ln := sc.Text()
		if strings.HasPrefix(ln, ";TYPE:") {
			typ = ln[6:]
		}
		if strings.HasPrefix(ln, ";LAYER:") {
			layer, _ = strconv.Atoi(ln[7:])
		}
		if i := strings.IndexByte(ln, ';'); i >= 0 {
			ln = ln[:i]
		}
		fs := strings.Fields(ln)
		if len(fs) == 0 {
			continue
		}
		w := map[byte]float64{}
		for _, a := range fs[1:] {
			v, err := strconv.ParseFloat(a[1:], 64)
			if err == nil {
				w[a[0]] = v
			}
		}
		switch fs[0] {
		case "M82":
			relE = false
		case "M83":
			relE = true
		case "G92":
			if v, ok := w['E']; ok {
				e = v
			}
		case "G0", "G1":
			nx, ny, nz, ne := x, y, z, e
			if v, ok := w['X']; ok {
				nx = v
			}
			if v, ok := w['Y']; ok {
				ny = v
			}
			if v, ok := w['Z']; ok {
				nz = v
			}
			_, hasE := w['E']
			if hasE {
				ne = w['E']
				if relE {
					ne = e + w['E']
				}
			}
			if nx != x || ny != y {
				f(move{code: fs[0], from: Vec3{x, y, z}, to: Vec3{nx, ny, nz}, de: ne - e, typ: typ, layer: layer, hasE: hasE, travel: ne-e <= 0, retracted: retracted})
			} else if ne < e {
				retracted = true
			} else if ne > e {
				retracted = false
			}
			x, y, z, e = nx, ny, nz, ne
		}
	}
}

// footprint is the model's shadow on the bed, µm.
func footprint(m *Mesh) poly.Paths {
	var tris poly.Paths
	for _, t := range m.Tris {
		p := make(poly.Path, 3)
		for k := range 3 {
			v := m.Verts[t[k]]
			p[k] = poly.Point{X: int64(math.Round(v.X * 1000)), Y: int64(math.Round(v.Y * 1000))}
		}
		if a := poly.Area(p); a < 0 {
			poly.Reverse(p)
		} else if a == 0 {
			continue
		}
		tris = append(tris, p)
	}
	return poly.Union(tris, poly.NonZero)
}

// distOutside returns how far q lies outside the region (0 inside).
func distOutside(region poly.Paths, q poly.Point) float64 {
	if poly.Inside(region, q) {
		return 0
	}
	best := math.Inf(1)
	for _, p := range region {
		for i := range p {
			best = min(best, segDist(p[i], p[(i+1)%len(p)], q))
		}
	}
	return best
}

func segDist(a, b, q poly.Point) float64 {
	dx, dy := float64(b.X-a.X), float64(b.Y-a.Y)
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, (float64(q.X-a.X)*dx+float64(q.Y-a.Y)*dy)/l2))
	}
	return math.Hypot(float64(a.X)+t*dx-float64(q.X), float64(a.Y)+t*dy-float64(q.Y))
}

// expectedVolume estimates the extruded volume from the layers' areas and
// perimeters alone: N walls along the perimeter, solid inner area in the
// bottom and top layers and where the layer is not covered by its
// neighbours, sparse infill at the density elsewhere. With expand, the
// solid area also reaches the wall thickness into the covered part (a
// linear estimate that overshoots on curved parts): the two bound what a
// correct slicer extrudes.
func expectedVolume(m *Mesh, s Settings, expand bool) float64 {
	h := planLayers(Bounds(m).Max.Z, s.FirstLayerHeight, s.LayerHeight)
	n := len(h.top)
	idx := buildTriIndex(m, h.plane)
	area := make([]float64, n)
	perim := make([]float64, n)
	inner := make([]float64, n)
	var st sliceStats
	for i := range n {
		ps := poly.Union(sliceLayer(m, idx.tris[idx.start[i]:idx.start[i+1]], h.plane[i], 1000, &st), poly.NonZero)
		var per float64
		for _, p := range ps {
			per += poly.Perimeter(p)
		}
		area[i] = poly.TotalArea(ps) / 1e6
		perim[i] = per / 1000
		wall := math.Min(area[i], per/1000*float64(s.Perimeters)*s.LineWidth)
		inner[i] = area[i] - wall
	}
	var vol float64
	for i := range n {
		covered, cper := math.Inf(1), 0.0
		if i-s.BottomLayers < 0 || i+s.TopLayers >= n {
			covered = 0
		}
		for j := max(0, i-s.BottomLayers); j <= min(n-1, i+s.TopLayers); j++ {
			if j != i && area[j] < covered {
				covered, cper = area[j], perim[j]
			}
		}
		// For nested outlines the uncovered part of the inner area, the
		// skin reaching the wall thickness further into the covered part.
		if expand && covered < area[i] {
			covered = math.Max(0, covered-cper*float64(s.Perimeters)*s.LineWidth)
		}
		solid := math.Min(inner[i], math.Max(0, inner[i]-covered))
		sparse := inner[i] - solid
		vol += h.height[i] * (area[i] - inner[i] + solid + sparse*float64(s.InfillPercent)/100)
	}
	return vol
}

func TestAcceptanceModels(t *testing.T) {
	for _, printer := range []string{"ender3", "mk3s"} {
		p, err := profile.LookupPrinter(printer)
		if err != nil {
			t.Fatal(err)
		}
		mat, _ := profile.LookupMaterial("PLA")
		for _, tm := range testModels {
			t.Run(printer+"/"+tm.name, func(t *testing.T) {
				mesh, _ := loadModel(t, tm.name)
				s := DefaultSettings(p, mat)
				r, err := Slice(context.Background(), mesh, s, nil)
				if err != nil {
					t.Fatal(err)
				}
				a, err := Analyze(bytes.NewReader(r.GCode), p)
				if err != nil {
					t.Fatal(err)
				}
				if len(a.Flags) > 0 {
					t.Fatalf("analyser flags: %q", a.Flags)
				}
				want := int(math.Ceil(tm.height/s.LayerHeight - 1e-9))
				if d := r.Layers - want; d < -1 || d > 1 || a.LayerComments != r.Layers || a.Layers != r.Layers {
					t.Fatalf("layers %d (markers %d, heights %d), want %d±1", r.Layers, a.LayerComments, a.Layers, want)
				}
				// The estimate is the motion model's time for this very file.
				if d := math.Abs(r.Estimate.Seconds-a.Seconds) / a.Seconds; d > 0.01 {
					t.Fatalf("estimate %.1f s, replay %.1f s", r.Estimate.Seconds, a.Seconds)
				}
				if d := math.Abs(r.Estimate.FilamentMM - a.ModelFilamentMM); d > 0.01*a.ModelFilamentMM {
					t.Fatalf("estimate %.1f mm of filament, file extrudes %.1f mm", r.Estimate.FilamentMM, a.ModelFilamentMM)
				}

				placed, err := Placed(mesh, p.BuildVolume.X, p.BuildVolume.Y, p.BuildVolume.Z)
				if err != nil {
					t.Fatal(err)
				}
				fp := footprint(placed)
				filArea := math.Pi * p.FilamentMM * p.FilamentMM / 4
				var modelVol float64
				worst := 0.0
				walkGCode(t, r.GCode, func(mv move) {
					if mv.code == "G0" && mv.hasE {
						t.Fatalf("G0 with an E word: %+v", mv)
					}
					if mv.travel && mv.layer >= 0 && !mv.retracted {
						a := poly.Point{X: int64(mv.from.X * 1000), Y: int64(mv.from.Y * 1000)}
						b := poly.Point{X: int64(mv.to.X * 1000), Y: int64(mv.to.Y * 1000)}
						if poly.Dist(a, b) > s.RetractMinTravel*1000 && poly.Crosses(fp, a, b) {
							t.Fatalf("travel over the model's outline without retraction: %+v", mv)
						}
					}
					if mv.travel || mv.layer < 0 {
						return
					}
					if mv.typ != "SKIRT" {
						modelVol += mv.de * filArea
						for _, q := range []Vec3{mv.from, mv.to, {(mv.from.X + mv.to.X) / 2, (mv.from.Y + mv.to.Y) / 2, 0}} {
							worst = math.Max(worst, distOutside(fp, poly.Point{X: int64(q.X * 1000), Y: int64(q.Y * 1000)}))
						}
					}
				})
				if worst > s.LineWidth*1000 {
					t.Fatalf("an extrusion lies %.3f mm outside the footprint", worst/1000)
				}
				lo, hi := expectedVolume(placed, s, false), expectedVolume(placed, s, true)
				if modelVol < 0.9*lo || modelVol > 1.1*hi {
					t.Fatalf("extruded %.1f mm³, expected %.1f–%.1f mm³ (±10%%)", modelVol, lo, hi)
				}
				t.Logf("layers %d, %.0f s, extruded %.0f mm³ (expected %.0f–%.0f), %d retractions", r.Layers, r.Estimate.Seconds, modelVol, lo, hi, a.Retractions)
			})
		}
	}
}

// TestHoleKeepsPerimeter: the torus's hole (radius 10 mm at the widest
// layer) has an outer wall around it and nothing printed inside it.
func TestHoleKeepsPerimeter(t *testing.T) {
	p := ender3(t)
	mat, _ := profile.LookupMaterial("PLA")
	mesh, _ := loadModel(t, "torus")
	r, err := Slice(context.Background(), mesh, DefaultSettings(p, mat), nil)
	if err != nil {
		t.Fatal(err)
	}
	cx, cy := p.BuildVolume.X/2, p.BuildVolume.Y/2
	mid := r.Layers / 2
	holeWall := 0
	walkGCode(t, r.GCode, func(mv move) {
		if mv.travel || mv.layer < 0 {
			return
		}
		d := math.Hypot(mv.to.X-cx, mv.to.Y-cy)
		if d < 10-0.05 {
			t.Fatalf("extrusion inside the hole: %+v (%.3f mm from the centre)", mv, d)
		}
		if mv.layer == mid && mv.typ == "WALL-OUTER" && math.Abs(d-10.2) < 0.1 {
			holeWall++
		}
	})
	if holeWall < 20 {
		t.Fatalf("mid layer has %d outer-wall points around the hole", holeWall)
	}
}

func TestGapIsClosed(t *testing.T) {
	mesh, rep := loadModel(t, "gapcube")
	if rep.OpenEdges == 0 || rep.Watertight {
		t.Fatalf("gap cube should be open: %+v", rep)
	}
	mat, _ := profile.LookupMaterial("PLA")
	r, err := Slice(context.Background(), mesh, DefaultSettings(ender3(t), mat), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mesh != rep {
		t.Fatalf("result's mesh report %+v, loader said %+v", r.Mesh, rep)
	}
	if r.Slicing.ClosedGaps == 0 || r.Slicing.EmptyLayers != 0 {
		t.Fatalf("slicing report %+v", r.Slicing)
	}
}

// TestMissingTriangles: a sphere with triangles removed (holes of up to
// 2.6 mm) still slices into full layers.
func TestMissingTriangles(t *testing.T) {
	ts := testmesh.Sphere(10, 24, 48)
	whole, _, err := ParseSTL(testmesh.WriteSTL("s", ts), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	holed := append(ts[:500:500], ts[503:]...)
	m, rep, err := ParseSTL(testmesh.WriteSTL("s", holed), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OpenEdges == 0 {
		t.Fatal("mesh should be open")
	}
	mat, _ := profile.LookupMaterial("PLA")
	s := DefaultSettings(ender3(t), mat)
	s.CloseGap = 0.1 // smaller than the holes: the long-chain rule closes them
	a, err := Slice(context.Background(), whole, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Slice(context.Background(), m, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Layers != a.Layers || b.Slicing.EmptyLayers != 0 || b.Slicing.ClosedGaps == 0 {
		t.Fatalf("holed sphere: %d layers (whole %d), %+v", b.Layers, a.Layers, b.Slicing)
	}
	if d := math.Abs(b.Estimate.FilamentMM-a.Estimate.FilamentMM) / a.Estimate.FilamentMM; d > 0.02 {
		t.Fatalf("filament %.1f mm, whole sphere %.1f mm", b.Estimate.FilamentMM, a.Estimate.FilamentMM)
	}
}

// TestOverlappingShells: two cubes exported as overlapping shells print as
// their union, not with the overlap left empty.
func TestOverlappingShells(t *testing.T) {
	ts := append(testmesh.Box(0, 0, 0, 20, 20, 10), testmesh.Box(10, 10, 0, 30, 30, 10)...)
	m, _, err := ParseSTL(testmesh.WriteSTL("two", ts), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	p := ender3(t)
	placed, err := Placed(m, p.BuildVolume.X, p.BuildVolume.Y, p.BuildVolume.Z)
	if err != nil {
		t.Fatal(err)
	}
	h := planLayers(10, 0.2, 0.2)
	idx := buildTriIndex(placed, h.plane)
	var st sliceStats
	for _, i := range []int{0, 25, 49} {
		raw := sliceLayer(placed, idx.tris[idx.start[i]:idx.start[i+1]], h.plane[i], 1000, &st)
		if a := poly.TotalArea(poly.Union(raw, poly.NonZero)) / 1e6; math.Abs(a-700) > 1e-6 {
			t.Fatalf("layer %d area %.3f mm², want the union's 700", i, a)
		}
	}
	// A hollow cube (inner shell wound inwards) keeps its cavity.
	inner := testmesh.Box(5, 5, 2, 15, 15, 8)
	for i := range inner {
		inner[i].Vertices[1], inner[i].Vertices[2] = inner[i].Vertices[2], inner[i].Vertices[1]
	}
	hollow, _, err := ParseSTL(testmesh.WriteSTL("hollow", append(testmesh.Box(0, 0, 0, 20, 20, 10), inner...)), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if vol, _, _ := MeshStats(hollow); math.Abs(vol-(4000-600)) > 1e-6 {
		t.Fatalf("hollow volume %v", vol)
	}
	placed, _ = Placed(hollow, p.BuildVolume.X, p.BuildVolume.Y, p.BuildVolume.Z)
	idx = buildTriIndex(placed, h.plane)
	raw := sliceLayer(placed, idx.tris[idx.start[25]:idx.start[26]], h.plane[25], 1000, &st)
	if a := poly.TotalArea(poly.Union(raw, poly.NonZero)) / 1e6; math.Abs(a-300) > 1e-6 {
		t.Fatalf("hollow cube mid layer area %.3f mm², want 300", a)
	}
}
