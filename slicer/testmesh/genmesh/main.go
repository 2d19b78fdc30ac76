// Command genmesh writes a generated test mesh as binary STL, for
// benchmarks that need a model too large to keep in the repository:
//
//	go run ./slicer/testmesh/genmesh -lat 501 -lon 1000 -radius 20 -o sphere1m.stl
//
// writes a UV sphere of 2·lat·(lon−1) ≈ 1,000,000 triangles.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fabgrid/fabgrid/slicer/testmesh"
)

func main() {
	lat := flag.Int("lat", 500, "latitude bands")
	lon := flag.Int("lon", 1000, "longitude segments")
	r := flag.Float64("radius", 20, "radius, mm")
	out := flag.String("o", "sphere.stl", "output file")
	flag.Parse()
	ts := testmesh.Sphere(*r, *lat, *lon)
	if err := os.WriteFile(*out, testmesh.WriteSTL("sphere", ts), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genmesh:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d triangles\n", *out, len(ts))
}
