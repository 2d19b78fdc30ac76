// Package gcode is the one G-code lexer of fabgrid. It owns what a line of
// G-code says, independent of who reads it: a line without its comment,
// line number and checksum (Strip), the numbered wire form (FormatLine,
// Checksum), the command word normalised ("G01" and "g1" are G1) and its
// parameter words (Lex, ParseWords), layer markers in comments
// (LayerMarker), and whether a command asks for a temperature above a
// printer's limits (Command.CheckTemps).
//
// The motion model, the slicer's analyser, the serial host and the virtual
// printer's firmware all read G-code through it, so a command means the
// same thing to each of them. It is pure, imports nothing of fabgrid, and
// lexing a command allocates nothing.
package gcode

import (
	"errors"
	"strconv"
	"strings"
)

// ErrBadNumber is returned for a parameter word whose number does not parse
// or is not finite.
var ErrBadNumber = errors.New("gcode: bad number")

// Strip removes a ';' comment, surrounding white space, and any line number
// or checksum already present, returning the bare command ("" for a blank or
// comment-only line).
func Strip(line string) string {
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
	if len(line) > 1 && (line[0] == 'N' || line[0] == 'n') && isDigit(line[1]) {
		j := 1
		for j < len(line) && isDigit(line[j]) {
			j++
		}
		line = strings.TrimSpace(line[j:])
	}
	return line
}

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

// LayerMarker reports whether line carries a slicer's layer-change comment:
// ";LAYER:n" (Cura and fabgrid's slicer, numbered; n may be negative for
// raft layers) or ";LAYER_CHANGE" (PrusaSlicer, unnumbered).
func LayerMarker(line string) (n int, numbered, ok bool) {
	i := strings.IndexByte(line, ';')
	if i < 0 {
		return 0, false, false
	}
	c := line[i+1:]
	if strings.HasPrefix(c, "LAYER_CHANGE") {
		return 0, false, true
	}
	// A numbered marker may follow a command or another comment.
	j := strings.Index(line[i:], ";LAYER:")
	if j < 0 {
		return 0, false, false
	}
	s := strings.TrimSpace(line[i+j+len(";LAYER:"):])
	end := 0
	for end < len(s) && (isDigit(s[end]) || end == 0 && s[end] == '-') {
		end++
	}
	v, err := strconv.Atoi(s[:end])
	if err != nil {
		return 0, false, true
	}
	return v, true, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}
