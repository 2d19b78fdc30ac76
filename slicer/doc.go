// Package slicer turns a triangle mesh into Marlin G-code for one printer
// and material profile, with estimates of print time, filament, weight and
// cost, and analyses G-code files (its own or any other slicer's).
//
// It is a pure library: mesh in, G-code and estimates out; no clock, no
// network, no globals. The context passed to Slice only cancels. Layers are
// processed in parallel on a bounded pool of Settings.Workers goroutines
// (GOMAXPROCS by default).
//
// Pipeline (each stage in its own file):
//
//	STL bytes ──LoadSTL──▶ Mesh (welded, degenerate triangles dropped, MeshReport)   stl.go, mesh.go
//	3MF zip ──Load3MF──▶ the same (build items placed with their transforms)  threemf.go
//	   (LoadModel picks between the two by content and name)
//	   │ Settings.Copies: Arrange lays the copies out in a grid    arrange.go
//	   │ Placed: centred on the bed, dropped to z=0, ErrNotFit if too big
//	   ▼
//	layer planes (first layer height, then layer height; cut at mid-layer,        layers.go
//	   │ a layer while its middle is not above the top, as CuraEngine counts)
//	   │ triangle–plane cuts, chained through shared mesh edges into loops;
//	   │ gaps below CloseGap closed, left-over fragments dropped      [parallel]
//	   ▼
//	outlines: Simplify + Union(non-zero) → clean islands and holes (package poly);
//	   │ loops follow the triangles' winding, so overlapping shells merge
//	   │ top/bottom surfaces: outline minus the next / previous outline  [parallel]
//	   │ bridges: bottom-surface islands resting on the layer below in two
//	   │ or more places, lines from one side to the other           support.go
//	   │ support (Settings.Support): overhangs beyond the angle less the
//	   │ bridges [parallel], columns under them from the top down, cut where
//	   │ they meet the part (and, plate-only, where a lower layer is part),
//	   │ XY and Z gaps, interface under the part                    [parallel]
//	   ▼
//	per island: N perimeters (Offset −w/2, −3w/2 …), inner area,         toolpath.go
//	   │ walls with nothing inside widened or narrowed to fill their
//	   │ feature, one line down a feature under a line wide, gaps
//	   │ between perimeters and strips of sparse infill under two
//	   │ lines wide (a neck's middle) filled                        thinwall.go
//	   │ solid = inner ∩ (surfaces of the TopLayers above and BottomLayers
//	   │ below, grown by the wall thickness), sparse = the rest;
//	   │ skin hatch at line spacing, infill hatch at w/density, ±45°
//	   │ alternating, bridge lines across their span; support lines at
//	   │ 0° (grid: and 90°), interface at 90°; skirt on the first layer [parallel]
//	   ▼
//	ordering: support first, then the nearest island: walls inner first   gcode.go
//	   │ and outer last from the seam (nearest vertex, rear or sharpest  seam.go
//	   │ corner), bridges (fan full), then skin and infill lines
//	   │ nearest-neighbour;
//	   │ travel retracts when it leaves the island or crosses a perimeter;
//	   │ each layer's G-code body written and timed on package motion [parallel]
//	   ▼
//	assemble: header with estimates, start G-code (profile.FillGCode),
//	          ;LAYER:n, Z move and travel to each layer, end G-code;
//	          streamed to an io.Writer (SliceTo) or into one buffer of
//	          the exact size (Slice)
//
// Extrusion model: the plain rectangle, as CuraEngine uses. A line of width
// w, layer height h and length L extrudes E = w·h·L / (π·d²/4) mm of
// filament of diameter d. (Slic3r's rounded rectangle, (w−h)·h + π·h²/4,
// would extrude about 5 % less at w = 0.4, h = 0.2.) E is absolute (M82,
// reset with G92 E0 at every layer) or relative (M83) as the printer profile
// says. Retraction uses the material's distance and speed.
//
// Time: every move of the output is replayed through motion.Machine, the
// trapezoidal model that printerdrv's virtual printer also uses, so the
// estimate equals the virtual printer's measured motion time (heating waits
// are not counted by either).
//
// Per-printer numbers the profiles do not have are constants here: speeds
// (DefaultSettings), the junction speed (motion.DefaultJerkXY) and the
// retraction threshold (DefaultRetractMin).
package slicer
