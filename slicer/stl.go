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
	ErrBadNumber   = errors.New("slicer: NaN or infinite coordinate in STL")
	ErrEmptyMesh   = errors.New("slicer: mesh has no usable triangles")
	ErrMalformed   = errors.New("slicer: malformed STL")
	ErrNotFit      = errors.New("slicer: model does not fit the printer")
	ErrBadSettings = errors.New("slicer: bad settings")
)

// Limits bound what LoadSTL accepts.
type Limits struct {
	MaxBytes     int64   // largest file, bytes
	MaxTriangles int     // most triangles
	MaxExtentMM  float64 // largest coordinate magnitude, mm
}

// DefaultLimits are generous for a home printer: 256 MiB, 5 million
// triangles, coordinates within ±100 m.
var DefaultLimits = Limits{MaxBytes: 256 << 20, MaxTriangles: 5_000_000, MaxExtentMM: 100_000}

const (
	binHeader = 84
	binTri    = 50
)

// LoadSTL reads a binary or ASCII STL of size bytes from r, checks it
// against lim, welds shared vertices, drops degenerate triangles and
// reports what it found. size must be the exact length of the stream (the
// binary header's triangle count is checked against it); pass -1 when it is
// unknown and the loader reads at most lim.MaxBytes+1 bytes to find out.
func LoadSTL(r io.Reader, size int64, lim Limits) (*Mesh, MeshReport, error) {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultLimits.MaxBytes
	}
	if lim.MaxTriangles <= 0 {
		lim.MaxTriangles = DefaultLimits.MaxTriangles
	}
	if lim.MaxExtentMM <= 0 {
		lim.MaxExtentMM = DefaultLimits.MaxExtentMM
	}
	if size > lim.MaxBytes {
		return nil, MeshReport{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, lim.MaxBytes)
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

// ParseSTL is LoadSTL on an in-memory file.
func ParseSTL(data []byte, lim Limits) (*Mesh, MeshReport, error) {
	if lim.MaxTriangles <= 0 {
		lim.MaxTriangles = DefaultLimits.MaxTriangles
	}
	if lim.MaxExtentMM <= 0 {
		lim.MaxExtentMM = DefaultLimits.MaxExtentMM
	}
	if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
		return nil, MeshReport{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	format, err := detect(data, lim)
	if err != nil {
		return nil, MeshReport{}, err
	}
	b := newBuilder(lim)
	err = stl.CopyAll(bytes.NewReader(data), b)
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
	if len(m.Tris) == 0 {
		return nil, rep, fmt.Errorf("%w (%d triangles read, %d degenerate)", ErrEmptyMesh, rep.Triangles, rep.Degenerate)
	}
	return m, rep, nil
}

// detect decides between binary and ASCII and checks the binary header.
// A file whose size matches its binary triangle count is binary even when
// it starts with "solid" (some exporters do that).
func detect(data []byte, lim Limits) (string, error) {
	if len(data) == 0 {
		return "", fmt.Errorf("%w: empty file", ErrEmptyMesh)
	}
	if len(data) >= binHeader {
		n := int64(binary.LittleEndian.Uint32(data[80:84]))
		if binHeader+n*binTri == int64(len(data)) {
			if n > int64(lim.MaxTriangles) {
				return "", fmt.Errorf("%w: %d triangles, limit %d", ErrTooLarge, n, lim.MaxTriangles)
			}
			return "binary", nil
		}
	}
	if looksASCII(data) {
		return "ascii", nil
	}
	if len(data) < binHeader {
		return "", fmt.Errorf("%w: %d bytes, a binary STL needs an 84-byte header", ErrTruncated, len(data))
	}
	n := int64(binary.LittleEndian.Uint32(data[80:84]))
	if n > int64(lim.MaxTriangles) {
		return "", fmt.Errorf("%w: header says %d triangles, limit %d", ErrTooLarge, n, lim.MaxTriangles)
	}
	want := binHeader + n*binTri
	if int64(len(data)) < want {
		return "", fmt.Errorf("%w: header says %d triangles (%d bytes), file has %d bytes", ErrTruncated, n, want, len(data))
	}
	return "", fmt.Errorf("%w: header says %d triangles (%d bytes), file has %d bytes", ErrBadHeader, n, want, len(data))
}

func looksASCII(data []byte) bool {
	s := bytes.TrimLeft(data[:min(len(data), 512)], " \t\r\n")
	if !bytes.HasPrefix(bytes.ToLower(s[:min(len(s), 5)]), []byte("solid")) {
		return false
	}
	// A binary file can start with "solid" too; ASCII has no NUL bytes.
	return !bytes.Contains(data[:min(len(data), 1024)], []byte{0})
}
