package slicer

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
)

// Err3MF is wrapped by every error about a 3MF package's structure: not a
// zip, no model part, malformed XML, a missing attribute, a reference to
// an object or vertex that does not exist, a component cycle.
var Err3MF = errors.New("slicer: malformed 3MF")

// ErrInflated is wrapped, with ErrTooLarge, by the error for a 3MF
// package whose parts inflate past Limits.MaxUncompressed: a zip bomb, or
// a package that compresses far better than a mesh does.
var ErrInflated = errors.New("slicer: 3MF package inflates past the limit")

// 3MF namespaces and the relationship that points at the model part.
const (
	ns3MFCore     = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
	ns3MFProd     = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
	rel3MFModel   = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"
	default3MFDoc = "3D/3dmodel.model"
	// max3MFDepth bounds how deeply components may nest.
	max3MFDepth = 32
	// max3MFParts bounds the model parts (production extension) one
	// package may load.
	max3MFParts = 1000
)

// unitMM is the length of a 3MF unit in millimetres.
func unitMM(u string) (float64, bool) {
	switch u {
	case "micron":
		return 0.001, true
	case "millimeter":
		return 1, true
	case "centimeter":
		return 10, true
	case "inch":
		return 25.4, true
	case "foot":
		return 304.8, true
	case "meter":
		return 1000, true
	}
	return 0, false
}

