package gossip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// MaxMetaSize is memberlist's limit on a node's metadata.
const MaxMetaSize = 512

// metaVersion is the first byte of every encoded Meta.
const metaVersion = 1

// maxString bounds every string field of Meta, so that any valid Meta fits.
const maxString = 96 // 4 + 5×(1+96) + 4×4 = 505 ≤ MaxMetaSize

// ErrMeta is returned for metadata that cannot be encoded or decoded.
var ErrMeta = errors.New("gossip: bad node metadata")

// Role says what a member is.
type Role uint8

// Roles.
const (
	RoleUnknown Role = iota
	RoleCoordinator
	RoleWorker
)

func (r Role) String() string {
	switch r {
	case RoleCoordinator:
		return "coordinator"
	case RoleWorker:
		return "worker"
	}
	return "unknown"
}

// States a worker advertises; they match coordinator/api's worker states.
var states = []string{"", "idle", "busy", "awaiting-bed-clear", "paused", "offline"}

func stateCode(s string) (byte, bool) {
	for i, v := range states {
		if v == s {
			return byte(i), true
		}
	}
	return 0, false
}

// Meta is the compact summary a member advertises. For a coordinator only
// Role, ID and HTTPAddr are meaningful.
type Meta struct {
	Role Role
	// ID is the member's stable identity: the worker id ("w-…") or the
	// coordinator's node id.
	ID string
	// HTTPAddr is how to reach the member over HTTP (host:port or URL); a
	// worker behind NAT may leave it empty.
	HTTPAddr string
	Profile  string
	Material string
	Colour   string
	// NozzleMM is stored to the micrometre, BuildMM to the tenth of a mm.
	NozzleMM float64
	BuildMM  [3]float64
	// State is one of "", idle, busy, awaiting-bed-clear, paused, offline.
	State string
	// Leaving is set by Node.Leave just before a graceful leave.
	Leaving bool
}

const flagLeaving = 1

// Encode returns the compact binary form of m: a version byte, role, flags,
// state code, five length-prefixed strings and four uvarints. It fails with
// ErrMeta for unknown roles or states, over-long strings or sizes out of
// range, and if the result would exceed MaxMetaSize.
func (m Meta) Encode() ([]byte, error) {
	if m.Role > RoleWorker {
		return nil, fmt.Errorf("%w: role %d", ErrMeta, m.Role)
	}
	sc, ok := stateCode(m.State)
	if !ok {
		return nil, fmt.Errorf("%w: state %q", ErrMeta, m.State)
	}
	var flags byte
	if m.Leaving {
		flags |= flagLeaving
	}
	b := make([]byte, 0, 96)
	b = append(b, metaVersion, byte(m.Role), flags, sc)
	for _, s := range []string{m.ID, m.HTTPAddr, m.Profile, m.Material, m.Colour} {
		if len(s) > maxString {
			return nil, fmt.Errorf("%w: field longer than %d bytes", ErrMeta, maxString)
		}
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	nums := []float64{m.NozzleMM * 1000, m.BuildMM[0] * 10, m.BuildMM[1] * 10, m.BuildMM[2] * 10}
	for _, f := range nums {
		if !(f >= 0 && f < 1e7) { // also rejects NaN
			return nil, fmt.Errorf("%w: size %v out of range", ErrMeta, f)
		}
		b = binary.AppendUvarint(b, uint64(math.Round(f)))
	}
	if len(b) > MaxMetaSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMeta, len(b), MaxMetaSize)
	}
	return b, nil
}

// DecodeMeta parses what Encode produced. It never panics on hostile input
// and rejects trailing bytes, unknown versions, roles and states.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) > MaxMetaSize {
		return m, fmt.Errorf("%w: %d bytes", ErrMeta, len(b))
	}
	if len(b) < 4 {
		return m, fmt.Errorf("%w: %d bytes is too short", ErrMeta, len(b))
	}
	if b[0] != metaVersion {
		return m, fmt.Errorf("%w: version %d", ErrMeta, b[0])
	}
	if Role(b[1]) > RoleWorker {
		return m, fmt.Errorf("%w: role %d", ErrMeta, b[1])
	}
	m.Role = Role(b[1])
	if b[2]&^flagLeaving != 0 {
		return m, fmt.Errorf("%w: flags %#x", ErrMeta, b[2])
	}
	m.Leaving = b[2]&flagLeaving != 0
	if int(b[3]) >= len(states) {
		return m, fmt.Errorf("%w: state code %d", ErrMeta, b[3])
	}
	m.State = states[b[3]]
	rest := b[4:]
	for _, dst := range []*string{&m.ID, &m.HTTPAddr, &m.Profile, &m.Material, &m.Colour} {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > maxString || n > uint64(len(rest)-k) {
			return Meta{}, fmt.Errorf("%w: truncated string", ErrMeta)
		}
		*dst = string(rest[k : k+int(n)])
		rest = rest[k+int(n):]
	}
	var nums [4]uint64
	for i := range nums {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n >= 1e7 {
			return Meta{}, fmt.Errorf("%w: bad size", ErrMeta)
		}
		nums[i] = n
		rest = rest[k:]
	}
	if len(rest) != 0 {
		return Meta{}, fmt.Errorf("%w: %d trailing bytes", ErrMeta, len(rest))
	}
	m.NozzleMM = float64(nums[0]) / 1000
	m.BuildMM = [3]float64{float64(nums[1]) / 10, float64(nums[2]) / 10, float64(nums[3]) / 10}
	return m, nil
}
