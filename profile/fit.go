package profile

// Fits is the one bed-fit rule of fabgrid, used by the scheduler, the
// coordinator, the worker and the slicer: a part whose bounding box is
// part (x, y, z in millimetres) fits the build volume v as it lies, or
// turned 90° about Z; nothing else (no tilting, no tolerance). ok says it
// fits; turned says it fits only turned, so the part must be turned before
// slicing. A NaN size fits nothing.
func (v Vec3) Fits(part Vec3) (ok, turned bool) {
	if !(part.Z <= v.Z) {
		return false, false
	}
	if part.X <= v.X && part.Y <= v.Y {
		return true, false
	}
	if part.Y <= v.X && part.X <= v.Y {
		return true, true
	}
	return false, false
}

// Box makes a Vec3 from an x, y, z array, the shape sizes take on the wire.
func Box(a [3]float64) Vec3 { return Vec3{X: a[0], Y: a[1], Z: a[2]} }

// Array is v as an x, y, z array.
func (v Vec3) Array() [3]float64 { return [3]float64{v.X, v.Y, v.Z} }
