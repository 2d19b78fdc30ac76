package testmesh

import (
	"archive/zip"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hschendel/stl"
)

// Model3MF is the model XML of one object holding the triangles (shared
// vertices written once), placed once with the identity transform.
func Model3MF(ts []stl.Triangle) string {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<model unit="millimeter" xml:lang="en-US" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">` + "\n")
	b.WriteString(" <resources>\n  <object id=\"1\" type=\"model\">\n   <mesh>\n    <vertices>\n")
	index := map[stl.Vec3]int{}
	var tris [][3]int
	num := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	for _, t := range ts {
		var tr [3]int
		for k, v := range t.Vertices {
			i, ok := index[v]
			if !ok {
				i = len(index)
				index[v] = i
				fmt.Fprintf(&b, "     <vertex x=\"%s\" y=\"%s\" z=\"%s\"/>\n", num(v[0]), num(v[1]), num(v[2]))
			}
			tr[k] = i
		}
		tris = append(tris, tr)
	}
	b.WriteString("    </vertices>\n    <triangles>\n")
	for _, t := range tris {
		fmt.Fprintf(&b, "     <triangle v1=\"%d\" v2=\"%d\" v3=\"%d\"/>\n", t[0], t[1], t[2])
	}
	b.WriteString("    </triangles>\n   </mesh>\n  </object>\n </resources>\n <build>\n  <item objectid=\"1\"/>\n </build>\n</model>\n")
	return b.String()
}

// Write3MF encodes triangles as a 3MF package (one object, one build item).
func Write3MF(ts []stl.Triangle) []byte {
	return Package3MF(map[string]string{"3D/3dmodel.model": Model3MF(ts)})
}

// Package3MF zips a 3MF package: the content types, the relationship to
// 3D/3dmodel.model, and the given parts (name → content), deflated.
func Package3MF(parts map[string]string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	put := func(name, content string) {
		w, err := z.Create(name)
		if err == nil {
			_, err = w.Write([]byte(content))
		}
		if err != nil {
			panic(err) // writing to a bytes.Buffer does not fail
		}
	}
	put("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>`)
	put("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Target="/3D/3dmodel.model" Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>`)
	// Parts in a fixed order, so a package is the same bytes every time.
	names := make([]string, 0, len(parts))
	for n := range parts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		put(n, parts[n])
	}
	if err := z.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// ZipBomb3MF is a 3MF package whose model part is n spaces inside an
// empty model: a few kilobytes of zip that inflate to n bytes.
func ZipBomb3MF(n int) []byte {
	return Package3MF(map[string]string{"3D/3dmodel.model": `<model unit="millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02"><resources>` +
		strings.Repeat(" ", n) + `</resources><build/></model>`})
}
