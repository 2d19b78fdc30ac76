// Command genmesh writes a generated test mesh as binary STL, for
// benchmarks that need a model too large to keep in the repository or
// one of the feature models:
//
//	go run ./slicer/testmesh/genmesh -lat 501 -lon 1000 -radius 20 -o sphere1m.stl
//
// writes a UV sphere of 2·lat·(lon−1) ≈ 1,000,000 triangles;
//
//	go run ./slicer/testmesh/genmesh -model ramp60 -o ramp60.stl
//
// writes a feature model: tshape, bridge, ramp30, ramp45, ramp60, ramp75
// (any rampN), wall1, rib06, block566, necks or relief.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fabgrid/fabgrid/slicer/testmesh"
	"github.com/hschendel/stl"
)

func main() {
	lat := flag.Int("lat", 500, "latitude bands")
	lon := flag.Int("lon", 1000, "longitude segments")
	r := flag.Float64("radius", 20, "radius, mm")
	model := flag.String("model", "sphere", "sphere, tshape, bridge, rampN (N degrees from vertical), wall1, rib06, block566, necks (thin rungs between two rails) or relief (lettering on a plate)")
	out := flag.String("o", "sphere.stl", "output file")
	flag.Parse()
	ts, err := build(*model, *r, *lat, *lon)
	if err == nil {
		err = os.WriteFile(*out, testmesh.WriteSTL(*model, ts), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genmesh:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d triangles\n", *out, len(ts))
}

func build(model string, r float64, lat, lon int) ([]stl.Triangle, error) {
	switch {
	case model == "sphere":
		return testmesh.Sphere(r, lat, lon), nil
	case model == "tshape":
		return testmesh.TShape(), nil
	case model == "bridge":
		return testmesh.Bridge(), nil
	case model == "wall1":
		return testmesh.Wall(1), nil
	case model == "rib06":
		return testmesh.Wall(0.6), nil
	case model == "block566":
		return testmesh.Block566(), nil
	case model == "necks":
		return testmesh.Necks(), nil
	case model == "relief":
		return testmesh.Relief(), nil
	case strings.HasPrefix(model, "ramp"):
		a, err := strconv.ParseFloat(model[4:], 64)
		if err != nil || a < 0 || a >= 85 {
			return nil, fmt.Errorf("model %q: want rampN with N from 0 to 85 degrees", model)
		}
		return testmesh.Ramp(a), nil
	}
	return nil, fmt.Errorf("unknown model %q", model)
}