// LoadModel reads a model in any format fabgrid slices: a 3MF package
// (a zip; recognised by its content, or by name ending .3mf) or a binary
// or ASCII STL. size is the stream's exact length, or -1 when unknown;
// name is only used to pick the format. An *os.File is read in place;
// another reader is read into memory, at most lim.MaxBytes.
func LoadModel(r io.Reader, size int64, name string, lim Limits) (*Mesh, MeshReport, error) {
	lim = lim.withDefaults()
	is3MF := strings.EqualFold(path.Ext(name), ".3mf")
	if ra, ok := r.(io.ReaderAt); ok && size >= 0 {
		var magic [4]byte
		if n, _ := ra.ReadAt(magic[:], 0); Is3MF(magic[:n]) {
			is3MF = true
		}
		if is3MF {
			return Load3MF(ra, size, lim)
		}
		return LoadSTL(r, size, lim)
	}
	if size > lim.MaxBytes {
		return nil, MeshReport{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, lim.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, MeshReport{}, fmt.Errorf("slicer: read model: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, MeshReport{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	if size >= 0 && int64(len(data)) != size {
		return nil, MeshReport{}, fmt.Errorf("%w: read %d of %d bytes", ErrTruncated, len(data), size)
	}
	if is3MF || Is3MF(data) {
		return Parse3MF(data, lim)
	}
	return ParseSTL(data, lim)
}

// zipMagic opens every zip, so every 3MF package.
const zipMagic = "PK\x03\x04"

// Is3MF reports whether a model starting with head is a 3MF package (a
// zip) rather than an STL: the rule LoadModel picks the format by when it
// has no name, and the one the coordinator's upload check and the worker
// share, so no wire field says the format.
func Is3MF(head []byte) bool { return bytes.HasPrefix(head, []byte(zipMagic)) }

// Parse3MF is Load3MF on an in-memory package.
func Parse3MF(data []byte, lim Limits) (*Mesh, MeshReport, error) {
	return Load3MF(bytes.NewReader(data), int64(len(data)), lim)
}

// Load3MF reads a 3MF package of size bytes (the core specification: the
// model part found through the package relationships, its objects with
// meshes or components, the build items with their transforms, the model
// unit; objects in other model parts referenced by the production
// extension's path attribute). Every build item of a printable object
// (type model or solidsupport) is placed with its transform, in
// millimetres, into one mesh, welded and checked as LoadSTL does. Material,
// colour and other extensions' elements are ignored.
//
// Limits: the package at most lim.MaxBytes; the parts it inflates at most
// lim.MaxUncompressed bytes together, counted as they are read, so a zip
// bomb stops there; at most lim.MaxTriangles triangles read and placed
// (and three vertices a triangle); components nested at most 32 deep.
func Load3MF(r io.ReaderAt, size int64, lim Limits) (*Mesh, MeshReport, error) {
	lim = lim.withDefaults()
	if size > lim.MaxBytes {
		return nil, MeshReport{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, lim.MaxBytes)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, MeshReport{}, fmt.Errorf("%w: not a zip package (%v); export the model again as 3MF or STL", Err3MF, err)
	}
	t := &tmfReader{lim: lim, budget: lim.MaxUncompressed, files: map[string]*zip.File{}, parts: map[string]*tmfPart{}, placing: map[*tmfObject]bool{}}
	for _, f := range zr.File {
		t.files[strings.ToLower(f.Name)] = f
	}
	root, err := t.rootName()
	if err != nil {
		return nil, MeshReport{}, err
	}
	rp, err := t.part(root)
	if err != nil {
		return nil, MeshReport{}, err
	}
	if len(rp.items) == 0 {
		return nil, MeshReport{}, fmt.Errorf("%w: the build has no items, so nothing is to be printed", Err3MF)
	}
	b := newBuilder(lim)
	for i, it := range rp.items {
		ip := rp
		if it.path != "" {
			if ip, err = t.part(it.path); err != nil {
				return nil, MeshReport{}, err
			}
		}
		obj, ok := ip.objects[it.id]
		if !ok {
			return nil, MeshReport{}, fmt.Errorf("%w: build item %d refers to object %d, which %s does not define", Err3MF, i, it.id, ip.name)
		}
		if obj.kind != "model" && obj.kind != "solidsupport" {
			continue
		}
		if err := t.place(b, ip, obj, it.m, rp.unit, 0); err != nil {
			return nil, MeshReport{}, err
		}
		if b.err != nil {
			return nil, MeshReport{}, b.err
		}
	}
	m, rep := b.finish()
	rep.Format = "3mf"
	m.Report.Format = "3mf"
	if len(m.Tris) == 0 {
		return nil, rep, fmt.Errorf("%w (%d triangles placed, %d degenerate)", ErrEmptyMesh, rep.Triangles, rep.Degenerate)
	}
	return m, rep, nil
}

// affine is a 3MF transform: the rows m00 m01 m02 / m10 m11 m12 /
// m20 m21 m22 / m30 m31 m32; a point p maps to p·M (row vector), so the
// last row is the translation.
type affine [12]float64

// identity is the transform that leaves points where they are.
func identity() affine { return affine{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0} }

func (a affine) apply(v Vec3) Vec3 {
	return Vec3{
		v.X*a[0] + v.Y*a[3] + v.Z*a[6] + a[9],
		v.X*a[1] + v.Y*a[4] + v.Z*a[7] + a[10],
		v.X*a[2] + v.Y*a[5] + v.Z*a[8] + a[11],
	}
}

// then returns a followed by b.
func (a affine) then(b affine) affine {
	var c affine
	for r := 0; r < 4; r++ {
		for col := 0; col < 3; col++ {
			v := a[3*r]*b[col] + a[3*r+1]*b[3+col] + a[3*r+2]*b[6+col]
			if r == 3 {
				v += b[9+col]
			}
			c[3*r+col] = v
		}
	}
	return c
}

func (a affine) det() float64 {
	return a[0]*(a[4]*a[8]-a[5]*a[7]) - a[1]*(a[3]*a[8]-a[5]*a[6]) + a[2]*(a[3]*a[7]-a[4]*a[6])
}

type tmfObject struct {
	id    int
	kind  string
	verts []Vec3
	tris  [][3]int32
	comps []tmfRef
	mesh  bool
}

// tmfRef is a component or build item: an object (in part path, or the
// referring part when empty) and its transform.
type tmfRef struct {
	path string
	id   int
	m    affine
}

type tmfPart struct {
	name    string
	unit    float64 // mm per model unit
	objects map[int]*tmfObject
	items   []tmfRef
}

type tmfReader struct {
	lim         Limits
	budget      int64 // uncompressed bytes left
	files       map[string]*zip.File
	parts       map[string]*tmfPart
	verts, tris int
	placements  int
	placing     map[*tmfObject]bool // the objects being placed: a cycle check
}

// rootName finds the model part through _rels/.rels, or at its usual
// place when the package has no relationship for it.
func (t *tmfReader) rootName() (string, error) {
	f, ok := t.files["_rels/.rels"]
	if !ok {
		if _, ok := t.files[strings.ToLower(default3MFDoc)]; ok {
			return default3MFDoc, nil
		}
		return "", fmt.Errorf("%w: no _rels/.rels and no %s: not a 3MF package", Err3MF, default3MFDoc)
	}
	rc, err := t.open(f)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	var rels struct {
		Rel []struct {
			Target string `xml:"Target,attr"`
			Type   string `xml:"Type,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.NewDecoder(rc).Decode(&rels); err != nil {
		return "", fmt.Errorf("%w: _rels/.rels: %w", Err3MF, wrapBudget(err))
	}
	for _, r := range rels.Rel {
		if r.Type == rel3MFModel {
			return strings.TrimPrefix(r.Target, "/"), nil
		}
	}
	return "", fmt.Errorf("%w: _rels/.rels names no 3D model part", Err3MF)
}

// errInflated is returned by budget reads past the uncompressed limit.
var errInflated = errors.New("inflated limit")

func wrapBudget(err error) error {
	if errors.Is(err, errInflated) {
		return fmt.Errorf("%w: %w", ErrTooLarge, ErrInflated)
	}
	return err
}

type budgetReader struct {
	r    io.Reader
	left *int64
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if *b.left < 0 {
		return 0, errInflated
	}
	if int64(len(p)) > *b.left+1 {
		p = p[:*b.left+1]
	}
	n, err := b.r.Read(p)
	*b.left -= int64(n)
	if *b.left < 0 {
		return n, errInflated
	}
	return n, err
}

type budgetReadCloser struct {
	budgetReader
	io.Closer
}

// open opens a part, counting what it inflates against the budget.
func (t *tmfReader) open(f *zip.File) (io.ReadCloser, error) {
	if f.UncompressedSize64 > uint64(max(0, t.budget)) {
		return nil, fmt.Errorf("%w: %w: %s inflates to %d bytes, over the %d-byte limit of the whole package", ErrTooLarge, ErrInflated, f.Name, f.UncompressedSize64, t.lim.MaxUncompressed)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", Err3MF, f.Name, err)
	}
	return &budgetReadCloser{budgetReader{rc, &t.budget}, rc}, nil
}

// part loads and parses a model part once.
func (t *tmfReader) part(name string) (*tmfPart, error) {
	name = strings.TrimPrefix(name, "/")
	key := strings.ToLower(name)
	if p, ok := t.parts[key]; ok {
		return p, nil
	}
	if len(t.parts) >= max3MFParts {
		return nil, fmt.Errorf("%w: more than %d model parts", ErrTooLarge, max3MFParts)
	}
	f, ok := t.files[key]
	if !ok {
		return nil, fmt.Errorf("%w: model part %s is missing from the package", Err3MF, name)
	}
	rc, err := t.open(f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	p, err := t.parse(name, rc)
	if err != nil {
		return nil, err
	}
	t.parts[key] = p
	return p, nil
}

// parse reads one model part's XML, streaming.
func (t *tmfReader) parse(name string, r io.Reader) (*tmfPart, error) {
	p := &tmfPart{name: name, unit: 1, objects: map[int]*tmfObject{}}
	d := xml.NewDecoder(r)
	var obj *tmfObject
	ns := prefixes{}
	sawModel := false
	fail := func(format string, args ...any) error {
		line, _ := d.InputPos()
		return fmt.Errorf("%w: %s line %d: %s", Err3MF, name, line, fmt.Sprintf(format, args...))
	}
	for {
		// RawToken: Token's namespace translation copies every element's
		// name and attributes, a third of the time on a big mesh; the
		// few prefixes a model uses are resolved here instead.
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			if err = wrapBudget(err); errors.Is(err, ErrTooLarge) {
				return nil, fmt.Errorf("%w: %w: the package inflates to more than %d bytes", ErrTooLarge, ErrInflated, t.lim.MaxUncompressed)
			}
			return nil, fail("%v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			ns.declare(el)
			if !ns.core(el.Name.Space) {
				if err := skipRaw(d); err != nil { // another extension's element
					return nil, fail("%v", wrapBudget(err))
				}
				continue
			}
			switch el.Name.Local {
			case "model":
				sawModel = true
				if u := attr(el, "", "unit"); u != "" {
					mm, ok := unitMM(u)
					if !ok {
						return nil, fail("unknown unit %q (want micron, millimeter, centimeter, inch, foot or meter)", u)
					}
					p.unit = mm
				}
			case "object":
				if obj != nil {
					return nil, fail("object inside object")
				}
				id, err := atoiAttr(el, "id")
				if err != nil {
					return nil, fail("object: %v", err)
				}
				if _, dup := p.objects[id]; dup {
					return nil, fail("object id %d defined twice", id)
				}
				kind := attr(el, "", "type")
				if kind == "" {
					kind = "model"
				}
				obj = &tmfObject{id: id, kind: kind}
			case "mesh":
				if obj == nil {
					return nil, fail("mesh outside an object")
				}
				obj.mesh = true
			case "vertex":
				if obj == nil {
					return nil, fail("vertex outside an object")
				}
				if t.verts++; t.verts > 3*t.lim.MaxTriangles {
					return nil, fmt.Errorf("%w: more than %d vertices", ErrTooLarge, 3*t.lim.MaxTriangles)
				}
				var v [3]float64
				for k, n := range [3]string{"x", "y", "z"} {
					f, err := floatAttr(el, n)
					if err != nil {
						return nil, t.numErr(fail, err, "vertex %d", len(obj.verts))
					}
					v[k] = f
				}
				obj.verts = append(obj.verts, Vec3{v[0], v[1], v[2]})
			case "triangle":
				if obj == nil {
					return nil, fail("triangle outside an object")
				}
				if t.tris++; t.tris > t.lim.MaxTriangles {
					return nil, fmt.Errorf("%w: more than %d triangles", ErrTooLarge, t.lim.MaxTriangles)
				}
				var tr [3]int32
				for k, n := range [3]string{"v1", "v2", "v3"} {
					i, err := atoiAttr(el, n)
					if err != nil {
						return nil, fail("triangle %d: %v", len(obj.tris), err)
					}
					tr[k] = int32(min(i, math.MaxInt32))
				}
				obj.tris = append(obj.tris, tr)
			case "component":
				if obj == nil {
					return nil, fail("component outside an object")
				}
				ref, err := parseRef(el, ns)
				if err != nil {
					return nil, t.numErr(fail, err, "component of object %d", obj.id)
				}
				obj.comps = append(obj.comps, ref)
			case "item":
				ref, err := parseRef(el, ns)
				if err != nil {
					return nil, t.numErr(fail, err, "build item %d", len(p.items))
				}
				if len(p.items) >= t.lim.MaxTriangles {
					return nil, fmt.Errorf("%w: more than %d build items", ErrTooLarge, t.lim.MaxTriangles)
				}
				p.items = append(p.items, ref)
			}
		case xml.EndElement:
			if el.Name.Local == "object" && obj != nil && ns.core(el.Name.Space) {
				if obj.mesh && len(obj.comps) > 0 {
					return nil, fail("object %d has both a mesh and components", obj.id)
				}
				for i, tr := range obj.tris {
					for _, v := range tr {
						if int(v) >= len(obj.verts) {
							return nil, fail("object %d triangle %d refers to vertex %d; the object has %d vertices", obj.id, i, v, len(obj.verts))
						}
					}
				}
				p.objects[obj.id] = obj
				obj = nil
			}
		}
	}
	if !sawModel {
		return nil, fmt.Errorf("%w: %s has no <model> element", Err3MF, name)
	}
	if obj != nil {
		return nil, fmt.Errorf("%w: %s ends inside object %d", Err3MF, name, obj.id)
	}
	return p, nil
}

// numErr reports a bad number as ErrBadNumber and anything else as a
// structural error.
func (t *tmfReader) numErr(fail func(string, ...any) error, err error, format string, args ...any) error {
	if errors.Is(err, ErrBadNumber) {
		return fmt.Errorf("%w: %s", err, fmt.Sprintf(format, args...))
	}
	return fail("%s: %v", fmt.Sprintf(format, args...), err)
}

// place adds object obj of part p with transform m (in model units; unit
// converts to mm) to the mesh, components recursively. A component of an
// object being placed is a cycle; depth bounds the nesting; placements
// bound the work of a tree that
// multiplies out (a component used ten times, each using another ten times
// …).
func (t *tmfReader) place(b *builder, p *tmfPart, obj *tmfObject, m affine, unit float64, depth int) error {
	if depth > max3MFDepth {
		return fmt.Errorf("%w: components nested more than %d deep (a component cycle?) at object %d", Err3MF, max3MFDepth, obj.id)
	}
	if t.placements++; t.placements > t.lim.MaxTriangles {
		return fmt.Errorf("%w: more than %d objects placed", ErrTooLarge, t.lim.MaxTriangles)
	}
	t.placing[obj] = true
	defer delete(t.placing, obj)
	for _, c := range obj.comps {
		cp := p
		if c.path != "" {
			var err error
			if cp, err = t.part(c.path); err != nil {
				return err
			}
		}
		co, ok := cp.objects[c.id]
		if !ok {
			return fmt.Errorf("%w: object %d has a component of object %d, which %s does not define", Err3MF, obj.id, c.id, cp.name)
		}
		if t.placing[co] {
			return fmt.Errorf("%w: component cycle: object %d contains object %d, which contains it", Err3MF, obj.id, co.id)
		}
		if err := t.place(b, cp, co, c.m.then(m), unit, depth+1); err != nil {
			return err
		}
	}
	if len(obj.tris) == 0 {
		return nil
	}
	if d := m.det(); d == 0 || math.IsNaN(d) || math.IsInf(d, 0) {
		return fmt.Errorf("%w: object %d is placed with a singular transform", Err3MF, obj.id)
	}
	mirrored := m.det() < 0
	for _, tr := range obj.tris {
		var q [3]Vec3
		for k, v := range tr {
			w := m.apply(obj.verts[v])
			q[k] = Vec3{w.X * unit, w.Y * unit, w.Z * unit}
		}
		if mirrored { // a mirroring transform turns the winding inside out
			q[1], q[2] = q[2], q[1]
		}
		b.add(q)
		if b.err != nil {
			return b.err
		}
	}
	return nil
}

// prefixes maps the namespace prefixes a part declares to their URIs
// ("" the default namespace). Declarations are taken as they come, for
// the whole part: 3MF writers declare them on the model element.
type prefixes map[string]string

func (ns prefixes) declare(el xml.StartElement) {
	for _, a := range el.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			ns[""] = a.Value
		case a.Name.Space == "xmlns":
			ns[a.Name.Local] = a.Value
		}
	}
}

// core reports whether an element with this prefix is in the core
// namespace (an undeclared default counts, as some writers leave it out).
func (ns prefixes) core(prefix string) bool {
	uri, ok := ns[prefix]
	return uri == ns3MFCore || (prefix == "" && (!ok || uri == ""))
}

// skipRaw skips the rest of the element just started, counting depth
// (Decoder.Skip would check the nesting RawToken does not keep).
func skipRaw(d *xml.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := d.RawToken()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

func attr(el xml.StartElement, space, local string) string {
	for _, a := range el.Attr {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value
		}
	}
	return ""
}

func atoiAttr(el xml.StartElement, name string) (int, error) {
	s := attr(el, "", name)
	if s == "" {
		return 0, fmt.Errorf("no %s attribute", name)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q is not a non-negative integer", name, s)
	}
	return n, nil
}

func floatAttr(el xml.StartElement, name string) (float64, error) {
	s := attr(el, "", name)
	if s == "" {
		return 0, fmt.Errorf("no %s attribute", name)
	}
	return parseNum(name, s)
}

func parseNum(name, s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: %s=%q", ErrBadNumber, name, s)
	}
	return f, nil
}

// parseRef reads a component's or build item's objectid, transform and
// production path.
func parseRef(el xml.StartElement, ns prefixes) (tmfRef, error) {
	id, err := atoiAttr(el, "objectid")
	if err != nil {
		return tmfRef{}, err
	}
	r := tmfRef{id: id, m: identity()}
	for _, a := range el.Attr {
		if a.Name.Local == "path" && a.Name.Space != "" && ns[a.Name.Space] == ns3MFProd {
			r.path = a.Value
		}
	}
	if s := attr(el, "", "transform"); s != "" {
		fs := strings.Fields(s)
		if len(fs) != 12 {
			return tmfRef{}, fmt.Errorf("transform has %d numbers, want 12", len(fs))
		}
		for i, f := range fs {
			if r.m[i], err = parseNum("transform", f); err != nil {
				return tmfRef{}, err
			}
		}
	}
	return r, nil
}
