package printerdrv

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/fabgrid/fabgrid/profile"
)

// Checksum is the Marlin line checksum: the XOR of every byte before '*'.
func Checksum(s string) byte {
	var c byte
	for i := 0; i < len(s); i++ {
		c ^= s[i]
	}
	return c
}

// FormatLine renders one numbered command as sent on the wire:
// "N<n> <cmd>*<checksum>\n".
func FormatLine(n int, cmd string) string {
	b := make([]byte, 0, len(cmd)+16)
	b = append(b, 'N')
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, ' ')
	b = append(b, cmd...)
	cs := Checksum(string(b))
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(cs), 10)
	b = append(b, '\n')
	return string(b)
}

// StripComment removes a ';' comment, surrounding white space, and any line
// number or checksum already present, returning the bare command ("" for a
// blank or comment-only line).
func StripComment(line string) string {
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return ""
	}
	if i := strings.IndexByte(line, '*'); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	if len(line) > 1 && (line[0] == 'N' || line[0] == 'n') && line[1] >= '0' && line[1] <= '9' {
		j := 1
		for j < len(line) && line[j] >= '0' && line[j] <= '9' {
			j++
		}
		line = strings.TrimSpace(line[j:])
	}
	return line
}

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
	sawLayerComment := false
	for _, l := range j.Lines {
		if _, ok := layerComment(l); ok {
			sawLayerComment = true
			break
		}
	}
	layer := 0
	lastZ, zLayer := -1.0, 0
	for i, raw := range j.Lines {
		if sawLayerComment {
			if n, ok := layerComment(raw); ok {
				layer = n
			}
		}
		cmd := StripComment(raw)
		if cmd == "" {
			continue
		}
		if err := checkLimit(cmd, j.Printer); err != nil {
			return Prepared{}, fmt.Errorf("%s line %d: %w", j.Name, i+1, err)
		}
		if !sawLayerComment {
			if z, ok := param(cmd, 'Z'); ok && isMove(cmd) && z > lastZ+1e-9 {
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

func layerComment(l string) (int, bool) {
	i := strings.Index(l, ";LAYER:")
	if i < 0 {
		return 0, false
	}
	s := strings.TrimSpace(l[i+7:])
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || end == 0 && s[end] == '-') {
		end++
	}
	n, err := strconv.Atoi(s[:end])
	if err != nil {
		return 0, false
	}
	return n, true
}

// code returns the command word ("G1", "M104") in upper case.
func code(cmd string) string {
	end := strings.IndexAny(cmd, " \t")
	if end < 0 {
		end = len(cmd)
	}
	c := strings.ToUpper(cmd[:end])
	// Normalise "G01" to "G1".
	if len(c) > 2 && c[1] == '0' {
		c = c[:1] + strings.TrimLeft(c[1:], "0")
		if len(c) == 1 {
			c += "0"
		}
	}
	return c
}

func isMove(cmd string) bool {
	c := code(cmd)
	return c == "G0" || c == "G1" || c == "G2" || c == "G3"
}

// param returns the numeric value of a parameter letter in a command.
func param(cmd string, letter byte) (float64, bool) {
	f := strings.Fields(cmd)
	for _, w := range f[min(1, len(f)):] {
		if len(w) > 1 && (w[0] == letter || w[0] == letter+('a'-'A')) {
			v, err := strconv.ParseFloat(w[1:], 64)
			if err == nil {
				return v, true
			}
		}
	}
	return 0, false
}

// isLong reports commands that may legitimately take minutes before their ok.
func isLong(cmd string) bool {
	switch code(cmd) {
	case "G28", "G29", "M109", "M190", "M400", "G4", "M303", "G80":
		return true
	}
	return false
}

// checkLimit refuses heater commands above the printer's limits.
func checkLimit(cmd string, p profile.Printer) error {
	var limit float64
	var what string
	switch code(cmd) {
	case "M104", "M109":
		limit, what = p.MaxHotendC, "hotend"
	case "M140", "M190":
		limit, what = p.MaxBedC, "bed"
	case "M303":
		limit, what = p.MaxHotendC, "autotune"
	default:
		return nil
	}
	if limit <= 0 {
		return nil // no profile limit known
	}
	for _, l := range []byte{'S', 'R'} {
		if v, ok := param(cmd, l); ok && v > limit {
			return fmt.Errorf("%w: %q asks for %g°C, %s limit of %s is %g°C", ErrOverLimit, cmd, v, what, p.ID, limit)
		}
	}
	return nil
}
