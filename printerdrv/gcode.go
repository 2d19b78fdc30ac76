package printerdrv

import (
	"bufio"
	"fmt"
	"io"

	"github.com/fabgrid/fabgrid/gcode"
	"github.com/fabgrid/fabgrid/profile"
)

// Job is one file to print: its G-code lines as read (comments allowed) and
// the printer profile that bounds it.
type Job struct {
	Name    string
	Lines   []string
	Printer profile.Printer
}

// ReadJob reads a G-code file into a Job.
func ReadJob(name string, r io.Reader, p profile.Printer) (Job, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	j := Job{Name: name, Printer: p}
	for sc.Scan() {
		j.Lines = append(j.Lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return Job{}, fmt.Errorf("printerdrv: read %s: %w", name, err)
	}
	return j, nil
}

// Prepared is a job ready to stream: the bare commands and, for each, the
// layer it belongs to (from ";LAYER:n" comments, or counted from rising Z
// when the file has none).
type Prepared struct {
	Commands []string
	Layer    []int
	Layers   int // highest layer number seen
}

// Prepare strips comments and blank lines, records layers, and refuses the
// job (ErrOverLimit) if any command sets a temperature above the profile's
// limits. Nothing is sent: call it before touching the port.
func Prepare(j Job) (Prepared, error) {
	var p Prepared
	lim := gcode.Limits{Printer: j.Printer.ID, HotendC: j.Printer.MaxHotendC, BedC: j.Printer.MaxBedC}
	sawLayerComment := false
	for _, l := range j.Lines {
		if _, numbered, _ := gcode.LayerMarker(l); numbered {
			sawLayerComment = true
			break
		}
	}
	layer := 0
	lastZ, zLayer := -1.0, 0
	for i, raw := range j.Lines {
		if sawLayerComment {
			if n, numbered, _ := gcode.LayerMarker(raw); numbered {
				layer = n
			}
		}
		cmd := gcode.Strip(raw)
		if cmd == "" {
			continue
		}
		c := gcode.Lex(cmd)
		if err := c.CheckTemps(lim); err != nil {
			return Prepared{}, fmt.Errorf("%s line %d: %w", j.Name, i+1, err)
		}
		if !sawLayerComment {
			if z, ok := moveZ(c); ok && z > lastZ+1e-9 {
				if lastZ >= 0 {
					zLayer++
				}
				lastZ = z
			}
			layer = zLayer
		}
		p.Commands = append(p.Commands, cmd)
		p.Layer = append(p.Layer, layer)
		if layer > p.Layers {
			p.Layers = layer
		}
	}
	return p, nil
}

// moveZ returns the Z of a move that gives one.
func moveZ(c gcode.Command) (float64, bool) {
	if !c.Code.IsMove() {
		return 0, false
	}
	w, err := gcode.ParseWords(c.Args)
	if err != nil {
		return 0, false
	}
	return w.Get('Z')
}

// isLong reports commands that may legitimately take minutes before their ok.
func isLong(c gcode.Code) bool {
	switch c {
	case gcode.G(28), gcode.G(29), gcode.M(109), gcode.M(190), gcode.M(400), gcode.G(4), gcode.M(303), gcode.G(80):
		return true
	}
	return false
}
