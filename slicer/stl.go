package slicer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hschendel/stl"
)

// Errors of the STL loader and of placement. Every error returned wraps one
// of these; check with errors.Is.
var (
	ErrTooLarge    = errors.New("slicer: model too large")
	ErrTruncated   = errors.New("slicer: truncated STL file")
	ErrBadHeader   = errors.New("slicer: binary STL header disagrees with file size")
	ErrBadNumber   = errors.New("slicer: NaN, infinite or unreadable number in the model")
	ErrEmptyMesh   = errors.New("slicer: mesh has no usable triangles")
	ErrMalformed   = errors.New("slicer: malformed STL")
	ErrNotFit      = errors.New("slicer: model does not fit the printer")
	ErrBadSettings = errors.New("slicer: bad settings")
)

// Limits bound what LoadSTL and Load3MF accept.
type Limits struct {
	MaxBytes     int64   // largest file, bytes
	MaxTriangles int     // most triangles
	MaxExtentMM  float64 // largest coordinate magnitude, mm
	// MaxUncompressed bounds what a 3MF package's parts inflate to,
	// together, bytes.
	MaxUncompressed int64
}

// DefaultLimits are generous for a home printer: 256 MiB, 5 million
// triangles, coordinates within ±100 m, 3MF parts inflating to 1 GiB (the
// XML of 5 million triangles is about 450 MB).
var DefaultLimits = Limits{MaxBytes: 256 << 20, MaxTriangles: 5_000_000, MaxExtentMM: 100_000, MaxUncompressed: 1 << 30}

const (
	binHeader = 84
	binTri    = 50
)

// LoadSTL reads a binary or ASCII STL of size bytes from r, checks it
// against lim, welds shared vertices, drops degenerate triangles and
// reports what it found. size must be the exact length of the stream (the
// binary header's triangle count is checked against it). When r is an
// io.ReadSeeker positioned at the start (an *os.File) and size is known, the
// file is streamed; otherwise it is read into memory, at most
// lim.MaxBytes+1 bytes (pass size -1 when it is unknown).
func LoadSTL(r io.Reader, size int64, lim Limits) (*Mesh, MeshReport, error) {
	lim = lim.withDefaults()
	if size > lim.MaxBytes {
		return nil, MeshReport{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, lim.MaxBytes)
	}
	if rs, ok := r.(io.ReadSeeker); ok && size >= 0 {
		head := make([]byte, min(size, 1024))
		if _, err := io.ReadFull(rs, head); err != nil {
			return nil, MeshReport{}, fmt.Errorf("%w: %v", ErrTruncated, err)
		}
		if _, err := rs.Seek(-int64(len(head)), io.SeekCurrent); err != nil {
			return nil, MeshReport{}, fmt.Errorf("slicer: read STL: %w", err)
		}
		return parse(rs, head, size, lim)
	}
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, MeshReport{}, fmt.Errorf("slicer: read STL: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, MeshReport{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	if size >= 0 && int64(len(data)) != size {
		return nil, MeshReport{}, fmt.Errorf("%w: read %d of %d bytes", ErrTruncated, len(data), size)
	}
	return ParseSTL(data, lim)
}

func (lim Limits) withDefaults() Limits {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultLimits.MaxBytes
	}
	if lim.MaxTriangles <= 0 {
		lim.MaxTriangles = DefaultLimits.MaxTriangles
	}
	if lim.MaxExtentMM <= 0 {
		lim.MaxExtentMM = DefaultLimits.MaxExtentMM
	}
	if lim.MaxUncompressed <= 0 {
		lim.MaxUncompressed = DefaultLimits.MaxUncompressed
	}
	// Welding keys are int32 micrometres.
	lim.MaxExtentMM = min(lim.MaxExtentMM, 2e6)
	return lim
}

// ParseSTL is LoadSTL on an in-memory file.
func ParseSTL(data []byte, lim Limits) (*Mesh, MeshReport, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, MeshReport{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	return parse(bytes.NewReader(data), data[:min(len(data), 1024)], int64(len(data)), lim)
}

// parse checks the head of the file, then reads it all with the stl
// package into a builder.
func parse(rs io.ReadSeeker, head []byte, size int64, lim Limits) (*Mesh, MeshReport, error) {
	format, err := detect(head, size, lim)
	if err != nil {
		return nil, MeshReport{}, err
	}
	b := newBuilder(lim)
	err = stl.CopyAll(rs, b)
	if b.err != nil {
		err = b.err
	} else if err != nil {
		err = fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err != nil {
		return nil, MeshReport{}, err
	}
	m, rep := b.finish()
	rep.Format = format
	m.Report.Format = format
	if len(m.Tris) == 0 {
		return nil, rep, fmt.Errorf("%w (%d triangles read, %d degenerate)", ErrEmptyMesh, rep.Triangles, rep.Degenerate)
	}
	return m, rep, nil
}

// detect decides between binary and ASCII and checks the binary header.
// A file whose size matches its binary triangle count is binary even when
// it starts with "solid" (some exporters do that).
func detect(data []byte, size int64, lim Limits) (string, error) {
	if size == 0 {
		return "", fmt.Errorf("%w: empty file", ErrEmptyMesh)
	}
	if size >= binHeader {
		n := int64(binary.LittleEndian.Uint32(data[80:84]))
		if binHeader+n*binTri == size {
			if n > int64(lim.MaxTriangles) {
				return "", fmt.Errorf("%w: %d triangles, limit %d", ErrTooLarge, n, lim.MaxTriangles)
			}
			return "binary", nil
		}
	}
	if looksASCII(data) {
		return "ascii", nil
	}
	if size < binHeader {
		return "", fmt.Errorf("%w: %d bytes, a binary STL needs an 84-byte header", ErrTruncated, size)
	}
	n := int64(binary.LittleEndian.Uint32(data[80:84]))
	if n > int64(lim.MaxTriangles) {
		return "", fmt.Errorf("%w: header says %d triangles, limit %d", ErrTooLarge, n, lim.MaxTriangles)
	}
	want := binHeader + n*binTri
	if size < want {
		return "", fmt.Errorf("%w: header says %d triangles (%d bytes), file has %d bytes", ErrTruncated, n, want, size)
	}
	return "", fmt.Errorf("%w: header says %d triangles (%d bytes), file has %d bytes", ErrBadHeader, n, want, size)
}

func looksASCII(data []byte) bool {
	s := bytes.TrimLeft(data[:min(len(data), 512)], " \t\r\n")
	if !bytes.HasPrefix(bytes.ToLower(s[:min(len(s), 5)]), []byte("solid")) {
		return false
	}
	// A binary file can start with "solid" too; ASCII has no NUL bytes.
	return !bytes.Contains(data[:min(len(data), 1024)], []byte{0})
}
