package coordinator

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/fabgrid/fabgrid/coordinator/api"
	"github.com/fabgrid/fabgrid/coordinator/fsm"
	"github.com/hashicorp/raft"
)

// ErrBadBackup is returned for a backup file that does not read.
var ErrBadBackup = errors.New("coordinator: bad backup file")

// A backup file (fabgrid cluster snapshot save) is one raft snapshot
// that stands alone:
//
//	"FGBACKUP1\n"
//	uint32 length, raft's snapshot metadata (raft.SnapshotMeta) as JSON
//	meta.Size bytes: the state machine's snapshot, expanded (every
//	    model's bytes in it; package fsm, snapshot.go)
//	32 bytes: the SHA-256 of everything before them
//
// The magic carries the file's version; the snapshot inside carries its
// own (fsm.SnapshotInfo.Version).
const backupMagic = "FGBACKUP1\n"

// maxBackupMeta bounds the metadata JSON (a raft configuration).
const maxBackupMeta = 1 << 20

// BackupInfo describes a backup file (InspectBackup).
type BackupInfo = api.BackupInfo

// writeBackup writes meta and the snapshot r (meta.Size bytes) to w as
// a backup file.
func writeBackup(w io.Writer, meta *raft.SnapshotMeta, r io.Reader) error {
	js, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	var hdr bytes.Buffer
	hdr.WriteString(backupMagic)
	_ = binary.Write(&hdr, binary.BigEndian, uint32(len(js)))
	hdr.Write(js)
	if _, err := mw.Write(hdr.Bytes()); err != nil {
		return err
	}
	n, err := io.Copy(mw, r)
	if err != nil {
		return err
	}
	if n != meta.Size {
		return fmt.Errorf("coordinator: snapshot of %d bytes, its metadata says %d", n, meta.Size)
	}
	_, err = w.Write(h.Sum(nil))
	return err
}

// backupReader reads a backup file: the header, then the snapshot,
// then the checksum.
type backupReader struct {
	r    io.Reader
	h    hash.Hash
	meta raft.SnapshotMeta
	n    int64 // bytes of the file read so far
}

func readBackupHeader(r io.Reader) (*backupReader, error) {
	br := &backupReader{r: r, h: sha256.New()}
	tr := io.TeeReader(r, br.h)
	magic := make([]byte, len(backupMagic))
	if _, err := io.ReadFull(tr, magic); err != nil || string(magic) != backupMagic {
		return nil, fmt.Errorf("%w: not a fabgrid backup (made by 'fabgrid cluster snapshot save'), or of a newer version", ErrBadBackup)
	}
	var n uint32
	if err := binary.Read(tr, binary.BigEndian, &n); err != nil || n > maxBackupMeta {
		return nil, fmt.Errorf("%w: metadata length", ErrBadBackup)
	}
	js, err := io.ReadAll(io.LimitReader(tr, int64(n)))
	if err != nil || len(js) != int(n) {
		return nil, fmt.Errorf("%w: metadata cut short", ErrBadBackup)
	}
	if err := json.Unmarshal(js, &br.meta); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrBadBackup, err)
	}
	if br.meta.Size < 8 {
		return nil, fmt.Errorf("%w: snapshot size %d", ErrBadBackup, br.meta.Size)
	}
	br.n = int64(len(backupMagic)) + 4 + int64(n)
	return br, nil
}

// snapshot returns a reader of the snapshot's bytes, which hashes them.
func (b *backupReader) snapshot() io.Reader {
	return io.TeeReader(io.LimitReader(b.r, b.meta.Size), b.h)
}

// check reads the checksum after the snapshot and compares.
func (b *backupReader) check() error {
	sum := b.h.Sum(nil)
	got := make([]byte, len(sum))
	if _, err := io.ReadFull(b.r, got); err != nil {
		return fmt.Errorf("%w: the checksum is missing: the file is cut short", ErrBadBackup)
	}
	if !bytes.Equal(got, sum) {
		return fmt.Errorf("%w: checksum mismatch: the file is damaged", ErrBadBackup)
	}
	if n, _ := b.r.Read(make([]byte, 1)); n != 0 {
		return fmt.Errorf("%w: data after the checksum", ErrBadBackup)
	}
	return nil
}

// InspectBackup reads a whole backup file, checks it as a restore
// would (structure, every model's hash, the checksum) and describes it.
func InspectBackup(r io.Reader) (BackupInfo, error) {
	br, err := readBackupHeader(r)
	if err != nil {
		return BackupInfo{}, err
	}
	info := BackupInfo{Index: br.meta.Index, Term: br.meta.Term, ConfigurationIndex: br.meta.ConfigurationIndex}
	for _, s := range br.meta.Configuration.Servers {
		info.Servers = append(info.Servers, string(s.ID))
	}
	if info.Snapshot, err = fsm.ScanSnapshot(br.snapshot()); err != nil {
		return info, fmt.Errorf("%w: %w", ErrBadBackup, err)
	}
	if info.Snapshot.Size != br.meta.Size {
		return info, fmt.Errorf("%w: a snapshot of %d bytes, the metadata says %d", ErrBadBackup, info.Snapshot.Size, br.meta.Size)
	}
	if info.Snapshot.Referenced > 0 {
		return info, fmt.Errorf("%w: %d models are not in the file (a node's own snapshot, not a saved one)", ErrBadBackup, info.Snapshot.Referenced)
	}
	if err := br.check(); err != nil {
		return info, err
	}
	info.Size = br.n + br.meta.Size + sha256.Size
	return info, nil
}
